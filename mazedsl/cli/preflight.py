"""The check both training CLIs make before anything is written: the env can be made and the
algorithm takes the experiment on its spaces.

It runs in two stages. :func:`check_before_torch` imports no torch (about 2.5 s here), so
the commonest refusals (an env that cannot be made, an algorithm on the wrong kind of actions,
an algorithm's registered ``precheck`` such as BC's missing episodes) answer in about a
second; :func:`check_learner` then asks the algorithm's learner itself.
:func:`check_runnable` runs both."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mazedsl.errors import ConfigError

Checked = dict[str, tuple[Any, Any]]
"""The spaces of each env declaration made so far (a sweep makes each env once)."""


def check_before_torch(exp: Any, checked: Checked | None = None) -> tuple[Any, Any] | None:
    """Make the env once (per distinct env declaration), refuse an algorithm that cannot act
    in its action space, and run the algorithm's registered ``precheck`` (e.g. BC's recorded
    episodes); the (observation, action) spaces, or None for an env factory (checked when it
    is built). Imports no torch."""
    from mazedsl.errors import EnvError, MazeError
    from mazedsl.rl.registry import check_action_space, entry_for

    if exp.env.factory:
        return None
    checked = {} if checked is None else checked
    key = repr((exp.env, exp.wrappers))
    if key not in checked:
        from mazedsl.rl.envs import make_env_fn

        try:
            env = make_env_fn(exp.env, exp.wrappers)()
        except MazeError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the env's own constructor
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EnvError(f"env: cannot make {exp.env.name!r}: {type(exc).__name__}: {first}") from None
        checked[key] = (env.observation_space, env.action_space)
        env.close()
    obs_space, action_space = checked[key]
    check_action_space(exp.algorithm, action_space)
    entry_for(exp.algorithm).run_precheck(exp.algorithm, exp, obs_space, action_space)
    return obs_space, action_space


def check_runnable(exp: Any, checked: Checked | None = None) -> None:
    """:func:`check_before_torch`, then :func:`check_learner`: bad kwargs, a missing
    dependency or an algorithm that cannot run here (DQN on a Box action space, BC without
    episodes, ...) are refused before any run directory exists."""
    check_learner(exp, check_before_torch(exp, checked))


def check_learner(exp: Any, spaces: tuple[Any, Any] | None) -> None:
    """Ask the algorithm's learner whether it takes this experiment on the env's ``spaces``
    (what :func:`check_before_torch` returned for it; that stage is not repeated), and
    refuse a ``runner.device`` this machine lacks."""
    from mazedsl.rllib import is_rllib

    if is_rllib(exp):  # what runner=rllib cannot honour (plain data: no Ray, no torch)
        from mazedsl.rllib.translate import check

        check(exp)
        return
    from mazedsl.rl.device import resolve_device

    resolve_device(exp.runner.device)
    if spaces is not None:
        from mazedsl.rl.building import check_experiment

        check_experiment(exp, *spaces, prechecked=True)


def check_creatable(folder: str | Path, what: str = "output_dir") -> None:
    """Refuse, in one line naming ``what``, a folder that cannot be made here (below a file,
    in a read-only or virtual file system such as /proc): a scratch folder is made and removed
    in its nearest existing ancestor, which is what creating the run directory will need."""
    import tempfile

    path = Path(folder).absolute()
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"cannot create {str(path)!r}: {str(ancestor)!r} is not a directory",
                          what)
    try:
        probe = tempfile.mkdtemp(prefix=".mazedsl-probe-", dir=ancestor)
        os.rmdir(probe)
    except OSError as exc:
        raise ConfigError(f"cannot create {str(path)!r} ({exc.strerror or exc})", what) from None

