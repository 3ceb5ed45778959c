"""The algorithm registry: algorithms are packages that register a declaration and a learner.

Nothing outside an algorithm's own package names a concrete algorithm: the experiment's
``algorithm`` field accepts any registered declaration, the build stage asks the registry
for the learner of a declaration, and config modules (``algorithm=<name>``) come from
``conf/algorithm/<name>.yaml`` for the built-in ones or from :func:`register_algorithm`.

Importing this module is cheap (no torch): learners are named as ``"module:Class"`` and
imported when a run is built. Third-party packages register from their own import, or
through the ``mazedsl.algorithms`` entry-point group (each entry point is a module to import).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import attrs

from mazedsl.errors import ConfigError

BUILTIN_PACKAGES = ("mazedsl.rl.algos.ppo", "mazedsl.rl.algos.a2c", "mazedsl.rl.algos.dqn",
                    "mazedsl.rl.algos.sac", "mazedsl.rl.algos.bc")
ENTRY_POINT_GROUP = "mazedsl.algorithms"


@attrs.define(frozen=True)
class AlgorithmEntry:
    """One registered algorithm."""

    name: str
    declaration: type
    learner: str | Callable[..., Any]  # "module:Class" or the class itself
    action_spaces: tuple[str, ...]  # gymnasium space class names it can act in; () = any
    default: bool = False
    precheck: str | Callable[..., Any] | None = None  # "module:function" or the function
    unused: tuple[str, ...] = ()  # experiment fields it ignores (e.g. "critic"), marked by `show`

    def learner_class(self) -> Any:
        """The learner class (imported on first use)."""
        return _resolve(self.learner)

    def run_precheck(self, declaration: Any, experiment: Any, obs_space: Any,
                     action_space: Any) -> None:
        """The algorithm's torch-free training check, where it registered one."""
        if self.precheck is not None:
            _resolve(self.precheck)(declaration, experiment, obs_space, action_space)


def _resolve(obj: str | Callable[..., Any]) -> Any:
    """``obj`` itself, or the attribute a ``"module:name"`` path names (imported now)."""
    if not isinstance(obj, str):
        return obj
    module, _, name = obj.partition(":")
    return getattr(importlib.import_module(module), name)


_ENTRIES: dict[str, AlgorithmEntry] = {}
_LOADED: list[bool] = []


def register_algorithm(name: str, declaration: type, learner: str | Callable[..., Any], *,
                       action_spaces: tuple[str, ...] = (), default: bool = False,
                       public_path: str | None = None, aliases: tuple[str, ...] = (),
                       config_module: bool = True,
                       precheck: str | Callable[..., Any] | None = None,
                       unused: tuple[str, ...] = ()) -> AlgorithmEntry:
    """Register an algorithm under ``name``.

    ``declaration`` is its attrs declaration class (every field made with
    :func:`mazedsl.spec.param`); ``learner`` a :class:`mazedsl.rl.algos.Learner` subclass or
    its ``"module:Class"`` path; ``action_spaces`` the gymnasium space class names it supports
    (e.g. ``("Discrete",)``; empty: any). The declaration becomes a valid ``_target_`` (its
    ``public_path``, default ``module.Class``), and unless a config file already provides it,
    the config module ``algorithm=<name>`` (the declaration's defaults). ``precheck``
    (a function or its ``"module:function"`` path, called ``(declaration, experiment,
    obs_space, action_space)``, raising :class:`~mazedsl.errors.ConfigError`) is a training
    check in a module that does not import torch: both CLIs run it before they import torch,
    so that mistake is refused within a second (the learner's own checks run later).
    ``unused`` names the experiment's fields the algorithm ignores (e.g. ``("critic",)`` when it
    builds no value network): ``mazedsl show`` and the TUI mark them as unused.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"algorithm name {name!r} must be a plain identifier")
    if not (isinstance(declaration, type) and attrs.has(declaration)):
        raise ConfigError(f"register_algorithm({name!r}): the declaration must be an attrs class, "
                          f"got {declaration!r}")
    from mazedsl.config.targets import register_declaration

    register_declaration(declaration, public_path, aliases)
    entry = AlgorithmEntry(name, declaration, learner, tuple(action_spaces), default, precheck,
                           tuple(unused))
    _ENTRIES[name] = entry
    if config_module and not declaration.__module__.startswith("mazedsl."):
        _store_config_module(name, declaration)  # built-ins have conf/algorithm/<name>.yaml
    return entry


def _store_config_module(name: str, declaration: type) -> None:
    import warnings

    from hydra.core.config_store import ConfigStore

    from mazedsl.config.convert import unstructure

    # Your algorithm/<name>.yaml may sit on MAZEDSL_CONFIG_PATH beside this entry (the README's
    # way): Hydra then fills the file's missing fields from it, and warns on every compose that
    # this pairing is deprecated. It is how the registry works here: not the user's to fix.
    warnings.filterwarnings("ignore", category=UserWarning,
                            message=rf"\s*'algorithm/{name}' is validated against ConfigStore schema")

    repo = ConfigStore.instance().repo.setdefault("algorithm", {})
    if f"{name}.yaml" in repo:
        return
    ConfigStore.instance().store(group="algorithm", name=name, node=unstructure(declaration()))


def load_builtins() -> None:
    """Import the built-in algorithm packages and the entry-point plugins (once)."""
    if _LOADED:
        return
    for module in BUILTIN_PACKAGES:
        importlib.import_module(module)
    _LOADED.append(True)
    try:
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                importlib.import_module(ep.value.partition(":")[0])
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break mazedsl
                import warnings

                warnings.warn(f"mazedsl algorithm plugin {ep.name!r} failed to import: {exc}")
    except Exception:  # noqa: BLE001 - no metadata (frozen apps)
        pass


def algorithms() -> dict[str, AlgorithmEntry]:
    """Every registered algorithm by name: the built-ins in ``BUILTIN_PACKAGES`` order, then
    the others in registration order (whatever order the packages were imported in)."""
    load_builtins()
    rank = {pkg.rsplit(".", 1)[1]: i for i, pkg in enumerate(BUILTIN_PACKAGES)}
    return dict(sorted(_ENTRIES.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def declarations() -> tuple[type, ...]:
    """The declaration classes of every registered algorithm."""
    return tuple(e.declaration for e in algorithms().values())


def entry_for(declaration: Any) -> AlgorithmEntry:
    """The registry entry of an algorithm declaration (instance or class)."""
    cls = declaration if isinstance(declaration, type) else type(declaration)
    for entry in algorithms().values():
        if entry.declaration is cls:
            return entry
    raise ConfigError(f"{cls.__name__} is not a registered algorithm (registered: "
                      f"{', '.join(algorithms())}); register it with "
                      "mazedsl.register_algorithm", "algorithm")


def default_algorithm() -> Any:
    """A fresh declaration of the default algorithm."""
    for entry in algorithms().values():
        if entry.default:
            return entry.declaration()
    raise ConfigError("no default algorithm is registered")  # pragma: no cover


def check_action_space(declaration: Any, space: Any) -> None:
    """Refuse an algorithm for an action space it cannot act in (one line naming both)."""
    entry = entry_for(declaration)
    if entry.action_spaces and type(space).__name__ not in entry.action_spaces:
        raise ConfigError(f"{entry.name} needs a {' or '.join(entry.action_spaces)} action space; "
                          f"this env's is {space}", "algorithm")
