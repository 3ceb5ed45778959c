"""Where each value of a declaration was set: class default, config module, file line, override.

Declarations are frozen attrs objects, so the record lives in a side table keyed by
``id()``, dropped by a weakref finalizer when the object dies. A record maps paths to
labels; a leaf takes the label of its own path or of its nearest recorded enclosing path
(a whole node swapped by an override covers everything below it). Leaves nobody recorded
read ``PPO.lr default`` when they hold the class default, else ``set in Python``.
"""

from __future__ import annotations

import weakref
from typing import Any, Iterable, Iterator, Mapping

import attrs

from mazedsl.config import _paths
from mazedsl.config.targets import is_declaration, target_of
from mazedsl.errors import ConfigError
from mazedsl.spec import TorchModel

SET_IN_PYTHON = "set in Python"
DEFAULT_SUFFIX = " default"

_TABLE: dict[int, dict[str, str]] = {}


def record(obj: Any, table: Mapping[str, str]) -> None:
    """Attach provenance ``table`` (``{path: label}``) to ``obj``."""
    key = id(obj)
    if key not in _TABLE:
        weakref.finalize(obj, _TABLE.pop, key, None)
    _TABLE[key] = dict(table)


def recorded(obj: Any) -> dict[str, str] | None:
    """The table attached to ``obj``, if any."""
    table = _TABLE.get(id(obj))
    return dict(table) if table is not None else None


def is_location(label: str | None) -> bool:
    """True for a label naming where a value was written (not a default / plain Python)."""
    return bool(label) and label != SET_IN_PYTHON and not label.endswith(DEFAULT_SUFFIX)


def _field_default(field: attrs.Attribute) -> Any:
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()
    return default


def _leaf_items(value: Any, path: str) -> Iterable[tuple[str, Any]]:
    """``(leaf path, value)`` of a plain value: each leaf of a container, else the value."""
    return (_paths.leaves(value, path) or {path: value}).items()


def walk(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any, str]]:
    """``(path, value, default label or SET_IN_PYTHON)`` for each leaf of a declaration (your
    module's node as its YAML reads: ``model._target_``, then its arguments)."""
    cls = type(obj)
    if isinstance(obj, TorchModel):
        yield _paths.join(prefix, "_target_"), obj.target, SET_IN_PYTHON
        for name, value in obj.kwargs.items():
            path = _paths.join(prefix, name)
            for leaf, leaf_value in _leaf_items(value, path):
                yield leaf, leaf_value, SET_IN_PYTHON
        return
    for field in attrs.fields(cls):
        value = getattr(obj, field.name)
        path = _paths.join(prefix, field.name)
        if is_declaration(value):
            yield from walk(value, path)
        elif isinstance(value, list) and value and all(is_declaration(v) for v in value):
            for i, item in enumerate(value):
                yield from walk(item, _paths.join(path, i))
        else:
            label = (f"{cls.__name__}.{field.name}{DEFAULT_SUFFIX}"
                     if value == _field_default(field) else SET_IN_PYTHON)
            for leaf, leaf_value in _leaf_items(value, path):
                yield leaf, leaf_value, label


def provenance(obj: Any) -> dict[str, str]:
    """``{leaf path: where it was set}`` for every leaf of a declaration, in field order.

    A leaf no recorded path covers reads ``Cls.field default`` when it holds the class
    default, else the record's root label (``""``: e.g. the experiment file), else
    ``set in Python``.
    """
    if not is_declaration(obj):
        raise ConfigError(f"provenance() takes a declaration, got {type(obj).__name__}")
    table = _TABLE.get(id(obj)) or {}
    out = {}
    for path, value, fallback in walk(obj):
        label = _paths.lookup(table, path)
        if label is None and isinstance(value, (dict, list)) and not value:
            label = _emptied_by(table, path)
        if label is None:
            label = table.get("", SET_IN_PYTHON) if fallback == SET_IN_PYTHON else fallback
        out[path] = label
    return out


def origin(obj: Any, path: str) -> str | None:
    """Where the value at ``path`` of a declaration was written (an override, a file line:
    the ``source`` a ConfigError names), or None (a default, plain Python, no such path)."""
    label = provenance(obj).get(path) if is_declaration(obj) else None
    return label if is_location(label) else None


def _emptied_by(table: Mapping[str, str], path: str) -> str | None:
    """For an empty container at ``path``: the last label recorded below it (the override
    that deleted its last key, e.g. ``~env.kwargs.foo``), or None."""
    below = [label for key, label in table.items() if key != path and _paths.is_within(key, path)]
    return below[-1] if below else None


def values(obj: Any) -> dict[str, Any]:
    """``{leaf path: value}`` of a declaration."""
    return {path: value for path, value, _label in walk(obj)}


def _show(value: Any) -> str:
    if is_declaration(value):
        return f"{type(value).__name__}(...)"
    if isinstance(value, list) and value and all(is_declaration(v) for v in value):
        return "[" + ", ".join(f"{type(v).__name__}(...)" for v in value) + "]"
    return repr(value)


def _node(obj: Any, path: str) -> Any:
    node = obj
    for seg in _paths.split(path):
        if isinstance(node, list):
            node = node[int(seg)]
        elif isinstance(node, dict):
            node = node[seg]
        elif isinstance(node, TorchModel):  # your module's arguments sit in its node, as in the YAML
            node = node.target if seg == "_target_" else node.kwargs[seg]
        elif is_declaration(node) and seg == "_target_":
            node = target_of(type(node))
        elif is_declaration(node) and isinstance(seg, str) and seg in attrs.fields_dict(
                type(node)):
            node = getattr(node, seg)
        else:
            raise KeyError(seg)
    return node


def explain(obj: Any, path: str) -> str:
    """One line: ``algorithm.lr = 0.001  (experiments/cartpole_ppo.py:14)``."""
    labels = provenance(obj)
    try:
        canonical = _paths.build(_paths.split(path))
        value = _node(obj, canonical)
    except (KeyError, IndexError, ValueError):
        from mazedsl.config.suggest import did_you_mean

        below = [p for p in labels if p.endswith(f".{path}")]  # 'gamma' -> 'algorithm.gamma'
        hint = f"; did you mean {below[0]!r}?" if len(below) == 1 else did_you_mean(path, labels)
        raise ConfigError(f"no such config path{hint}", path) from None
    node = _paths.parent(canonical) if _paths.split(canonical)[-1] == "_target_" else canonical
    if node in labels:  # (a node's _target_ comes from where the node was set)
        where = labels[node]
    else:
        below = list(dict.fromkeys(v for k, v in labels.items() if _paths.is_within(k, node)))
        table = _TABLE.get(id(obj)) or {}
        where = _paths.lookup(table, canonical) or _paths.lookup(table, node) or "; ".join(
            below[:3]) + ("; ..." if len(below) > 3 else "")
    return f"{canonical} = {_show(value)}  ({where})"
