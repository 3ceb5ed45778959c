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
from hydra.plugins.config_source import ConfigResult
from hydra.types import RunMode
from hydra.version import VersionBase
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from mazedsl.config import _paths, searchpath
from mazedsl.errors import ConfigError

CONF_MODULE = "mazedsl.conf"
_LOCK = threading.RLock()


@contextmanager
def session() -> Iterator[Any]:
    """A Hydra config loader over ``mazedsl.conf`` + user folders + ConfigStore entries."""
    with _LOCK:
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


def compose(config_name: str | None, overrides: list[str]) -> DictConfig:
    """Hydra's compose API (inside :func:`session`); Hydra errors become ConfigErrors."""
    try:
        cfg = hydra_compose(config_name=config_name, overrides=list(overrides))
    except MissingConfigException as exc:
        raise hydra_error(exc) from None
    except (HydraException, OmegaConfBaseException) as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, OmegaConfBaseException) else exc
        raise hydra_error(cause, f"composing {config_name or 'config'}") from None
    OmegaConf.set_struct(cfg, False)
    return cfg


def describe(config_path: str, result: ConfigResult | None) -> str:
    """Where a config module lives: ``conf/algorithm/ppo.yaml``, ``my_conf/...``, ``registered ...``."""
    if result is None:
        return config_path
    if result.path == f"pkg://{CONF_MODULE}":
        return f"conf/{config_path}.yaml"
    if result.path.startswith("file://"):
        file = os.path.join(result.path[len("file://"):], f"{config_path}.yaml")
        relative = os.path.relpath(file)
        return file if relative.startswith("..") else relative
    if result.path.startswith("structured://"):
        return f"registered {config_path}"
    return f"{result.path}/{config_path}.yaml"


def module_source(loader: Any, config_path: str) -> str:
    """:func:`describe` of the module Hydra would load for ``config_path``."""
    return describe(config_path, loader.repository.load_config(config_path))


def composition_sources(loader: Any, config_name: str, overrides: list[str]) -> dict[str, str]:
    """``{leaf path: module}`` for a composition: which module set each value, last one wins."""
    table: dict[str, str] = {}
    defaults = loader.compute_defaults_list(config_name, list(overrides), RunMode.RUN)
    for default in defaults.defaults:
        path = default.config_path
        if path is None or path == "hydra/config" or path.startswith("hydra/"):
            continue
        result = loader.repository.load_config(path)
        if result is None:
            continue
        node = OmegaConf.to_container(result.config, resolve=False)
        if isinstance(node, dict):
            node.pop("defaults", None)
        prefix = _paths.build(default.package.split(".")) if default.package else ""
        label = describe(path, result)
        for leaf in _paths.leaves(node, prefix):
            table[leaf] = label
    return table
