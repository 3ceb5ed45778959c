"""Declarations <-> OmegaConf trees, through one cattrs converter.

``to_config`` unstructures a declaration into a tree whose every declaration node carries
``_target_`` (its public import path). ``from_config`` structures a tree back with strict
leaf types, validates it (attrs validators run on construction) and turns every failure
into a :class:`~mazedsl.errors.ConfigError` with the dotted path of the bad value.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Callable, Mapping, Union

import attrs
import cattrs
from omegaconf import DictConfig, ListConfig, OmegaConf, SCMode
from omegaconf.errors import OmegaConfBaseException

from mazedsl.config import _paths
from mazedsl.config.suggest import did_you_mean
from mazedsl.config.targets import (DECLARATIONS, is_declaration, is_declaration_type,
                                    lookup_target, names, resolve_target, target_of)
from mazedsl.errors import ConfigError
from mazedsl.spec import AlgorithmSpec, Experiment, TorchModel
from mazedsl.spec._fields import from_numpy, one_as_list

#: What ``source`` may be: one label, ``{path: label}`` (nearest enclosing path wins) or a function.
Source = Union[str, Mapping[str, str], Callable[[str], "str | None"], None]

MISSING_VALUE = "???"

CONVERTER = cattrs.Converter()


# --- unstructure -------------------------------------------------------------

def _unstructure_declaration(obj: Any) -> dict[str, Any]:
    if isinstance(obj, TorchModel):  # the user's class is the node's _target_
        return {"_target_": obj.target, **CONVERTER.unstructure(obj.kwargs)}
    out: dict[str, Any] = {"_target_": target_of(type(obj))}
    for field in attrs.fields(type(obj)):
        out[field.name] = CONVERTER.unstructure(getattr(obj, field.name))
    return out


CONVERTER.register_unstructure_hook_func(is_declaration_type, _unstructure_declaration)
CONVERTER.register_unstructure_hook(tuple, lambda t: [CONVERTER.unstructure(v) for v in t])
# numpy scalars and arrays (np.float32(1e-3), np.arange(3)) as the Python values they hold
CONVERTER.register_unstructure_hook_func(
    lambda tp: getattr(tp, "__module__", None) == "numpy" and hasattr(tp, "dtype"), from_numpy)


def unstructure(obj: Any) -> Any:
    """Plain containers for a declaration (or a list/dict holding declarations); numpy
    scalars and arrays become Python numbers and lists."""
    if isinstance(obj, (DictConfig, ListConfig)):
        return OmegaConf.to_container(obj, resolve=False)
    if isinstance(obj, Mapping):
        return {k: unstructure(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [unstructure(v) for v in obj]
    return CONVERTER.unstructure(obj)


def to_config(obj: Any) -> DictConfig | ListConfig:
    """An OmegaConf tree of a declaration (a list of wrappers gives a ListConfig)."""
    if not (is_declaration(obj) or isinstance(obj, (list, tuple))):
        raise ConfigError(f"to_config() takes a declaration, got {type(obj).__name__}")
    try:
        return OmegaConf.create(unstructure(obj))
    except OmegaConfBaseException as exc:
        raise ConfigError(f"cannot be written to a config: {_first_line(exc)}",
                          getattr(exc, "full_key", "") or "") from None


def to_yaml(obj: Any) -> str:
    """The YAML text of :func:`to_config`.

    Unicode is written as is, unless a string holds a character YAML reads back differently
    (such as U+0085, a line break to YAML): then non-ASCII text is escaped, losslessly."""
    import yaml
    from omegaconf._utils import get_omega_conf_dumper

    cfg = to_config(obj)
    text = OmegaConf.to_yaml(cfg)
    if OmegaConf.create(text) == cfg:
        return text
    return yaml.dump(OmegaConf.to_container(cfg), Dumper=get_omega_conf_dumper(),
                     default_flow_style=False, allow_unicode=False, sort_keys=False)


# --- errors -------------------------------------------------------------------

def _retyped(original: ConfigError, new: ConfigError) -> ConfigError:
    if type(original) is ConfigError:
        return new
    return type(original)(new.message, new.path, new.source)


def prefixed(exc: ConfigError, segment: str | int) -> ConfigError:
    """``exc.prefixed(segment)``, keeping the error's subclass."""
    return _retyped(exc, exc.prefixed(segment))


def sourced(exc: ConfigError, source: str | None) -> ConfigError:
    """``exc.with_source(source)``, keeping the error's subclass."""
    return _retyped(exc, exc.with_source(source))


# --- structure ----------------------------------------------------------------

def _got(problem: str, value: Any) -> ConfigError:
    return ConfigError(f"{problem}, got {value!r}")


