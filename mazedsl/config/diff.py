"""Differences between two experiments or configs, leaf by leaf."""

from __future__ import annotations

from typing import Any, Mapping

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from mazedsl.config import _paths
from mazedsl.config.convert import unstructure
from mazedsl.config.targets import is_declaration
from mazedsl.errors import ConfigError
from mazedsl.values import same_value


class _Missing:
    """The value on the side of a diff where a path does not exist."""

    _instance: "_Missing | None" = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"

    __str__ = __repr__

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def _tree(value: Any) -> Any:
    if isinstance(value, (DictConfig, ListConfig)):
        try:
            return OmegaConf.to_container(value, resolve=True, throw_on_missing=False)
        except OmegaConfBaseException:
            return OmegaConf.to_container(value, resolve=False)
    if is_declaration(value) or isinstance(value, (Mapping, list, tuple)):
        return unstructure(value)
    raise ConfigError(f"diff() compares declarations or configs, got {type(value).__name__}")


def _sort_key(path: str) -> tuple[tuple[int, Any], ...]:
    return tuple((0, s) if isinstance(s, int) else (1, s) for s in _paths.split(path))


def _filled(path: str, value: Any, other: Mapping[str, Any]) -> bool:
    """True when ``value`` is an empty container whose keys or items the other side has
    (``env.kwargs: {}`` against ``env.kwargs.foo: 1``): the leaves below tell the difference."""
    return (isinstance(value, (dict, list)) and not value
            and any(p != path and _paths.is_within(p, path) for p in other))


def diff(a: Any, b: Any) -> list[tuple[str, Any, Any]]:
    """``[(path, value in a, value in b)]`` for every leaf that differs, sorted by path.

    ``a`` and ``b`` are declarations, DictConfigs or dicts; ``_target_`` leaves are
    compared too (a swapped algorithm shows as ``algorithm._target_``). A path present on
    one side only has :data:`MISSING` (shown ``<missing>``) on the other; an empty container
    filled on the other side is not a row of its own (its new leaves are).
    """
    left = _paths.leaves(_tree(a), targets=True)
    right = _paths.leaves(_tree(b), targets=True)
    out = []
    for path in sorted(set(left) | set(right), key=_sort_key):
        x, y = left.get(path, MISSING), right.get(path, MISSING)
        if (x is MISSING and _filled(path, y, left)) or (y is MISSING and _filled(path, x, right)):
            continue
        if x is MISSING or y is MISSING or not same_value(x, y):
            out.append((path, x, y))
    return out
