"""The Q-network: the experiment's model torso with one linear output per action."""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from torch import nn

from mazedsl.errors import ConfigError
from mazedsl.rl.algos._offpolicy import mlp


class QNetwork(nn.Module):
    """Q(s, .) for a Discrete action space: ``(N, obs_dim) -> (N, n_actions)``.

    ``torso`` is any module mapping prepared observations to ``torso_dim`` features (a CNN
    for images); without one, an MLP of ``hidden`` / ``activation`` on flat observations.
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: list[int] | None = None,
                 activation: str = "relu", torso: nn.Module | None = None,
                 torso_dim: int | None = None) -> None:
        super().__init__()
        if torso is None:
            hidden = list(hidden or [])
            self.net = mlp(obs_dim, hidden, activation, n_actions)
        else:
            if torso_dim is None:
                raise ValueError("torso_dim is needed with a torso")
            self.net = nn.Sequential(torso, nn.Linear(torso_dim, n_actions))
        self.n_actions = n_actions

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


def check_discrete(action_space: Any, where: str = "algorithm") -> int:
    """The number of actions of a Discrete space, or a ConfigError naming the space."""
    if not isinstance(action_space, spaces.Discrete):
        raise ConfigError(f"DQN needs a Discrete action space, got {action_space}; "
                          "use SAC or PPO for continuous actions", where)
    return int(action_space.n)
