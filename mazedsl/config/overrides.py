"""Overrides: Hydra override strings and dotted-key dicts applied to a declaration tree.

String grammar is Hydra's (parsed by Hydra's ``OverridesParser``): ``key=value`` changes an
existing value, ``+key=value`` adds a new one, ``++key=value`` sets either way, ``~key``
deletes (the field falls back to its class default). For a group key (``algorithm``,
``wrappers``, ...) a string value names a config module and swaps the whole node. A dict
``{"algorithm.lr": 1e-3, "model": VectorObs(...), "env": {...}}`` sets each dotted key in
order; a value may be a module name (group keys), a declaration (replaces the node), a
dict (merged into the node, as Hydra does, unless it names another ``_target_``) or a
plain value. Everything is validated once, at the end, with the override as error source.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, Iterable, Mapping, Sequence

import attrs
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.errors import HydraException
from omegaconf import DictConfig, ListConfig, OmegaConf

from mazedsl.config import _paths
from mazedsl.config.convert import from_config, sourced, unknown_key_error, unstructure
from mazedsl.config.groups import GROUPS, load_group_node
from mazedsl.config.instantiate import allowed_also
from mazedsl.config.provenance import is_location, provenance, record
from mazedsl.config.targets import DECLARATIONS, is_declaration, resolve_target
from mazedsl.errors import ConfigError

OverrideArg = str | Mapping[str, Any] | Sequence[Any]

_GRAMMAR = "expected key=value, +key=value, ++key=value or ~key"
_parser: OverridesParser | None = None


def _get_parser() -> OverridesParser:
    global _parser
    if _parser is None:
        _parser = OverridesParser.create()
    return _parser


def _parse(text: str) -> Override:
    """One Hydra override, any sweep allowed; malformed text gives a ConfigError."""
    if not isinstance(text, str):
        raise ConfigError(f"an override must be a string or a dict, got {text!r}")
    if "glob(" in text:
        raise ConfigError(f"override {text!r}: glob() sweeps are not supported; list the "
                          f"values with choice(...)")
    try:
        override = _get_parser().parse_override(text)
    except HydraException as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"malformed override {text!r}: {reason} ({_GRAMMAR})") from None
    if not override.key_or_group:
        raise ConfigError(f"malformed override {text!r}: no key before '=' ({_GRAMMAR})")
    if override.package is not None:
        raise ConfigError(f"override {text!r}: package overrides ('@') are not supported")
    return override


def parse_override(text: str) -> Override:
    """One plain (non-sweep) Hydra override; ConfigError for malformed text or a sweep."""
    override = _parse(text)
    if override.is_sweep_override():
        raise ConfigError(
            f"override {text!r} is a sweep (several values); one override takes one value: run "
            f"it as a sweep (mazedsl-run -m, mazedsl train --sweep). For a string "
            f"with commas, quote it: key='a,b'")
    return override


def split_sweep(overrides: Iterable[str]) -> list[list[str]]:
    """Expand sweep overrides (``a=x,y``, ``choice(...)``, ``range(...)``) into the cartesian
    product of plain override lists, in order: ``["a=x,y", "b=1"]`` ->
    ``[["a=x", "b=1"], ["a=y", "b=1"]]``.
    """
    choices: list[list[str]] = []
    for text in overrides:
        override = _parse(text)
        if not override.is_sweep_override():
            choices.append([text])
            continue
        if override.is_interval_sweep():
            raise ConfigError(f"override {text!r}: interval() is a continuous range; a sweep "
                              f"needs discrete values (choice or range)")
        key = override.get_key_element()
        values = [f"{key}={value}" for value in override.sweep_string_iterator()]
        if not values:
            raise ConfigError(f"override {text!r}: the sweep has no values")
        choices.append(values)
    return [list(combo) for combo in itertools.product(*choices)]


def _flatten(items: Iterable[Any]) -> Iterable[Any]:
    for item in items:
        if isinstance(item, (str, Mapping)):
            yield item
        elif isinstance(item, (list, tuple, ListConfig)):
            yield from _flatten(item)
        elif isinstance(item, DictConfig):
            yield OmegaConf.to_container(item, resolve=False)
        else:
            raise ConfigError(f"an override must be a string or a dict, got {item!r}")


def _prepare(value: Any) -> Any:
    """Plain containers of an override value (declarations unstructured)."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=False)
    return unstructure(copy.deepcopy(value))


