"""A user's own torch modules (the README's "Your own model" contract)."""

from __future__ import annotations

import torch
from torch import nn


class PolicyNet(nn.Module):
    """An MLP with ``hidden_units`` and a torch activation class, as in Maze's examples."""

    def __init__(self, obs_dim: int, out_dim: int, hidden_units: list[int], non_lin: type[nn.Module]):
        super().__init__()
        layers: list[nn.Module] = []
        for width in hidden_units:
            layers += [nn.Linear(obs_dim, width), non_lin()]
            obs_dim = width
        layers.append(nn.Linear(obs_dim, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


class ValueNet(nn.Module):
    def __init__(self, obs_dim: int, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, width), nn.Tanh(), nn.Linear(width, 1))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs).squeeze(-1)  # (batch,) is accepted for a value net


class WrongShape(nn.Module):
    def __init__(self, obs_dim: int):
        super().__init__()
        self.net = nn.Linear(obs_dim, 5)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


class NotAModule:
    def __init__(self, **kwargs):
        pass
