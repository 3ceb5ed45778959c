"""The configuration core: compile, validate, compose, override, trace and compare experiments.

Declarations (:mod:`mazedsl.spec`) become OmegaConf trees with ``to_config`` and come back,
validated, with ``from_config``. The ``conf/`` tree (package ``mazedsl.conf``) holds one
Hydra group per component; ``compose_experiment`` builds an Experiment from it, and
``apply_overrides`` (``Experiment.override``) changes one with Hydra override strings or
dotted dicts. Every value can say where it was set (``explain``, ``provenance``).
"""

from mazedsl.config.compose import compose, compose_experiment
from mazedsl.config.convert import from_config, to_config, to_yaml
from mazedsl.config.diff import MISSING, diff
from mazedsl.config.experiment_files import load_experiment
from mazedsl.config.groups import (GROUPS, list_configs, list_modules, load_group_module,
                                   register, unregister)
from mazedsl.config.instantiate import allow_target
from mazedsl.config.overrides import apply_overrides, split_sweep
from mazedsl.config.provenance import explain, provenance
from mazedsl.config.searchpath import ENV_VAR, add_search_path, remove_search_path
from mazedsl.config.show import show_yaml, shown_yaml

__all__ = [
    "to_config", "to_yaml", "from_config", "compose", "compose_experiment", "register",
    "unregister", "add_search_path", "remove_search_path", "ENV_VAR", "list_modules",
    "list_configs", "GROUPS", "load_group_module", "apply_overrides", "split_sweep",
    "load_experiment", "explain", "provenance", "diff", "MISSING", "show_yaml", "shown_yaml",
    "allow_target",
]