def structure(value: Any, tp: Any) -> Any:
    """``value`` (plain containers) as type ``tp``; raises ConfigError with a relative path."""
    if isinstance(value, str) and value == MISSING_VALUE:
        raise ConfigError("missing mandatory value (???); set it, e.g. with an override")
    return CONVERTER.structure(value, tp)


def _suggest(key: str, valid: list[str]) -> str:
    hint = did_you_mean(key, valid)
    return f"unknown key{hint} (valid: {', '.join(valid)})"


def unknown_key_error(key: str, cls: type) -> ConfigError:
    """``key: unknown key; did you mean 'lr'? (valid: ...)`` for a field of ``cls``."""
    return ConfigError(_suggest(str(key), [f.name for f in attrs.fields(cls)]), str(key))


def _structure_declaration(value: Any, cls: type) -> Any:
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise _got(f"must be a {cls.__name__} declaration (a mapping)", value)
    if "_target_" in value:
        resolve_target(value["_target_"], (cls,))
    fields = {f.name: f for f in attrs.fields(cls)}
    for key in value:
        if key != "_target_" and key not in fields:
            raise unknown_key_error(key, cls)
    kwargs = {}
    for name, field in fields.items():
        if name in value:
            try:
                kwargs[name] = structure(value[name], field.type)
            except ConfigError as exc:
                raise prefixed(_in_own_words(field, value[name], exc), name) from None
    return cls(**kwargs)


def _in_own_words(field: attrs.Attribute, raw: Any, exc: ConfigError) -> ConfigError:
    """A value the field's type refuses, as a check of the field that reads such values
    words it (``explains_raw``: SAC's ``ent_coef='auto'``, null is automatic); else ``exc``."""
    if exc.path:
        return exc
    for check in field.metadata.get("raw_checks", ()):
        problem = check(raw)
        if problem:
            return _retyped(exc, ConfigError(f"{problem}, got {raw!r}", "", exc.source))
    return exc


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def _structure_union(value: Any, tp: Any) -> Any:
    options = [a for a in typing.get_args(tp) if a is not type(None)]
    if value is None:
        if len(options) < len(typing.get_args(tp)):
            return None
        raise ConfigError(f"must be a {names(tuple(options))} declaration, got None")
    if all(is_declaration_type(a) for a in options):
        allowed = tuple(options)
        if isinstance(value, allowed):
            return value
        if not isinstance(value, Mapping):
            raise _got(f"must be a {names(allowed)} declaration (a mapping)", value)
        if "_target_" in value:
            if TorchModel in allowed and lookup_target(value["_target_"]) is None:
                return _structure_torch_model(value)
            return structure(value, resolve_target(value["_target_"], allowed))
        if len(allowed) == 1:
            return structure(value, allowed[0])
        keys = set(value)
        fitting = [a for a in allowed if keys <= {f.name for f in attrs.fields(a)}]
        if len(fitting) == 1 or not fitting:  # the one whose fields fit; else name the bad key
            return structure(value, (fitting or allowed)[0])
        raise ConfigError("needs a _target_ naming one of "
                          + ", ".join(target_of(a) for a in allowed))
    if len(options) == 1:
        return structure(value, options[0])
    raise ConfigError(f"unsupported field type {tp!r}")


def _structure_torch_model(value: Mapping[str, Any]) -> TorchModel:
    """A node naming the user's own nn.Module class: ``{_target_: pkg.Net, **kwargs}``."""
    from mazedsl.config.instantiate import is_allowed

    target = value["_target_"]
    if not isinstance(target, str) or not target:
        raise ConfigError(f"must be an import path such as 'mypkg.nets.PolicyNet', got {target!r}",
                          "_target_")
    if not is_allowed(target):
        from mazedsl.errors import UnsafeTargetError

        raise UnsafeTargetError(
            f"_target_ {target!r} is outside the allowed modules; allow it with the experiment "
            f"setting allow_targets=[{target.rpartition('.')[0]!r}] (a declared list of module "
            "prefixes)", "_target_")
    return TorchModel(target, {k: v for k, v in value.items() if k != "_target_"})


def _structure_algorithm(value: Any, _tp: Any) -> Any:
    """Any registered algorithm declaration, chosen by ``_target_``."""
    from mazedsl.rl.registry import algorithms

    if isinstance(value, Mapping) and "_target_" in value:
        lookup_target(value["_target_"])  # importing an allowed package registers its algorithm
    allowed = tuple(e.declaration for e in algorithms().values())
    if isinstance(value, allowed):
        return value
    if not isinstance(value, Mapping):
        raise _got(f"must be an algorithm declaration ({', '.join(algorithms())}) (a mapping)",
                   value)
    if "_target_" not in value:
        raise ConfigError("needs a _target_ naming a registered algorithm: "
                          + ", ".join(f"{n} ({target_of(e.declaration)})"
                                      for n, e in algorithms().items()))
    return structure(value, resolve_target(value["_target_"], allowed))


