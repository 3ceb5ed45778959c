"""The rollout buffer: preallocated arrays for ``n_steps x n_envs`` transitions, and GAE.

Vector envs use next-step autoreset: the step after an episode ends only resets that env,
so it is marked invalid and left out of the update; its value estimate, V(final obs),
bootstraps the truncated episode before it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class RolloutBuffer:
    """Preallocated storage of one rollout."""

    def __init__(self, n_steps: int, n_envs: int, obs_shape: tuple[int, ...], obs_dtype: Any,
                 action_shape: tuple[int, ...], action_dtype: Any, out_dim: int = 1) -> None:
        self.n_steps, self.n_envs = n_steps, n_envs
        self.out = np.zeros((n_steps, n_envs, out_dim), dtype=np.float32)  # policy outputs
        self.obs = np.zeros((n_steps, n_envs, *obs_shape), dtype=obs_dtype)
        self.actions = np.zeros((n_steps, n_envs, *action_shape), dtype=action_dtype)
        self.logp = np.zeros((n_steps, n_envs), dtype=np.float32)
        self.values = np.zeros((n_steps, n_envs), dtype=np.float32)
        self.rewards = np.zeros((n_steps, n_envs), dtype=np.float32)
        self.terminated = np.zeros((n_steps, n_envs), dtype=bool)
        self.done = np.zeros((n_steps, n_envs), dtype=bool)
        self.valid = np.ones((n_steps, n_envs), dtype=bool)
        self.advantages = np.zeros((n_steps, n_envs), dtype=np.float32)

    def compute_gae(self, last_values: np.ndarray, gamma: float, lam: float) -> None:
        """Generalised advantage estimation; terminations cut the bootstrap, truncations
        bootstrap from the value of the final observation (the next row's value)."""
        values, adv = self.values, self.advantages
        next_values = np.empty_like(values)
        next_values[:-1] = values[1:]
        next_values[-1] = last_values
        delta = self.rewards + gamma * next_values * (1.0 - self.terminated) - values
        decay = gamma * lam * (1.0 - self.done)
        next_adv = np.zeros(self.n_envs, dtype=np.float32)
        for t in range(self.n_steps - 1, -1, -1):  # the recursion alone runs per step
            next_adv = delta[t] + decay[t] * next_adv
            adv[t] = next_adv

    def batch(self) -> dict[str, torch.Tensor]:
        """The valid transitions, flattened, as tensors (``returns = advantages + values``)."""
        keep = self.valid.reshape(-1)
        n = self.n_steps * self.n_envs

        def flat(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(a.reshape(n, *a.shape[2:])[keep])

        adv, values = flat(self.advantages), flat(self.values)
        return {"obs": flat(self.obs), "actions": flat(self.actions), "logp": flat(self.logp),
                "values": values, "advantages": adv, "returns": adv + values}
