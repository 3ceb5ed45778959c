"""A user's env package: registers ``MyCorridor-v0`` on import (gymnasium's ``module:id`` form)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class Corridor(gym.Env):
    """Walk right to the end of a corridor of ``length`` cells; 2-D Box actions (any shape)."""

    def __init__(self, length: int = 5):
        self.length = length
        self.observation_space = gym.spaces.Box(0, length, (1,), np.float32)
        self.action_space = gym.spaces.Box(-1, 1, (1, 2), np.float32)
        self.pos = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = 0
        return np.array([self.pos], np.float32), {}

    def step(self, action):
        self.pos = max(0, self.pos + (1 if float(np.sum(action)) > 0 else -1))
        done = self.pos >= self.length
        return np.array([self.pos], np.float32), (1.0 if done else -0.1), done, False, {}


def make_corridor() -> gym.Env:
    return gym.wrappers.TimeLimit(Corridor(), 50)


if "MyCorridor-v0" not in gym.envs.registry:
    gym.register("MyCorridor-v0", entry_point=Corridor, max_episode_steps=50)
