"""The allowlist of declaration classes and their ``_target_`` import paths.

The built-in declarations are fixed; algorithm packages add theirs with
:func:`register_declaration` (through :func:`mazedsl.rl.registry.register_algorithm`).
A ``_target_`` not known yet is imported when its module is allowed (see
:mod:`mazedsl.config.instantiate`): importing an algorithm's package registers it.
"""

from __future__ import annotations

import importlib
from typing import Any, Iterable

import attrs

import mazedsl.spec as spec
from mazedsl.errors import ConfigError, UnsafeTargetError

#: Every declaration class a config may name, in a stable order (registered ones appended).
DECLARATIONS: list[type] = [
    spec.Experiment, spec.RolloutConfig, spec.GymEnv, spec.VectorObs, spec.PixelObs,
    spec.TorchModel, spec.StateCritic, spec.Runner, spec.RolloutRunner, spec.RLlibRunner, *spec.WRAPPER_TYPES,
]

_BY_NAME: dict[str, type] = {}
_PUBLIC: dict[type, str] = {}


def register_declaration(cls: type, public_path: str | None = None,
                         aliases: Iterable[str] = ()) -> None:
    """Make ``cls`` a declaration configs may name, as ``public_path`` (default: its module
    path) or any of ``aliases``."""
    attrs.resolve_types(cls)
    if cls not in DECLARATIONS:
        DECLARATIONS.append(cls)
    public = public_path or f"{cls.__module__}.{cls.__qualname__}"
    _PUBLIC[cls] = public
    for name in (public, f"{cls.__module__}.{cls.__qualname__}", *aliases):
        _BY_NAME[name] = cls
    _BY_NAME.setdefault(cls.__name__, cls)


for _cls in list(DECLARATIONS):
    register_declaration(_cls, f"mazedsl.spec.{_cls.__name__}")


def is_declaration(value: Any) -> bool:
    """True for an instance of an allowlisted declaration class."""
    return type(value) in _PUBLIC


def is_declaration_type(tp: Any) -> bool:
    return isinstance(tp, type) and tp in _PUBLIC


def target_of(cls: type) -> str:
    """The public import path of a declaration class, e.g. ``mazedsl.spec.GymEnv``."""
    if cls not in _PUBLIC:
        raise ConfigError(f"{cls.__name__} is not a mazedsl declaration")
    return _PUBLIC[cls]


def names(types: Iterable[type]) -> str:
    """``VectorObs or PixelObs``."""
    return " or ".join(t.__name__ for t in types)


#: Why a ``_target_``'s module did not import (its own error, not a missing parent module).
_IMPORT_FAILURES: dict[str, str] = {}


def importable_cwd() -> None:
    """The working directory importable, as ``python -m`` has it (your packages: algorithms,
    models, envs)."""
    import os
    import sys

    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())


def _import_target(target: str) -> None:
    """Import the module of an allowed ``_target_`` (an algorithm package registers itself),
    from the working directory too; an error raised inside that module is remembered for the
    'unknown _target_' message."""
    from mazedsl.config.instantiate import is_allowed

    if target.startswith("mazedsl.spec."):  # built-in algorithms' old paths
        from mazedsl.rl.registry import load_builtins

        load_builtins()
        return
    if not is_allowed(target):
        return
    importable_cwd()
    module = target.rpartition(".")[0]
    while module:
        try:
            importlib.import_module(module)
            return
        except ImportError as exc:
            missing = getattr(exc, "name", None)
            if not (isinstance(exc, ModuleNotFoundError) and missing
                    and (module == missing or module.startswith(missing + "."))):
                _IMPORT_FAILURES[target] = f"importing {module} failed: {type(exc).__name__}: {exc}"
                return
            module = module.rpartition(".")[0]


def lookup_target(target: Any) -> type | None:
    """The declaration class ``target`` names, importing its (allowed) module if needed."""
    if not isinstance(target, str):
        return None
    cls = _BY_NAME.get(target)
    if cls is None:
        from mazedsl.rl.registry import load_builtins

        load_builtins()
        cls = _BY_NAME.get(target)
    if cls is None:
        _import_target(target)
        cls = _BY_NAME.get(target)
    return cls


def resolve_target(target: Any, allowed: Iterable[type]) -> type:
    """The class a ``_target_`` value names, which must be one of ``allowed``.

    Accepts the public path (``mazedsl.spec.GymEnv``), the defining module's path and the
    short class name. Errors carry the path ``_target_``. ``allowed`` is read after the
    lookup, so a live list such as :data:`DECLARATIONS` includes what importing registered.
    """
    cls = lookup_target(target)
    allowed = tuple(allowed)
    if cls is None:
        expected = ", ".join(target_of(t) for t in allowed if t in _PUBLIC)
        why = _IMPORT_FAILURES.get(target) if isinstance(target, str) else None
        raise UnsafeTargetError(f"unknown _target_ {target!r}{f' ({why})' if why else ''}; "
                                f"expected {expected}", "_target_")
    if cls not in allowed:
        raise ConfigError(f"must be a {names(allowed)} declaration, got _target_ {target!r}",
                          "_target_")
    return cls
