"""Where the rollout viewer gets its steps: a trained policy, or any episode iterator.

:class:`RolloutSource` normally wraps ``RunContext.load(run_dir).iter_rollout(...)``; it can
be given any factory of step iterators instead (tests, the random-policy source below).
A step is any object with the fields of the engine's ``RolloutStep``: ``t``, ``observation``,
``action``, ``reward``, ``terminated``, ``truncated``, ``episode_return``, ``frame``,
``state``, ``env_id``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from mazedsl.render import no_frame_reason
from mazedsl.rollout import RolloutStep as Step

EpisodeFactory = Callable[[int | None, str | None], Iterator[Any]]
"""``factory(seed, render_mode)`` -> an iterator over the steps of one episode."""


class RolloutSource:
    """Episodes of a policy acting in its environment, one iterator per episode."""

    def __init__(self, factory: EpisodeFactory, *, env_id: str = "", title: str = "",
                 render_mode: str | None = "rgb_array", prepare: Callable[[], None] | None = None) -> None:
        self._factory = factory
        self._prepare = prepare
        self._prepared = prepare is None
        self.env_id = env_id
        self.title = title or env_id or "rollout"
        self.render_mode = render_mode
        self.frames_requested = render_mode is not None

    def no_frames_reason(self) -> str:
        """One line on why a step has no frame: frames not asked for (the env is drawn from
        its state), pygame missing, or the env rendered none."""
        if not self.frames_requested:
            return "No frames: this env is drawn from its state (v: other views)"
        return no_frame_reason()

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike[str], checkpoint: str = "best",
                 deterministic: bool = True) -> "RolloutSource":
        """The trained policy of a run directory (loaded by :meth:`prepare`, in a worker thread).

        Envs the viewer draws from their ``state`` are played without rendering frames.
        """
        from mazedsl_tui.widgets.rollout.scenes import scene_for

        run_dir = Path(run_dir)
        holder: dict[str, Any] = {}

        def prepare() -> None:
            from mazedsl.context import RunContext

            holder["ctx"] = RunContext.load(run_dir, checkpoint=checkpoint, silent=True)

        def factory(seed: int | None, render_mode: str | None) -> Iterator[Any]:
            return holder["ctx"].iter_rollout(deterministic=deterministic, seed=seed,
                                              render_mode=render_mode)

        env_id = ""
        try:
            from mazedsl.run import read_run_info

            env_id = read_run_info(run_dir).env
        except Exception:  # noqa: BLE001 - the title is cosmetic
            pass
        return cls(factory, env_id=env_id, title=f"{run_dir.parent.name}/{run_dir.name} ({checkpoint})",
                   prepare=prepare, render_mode=None if scene_for(env_id) else "rgb_array")

    @classmethod
    def random_policy(cls, env_id: str = "CartPole-v1", render_mode: str | None = None) -> "RolloutSource":
        """Uniformly random actions in a gymnasium env (a stand-in while no policy is trained)."""

        def factory(seed: int | None, mode: str | None) -> Iterator[Step]:
            return _random_episode(env_id, seed, mode)

        return cls(factory, env_id=env_id, title=f"{env_id} (random policy)", render_mode=render_mode)

    def prepare(self) -> None:
        """Do the slow part (load the checkpoint, import torch). Call it from a worker thread."""
        if not self._prepared:
            assert self._prepare is not None
            self._prepare()
            self._prepared = True

    def episode(self, seed: int | None = None) -> Iterator[Any]:
        """The steps of one episode; falls back to no rendering if the env cannot render."""
        self.prepare()
        iterator = self._factory(seed, self.render_mode)
        try:
            first = next(iterator)
        except StopIteration:
            return
        except Exception:
            if self.render_mode is None:
                raise
            self.render_mode = None  # e.g. pygame missing: draw from `state` instead
            iterator = self._factory(seed, None)
            first = next(iterator)
        if not self.env_id:
            self.env_id = str(getattr(first, "env_id", "") or "")
        yield first
        yield from iterator


def _random_episode(env_id: str, seed: int | None, render_mode: str | None) -> Iterator[Step]:
    import gymnasium as gym

    from mazedsl.rollout import play_episode

    space = gym.make(env_id).action_space
    space.seed(seed)
    yield from play_episode(lambda: gym.make(env_id, render_mode=render_mode),
                            lambda _obs: np.asarray([space.sample()]), env_id, seed,
                            render=render_mode is not None)
