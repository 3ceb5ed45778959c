"""Envs of a project being ported to mazedsl: factories with keyword arguments, an endless env,
envs that break gymnasium's API (the old gym API, the wrong observation shape) and envs that are
fine although gymnasium's checker would warn (float64 observations of a float32 Box).

Importing the module registers ``PortChain-v0``, ``OldApi-v0``, ``OldStep-v0``,
``WrongShape-v0``, ``WrongStepShape-v0``, ``ArrayReward-v0``, ``Float64Obs-v0``,
``DictObs-v0`` and ``Crashy-v0``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

GIVE_UP = 2_000  # an endless episode this long means nothing cut it: fail rather than hang


class Chain(gym.Env):
    """Walk right along 6 cells; ends at the last one, truncates after ``horizon`` steps
    (``endless``: never ends, and raises after GIVE_UP steps of one episode)."""

    def __init__(self, horizon: int = 20, endless: bool = False) -> None:
        self.horizon, self.endless = horizon, endless
        self.observation_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.t = self.pos = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.pos / 5, min(self.t / self.horizon, 1.0), 0], np.float32)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = self.pos = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        if self.t > GIVE_UP:
            raise RuntimeError(f"an endless episode ran {GIVE_UP} steps: nothing cut it")
        self.pos = max(0, min(5, self.pos + (1 if int(action) == 1 else -1)))
        terminated = self.pos == 5 and not self.endless
        truncated = self.t >= self.horizon and not self.endless
        return self._obs(), (1.0 if terminated else -0.01), terminated, truncated, {}


def make_chain(horizon: int = 20) -> gym.Env:
    return Chain(horizon=horizon)


def make_endless() -> gym.Env:
    return Chain(endless=True)


class OldApi(gym.Env):
    """The old gym API: ``reset()`` returns the observation alone, ``step()`` four values."""

    observation_space = spaces.Box(-1, 1, (2,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        return np.zeros(2, np.float32)

    def step(self, action: Any) -> Any:
        return np.zeros(2, np.float32), 1.0, False, {}


class OldStep(OldApi):
    """Half ported: ``reset()`` follows gymnasium, ``step()`` still returns four values."""

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        return np.zeros(2, np.float32), {}


class WrongShape(gym.Env):
    """Observations of 4 values for a Box(3,) observation space."""

    observation_space = spaces.Box(-1, 1, (3,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        return np.zeros(4, np.float32), {}

    def step(self, action: Any) -> Any:
        return np.zeros(4, np.float32), 1.0, False, False, {}


class WrongStepShape(WrongShape):
    """Right at reset, 4 values from ``step()``."""

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        return np.zeros(3, np.float32), {}


class ArrayReward(Chain):
    """Rewards as arrays of 2 (one per objective): not one number per step."""

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, np.array([reward, 0.0]), terminated, truncated, info


class Float64Obs(Chain):
    """float64 observations of a float32 Box: gymnasium warns, the vector env casts them."""

    def _obs(self) -> np.ndarray:
        return super()._obs().astype(np.float64)


class DictObs(gym.Env):
    """Dict observations ``{'pos': Box(1,), 'goal': Discrete(3)}`` that are fine."""

    observation_space = spaces.Dict({"pos": spaces.Box(-1, 1, (1,), np.float32),
                                     "goal": spaces.Discrete(3)})
    action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        return {"pos": np.zeros(1, np.float32), "goal": 1}, {}

    def step(self, action: Any) -> Any:
        return {"pos": np.zeros(1, np.float32), "goal": 2}, 0.0, True, False, {}


class Crashy(Chain):
    """A bug in the env's own ``step()``: not an API break, reported as the user's code."""

    def step(self, action: Any) -> Any:
        raise RuntimeError("boom in step")


for _id, _entry in (("PortChain-v0", Chain), ("OldApi-v0", OldApi), ("OldStep-v0", OldStep),
                    ("WrongShape-v0", WrongShape), ("WrongStepShape-v0", WrongStepShape),
                    ("ArrayReward-v0", ArrayReward), ("Float64Obs-v0", Float64Obs),
                    ("DictObs-v0", DictObs), ("Crashy-v0", Crashy)):
    if _id not in gym.envs.registry:
        gym.register(_id, entry_point=_entry)
