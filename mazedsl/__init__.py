"""mazedsl: declare, run, compare and watch reinforcement-learning experiments.

Public names are imported lazily, so ``import mazedsl`` stays fast (torch loads only
when the engine is used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Experiment", "RunContext", "to_config", "from_config", "load_experiment", "diff",
    "GymEnv", "A2C", "PPO", "DQN", "SAC", "BC", "VectorObs", "PixelObs", "StateCritic", "TorchModel",
    "register_algorithm", "build", "MazeError", "ConfigError",
]

_LOCATIONS = {
    "Experiment": "mazedsl.spec",
    "GymEnv": "mazedsl.spec",
    "A2C": "mazedsl.rl.algos.a2c",
    "PPO": "mazedsl.rl.algos.ppo",
    "DQN": "mazedsl.rl.algos.dqn",
    "SAC": "mazedsl.rl.algos.sac",
    "BC": "mazedsl.rl.algos.bc",
    "TorchModel": "mazedsl.spec",
    "register_algorithm": "mazedsl.rl.registry",
    "build": "mazedsl.rl.building",
    "VectorObs": "mazedsl.spec",
    "PixelObs": "mazedsl.spec",
    "StateCritic": "mazedsl.spec",
    "to_config": "mazedsl.config",
    "from_config": "mazedsl.config",
    "load_experiment": "mazedsl.config",
    "diff": "mazedsl.config",
    "RunContext": "mazedsl.context",
    "MazeError": "mazedsl.errors",
    "ConfigError": "mazedsl.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LOCATIONS:
        value = getattr(importlib.import_module(_LOCATIONS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mazedsl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)


if TYPE_CHECKING:  # pragma: no cover
    from mazedsl.config import diff, from_config, load_experiment, to_config
    from mazedsl.context import RunContext
    from mazedsl.errors import ConfigError, MazeError
    from mazedsl.rl.algos.a2c import A2C
    from mazedsl.rl.algos.bc import BC
    from mazedsl.rl.algos.dqn import DQN
    from mazedsl.rl.algos.ppo import PPO
    from mazedsl.rl.algos.sac import SAC
    from mazedsl.rl.building import build
    from mazedsl.rl.registry import register_algorithm
    from mazedsl.spec import Experiment, GymEnv, PixelObs, StateCritic, TorchModel, VectorObs
