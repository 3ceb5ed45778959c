"""Running observation and reward normalisation over a vector env (as SB3's VecNormalize).

Their statistics are plain arrays (``state_dict``), saved with each checkpoint.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class RunningMeanStd:
    """Parallel-algorithm running mean and variance of batches."""

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.mean = np.zeros(shape, dtype=np.float64)
        self.var = np.ones(shape, dtype=np.float64)
        self.count = 1e-4

    def update(self, batch: np.ndarray) -> None:
        b_mean, b_var, b_count = batch.mean(axis=0), batch.var(axis=0), batch.shape[0]
        delta = b_mean - self.mean
        total = self.count + b_count
        self.mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta ** 2 * self.count * b_count / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict[str, Any]:
        return {"mean": torch.from_numpy(np.array(self.mean)), "var": torch.from_numpy(np.array(self.var)),
                "count": float(self.count)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean = state["mean"].numpy().astype(np.float64)
        self.var = state["var"].numpy().astype(np.float64)
        self.count = float(state["count"])


class ObsNormalizer:
    """Normalises flat observations with running statistics, clipped to ``[-clip, clip]``."""

    def __init__(self, shape: tuple[int, ...], clip: float, epsilon: float) -> None:
        self.rms = RunningMeanStd(shape)
        self.clip, self.epsilon = clip, epsilon

    def __call__(self, obs: np.ndarray, update: bool) -> np.ndarray:
        if update:
            self.rms.update(obs)
        out = (obs - self.rms.mean) / np.sqrt(self.rms.var + self.epsilon)
        return np.clip(out, -self.clip, self.clip).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return self.rms.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rms.load_state_dict(state)


class RewardNormalizer:
    """Scales rewards by the running std of the discounted return."""

    def __init__(self, n_envs: int, gamma: float, clip: float, epsilon: float) -> None:
        self.rms = RunningMeanStd(())
        self.returns = np.zeros(n_envs, dtype=np.float64)
        self.gamma, self.clip, self.epsilon = gamma, clip, epsilon

    def __call__(self, reward: np.ndarray, done: np.ndarray) -> np.ndarray:
        self.returns = self.returns * self.gamma + reward
        self.rms.update(self.returns)
        self.returns[done] = 0.0
        out = reward / np.sqrt(self.rms.var + self.epsilon)
        return np.clip(out, -self.clip, self.clip).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return {**self.rms.state_dict(), "returns": torch.from_numpy(self.returns.copy())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rms.load_state_dict(state)
        self.returns = state["returns"].numpy().astype(np.float64)