@attrs.define
class Overrider:
    """Applies overrides, in order, to a plain tree and its provenance table."""

    tree: dict[str, Any]
    root: type
    table: dict[str, str]
    #: Module prefixes the overrides still to come allow (``allow_targets=[...]``).
    allowed: list[str] = attrs.field(factory=list)

    # --- navigation -----------------------------------------------------------

    def _allowances(self) -> list[str]:
        """The ``_target_`` prefixes this tree allows: its ``allow_targets`` and the overrides'."""
        declared = self.tree.get("allow_targets")
        return _module_names(declared) + self.allowed

    def _class_of(self, node: Any, path: str) -> type | None:
        if not isinstance(node, dict):
            return None
        if "_target_" in node:  # also your registered declaration, once its module is allowed
            try:
                with allowed_also(self._allowances()):
                    return resolve_target(node["_target_"], DECLARATIONS)
            except ConfigError:
                return None
        if path == "":
            return self.root
        parent_path = _paths.parent(path)
        parent = self._get(parent_path or "") if parent_path is not None else None
        parent_cls = self._class_of(parent, parent_path or "") if parent is not None else None
        if parent_cls is not None:
            field = attrs.fields_dict(parent_cls).get(str(_paths.split(path)[-1]))
            if field is not None and field.type in DECLARATIONS:
                return field.type
        return None

    def _get(self, path: str) -> Any:
        node: Any = self.tree
        for seg in _paths.split(path):
            node = node[int(seg)] if isinstance(node, list) else node[seg]
        return node

    def _locate(self, key: str, label: str) -> tuple[Any, str | int, str, type | None]:
        """``(container, last key, parent path, parent class)`` of dotted ``key``."""
        segments = _paths.split(key)
        if not segments:
            raise ConfigError("empty key", source=label)
        node: Any = self.tree
        path = ""
        for i, seg in enumerate(segments):
            cls = self._class_of(node, path)
            last = i == len(segments) - 1
            if isinstance(node, list):
                if not str(seg).isdigit() or int(seg) >= len(node):
                    raise ConfigError(f"no item {seg!r} (the list has {len(node)} items)",
                                      path, label)
                seg = int(seg)
            elif isinstance(node, dict):
                seg = str(seg)
                if cls is not None and seg not in attrs.fields_dict(cls) and not (
                        last and seg in node):
                    raise ConfigError(unknown_key_error(seg, cls).message,
                                      _paths.join(path, seg), label)
            else:
                raise ConfigError(f"is {node!r}, which has no key {seg!r}", path, label)
            if last:
                return node, seg, path, cls
            if isinstance(node, dict) and seg not in node:
                raise ConfigError("not set", _paths.join(path, seg), label)
            node = node[seg]
            path = _paths.join(path, seg)
        raise AssertionError("unreachable")

    # --- edits ----------------------------------------------------------------

    def _mark(self, path: str, label: str) -> None:
        _paths.forget(self.table, path)
        self._forget_covered(path)
        self.table[path] = label

    def _forget_covered(self, path: str) -> None:
        """Drop the labels of enclosing nodes that held nothing else than ``path`` (an empty
        ``env.kwargs`` given a key): they no longer say where anything came from."""
        for node in list(_paths.ancestors(path))[1:]:
            if node not in self.table:
                continue
            try:
                inside = _paths.leaves(self._get(node), node, targets=True)
            except (KeyError, IndexError, ValueError, TypeError):
                continue
            if all(_paths.is_within(leaf, path) for leaf in inside):
                del self.table[node]

    def set(self, key: str, value: Any, label: str, mode: str = "set") -> None:
        """Set dotted ``key``; ``mode`` is ``change`` (must exist), ``add`` (must not) or ``set``."""
        container, seg, parent, cls = self._locate(key, label)
        path = _paths.join(parent, seg)
        exists = isinstance(container, list) or seg in container
        if mode == "change" and not exists and cls is None:
            raise ConfigError(f"not set{_typo_hint(seg, container, key)}; use '+{key}=...' to add it",
                              path, label)
        if mode == "add" and exists:
            raise ConfigError(f"already set; use '{key}=...' to change it", path, label)
        if parent == "" and isinstance(seg, str) and seg in GROUPS and isinstance(value, str) \
                and seg in attrs.fields_dict(self.root):
            try:
                node, where = load_group_node(seg, value)
            except ConfigError as exc:
                if exc.message.startswith("unknown config module"):
                    exc = ConfigError(f"{exc.message}; to change one value inside it use "
                                      f"'{seg}.<field>=...'", exc.path)
                raise sourced(exc, label) from None
            container[seg] = node
            self._mark(path, f"{where} via {label}")
            return
        mergeable = isinstance(value, (Mapping, DictConfig))
        value = _prepare(value)
        old = container[seg] if exists else None
        if mergeable and isinstance(old, dict) and not _other_target(old, value):
            _merge(old, value)
            for leaf in _paths.leaves(value, path) or {path: value}:
                self._mark(leaf, label)
            return
        container[seg] = value
        self._mark(path, label)

    def delete(self, key: str, label: str, expected: Any = None) -> None:
        container, seg, parent, _cls = self._locate(key, label)
        path = _paths.join(parent, seg)
        if isinstance(container, dict) and seg not in container:
            raise ConfigError("not set; nothing to delete", path, label)
        if expected is not None and container[seg] != expected:
            raise ConfigError(f"is {container[seg]!r}, not {expected!r}; not deleted", path, label)
        del container[seg]
        emptied = isinstance(container, list) or not container  # the node itself changed
        self._mark(parent if emptied and parent else path, label)

    def apply(self, item: Any) -> None:
        """Apply one override string, dict, or declaration (replaces the matching group)."""
        if isinstance(item, str):
            self._apply_string(item)
        elif isinstance(item, Mapping):
            for key, value in item.items():
                label = f"override {{{key!r}: {value!r}}}"
                if not isinstance(key, str):
                    raise ConfigError(f"override keys must be dotted strings, got {key!r}",
                                      source=label)
                self.set(key, value, label, mode="set")
        else:
            raise ConfigError(f"an override must be a string or a dict, got {item!r}")

    def _apply_string(self, text: str) -> None:
        override = parse_override(text)
        key = override.key_or_group
        label = f"override {text!r}"
        if key == "hydra" or key.startswith("hydra."):
            raise ConfigError(f"override {text!r}: hydra.* settings only apply to compose()")
        if override.type == OverrideType.DEL:
            self.delete(key, label, override.value())
            return
        mode = {OverrideType.CHANGE: "change", OverrideType.ADD: "add"}.get(override.type, "set")
        self.set(key, override.value(), label, mode)


