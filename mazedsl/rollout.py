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
    """A recorded episode: observations (including the first), actions, rewards, infos, and
    the seed it was played with (None: not seeded), which replays it."""

    observations: list[Any]
    actions: list[Any]
    rewards: list[float]
    infos: list[dict[str, Any]]
    seed: int | None = None

    @property
    def episode_return(self) -> float:
        return float(np.sum(self.rewards))

    def __repr__(self) -> str:
        return f"Episode(length={self.length}, return={self.episode_return:.4g})"

    @property
    def length(self) -> int:
        return len(self.rewards)

    def save(self, path: str | Path) -> None:
        """Write the episode as ``.npz`` (arrays only; infos are not saved; ``seed`` as a
        uint64 scalar when the episode has one)."""
        from mazedsl.run.files import atomic_write_bytes
        import io

        arrays: dict[str, np.ndarray] = {
            "actions": np.asarray(self.actions), "rewards": np.asarray(self.rewards, dtype=np.float64),
            "episode_return": np.asarray(self.episode_return)}
        if self.seed is not None:
            arrays["seed"] = np.asarray(self.seed, dtype=np.uint64)
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


def play_episode(make_env: Callable[[], Any], act: Callable[[Any], Any], env_id: str,
                 seed: int | None = None, render: bool = False, step_limit: int | None = None,
                 spaces: tuple[Any, Any] | None = None) -> Iterator[RolloutStep]:
    """Play one episode through the shared episode loop (:func:`mazedsl.rl.episodes.run_episodes`)
    on a one-env vector env, yielding a :class:`RolloutStep` for the reset and each step.

    ``act`` maps a batch of raw observations to env actions; ``spaces`` (a run's recorded
    observation and action spaces) are checked against the env's."""
    import gymnasium as gym

    from mazedsl.rl.episodes import run_episodes

    venv = gym.vector.SyncVectorEnv([make_env], autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
    env = venv.envs[0]
    try:
        if spaces is not None:
            from mazedsl.rl.building import check_spaces

            check_spaces(venv.single_observation_space, venv.single_action_space, *spaces, "the run")
        total = 0.0
        for step in run_episodes(venv, act, 1, seed, step_limit):
            obs = _first(step.obs)
            frame = _frame(env) if render else None
            info = {k: _first(v) for k, v in step.infos.items() if not k.startswith("_")}
            if step.actions is None:
                yield RolloutStep(0, obs, None, 0.0, False, False, 0.0, frame, env_state(env),
                                  env_id, info)
                continue
            reward = float(step.rewards[0])
            total += reward
            yield RolloutStep(step.t, obs, _first(step.actions), reward, bool(step.terminated[0]),
                              bool(step.truncated[0]), total, frame, env_state(env), env_id, info)
    finally:
        venv.close()


def _first(batch: Any) -> Any:
    """Env 0's part of a batched value (dict and tuple observations too)."""
    if isinstance(batch, dict):
        return {k: _first(v) for k, v in batch.items()}
    if isinstance(batch, tuple):
        return tuple(_first(v) for v in batch)
    arr = np.asarray(batch)
    return arr[0] if arr.ndim else arr
