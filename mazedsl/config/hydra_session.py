"""Hydra plumbing: a scoped session on ``mazedsl.conf``, composition, sources, error text.

:func:`session` initialises Hydra with ``initialize_config_module("mazedsl.conf")``, adds the
user search path, and afterwards puts Hydra's global state (GlobalHydra, the version base,
the job name) back as it found it, so it also works inside a running ``@hydra.main`` app.
Nothing here reads ``sys.argv`` or changes the working directory.
"""

from __future__ import annotations

import copy
import os
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from hydra import compose as hydra_compose
from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.singleton import Singleton
from hydra.core.utils import JobRuntime
from hydra.errors import HydraException, MissingConfigException
from hydra.version import VersionBase
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from mazedsl.config import _paths, searchpath
from mazedsl.errors import ConfigError

CONF_MODULE = "mazedsl.conf"
#: Held while Hydra's global state is in use; hold it also around a temporary change of the
#: search path that a composition must see (another thread's composition then waits).
LOCK = threading.RLock()


@contextmanager
def session() -> Iterator[Any]:
    """A Hydra config loader over ``mazedsl.conf`` + user folders + ConfigStore entries."""
    with LOCK:
        saved_hydra = Singleton._instances.pop(GlobalHydra, None)
        saved_base = VersionBase.instance().getbase()
        runtime = Singleton._instances.get(JobRuntime)
        saved_runtime = copy.deepcopy(runtime.conf) if runtime is not None else None
        try:
            with initialize_config_module(CONF_MODULE, version_base="1.3"):
                loader = GlobalHydra.instance().config_loader()
                search_path = loader.get_search_path()
                searchpath.extend(search_path)
                loader.repository.initialize_sources(search_path)
                yield loader
        finally:
            Singleton._instances.pop(GlobalHydra, None)
            if saved_hydra is not None:
                Singleton._instances[GlobalHydra] = saved_hydra
            VersionBase.instance().version_base = saved_base
            if runtime is None:
                Singleton._instances.pop(JobRuntime, None)
            else:
                runtime.conf = saved_runtime
                Singleton._instances[JobRuntime] = runtime


def hydra_error(exc: BaseException, context: str = "") -> ConfigError:
    """A one-paragraph ConfigError of a Hydra/OmegaConf exception (search path dump dropped)."""
    text = str(exc).split("\nConfig search path:")[0].split("\nSearch path:")[0]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    message = "; ".join(lines) or type(exc).__name__
    if context:
        message = f"{context}: {message}"
    return ConfigError(message)


def config_names(loader: Any) -> list[str]:
    """Entry (primary) config names, e.g. ``conf_rollout``, ``conf_train``."""
    return sorted(n for n in loader.get_group_options("") if not n.startswith("_"))


def group_options(loader: Any, group: str) -> list[str]:
    """The config modules of ``group`` from every source, sorted."""
    return sorted(set(loader.get_group_options(group)))


def compose_with_choices(config_name: str | None, overrides: list[str]
                         ) -> tuple[DictConfig, dict[str, str]]:
    """Hydra's compose API (inside :func:`session`) and the chosen module of each group.

    The ``hydra`` node is dropped; Hydra errors become ConfigErrors.
    """
    try:
        cfg = hydra_compose(config_name=config_name, overrides=list(overrides),
                            return_hydra_config=True)
    except MissingConfigException as exc:
        raise hydra_error(exc) from None
    except (HydraException, OmegaConfBaseException) as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, OmegaConfBaseException) else exc
        raise hydra_error(cause, f"composing {config_name or 'config'}") from None
    OmegaConf.set_struct(cfg, False)
    choices = OmegaConf.to_container(cfg.hydra.runtime.choices, resolve=False)
    del cfg["hydra"]
    return cfg, {k: v for k, v in choices.items() if isinstance(v, str)}  # type: ignore[union-attr]


def compose(config_name: str | None, overrides: list[str]) -> DictConfig:
    """:func:`compose_with_choices` without the choices."""
    return compose_with_choices(config_name, overrides)[0]


def describe(config_path: str, source_path: str | None) -> str:
    """Where a config module lives: ``conf/algorithm/ppo.yaml``, ``my_conf/...``, ``registered ...``."""
    if source_path is None:
        return config_path
    if source_path == f"pkg://{CONF_MODULE}":
        return f"conf/{config_path}.yaml"
    if source_path.startswith("file://"):
        file = os.path.join(source_path[len("file://"):], f"{config_path}.yaml")
        relative = os.path.relpath(file)
        return file if relative.startswith("..") else relative
    if source_path.startswith("structured://"):
        return f"registered {config_path}"
    return f"{source_path}/{config_path}.yaml"


def find_source(loader: Any, config_path: str) -> Any:
    """The config source Hydra loads ``config_path`` from (first in search order), or None."""
    for source in loader.repository.get_sources():
        if source.is_config(config_path):
            return source
    return None


def module_source(loader: Any, config_path: str) -> str:
    """:func:`describe` of the module Hydra would load for ``config_path``."""
    source = find_source(loader, config_path)
    return describe(config_path, source.full_path() if source is not None else None)


def composition_sources(loader: Any, config_name: str, cfg: DictConfig,
                        choices: dict[str, str], groups: Any) -> dict[str, str]:
    """``{leaf path: module}`` for a composition of ``config_name``: which module set each value.

    Group modules and the primary config's own values are applied in the primary
    defaults-list order (``_self_`` position), later ones winning, as Hydra merges them.
    """
    primary = loader.repository.load_config(config_name)
    order: list[str] = []
    if primary is not None:
        for default in primary.defaults_list or []:
            order.append("_self_" if default.is_self() else str(
                getattr(default, "group", None) or getattr(default, "path", "")))
    if "_self_" not in order:
        order.insert(0, "_self_")
    order += [g for g in choices if g not in order]
    tree = OmegaConf.to_container(cfg, resolve=False)
    table: dict[str, str] = {}
    for item in order:
        if item == "_self_" and primary is not None:
            raw = OmegaConf.to_container(primary.config, resolve=False)
            raw.pop("defaults", None)  # type: ignore[union-attr]
            raw.pop("hydra", None)  # type: ignore[union-attr]
            label = module_source(loader, config_name)
            table.update({leaf: label for leaf in _paths.leaves(raw)})
        elif item in groups and item in choices and isinstance(tree, dict) and item in tree:
            label = module_source(loader, f"{item}/{choices[item]}")
            _paths.forget(table, item)
            table.update({leaf: label for leaf in _paths.leaves(tree[item], item)})
    return table
