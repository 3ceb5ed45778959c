"""``show_yaml``: the resolved YAML of an experiment file or entry config plus overrides."""

from __future__ import annotations

import os
from typing import Any, Iterable

from mazedsl.config.compose import compose_experiment
from mazedsl.config.convert import to_yaml
from mazedsl.config.experiment_files import EXPERIMENTS_DIR, load_experiment
from mazedsl.config.groups import list_configs
from mazedsl.config.overrides import apply_overrides


def load(ref: str | os.PathLike[str], overrides: Iterable[Any] = ()) -> Any:
    """The declaration of ``ref`` (an experiment reference, or an entry config name such as
    ``conf_train``) with ``overrides`` applied."""
    text = os.fspath(ref)
    is_file = text.endswith(".py") or os.path.isfile(os.path.join(EXPERIMENTS_DIR,
                                                                  f"{text}.py"))
    if not is_file and ":" not in text and text in list_configs():
        return compose_experiment(list(overrides), config_name=text)
    return apply_overrides(load_experiment(text), list(overrides))


def show_yaml(ref: str | os.PathLike[str], overrides: Iterable[Any] = ()) -> str:
    """The YAML text of :func:`load`."""
    return to_yaml(load(ref, overrides))
