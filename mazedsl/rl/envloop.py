"""The training envs as algorithms see them: one vector env, its current observations,
episode statistics and the env-step counter, with exact snapshots for resume.

Vector envs use next-step autoreset: the step after an episode ends only resets that env;
:meth:`EnvLoop.step` reports it as not ``live`` (its transition is not a real one).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import attrs
import numpy as np
import torch

from mazedsl.rl.envstate import restore_env, snapshot_env
from mazedsl.rl.normalize import RewardNormalizer


@attrs.define
class StepResult:
    """One vector step: next observations, rewards, flags (``done``: terminated or truncated);
    ``live`` marks real transitions."""

    obs: Any
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    live: np.ndarray
    infos: dict[str, Any]
    done: np.ndarray


class EnvLoop:
    """Steps the training vector env and keeps what every algorithm needs from it."""

    def __init__(self, venv: Any, seed: int, reward_norm: RewardNormalizer | None = None) -> None:
        self.venv = venv
        self.n_envs = int(venv.num_envs)
        self.seed = seed
        self.reward_norm = reward_norm
        self.steps = 0
        self.episodes = 0  # episodes ended (each costs its env one reset step after it)
        self.recent_returns: deque[float] = deque(maxlen=100)
        self.recent_lengths: deque[int] = deque(maxlen=100)
        self.obs, _ = venv.reset(seed=seed)
        self.prev_done = np.zeros(self.n_envs, dtype=bool)
        self.ep_ret = np.zeros(self.n_envs)
        self.ep_len = np.zeros(self.n_envs, dtype=np.int64)

    def step(self, actions: np.ndarray) -> StepResult:
        """Step every env with ``actions`` (already in the env's form); counts ``n_envs`` steps."""
        obs, reward, term, trunc, infos = self.venv.step(actions)
        live = ~self.prev_done
        done = term | trunc
        self.ep_ret += reward
        self.ep_len += live
        if done.any():
            self.episodes += int(done.sum())
            for i in np.flatnonzero(done):
                self.recent_returns.append(float(self.ep_ret[i]))
                self.recent_lengths.append(int(self.ep_len[i]))
            self.ep_ret[done] = 0.0
            self.ep_len[done] = 0
        self.prev_done = done
        self.obs = obs
        self.steps += self.n_envs
        return StepResult(obs, reward, term, trunc, live, infos, done)

    @property
    def transitions(self) -> int:
        """Real transitions stepped: :attr:`steps` less the reset steps of next-step
        autoreset (one after each episode's end; SB3's DummyVecEnv resets inside the step that
        ends an episode, so there every step is a transition)."""
        return self.steps - (self.episodes - int(self.prev_done.sum()))

    def close(self) -> None:
        self.venv.close()

    # -- snapshots -------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "steps": self.steps, "episodes": self.episodes,
            "recent_returns": list(self.recent_returns),
            "recent_lengths": list(self.recent_lengths),
            "reward_norm": None if self.reward_norm is None else self.reward_norm.state_dict()}
        snap = snapshot_env(self.venv)
        if snap is not None and isinstance(self.obs, np.ndarray):
            state["env"] = {"snapshot": snap, "obs": torch.from_numpy(self.obs.copy()),
                            "prev_done": torch.from_numpy(self.prev_done.copy()),
                            "ep_ret": torch.from_numpy(self.ep_ret.copy()),
                            "ep_len": torch.from_numpy(self.ep_len.copy())}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> bool:
        """Restore; returns whether the envs themselves were restored exactly."""
        self.steps = int(state["steps"])
        self.episodes = int(state.get("episodes", 0))  # (absent in runs before it was kept)
        self.recent_returns = deque(state["recent_returns"], maxlen=100)
        self.recent_lengths = deque(state["recent_lengths"], maxlen=100)
        if state.get("reward_norm") is not None and self.reward_norm is not None:
            self.reward_norm.load_state_dict(state["reward_norm"])
        env = state.get("env")
        if env is None:
            self.obs, _ = self.venv.reset(seed=self.seed + self.steps)
            self.prev_done[:] = False
            return False
        restore_env(self.venv, env["snapshot"])
        self.obs = env["obs"].numpy().copy()
        self.prev_done = env["prev_done"].numpy().copy()
        self.ep_ret = env["ep_ret"].numpy().copy()
        self.ep_len = env["ep_len"].numpy().copy()
        return True
