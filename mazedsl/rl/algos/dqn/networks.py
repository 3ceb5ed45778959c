"""DQN's action-space check (its Q-network is the experiment's model: ``learner.build_q_net``)."""

from __future__ import annotations

from typing import Any

from gymnasium import spaces

from mazedsl.errors import ConfigError


def check_discrete(action_space: Any, where: str = "algorithm") -> int:
    """The number of actions of a Discrete space, or a ConfigError naming the space."""
    if not isinstance(action_space, spaces.Discrete):
        raise ConfigError(f"DQN needs a Discrete action space, got {action_space}; "
                          "use SAC or PPO for continuous actions", where)
    return int(action_space.n)