def _structure_list(value: Any, tp: Any) -> list[Any]:
    (item_type,) = typing.get_args(tp) or (Any,)
    if item_type is str:
        value = one_as_list(value)  # one path or name, as typed on a command line
    if not isinstance(value, (list, tuple)):
        raise _got("must be a list", value)
    out = []
    for i, item in enumerate(value):
        try:
            out.append(structure(item, item_type))
        except ConfigError as exc:
            raise prefixed(exc, i) from None
    return out


def _structure_dict(value: Any, tp: Any) -> dict[str, Any]:
    key_type, item_type = typing.get_args(tp) or (str, Any)
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _got("must be a mapping with string keys", value)
    out = {}
    for key, item in value.items():
        try:
            out[key] = structure(item, item_type)
        except ConfigError as exc:
            raise prefixed(exc, key) from None
    return out


def _structure_int(value: Any, _tp: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)  # 1e5 from YAML or an override (not 1e30: no exact integer)
    raise _got("must be an integer", value)


def _structure_float(value: Any, _tp: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise _got("must be a number", value)


def _structure_bool(value: Any, _tp: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _got("must be true or false", value)


def _structure_str(value: Any, _tp: Any) -> str:
    if isinstance(value, str):
        return value
    raise _got("must be a string", value)


CONVERTER.register_structure_hook(int, _structure_int)
CONVERTER.register_structure_hook(float, _structure_float)
CONVERTER.register_structure_hook(bool, _structure_bool)
CONVERTER.register_structure_hook(str, _structure_str)
CONVERTER.register_structure_hook_func(lambda tp: tp is Any, lambda v, _tp: v)
CONVERTER.register_structure_hook_func(lambda tp: typing.get_origin(tp) is list, _structure_list)
CONVERTER.register_structure_hook_func(lambda tp: typing.get_origin(tp) is dict, _structure_dict)
CONVERTER.register_structure_hook_func(_is_union, _structure_union)
CONVERTER.register_structure_hook_func(is_declaration_type, _structure_declaration)
CONVERTER.register_structure_hook(AlgorithmSpec, _structure_algorithm)


# --- from_config ----------------------------------------------------------------

def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def source_of(source: Source, path: str) -> str | None:
    """The label ``source`` gives the value at ``path`` (or at its nearest enclosing path)."""
    if source is None or isinstance(source, str):
        return source
    if isinstance(source, Mapping):
        return _paths.lookup(dict(source), path) or source.get("", None)
    return source(path)


def to_plain(cfg: Any) -> Any:
    """Plain, resolved containers of a DictConfig/ListConfig/dict/list (declarations unstructured).

    Interpolations are resolved; ``???`` stays as the string ``"???"``.
    """
    try:
        container = cfg if isinstance(cfg, (DictConfig, ListConfig)) else OmegaConf.create(
            unstructure(cfg))
        return OmegaConf.to_container(container, resolve=True, throw_on_missing=False,
                                      structured_config_mode=SCMode.DICT)
    except OmegaConfBaseException as exc:
        path = str(getattr(exc, "full_key", "") or "")
        raise ConfigError(_first_line(exc), path) from None


def from_config(cfg: Any, cls: Any = Experiment, source: Source = None) -> Any:
    """The validated declaration a config describes.

    ``cfg`` is a DictConfig, a dict (of plain values or declarations) or a list (for
    ``cls=list[Wrapper]``); ``cls`` may be a declaration class, a union of them, or None
    (then the root ``_target_`` decides). ``source`` labels errors (see :data:`Source`).
    Every failure is a ConfigError: ``algorithm.lr: must be > 0, got -1.0 (from ...)``.
    """
    if is_declaration_type(cls) and isinstance(cfg, cls):
        return cfg
    try:
        data = to_plain(cfg)
        from mazedsl.config.instantiate import allowed_also

        extra = data.get("allow_targets") if isinstance(data, dict) else None
        extra = [p for p in extra if isinstance(p, str) and p] if isinstance(extra, list) else []
        with allowed_also(extra):
            if cls is None:
                if not isinstance(data, dict) or "_target_" not in data:
                    raise ConfigError("needs a _target_ naming its declaration, e.g. "
                                      "mazedsl.spec.Experiment")
                cls = resolve_target(data["_target_"], DECLARATIONS)
            return structure(data, cls)
    except ConfigError as exc:
        raise sourced(exc, source_of(source, exc.path)) from None
    except Exception as exc:  # noqa: BLE001 - every failure becomes a ConfigError
        raise ConfigError(f"invalid config ({type(exc).__name__}: {_first_line(exc)})",
                          source=source_of(source, "")) from exc
