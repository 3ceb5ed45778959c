"""The one episode loop: evaluation, recorded rollouts and the live viewers all play
episodes through :func:`run_episodes` on a vector env (a viewer's has one env).

Env ``i`` of ``n`` plays ``(n_episodes + i) // n`` episodes (as SB3's evaluation). An
episode longer than ``step_limit`` is cut and counted as truncated (envs with no limit of
their own never hang); ``stop()`` returning True ends the loop at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator

import attrs
import numpy as np

from mazedsl.errors import MazeError

if TYPE_CHECKING:  # pragma: no cover
    import torch


class EpisodesStopped(MazeError):
    """The episode loop was asked to stop (a signal) before its episodes were played."""


class RandomStream:
    """A torch random stream of its own, seeded with ``seed``: inside ``with stream:`` the
    global generators (the CPU's and, on CUDA, ``device``'s) draw from it; on leaving, the
    stream keeps its place and the global generators are back where they were, so drawing
    from it never moves the stream training draws from (a resumed run stays exact)."""

    def __init__(self, seed: int, device: "torch.device | None" = None) -> None:
        import torch

        self._cpu = torch.Generator().manual_seed(int(seed)).get_state()
        self._device = device if device is not None and device.type == "cuda" else None
        self._cuda = None
        if self._device is not None:
            saved = torch.cuda.get_rng_state(self._device)
            with torch.cuda.device(self._device):
                torch.cuda.manual_seed(int(seed))
            self._cuda = torch.cuda.get_rng_state(self._device)
            torch.cuda.set_rng_state(saved, self._device)
        self._saved: tuple[Any, Any] = (None, None)

    def __enter__(self) -> "RandomStream":
        import torch

        cuda = None
        if self._device is not None:
            cuda = torch.cuda.get_rng_state(self._device)
            torch.cuda.set_rng_state(self._cuda, self._device)
        self._saved = (torch.get_rng_state(), cuda)
        torch.set_rng_state(self._cpu)
        return self

    def __exit__(self, *exc: Any) -> None:
        import torch

        cpu, cuda = self._saved
        self._cpu = torch.get_rng_state()
        torch.set_rng_state(cpu)
        if self._device is not None:
            self._cuda = torch.cuda.get_rng_state(self._device)
            torch.cuda.set_rng_state(cuda, self._device)


def policy_actions(built: Any, deterministic: bool = True, seed: int | None = None
                   ) -> Callable[[Any], np.ndarray]:
    """``built.act_fn(deterministic)`` as evaluations, rollouts and the viewers act with it:
    the policy in eval mode (Dropout off, BatchNorm on its running statistics; its mode as it
    was after each call) and, given ``seed``, sampling its actions from a
    :class:`RandomStream` of that seed, so that the same seed plays the same episodes, also
    stochastic ones, without moving training's random stream."""
    from mazedsl.rl.models import module_mode

    act, policy = built.act_fn(deterministic), built.policy
    stream = None if seed is None else RandomStream(seed, built.device)

    def acting(obs: Any) -> np.ndarray:
        with module_mode(policy, False):
            if stream is None:
                return act(obs)
            with stream:
                return act(obs)

    return acting


@attrs.define
class VecStep:
    """One vector step (``actions`` None for the first observations after reset)."""

    t: int
    obs: Any
    actions: Any
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    live: np.ndarray
    infos: dict[str, Any]
    finished: list[tuple[int, float, int]]  # (env index, return, length) of episodes ended now


def run_episodes(venv: Any, act: Callable[[Any], np.ndarray], n_episodes: int,
                 seed: int | None = None, step_limit: int | None = None,
                 stop: Callable[[], bool] | None = None) -> Iterator[VecStep]:
    """Play ``n_episodes`` episodes, yielding every vector step."""
    n_envs = venv.num_envs
    targets = np.array([(n_episodes + i) // n_envs for i in range(n_envs)])
    counts = np.zeros(n_envs, dtype=int)
    remaining = int(targets.sum())  # episodes still to finish (= n_episodes)
    ep_ret = np.zeros(n_envs)
    ep_len = np.zeros(n_envs, dtype=int)
    cut = np.zeros(n_envs, dtype=bool)  # envs whose episode hit step_limit (ignored from then)
    any_cut = False
    obs, infos = venv.reset(seed=seed)
    zeros = np.zeros(n_envs)
    off = np.zeros(n_envs, dtype=bool)
    all_live = ~off
    yield VecStep(0, obs, None, zeros, off, off, all_live, infos, [])
    prev_done = off
    any_prev_done = False
    t = 0
    while remaining > 0:
        if stop is not None and stop():
            raise EpisodesStopped("stopped by a signal before the episodes were played")
        actions = act(obs)
        obs, reward, term, trunc, infos = venv.step(actions)
        t += 1
        if any_prev_done or any_cut:  # some envs only reset in this step (or are left out)
            live = ~(prev_done | cut)
            ep_ret += np.where(live, reward, 0.0)
            ep_len += live
        else:
            live = all_live
            ep_ret += reward
            ep_len += 1
        ended = term | trunc
        if step_limit is not None:
            limited = live & (ep_len >= step_limit) & ~ended
            if limited.any():
                trunc = trunc | limited
                ended = ended | limited
        else:
            limited = None
        done = ended & live
        finished = []
        if done.any():
            for i in np.flatnonzero(done).tolist():
                if counts[i] < targets[i]:
                    finished.append((i, float(ep_ret[i]), int(ep_len[i])))
                    counts[i] += 1
                    remaining -= 1
                ep_ret[i] = 0.0
                ep_len[i] = 0
                if limited is not None and limited[i]:  # the env goes on with that episode: leave it out
                    cut[i] = any_cut = True
        yield VecStep(t, obs, actions, reward, term, trunc, live, infos, finished)
        prev_done = ended & ~cut if any_cut else ended
        any_prev_done = bool(prev_done.any())
        if any_cut and remaining > 0 and (cut | (counts >= targets)).all():
            obs, infos = venv.reset(seed=None if seed is None else seed + t)  # all stuck: restart
            cut[:] = False
            any_cut = any_prev_done = False
            prev_done = off


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


def evaluate(venv: Any, act: Callable[[Any], np.ndarray], n_episodes: int, seed: int | None = None,
             step_limit: int | None = None, stop: Callable[[], bool] | None = None) -> EvalResult:
    """Play ``n_episodes`` and return their returns and lengths."""
    returns: list[float] = []
    lengths: list[int] = []
    for step in run_episodes(venv, act, n_episodes, seed, step_limit, stop):
        for _, ret, length in step.finished:
            returns.append(ret)
            lengths.append(length)
    return EvalResult(returns=returns, lengths=lengths)
