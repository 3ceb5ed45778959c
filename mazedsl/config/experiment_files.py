"""Experiment files: Python files defining ``experiment = Experiment(...)``.

:func:`load_experiment` imports a file under a unique, temporary module name and records
where each value was written by walking the file's AST: keyword arguments of nested
declaration calls give dotted paths (``Experiment(algorithm=PPO(lr=1e-3))`` ->
``algorithm.lr`` at that line), list items give ``[i]``, module-level names are followed,
and ``.override(...)`` literals in the file count as written at their line.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import itertools
import os
import re
import sys
import traceback
from typing import Any

import attrs

from mazedsl.config import _paths
from mazedsl.config.convert import prefixed, sourced
from mazedsl.config.overrides import _parse
from mazedsl.config.provenance import is_location, record, recorded
from mazedsl.config.suggest import did_you_mean
from mazedsl.config.targets import DECLARATIONS
from mazedsl.errors import ConfigError
from mazedsl.spec import Experiment

EXPERIMENTS_DIR = "experiments"
_counter = itertools.count()


def _declaration_names() -> set[str]:
    return {cls.__name__ for cls in DECLARATIONS}


def display_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it."""
    relative = os.path.relpath(os.path.abspath(path))
    return os.path.abspath(path) if relative.startswith("..") else relative


def _available() -> list[str]:
    if not os.path.isdir(EXPERIMENTS_DIR):
        return []
    return sorted(f[:-3] for f in os.listdir(EXPERIMENTS_DIR)
                  if f.endswith(".py") and not f.startswith("_"))


def _resolve(ref: str) -> tuple[str | None, str | None, str | None]:
    """``(file, module, name)`` that ``ref`` designates."""
    text, name = ref, None
    head, sep, tail = ref.rpartition(":")
    if sep and head and (tail.isidentifier() or (
            head.endswith(".py") and tail and not any(c in tail for c in "/\\ "))):
        text, name = head, tail  # a variable, or an experiment's name (``chain-ppo``)
    if text.endswith(".py") or "/" in text or os.sep in text or os.path.isfile(text):
        if not os.path.isfile(text):
            raise ConfigError(f"experiment file {text!r} not found")
        return text, None, name
    candidate = os.path.join(EXPERIMENTS_DIR, f"{text}.py")
    if os.path.isfile(candidate):
        return candidate, None, name
    try:
        found = importlib.util.find_spec(text) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        listing = ", ".join(_available()) or "none"
        raise ConfigError(f"no experiment file or module {text!r} (looked for {candidate} and "
                          f"module {text}; in {EXPERIMENTS_DIR}/: {listing})")
    return None, text, name


def _frame_in(exc: BaseException, file: str) -> traceback.FrameSummary | None:
    """The innermost frame of ``exc``'s traceback that runs ``file``."""
    target = os.path.abspath(file)
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == target:
            found = frame
    return found


def _line_in(exc: BaseException, file: str) -> int | None:
    frame = _frame_in(exc, file)
    return frame.lineno if frame is not None else None


