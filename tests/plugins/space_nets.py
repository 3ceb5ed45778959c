"""A user's module that takes the env's spaces (as RunContext(model=SpaceAware) builds it)."""

from __future__ import annotations

import torch
from torch import nn


class SpaceAware(nn.Module):
    def __init__(self, obs_space, action_space):
        super().__init__()
        self.linear = nn.Linear(obs_space.shape[0], action_space.n)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.linear(obs)


def make_space_aware(obs_space, action_space) -> SpaceAware:
    return SpaceAware(obs_space, action_space)
