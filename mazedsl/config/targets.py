"""The allowlist of declaration classes and their ``_target_`` import paths."""

from __future__ import annotations

from typing import Any

import attrs

import mazedsl.spec as spec
from mazedsl.errors import ConfigError, UnsafeTargetError

#: Every declaration class a config may name, in a stable order.
DECLARATIONS: tuple[type, ...] = (
    spec.Experiment, spec.RolloutConfig, spec.GymEnv, spec.PPO, spec.A2C, spec.VectorObs,
    spec.PixelObs, spec.StateCritic, spec.Runner, spec.RolloutRunner, spec.RLlibRunner, *spec.WRAPPER_TYPES,
)

_BY_NAME: dict[str, type] = {}
for _cls in DECLARATIONS:
    _BY_NAME[f"mazedsl.spec.{_cls.__name__}"] = _cls
    _BY_NAME[f"{_cls.__module__}.{_cls.__qualname__}"] = _cls
    _BY_NAME[_cls.__name__] = _cls


def is_declaration(value: Any) -> bool:
    """True for an instance of an allowlisted declaration class."""
    return type(value) in DECLARATIONS


def is_declaration_type(tp: Any) -> bool:
    return isinstance(tp, type) and attrs.has(tp) and tp in DECLARATIONS


def target_of(cls: type) -> str:
    """The public import path of a declaration class, e.g. ``mazedsl.spec.PPO``."""
    if cls not in DECLARATIONS:
        raise ConfigError(f"{cls.__name__} is not a mazedsl declaration")
    return f"mazedsl.spec.{cls.__name__}"


def names(types: tuple[type, ...]) -> str:
    """``PPO or A2C``."""
    return " or ".join(t.__name__ for t in types)


def resolve_target(target: Any, allowed: tuple[type, ...]) -> type:
    """The class a ``_target_`` value names, which must be one of ``allowed``.

    Accepts the public path (``mazedsl.spec.PPO``), the defining module's path and the
    short class name. Errors carry the path ``_target_``.
    """
    cls = _BY_NAME.get(target) if isinstance(target, str) else None
    if cls is None:
        expected = ", ".join(target_of(t) for t in allowed)
        raise UnsafeTargetError(f"unknown _target_ {target!r}; expected {expected}", "_target_")
    if cls not in allowed:
        raise ConfigError(f"must be a {names(allowed)} declaration, got _target_ {target!r}",
                          "_target_")
    return cls