def _module_names(value: Any) -> list[str]:
    """The module prefixes an ``allow_targets`` value names (a name or a list of them)."""
    if isinstance(value, (ListConfig, DictConfig)):
        value = OmegaConf.to_container(value, resolve=False)
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, str) and item]


def declared_allowances(items: Iterable[Any]) -> list[str]:
    """The module prefixes that ``allow_targets`` overrides among ``items`` name, so that a
    ``_target_`` they allow is known whatever the order of the overrides."""
    out: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            out += _module_names(item.get("allow_targets"))
            continue
        try:
            override = parse_override(item)
        except ConfigError:
            continue
        if override.key_or_group == "allow_targets" and override.type != OverrideType.DEL:
            out += _module_names(override.value())
    return out


def _other_target(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when ``new`` names a different declaration than ``old`` (then it replaces it)."""
    if "_target_" not in new or "_target_" not in old:
        return False
    try:
        return resolve_target(new["_target_"], DECLARATIONS) is not resolve_target(
            old["_target_"], DECLARATIONS)
    except ConfigError:
        return True


def _merge(old: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(old.get(key), dict) and isinstance(value, dict) and not _other_target(
                old[key], value):
            _merge(old[key], value)
        else:
            old[key] = value


def error_sources(table: Mapping[str, str]) -> Any:
    """A ``source`` for :func:`from_config`: the location label of a path, if it has one."""
    plain = dict(table)

    def source(path: str) -> str | None:
        label = _paths.lookup(plain, path) if path else None
        if label is not None:
            return label if is_location(label) else None
        for candidate in _paths.ancestors(path):  # e.g. "runner._target_": what set "runner"
            below = {v for k, v in plain.items() if _paths.is_within(k, candidate)}
            if below:
                return below.pop() if len(below) == 1 and is_location(next(iter(below))) else None
        return None
    return source


def apply_overrides(experiment: Any, *overrides: OverrideArg) -> Any:
    """A new, validated declaration with ``overrides`` applied in order (see module doc).

    Keeps the provenance of ``experiment`` and adds the overrides'.
    """
    items = list(_flatten(overrides))
    if not items:
        return experiment
    if not is_declaration(experiment):
        raise ConfigError(f"apply_overrides() takes a declaration, got "
                          f"{type(experiment).__name__}")
    root = type(experiment)
    overrider = Overrider(unstructure(experiment), root, provenance(experiment),
                          declared_allowances(items))
    for item in items:
        overrider.apply(item)
    result = from_config(overrider.tree, root, source=error_sources(overrider.table))
    record(result, overrider.table)
    return result


def _typo_hint(seg: Any, container: Any, key: str) -> str:
    """`` (did you mean 'model.hidden'?)`` when ``seg`` is a typo away from a key the node
    already has (your module's arguments, env kwargs), else nothing."""
    import difflib

    if not isinstance(seg, str) or not isinstance(container, dict):
        return ""
    keys = [k for k in container if isinstance(k, str) and not k.startswith("_")]
    close = difflib.get_close_matches(seg, keys, n=1, cutoff=0.75)
    if not close:
        return ""
    return f" (did you mean '{key[:len(key) - len(seg)]}{close[0]}'?)"
