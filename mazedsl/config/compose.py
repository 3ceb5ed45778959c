"""Compose the conf tree (``conf_train``, ``conf_rollout``) with overrides into a declaration.

Group choices (``algorithm=a2c``) and ``hydra.*`` settings go to Hydra's compose API, which
picks the modules of the defaults list; every other override is applied afterwards by
:class:`~mazedsl.config.overrides.Overrider` (Hydra's order: choices first, then values),
so errors and provenance are the same as for ``Experiment.override``.
"""

from __future__ import annotations

from typing import Any, Iterable

from hydra.core.override_parser.types import OverrideType
from omegaconf import DictConfig, OmegaConf

from mazedsl.config.convert import from_config, sourced
from mazedsl.config.groups import GROUPS, unknown_module_error
from mazedsl.config.hydra_session import (compose_with_choices, composition_sources,
                                          config_names, group_options, session)
from mazedsl.config.overrides import (Overrider, _flatten, declared_allowances, error_sources,
                                      parse_override)
from mazedsl.config.provenance import record
from mazedsl.config.suggest import did_you_mean
from mazedsl.config.targets import DECLARATIONS, resolve_target
from mazedsl.errors import ConfigError
from mazedsl.spec import Experiment


def _is_choice(text: str) -> bool:
    override = parse_override(text)
    key = override.key_or_group
    if key == "hydra" or key.startswith("hydra."):
        return True
    return (key in GROUPS and override.type != OverrideType.DEL
            and isinstance(override.value(), str))


def _compose_tree(config_name: str, overrides: Iterable[Any]) -> Overrider:
    items = list(_flatten([overrides]))
    choices = [item for item in items if isinstance(item, str) and _is_choice(item)]
    rest = [item for item in items if not (isinstance(item, str) and item in choices)]
    with session() as loader:
        names = config_names(loader)
        if config_name not in names:
            hint = did_you_mean(str(config_name), names)
            raise ConfigError(f"unknown config {config_name!r}{hint} (available: "
                              f"{', '.join(names)})")
        for text in choices:
            override = parse_override(text)
            group = override.key_or_group
            if group in GROUPS:
                available = group_options(loader, group)
                if override.value() not in available:
                    raise unknown_module_error(group, override.value(), available).with_source(
                        f"override {text!r}")
        cfg, chosen = compose_with_choices(config_name, choices)
        table = composition_sources(loader, config_name, cfg, chosen, GROUPS)
    tree = OmegaConf.to_container(cfg, resolve=False)
    root: type = Experiment
    if isinstance(tree, dict) and "_target_" in tree:
        try:
            root = resolve_target(tree["_target_"], DECLARATIONS)
        except ConfigError as exc:
            raise sourced(exc, f"config {config_name!r}") from None
    overrider = Overrider(tree, root, table, declared_allowances(rest))
    for item in rest:
        overrider.apply(item)
    return overrider


def compose(config_name: str = "conf_train", overrides: Iterable[Any] = ()) -> DictConfig:
    """The composed config (not validated): built-in modules, user search path, registered ones."""
    return OmegaConf.create(_compose_tree(config_name, overrides).tree)


def compose_experiment(overrides: Iterable[Any] = (), config_name: str = "conf_train") -> Any:
    """The validated declaration of a composed config (an Experiment for ``conf_train``,
    a RolloutConfig for ``conf_rollout``). Errors name the override or module file."""
    overrider = _compose_tree(config_name, overrides)
    result = from_config(OmegaConf.create(overrider.tree), overrider.root,
                         source=error_sources(overrider.table))
    record(result, overrider.table)
    return result
