"""A policy network of your own: any ``torch.nn.Module`` works as a mazedsl model.

The contract (README, "Your own model"): the constructor receives your keyword arguments plus
those of ``obs_space``, ``action_space``, ``obs_dim``, ``obs_shape`` and ``out_dim`` that it
declares; ``forward`` takes a float batch of observations ``(batch, *obs_shape)`` and returns
``(batch, out_dim)``: logits for discrete actions, Gaussian means for continuous ones (with
SAC: the means, then the log stds; experiments/custom_model_sac.py).
"""

from __future__ import annotations

import torch
from torch import nn


class PolicyNet(nn.Module):
    """An MLP with ``hidden_units`` and an activation class ``non_lin`` (as in Maze's examples)."""

    def __init__(self, obs_dim: int, out_dim: int, hidden_units: list[int],
                 non_lin: type[nn.Module] = nn.Tanh) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for width in hidden_units:
            layers += [nn.Linear(obs_dim, width), non_lin()]
            obs_dim = width
        head = nn.Linear(obs_dim, out_dim)
        nn.init.orthogonal_(head.weight, 0.01)  # small initial logits, as SB3/CleanRL
        nn.init.zeros_(head.bias)
        self.net = nn.Sequential(*layers, head)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)
