"""Config groups: what each holds, listing and loading modules, registering Python ones."""

from __future__ import annotations

from typing import Any, Union

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from mazedsl import spec
from mazedsl.config.convert import from_config, prefixed, unstructure
from mazedsl.config.hydra_session import (compose, config_names, find_source, group_options,
                                          module_source, session)
from mazedsl.config.suggest import did_you_mean
from mazedsl.errors import ConfigError

#: Group name -> what its config modules hold.
GROUPS: dict[str, str] = {
    "env": "GymEnv: the environment",
    "algorithm": "any registered algorithm (ppo, a2c, ...): the training algorithm",
    "model": "VectorObs | PixelObs | your own torch module (_target_): the policy network",
    "critic": "StateCritic | your own torch module (_target_): the value network",
    "wrappers": "list of wrappers (NormalizeObservation, NormalizeReward, Grayscale, Resize, "
                "FrameStack, ScaleObservation), under a `# @package _global_` `wrappers:` key",
    "runner": "Runner | RLlibRunner (training) | RolloutRunner (conf_rollout): how envs are stepped",
}

#: Group name -> the declaration types its modules may hold.
GROUP_TYPES: dict[str, tuple[type, ...]] = {
    "env": (spec.GymEnv,),
    "algorithm": (spec.AlgorithmSpec,),
    "model": (spec.VectorObs, spec.PixelObs, spec.TorchModel),
    "critic": (spec.StateCritic, spec.TorchModel),
    "wrappers": spec.WRAPPER_TYPES,
    "runner": (spec.Runner, spec.RLlibRunner, spec.RolloutRunner),
}


def group_type(group: str) -> Any:
    """The type a module of ``group`` structures to (``list[Wrapper]`` for wrappers)."""
    check_group(group)
    if group == "wrappers":
        return list[spec.Wrapper]
    if group == "algorithm":
        return spec.AlgorithmSpec
    return Union[GROUP_TYPES[group]]  # type: ignore[valid-type]


def check_group(group: str) -> None:
    if group not in GROUPS:
        hint = did_you_mean(str(group), GROUPS)
        raise ConfigError(f"unknown config group {group!r}{hint} (groups: {', '.join(GROUPS)})")


def unknown_module_error(group: str, name: str, available: list[str]) -> ConfigError:
    hint = did_you_mean(str(name), available)
    return ConfigError(f"unknown config module {name!r}{hint} (available {group} modules: "
                       f"{', '.join(available)})", group)


def list_modules(group: str) -> list[str]:
    """The module names of ``group``: built-in, user search path and registered ones."""
    check_group(group)
    with session() as loader:
        return group_options(loader, group)


def load_group_node(group: str, name: str) -> tuple[Any, str]:
    """The plain (unresolved) node of module ``group/name`` and where it lives."""
    check_group(group)
    with session() as loader:
        available = group_options(loader, group)
        if name not in available:
            raise unknown_module_error(group, name, available)
        source = module_source(loader, f"{group}/{name}")
        cfg = compose(None, [f"+{group}={name}"])
    if group not in cfg:
        raise ConfigError(f"{source} does not set `{group}` (for wrappers: start the file with "
                          f"'# @package _global_' and put the list under `wrappers:`)", group)
    return OmegaConf.to_container(cfg[group], resolve=False), source


def load_group_module(group: str, name: str) -> Any:
    """The validated declaration of module ``group/name`` (a list of wrappers for ``wrappers``)."""
    node, source = load_group_node(group, name)
    try:
        return from_config(node, group_type(group), source=source)
    except ConfigError as exc:
        raise prefixed(exc, group) from None


def register(group: str, name: str, declaration: Any) -> None:
    """Register a Python declaration as module ``group/name`` (Hydra's ConfigStore).

    It is then usable by name in compose, overrides (``algorithm=name``), RunContext and
    ``mazedsl-run``. ``declaration`` may be a declaration, a dict config of one, or for
    ``wrappers`` a list of them. A name taken by a config file is refused.
    """
    check_group(group)
    if not isinstance(name, str) or not name or any(c in name for c in "/\\=:,. ") \
            or name.startswith("_"):
        raise ConfigError(f"module name {name!r} must be a plain name", group)
    try:
        value = from_config(declaration, group_type(group), source=f"register({group!r}, "
                                                                       f"{name!r})")
    except ConfigError as exc:
        raise prefixed(exc, group) from None
    with session() as loader:
        existing = find_source(loader, f"{group}/{name}")
        if existing is not None and existing.scheme() != "structured":
            raise ConfigError(f"{group}/{name} is already a config module "
                              f"({module_source(loader, f'{group}/{name}')}); pick another name",
                              group)
    if group == "wrappers":
        ConfigStore.instance().store(group=group, name=name, package="_global_",
                                     node={"wrappers": unstructure(value)})
    else:
        ConfigStore.instance().store(group=group, name=name, node=unstructure(value))


def unregister(group: str, name: str) -> None:
    """Forget a module :func:`register` stored (no error when there is none)."""
    ConfigStore.instance().repo.get(group, {}).pop(f"{name}.yaml", None)


def list_configs() -> list[str]:
    """The entry config names (``conf_rollout``, ``conf_train``, and user ones)."""
    with session() as loader:
        return config_names(loader)
