"""The same experiment on Ray RLlib (``runner=rllib``): translation, training, acting, cluster.

- :mod:`mazedsl.rllib.translate`: Experiment -> RLlib ``PPOConfig`` and the mapping table
- :mod:`mazedsl.rllib.runner`: the training loop writing mazedsl's run directory
- :mod:`mazedsl.rllib.policy`: acting with an RLModule restored from a checkpoint
- :mod:`mazedsl.rllib.cluster`: starting or joining Ray, with checks that fail fast
- :mod:`mazedsl.rllib.dispatch`: the few hooks :class:`mazedsl.RunContext` calls

Nothing here imports Ray at module level: without the ``ray`` extra a config with
``runner=rllib`` still loads, shows and diffs; training or loading says what to install.
"""

from __future__ import annotations

from typing import Any

from mazedsl.errors import MazeError

INSTALL_HINT = "pip install 'mazedsl[ray]'"


class RLlibError(MazeError):
    """RLlib or Ray cannot run this experiment (missing extra, cluster, resources, env)."""


def is_rllib(experiment: Any) -> bool:
    """Whether ``experiment`` runs on RLlib (its runner is an ``RLlibRunner``)."""
    from mazedsl.spec import RLlibRunner

    return isinstance(getattr(experiment, "runner", None), RLlibRunner)


def require_ray() -> None:
    """Raise one line naming the extra to install unless ``ray[rllib]`` imports."""
    try:
        import ray  # noqa: F401
        import ray.rllib  # noqa: F401
    except ImportError as exc:
        raise RLlibError(f"runner=rllib needs Ray RLlib, which is not installed ({exc}); "
                         f"install it with: {INSTALL_HINT}") from None
