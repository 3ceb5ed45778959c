"""The check both training CLIs make before anything is written: the env can be made and the
algorithm takes the experiment on its spaces."""

from __future__ import annotations

from typing import Any


def check_runnable(exp: Any, checked: dict[str, tuple[Any, Any]] | None = None) -> None:
    """Make the env once (per distinct env declaration), then ask the algorithm whether it
    takes this experiment on the env's spaces: bad kwargs, a missing dependency or an
    algorithm that cannot run here (DQN on a Box action space, BC without episodes, ...)
    are refused before any run directory exists."""
    from mazedsl.errors import EnvError, MazeError
    from mazedsl.rl.building import check_experiment
    from mazedsl.rl.registry import check_action_space
    from mazedsl.rllib import is_rllib

    if exp.env.factory:
        return
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
    if is_rllib(exp):  # RLlib's mapping refuses what it cannot express when it builds
        check_action_space(exp.algorithm, action_space)
    else:
        check_experiment(exp, obs_space, action_space)
