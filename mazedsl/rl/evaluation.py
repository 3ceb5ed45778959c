"""Policy evaluation on a vector env: a fixed number of episodes, spread evenly over envs."""

from __future__ import annotations

from typing import Any, Callable

import attrs
import numpy as np
import torch

from mazedsl.rl.models import ActorCritic


@attrs.define(frozen=True)
class EvalResult:
    """Returns and lengths of evaluation episodes, with their summary statistics."""

    returns: list[float]
    lengths: list[int]

    @property
    def mean_return(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std_return(self) -> float:
        return float(np.std(self.returns))

    @property
    def min_return(self) -> float:
        return float(np.min(self.returns))

    @property
    def max_return(self) -> float:
        return float(np.max(self.returns))

    @property
    def mean_length(self) -> float:
        return float(np.mean(self.lengths))

    def summary(self) -> dict[str, Any]:
        return {"mean_return": self.mean_return, "std_return": self.std_return,
                "min_return": self.min_return, "max_return": self.max_return,
                "mean_length": self.mean_length, "n_episodes": len(self.returns),
                "returns": list(self.returns), "lengths": list(self.lengths)}


def env_actions(actions: torch.Tensor | np.ndarray, action_space: Any) -> np.ndarray:
    """Policy actions as the env takes them (continuous actions clipped to the bounds)."""
    arr = actions.numpy() if isinstance(actions, torch.Tensor) else actions
    if hasattr(action_space, "low") and hasattr(action_space, "high"):
        return np.clip(arr, action_space.low, action_space.high).astype(action_space.dtype)
    return arr


def policy_actions(policy: ActorCritic, deterministic: bool
                   ) -> Callable[[np.ndarray], np.ndarray]:
    """A function from prepared observation batches to actions, for fixed weights.

    Uses the policy's numpy forward for float MLP inputs (deterministic actions need no
    torch call at all), else :meth:`ActorCritic.act`; sampling always uses torch's generator.
    """
    with torch.inference_mode():
        np_forward = policy.numpy_inference_fn()

    def act(obs_in: np.ndarray) -> np.ndarray:
        if np_forward is not None and obs_in.ndim == 2 and obs_in.dtype == np.float32:
            out, _ = np_forward(obs_in)
            if deterministic:
                return out.argmax(axis=1) if policy.discrete else out.copy()
            with torch.inference_mode():
                return policy.sample(torch.from_numpy(out.copy())).numpy()
        with torch.inference_mode():
            actions, _, _ = policy.act(torch.from_numpy(obs_in), deterministic)
        return actions.numpy()

    return act


def evaluate_policy(policy: ActorCritic, venv: Any, prep: Callable[[Any], np.ndarray],
                    n_episodes: int, deterministic: bool = True, seed: int | None = None
                    ) -> EvalResult:
    """Play ``n_episodes`` episodes (env i plays ``(n + i) // n_envs`` of them, as SB3)."""
    n_envs = venv.num_envs
    targets = np.array([(n_episodes + i) // n_envs for i in range(n_envs)])
    counts = np.zeros(n_envs, dtype=int)
    ep_ret = np.zeros(n_envs)
    ep_len = np.zeros(n_envs, dtype=int)
    returns: list[float] = []
    lengths: list[int] = []
    obs, _ = venv.reset(seed=seed)
    prev_done = np.zeros(n_envs, dtype=bool)
    space = venv.single_action_space
    act = policy_actions(policy, deterministic)
    while (counts < targets).any():
        obs, reward, term, trunc, _ = venv.step(env_actions(act(prep(obs)), space))
        live = ~prev_done
        ep_ret += np.where(live, reward, 0.0)
        ep_len += live
        done = (term | trunc) & live
        for i in np.flatnonzero(done):
            if counts[i] < targets[i]:
                returns.append(float(ep_ret[i]))
                lengths.append(int(ep_len[i]))
                counts[i] += 1
            ep_ret[i] = 0.0
            ep_len[i] = 0
        prev_done = term | trunc
    return EvalResult(returns=returns, lengths=lengths)
