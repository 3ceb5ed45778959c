"""``show_yaml``: the resolved YAML of an experiment file or entry config plus overrides, as
``mazedsl show`` prints it (:func:`shown_yaml`)."""

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


def unused_parts(obj: Any) -> tuple[str, ...]:
    """The top-level fields of an experiment that its algorithm ignores, as the algorithm
    registered them (``register_algorithm(..., unused=...)``); () for anything else."""
    from mazedsl.errors import ConfigError
    from mazedsl.rl.registry import entry_for

    algorithm = getattr(obj, "algorithm", None)
    if algorithm is None:
        return ()
    try:
        return entry_for(algorithm).unused
    except ConfigError:  # not a registered algorithm
        return ()


def shown_yaml(obj: Any) -> str:
    """:func:`to_yaml` of ``obj`` with each field its algorithm ignores marked by a comment on
    its line (``critic:  # unused by DQN``): kept, not dropped, so the text still loads back
    to the same experiment (a critic set anyway included)."""
    text = to_yaml(obj)
    unused = unused_parts(obj)
    if not unused:
        return text
    note = f"  # unused by {type(obj.algorithm).__name__}"
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.split(":", 1)[0] in unused and not line[:1].isspace():
            lines[i] = line.rstrip("\n") + note + "\n"
    return "".join(lines)


def show_yaml(ref: str | os.PathLike[str], overrides: Iterable[Any] = ()) -> str:
    """The YAML text of :func:`load`, as ``mazedsl show`` prints it (:func:`shown_yaml`)."""
    return shown_yaml(load(ref, overrides))
