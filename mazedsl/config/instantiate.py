"""Instantiating ``_target_`` nodes safely: only allowlisted modules may be called.

The allowlist holds mazedsl's own modules, gymnasium and torch.nn, plus what the user
registers with :func:`allow_target`. Every ``_target_`` of a tree is checked before
anything is called, so ``_target_: os.system`` in a config file never runs.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterable, Iterator

from omegaconf import DictConfig, ListConfig, OmegaConf

from mazedsl.errors import UnsafeTargetError

_ALLOWED: list[str] = ["mazedsl.", "gymnasium.", "torch.nn."]


def allow_target(prefix: str) -> None:
    """Allow ``_target_``s in module ``prefix`` (``"mypkg.envs"`` or ``"mypkg.envs.MyEnv"``)."""
    prefix = prefix.rstrip(".")
    for entry in (prefix + ".", prefix):
        if entry not in _ALLOWED:
            _ALLOWED.append(entry)


@contextlib.contextmanager
def allowed_also(prefixes: Iterable[str]) -> Iterator[None]:
    """Allow ``_target_``s in ``prefixes`` too, for the ``with`` block only (an experiment's
    ``allow_targets`` applies to that experiment, not to the rest of the process)."""
    added = []
    for prefix in prefixes:
        prefix = prefix.rstrip(".")
        for entry in (prefix + ".", prefix):
            if entry not in _ALLOWED:
                _ALLOWED.append(entry)
                added.append(entry)
    try:
        yield
    finally:
        for entry in added:
            _ALLOWED.remove(entry)


def is_allowed(target: str) -> bool:
    return any(target == p or (p.endswith(".") and target.startswith(p)) for p in _ALLOWED)


def check_targets(node: Any, path: str = "") -> None:
    """Raise :class:`UnsafeTargetError` naming the path of the first disallowed ``_target_``."""
    if isinstance(node, (DictConfig, ListConfig)):
        node = OmegaConf.to_container(node, resolve=False)
    if isinstance(node, dict):
        target = node.get("_target_")
        if target is not None and not (isinstance(target, str) and is_allowed(target)):
            where = f"{path}._target_" if path else "_target_"
            raise UnsafeTargetError(
                f"_target_ {target!r} is not allowed (allowed: {', '.join(p.rstrip('.') for p in _ALLOWED if p.endswith('.'))}; "
                "add yours with mazedsl.config.allow_target)", where)
        for key, value in node.items():
            check_targets(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            check_targets(value, f"{path}[{i}]")


def safe_instantiate(node: Any, path: str = "") -> Any:
    """``hydra.utils.instantiate`` after :func:`check_targets` passed on the whole tree."""
    from hydra.utils import instantiate

    check_targets(node, path)
    return instantiate(node, _convert_="all")
