"""Users' modules whose train/eval mode matters (Dropout, BatchNorm, a mode spy), one that
reads the action space, an image net, and a small uint8 image env (tests/test_model_modes.py)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn


class DropPolicy(nn.Module):
    """An MLP with Dropout(0.5): in train mode two forwards of one batch differ."""

    def __init__(self, obs_dim: int, out_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 64), nn.ReLU(), nn.Dropout(0.5),
                                 nn.Linear(64, out_dim))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


class BNPolicy(nn.Module):
    """An MLP with BatchNorm1d: in train mode a batch of one fails and every forward moves
    the running statistics."""

    def __init__(self, obs_dim: int, out_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 16), nn.BatchNorm1d(16), nn.ReLU(),
                                 nn.Linear(16, out_dim))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


class ModeSpy(nn.Module):
    """A linear model that records, for every forward, whether it ran in train mode, with
    gradients, under inference mode (``ModeSpy.calls``, shared by copies: DQN's target)."""

    calls: list[tuple[bool, bool, bool]] = []

    def __init__(self, obs_dim: int, out_dim: int) -> None:
        super().__init__()
        self.net = nn.Linear(obs_dim, out_dim)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        ModeSpy.calls.append((self.training, torch.is_grad_enabled(),
                              torch.is_inference_mode_enabled()))
        return self.net(obs)


class SpaceAware(nn.Module):
    """Reads its sizes from the spaces (the README's constructor contract)."""

    def __init__(self, obs_space: spaces.Space, action_space: spaces.Space) -> None:
        super().__init__()
        self.action_n = int(action_space.n)
        self.net = nn.Linear(int(np.prod(obs_space.shape)), self.action_n)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs.flatten(1))


class ImgNet(nn.Module):
    """A conv net over HWC images (uint8 arrive as floats 0..255)."""

    def __init__(self, obs_shape: tuple[int, ...], out_dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(obs_shape[-1], 4, 3, stride=2)
        self.head = nn.LazyLinear(out_dim)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(obs.permute(0, 3, 1, 2) / 255.0)).flatten(1))


class Img(gym.Env):
    """Random uint8 24x24x3 frames, 10 steps an episode; action 1 earns 1."""

    def __init__(self, size: int = 24) -> None:
        self.observation_space = spaces.Box(0, 255, (size, size, 3), np.uint8)
        self.action_space = spaces.Discrete(2)
        self.t = 0

    def _frame(self) -> np.ndarray:
        return self.np_random.integers(0, 256, self.observation_space.shape, dtype=np.uint8)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._frame(), {}

    def step(self, action):
        self.t += 1
        return self._frame(), float(action), False, self.t >= 10, {}


gym.register("ModeImg-v0", entry_point=Img)
