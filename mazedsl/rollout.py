"""Playing a policy episode by episode: steps for live viewers, episodes for recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import attrs
import numpy as np


@attrs.define
class RolloutStep:
    """One step of a played episode (what a live viewer draws)."""

    t: int
    observation: Any
    action: Any
    reward: float
    terminated: bool
    truncated: bool
    episode_return: float
    frame: np.ndarray | None = None
    state: np.ndarray | None = None
    env_id: str = ""
    info: dict[str, Any] = attrs.field(factory=dict)


@attrs.define
class Episode:
    """A recorded episode: observations (including the first), actions, rewards, infos."""

    observations: list[Any]
    actions: list[Any]
    rewards: list[float]
    infos: list[dict[str, Any]]

    @property
    def episode_return(self) -> float:
        return float(np.sum(self.rewards))

    def __repr__(self) -> str:
        return f"Episode(length={self.length}, return={self.episode_return:.4g})"

    @property
    def length(self) -> int:
        return len(self.rewards)

    def save(self, path: str | Path) -> None:
        """Write the episode as ``.npz`` (arrays only; infos as their keys' numeric values)."""
        from mazedsl.run.files import atomic_write_bytes
        import io

        arrays: dict[str, np.ndarray] = {
            "actions": np.asarray(self.actions), "rewards": np.asarray(self.rewards, dtype=np.float64),
            "episode_return": np.asarray(self.episode_return)}
        first = self.observations[0]
        if isinstance(first, dict):
            for key in first:
                arrays[f"observations.{key}"] = np.stack([np.asarray(o[key]) for o in self.observations])
        else:
            arrays["observations"] = np.stack([np.asarray(o) for o in self.observations])
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write_bytes(path, buffer.getvalue())


class Rollout(list):
    """The episodes of :meth:`RunContext.rollout` (a list), with their returns and lengths."""

    @property
    def returns(self) -> list[float]:
        return [ep.episode_return for ep in self]

    @property
    def lengths(self) -> list[int]:
        return [ep.length for ep in self]

    def __repr__(self) -> str:
        if not self:
            return "Rollout(0 episodes)"
        returns, lengths = np.asarray(self.returns), np.asarray(self.lengths)
        return (f"Rollout({len(self)} episode{'s' if len(self) != 1 else ''}: return mean "
                f"{returns.mean():.4g} (min {returns.min():.4g}, max {returns.max():.4g}), "
                f"length mean {lengths.mean():.4g} (min {lengths.min()}, max {lengths.max()}))")

    __str__ = __repr__


def env_state(env: Any) -> np.ndarray | None:
    """The unwrapped env's ``state`` array (classic control), if it has one."""
    state = getattr(getattr(env, "unwrapped", env), "state", None)
    if state is None:
        return None
    try:
        return np.asarray(state, dtype=np.float64).copy()
    except (TypeError, ValueError):
        return None


def _frame(env: Any) -> np.ndarray | None:
    try:
        frame = env.render()
    except Exception:  # noqa: BLE001 - rendering is optional (e.g. pygame missing)
        return None
    return frame if isinstance(frame, np.ndarray) and frame.ndim == 3 else None


def play_episode(env: Any, act: Callable[[Any], Any], env_id: str, seed: int | None = None,
                 render: bool = False) -> Iterator[RolloutStep]:
    """Play one episode, yielding a :class:`RolloutStep` for the reset and each step."""
    obs, info = env.reset(seed=seed)
    total = 0.0
    yield RolloutStep(0, obs, None, 0.0, False, False, 0.0, _frame(env) if render else None,
                      env_state(env), env_id, dict(info))
    t = 0
    while True:
        action = act(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        t += 1
        total += float(reward)
        yield RolloutStep(t, obs, action, float(reward), bool(terminated), bool(truncated), total,
                          _frame(env) if render else None, env_state(env), env_id, dict(info))
        if terminated or truncated:
            return