def _exec_file(file: str) -> dict[str, Any]:
    """The namespace of ``file`` run as a module; sys.modules/sys.path are restored after."""
    shown = display_path(file)
    stem = "".join(c if c.isalnum() else "_" for c in os.path.basename(file)[:-3])
    name = f"_mazedsl_experiment_{next(_counter)}_{stem}"
    spec = importlib.util.spec_from_file_location(name, os.path.abspath(file))
    if spec is None or spec.loader is None:
        raise ConfigError(f"{shown}: cannot be imported (not a Python file?)")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(os.path.abspath(file))
    sys.modules[name] = module
    sys.path.insert(0, folder)
    try:
        # compiled from its source each time, never from a bytecode cache: an edit saved within
        # the same second at the same size would otherwise run the old code
        path = os.path.abspath(file)
        with open(path, "rb") as handle:
            code = compile(handle.read(), path, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # noqa: S102 - the user's own experiment file
    except SyntaxError as exc:
        raise ConfigError(f"{shown}:{exc.lineno}: syntax error: {exc.msg}") from None
    except ConfigError as exc:
        raise _placed(exc, file, shown) from None
    except Exception as exc:  # noqa: BLE001 - any failure of the file is a ConfigError
        unknown = _unknown_keyword(exc, file, shown, module.__dict__)
        if unknown is not None:
            raise unknown from None
        line = _line_in(exc, file)
        at = f":{line}" if line else ""
        what = "importing it failed" if isinstance(exc, ImportError) else "running it failed"
        raise ConfigError(f"{shown}{at}: {what}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.modules.pop(name, None)
        if folder in sys.path:
            sys.path.remove(folder)
    return dict(vars(module))


# --- errors raised while the file runs: where in the experiment, where in the file ------

_UNEXPECTED = re.compile(r"^([\w.]+)\.__init__\(\) got an unexpected keyword argument '(\w+)'$")


def _call_at(file: str, frame: traceback.FrameSummary | None
             ) -> tuple[ast.Call | None, str | None]:
    """The declaration call ``frame`` is executing in ``file`` (the innermost one whose source
    holds the frame's position) and its path in the experiment built from it (``algorithm``
    for ``Experiment(algorithm=PPO(...))``; None when unknown or ambiguous)."""
    if frame is None:
        return None, None
    try:
        with open(file, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename=file)
    except (OSError, SyntaxError, ValueError):
        return None, None
    calls = _call_paths(tree)
    holding = [call for call in calls if _holds(call, frame)]
    inner = [call for call in holding
             if not any(other is not call and _contains(call, other) for other in holding)]
    if len(inner) != 1:
        return None, None
    return inner[0], calls[inner[0]]


def _call_paths(tree: ast.Module) -> dict[ast.Call, str | None]:
    """Each declaration call of the module-level assignments and its deepest path from them:
    ``algo = PPO(...)`` used as ``Experiment(algorithm=algo)`` is at ``algorithm``."""
    locator = _Locator(tree, "")
    for expr in locator.assigns.values():
        if isinstance(expr, ast.Call):
            locator.visit(expr, "", expr.lineno)
    out: dict[ast.Call, str | None] = {}
    for call, found in locator.calls.items():
        depth = max(len(_paths.split(p)) for p in found)
        deepest = {p for p in found if len(_paths.split(p)) == depth}
        out[call] = deepest.pop() if len(deepest) == 1 else None
    return out


def _holds(call: ast.Call, frame: traceback.FrameSummary) -> bool:
    """True when ``call``'s source span holds the frame's position (its line, where the
    frame has no columns)."""
    end_line = getattr(frame, "end_lineno", None) or frame.lineno
    col, end_col = getattr(frame, "colno", None), getattr(frame, "end_colno", None)
    if col is None or end_col is None or call.end_lineno is None or call.end_col_offset is None:
        return call.lineno <= (frame.lineno or 0) <= (call.end_lineno or call.lineno)
    return ((call.lineno, call.col_offset) <= (frame.lineno, col)
            and (end_line, end_col) <= (call.end_lineno, call.end_col_offset))


def _contains(outer: ast.Call, inner: ast.Call) -> bool:
    """True when ``inner`` is written inside ``outer``'s arguments."""
    return any(node is inner for node in ast.walk(outer) if node is not outer)


def _keyword_line(call: ast.Call | None, name: str | int, default: int | None) -> int | None:
    """The line of keyword ``name`` in ``call``, else ``default``."""
    for kw in call.keywords if call is not None else []:
        if kw.arg == name:
            return kw.lineno
    return default


def _under(exc: ConfigError, path: str | None) -> ConfigError:
    """``exc`` with its path below ``path`` (``lr`` -> ``algorithm.lr``)."""
    for segment in reversed(_paths.split(path or "")):
        exc = prefixed(exc, segment)
    return exc


def _placed(exc: ConfigError, file: str, shown: str) -> ConfigError:
    """A ConfigError raised while ``file`` ran, with its full path in the experiment and the
    file and line that wrote the value (``algorithm.lr: must be > 0, got -1 (from x.py:6)``)."""
    frame = _frame_in(exc, file)
    call, path = _call_at(file, frame)
    segments = _paths.split(exc.path)
    line = frame.lineno if frame is not None else None
    if segments:
        line = _keyword_line(call, segments[0], line)
    where = f"{shown}:{line}" if line else shown
    return sourced(_under(exc, path), f"{exc.source} in {where}" if exc.source else where)


def _callee(func: ast.expr, namespace: dict[str, Any]) -> Any:
    """What a call's ``Name`` or ``a.b.Name`` function names in ``namespace`` (None if unknown)."""
    if isinstance(func, ast.Name):
        return namespace.get(func.id)
    if isinstance(func, ast.Attribute):
        base = _callee(func.value, namespace)
        return getattr(base, func.attr, None) if base is not None else None
    return None


def _unknown_keyword(exc: BaseException, file: str, shown: str,
                     namespace: dict[str, Any]) -> ConfigError | None:
    """``PPO(lrr=1)`` in ``file`` as one ConfigError naming the class, the keyword, the
    closest field, the path and the line; None for any other error."""
    match = _UNEXPECTED.match(str(exc)) if isinstance(exc, TypeError) else None
    if match is None:
        return None
    qualname, keyword = match.groups()
    frame = _frame_in(exc, file)
    call, path = _call_at(file, frame)
    cls = _callee(call.func, namespace) if call is not None else None
    if not (isinstance(cls, type) and cls in DECLARATIONS and cls.__qualname__ == qualname):
        # the call is not found (e.g. inside a function): name the class alone, if unique
        named = [c for c in DECLARATIONS if c.__qualname__ == qualname]
        if len(named) != 1:
            return None
        cls, call, path = named[0], None, None
    line = _keyword_line(call, keyword, frame.lineno if frame else None)
    fields = [f.name for f in attrs.fields(cls)]
    message = (f"{cls.__name__} has no field {keyword!r}{did_you_mean(keyword, fields)} "
               f"(valid: {', '.join(fields)})")
    return ConfigError(message, _paths.join(path or "", keyword),
                       f"{shown}:{line}" if line else shown)


def _by_name(found: dict[str, Experiment], name: str, shown: str
             ) -> tuple[Experiment, str] | None:
    """The Experiment whose ``.name`` is ``name`` and its variable; None when none has it,
    a ConfigError when several (distinct objects) do."""
    named = {k: v for k, v in found.items() if v.name == name}
    distinct = {id(v) for v in named.values()}
    if len(distinct) > 1:
        raise ConfigError(f"{shown}: several experiments are named {name!r} (variables "
                          f"{', '.join(named)}); pick one by its variable, e.g. "
                          f"'{shown}:{next(iter(named))}'")
    return next(((v, k) for k, v in named.items()), None)


def _pick(namespace: dict[str, Any], name: str | None, shown: str) -> tuple[Experiment, str]:
    """The Experiment ``name`` picks (its variable, else its ``.name`` when one has it) or the
    file's one experiment, with the variable that holds it."""
    found = {k: v for k, v in namespace.items()
             if isinstance(v, Experiment) and not k.startswith("_")}
    if name is not None:
        if name in namespace and isinstance(namespace[name], Experiment):
            return namespace[name], name
        picked = _by_name(found, name, shown)
        if picked is not None:
            return picked
        if name in namespace:
            raise ConfigError(f"{shown}: {name!r} is a {type(namespace[name]).__name__}, "
                              f"not an Experiment")
        defined = [k if v.name == k else f"{k} (named {v.name!r})" for k, v in found.items()]
        raise ConfigError(f"{shown}: no experiment named {name!r} (defined: "
                          f"{', '.join(defined) or 'none'})")
    if "experiment" in namespace:
        if not isinstance(namespace["experiment"], Experiment):
            raise ConfigError(f"{shown}: `experiment` is a {type(namespace['experiment']).__name__}"
                              f", not an Experiment")
        return namespace["experiment"], "experiment"
    if len(found) == 1:
        return next(iter(found.values())), next(iter(found))
    if not found:
        raise ConfigError(f"{shown}: defines no experiment (expected a module-level "
                          f"`experiment = Experiment(...)`)")
    raise ConfigError(f"{shown}: defines several experiments ({', '.join(found)}); pick one "
                      f"with '{shown}:<name>'")


# --- provenance from the AST ---------------------------------------------------------

def _func_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


class _Locator:
    """Walks the expression that built an experiment and records ``{path: file:line}``."""

    def __init__(self, tree: ast.Module, shown: str) -> None:
        self.shown = shown
        self.table: dict[str, str] = {}
        self.calls: dict[ast.Call, set[str]] = {}  # each declaration call: the paths it builds
        self.assigns: dict[str, ast.expr] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        self.assigns[target.id] = stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None \
                    and isinstance(stmt.target, ast.Name):
                self.assigns[stmt.target.id] = stmt.value

    def _mark(self, path: str, line: int) -> None:
        if path:
            _paths.forget(self.table, path)
        self.table[path] = f"{self.shown}:{line}"

    def visit(self, node: ast.expr, path: str, line: int, seen: frozenset[str] = frozenset()
              ) -> None:
        if isinstance(node, ast.Name) and node.id in self.assigns and node.id not in seen:
            self.visit(self.assigns[node.id], path, line, seen | {node.id})
        elif isinstance(node, ast.Call) and _func_name(node.func) in _declaration_names():
            self.calls.setdefault(node, set()).add(path)
            if node.args:
                self._mark(path, node.lineno)
            for kw in node.keywords:
                if kw.arg is None:
                    continue
                self.visit(kw.value, _paths.join(path, kw.arg), kw.lineno, seen)
        elif isinstance(node, ast.Call) and _func_name(node.func) == "override" \
                and isinstance(node.func, ast.Attribute):
            self.visit(node.func.value, path, line, seen)
            for arg in node.args:
                self._visit_override(arg, path)
        elif isinstance(node, ast.Call) and _func_name(node.func) == "evolve" and node.args:
            self.visit(node.args[0], path, line, seen)
            for kw in node.keywords:
                if kw.arg is not None:
                    self.visit(kw.value, _paths.join(path, kw.arg), kw.lineno, seen)
        elif isinstance(node, (ast.List, ast.Tuple)) and not all(
                isinstance(e, ast.Constant) for e in node.elts):
            for i, item in enumerate(node.elts):
                self.visit(item, _paths.join(path, i), getattr(item, "lineno", line), seen)
        elif isinstance(node, ast.Dict) and node.keys and all(
                isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
            for key, value in zip(node.keys, node.values):
                self.visit(value, _paths.join(path, key.value), key.lineno, seen)  # type: ignore
        else:
            self._mark(path, line)

    def _visit_override(self, arg: ast.expr, path: str) -> None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            try:
                key = _parse(arg.value).key_or_group
            except ConfigError:
                return
            self._mark(_paths.join(path, _paths.build(_paths.split(key))) if path
                       else _paths.build(_paths.split(key)), arg.lineno)
        elif isinstance(arg, (ast.List, ast.Tuple)):
            for item in arg.elts:
                self._visit_override(item, path)
        elif isinstance(arg, ast.Dict):
            for key, value in zip(arg.keys, arg.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    self._mark(_paths.build(_paths.split(key.value)), value.lineno)


def locate(file: str, variable: str) -> dict[str, str]:
    """``{path: "file:line"}`` for the values written in ``file`` for module-level ``variable``."""
    shown = display_path(file)
    try:
        with open(file, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename=file)
    except (OSError, SyntaxError, ValueError):
        return {}
    locator = _Locator(tree, shown)
    if variable in locator.assigns:
        expr = locator.assigns[variable]
        locator.visit(expr, "", expr.lineno)
    return locator.table


def load_experiment(ref: str | os.PathLike[str]) -> Experiment:
    """The Experiment an experiment reference names.

    ``ref`` is a file (``experiments/cartpole_ppo.py``), ``file.py:NAME`` (the Experiment in
    variable NAME, else the one whose ``name`` is NAME), a dotted module name, or a bare stem
    found in ``./experiments/``. The file defines ``experiment``, or exactly one Experiment,
    or several (then ``:NAME`` picks).
    A ``.yaml`` file holding a whole compiled experiment (such as a run's ``config.yaml``)
    is loaded too.
    """
    file, module_name, name = _resolve(os.fspath(ref))
    if file is not None and file.endswith((".yaml", ".yml")):
        return _load_yaml(file)
    if file is not None:
        namespace = _exec_file(file)
    else:
        try:
            module = importlib.import_module(module_name)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"module {module_name}: importing it failed: "
                              f"{type(exc).__name__}: {exc}") from None
        namespace = dict(vars(module))
        file = getattr(module, "__file__", None)
    shown = display_path(file) if file else str(module_name)
    experiment, variable = _pick(namespace, name, shown)
    table = locate(file, variable) if file else {}
    for path, label in (recorded(experiment) or {}).items():
        if is_location(label) and path not in table:
            table[path] = label
    table.setdefault("", shown)
    record(experiment, table)
    return experiment


def _load_yaml(file: str) -> Experiment:
    """A compiled experiment written as YAML (``to_yaml`` output, a run's config.yaml)."""
    from omegaconf import OmegaConf

    from mazedsl.config.convert import from_config

    shown = display_path(file)
    try:
        cfg = OmegaConf.load(file)
    except Exception as exc:  # noqa: BLE001 - any YAML or OmegaConf parse error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{shown}: malformed YAML: {first}") from None
    if not OmegaConf.is_dict(cfg):
        raise ConfigError(f"{shown}: expected a mapping of experiment fields, got a list")
    if "defaults" in cfg:
        folder, stem = os.path.dirname(file) or ".", os.path.splitext(os.path.basename(file))[0]
        raise ConfigError(f"{shown}: a Hydra config with a defaults list; run it with "
                          f"mazedsl-run --config-dir {folder} -cn {stem}")
    return from_config(cfg, source=shown)


def experiment_names(file: str | os.PathLike[str]) -> list[str]:
    """The module-level names of the Experiments a Python experiment file defines, in order
    (each loads with ``load_experiment("file.py:name")``)."""
    namespace = _exec_file(os.fspath(file))
    return [k for k, v in namespace.items() if isinstance(v, Experiment) and not k.startswith("_")]
