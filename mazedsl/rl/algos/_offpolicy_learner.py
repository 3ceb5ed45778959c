"""What the DQN and SAC learners share: collecting ``train_freq`` vector steps into the
replay buffer, the sampling generator, and the replay's checkpoint handling.

Collection keeps the steps of one phase in numpy arrays and adds them to the replay in one
call. The transition of each step is (prepared obs, action, reward, prepared next obs,
terminated); with next-step autoreset the step that only resets an env is not live and is
left out, and an episode cut by a time limit keeps its last observation (no bootstrap cut).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from mazedsl.errors import ConfigError
from mazedsl.rl.algos._offpolicy import tune_malloc
from mazedsl.rl.algos.base import Learner
from mazedsl.rl.replay import ReplayBuffer, available_memory, transition_nbytes

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.uint8): torch.uint8,
                 np.dtype(np.float64): torch.float32}


class OffPolicyLearner(Learner):
    """Base of DQN and SAC: a replay buffer filled by :meth:`collect`.

    Subclasses set ``self.replay`` (via :meth:`make_replay`) and implement :meth:`act`
    (prepared observations -> (actions to store, actions for the env)).
    """

    def __init__(self, decl: Any, built: Any) -> None:
        super().__init__(decl, built)
        tune_malloc()
        self.loop = built.env_loop
        self.prep = built.prep
        self.device = built.device
        self.n_envs = self.loop.n_envs
        self.iteration_steps = decl.train_freq * self.n_envs  # one collection phase
        # acting noise on the CPU, replay sampling on the device: both saved for exact resume
        self.act_gen = torch.Generator().manual_seed(built.seeds.torch + 1)
        self.sample_gen = torch.Generator(device=self.device).manual_seed(built.seeds.torch + 2)
        self.n_calls = 0  # vector env steps taken (SB3's _n_calls)
        self.updates = 0  # gradient steps taken
        self.replay: ReplayBuffer | None = None
        self._replay_note: str | None = None  # what a resume could not restore

    @staticmethod
    def check_common(decl: Any, experiment: Any, obs_space: Any, action_space: Any) -> None:
        from mazedsl.rl.device import resolve_device
        from mazedsl.spec import NormalizeReward

        if any(isinstance(w, NormalizeReward) for w in experiment.wrappers):
            raise ConfigError("NormalizeReward is for on-policy algorithms; off-policy learners "
                              "store raw rewards in the replay buffer: remove it", "wrappers")
        if decl.batch_size > decl.buffer_size:  # each gradient step would sample it many times over
            raise _batch_over_buffer(decl, experiment)
        check_replay_fits(decl.buffer_size, obs_space, action_space,
                          resolve_device(experiment.runner.device))

    def make_replay(self, action_shape: tuple[int, ...], action_dtype: torch.dtype) -> ReplayBuffer:
        obs_dtype = _TORCH_DTYPES.get(np.dtype(self.prep.dtype), torch.float32)
        return ReplayBuffer(self.decl.buffer_size, self.prep.shape, action_shape,
                            obs_dtype=obs_dtype, action_dtype=action_dtype, device=self.device)

    # -- collection ------------------------------------------------------------------------
    def collect(self, n_steps: int, act: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> int:
        """``n_steps`` vector steps with ``act``; the live transitions go to the replay.
        Returns the number of vector steps taken."""
        loop, prep = self.loop, self.prep
        n = self.n_envs
        obs_b = np.empty((n_steps, n, *prep.shape), dtype=prep.dtype)
        next_b = np.empty_like(obs_b)
        rew_b = np.empty((n_steps, n), dtype=np.float32)
        term_b = np.empty((n_steps, n), dtype=bool)
        live_b = np.empty((n_steps, n), dtype=bool)
        acts: list[np.ndarray] = []
        same = prep.normalizer is None
        # each observation acted on updates the normalisation statistics once, as on-policy
        # rollouts count them: the phase's last next observation is counted by the next phase
        obs_in = prep(loop.obs, update=True)
        for t in range(n_steps):
            obs_b[t] = obs_in
            stored, to_env = act(obs_in)
            acts.append(stored)
            step = loop.step(to_env)
            next_in = prep(step.obs, update=False)
            next_b[t] = next_in
            rew_b[t] = step.rewards
            term_b[t] = step.terminated
            live_b[t] = step.live
            if t + 1 < n_steps:
                obs_in = next_in if same else prep(loop.obs, update=True)
        self.n_calls += n_steps
        act_b = np.stack(acts)
        assert self.replay is not None
        self.replay.add(obs_b.reshape(-1, *prep.shape), act_b.reshape(-1, *act_b.shape[2:]),
                        rew_b.reshape(-1), next_b.reshape(-1, *prep.shape), term_b.reshape(-1),
                        valid=live_b.reshape(-1))
        return n_steps

    def gradient_steps_now(self) -> int:
        """Gradient steps for the phase just collected (0 while ``learning_starts`` holds)."""
        decl = self.decl
        if self.loop.steps <= decl.learning_starts or len(self.replay or ()) == 0:
            return 0
        return decl.gradient_steps if decl.gradient_steps > 0 else decl.train_freq * self.n_envs

    # -- checkpoints -----------------------------------------------------------------------
    def base_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"n_calls": self.n_calls, "updates": self.updates,
                                 "act_gen": self.act_gen.get_state(),
                                 "sample_gen": self.sample_gen.get_state(),
                                 "steps": self.loop.steps}
        if self.decl.save_replay and self.replay is not None:
            replay = self.replay.state_dict()
            replay["steps"] = self.loop.steps
            # the run directory writes this beside last.pt (checkpoints/replay.pt), not in it
            state["beside"] = {"replay": replay}
        return state

    def load_base_state(self, state: dict[str, Any]) -> None:
        self.n_calls, self.updates = int(state["n_calls"]), int(state["updates"])
        self.act_gen.set_state(state["act_gen"].cpu())
        self.sample_gen.set_state(state["sample_gen"].cpu())
        replay = (state.get("beside") or {}).get("replay")
        self._replay_note = None
        if replay is not None and self.replay is not None and int(replay["steps"]) == int(state["steps"]):
            self.replay.load_state_dict(replay)
        elif not self.decl.save_replay:
            self._replay_note = ("the replay buffer was not saved (algorithm.save_replay=false): "
                                 "it refills from new experience, so this resume is not exact")
        else:
            why = "is missing" if replay is None else "belongs to another step"
            self._replay_note = (f"checkpoints/replay.pt {why}: the replay buffer refills from new "
                                 "experience, so this resume is not exact")

    def resume_notes(self) -> list[str]:
        return [self._replay_note] if self._replay_note else []


def check_replay_fits(capacity: int, obs_space: Any, action_space: Any, device: torch.device) -> None:
    """A ConfigError at ``algorithm.buffer_size`` when a full replay buffer would not fit in
    the memory free on ``device`` now (the buffer is allocated whole, up front)."""
    from gymnasium import spaces

    from mazedsl.rl.spaces import flat_dim

    free = available_memory(device)
    obs_item = 1 if np.dtype(getattr(obs_space, "dtype", None) or np.float32) == np.uint8 else 4
    if isinstance(action_space, spaces.Discrete):
        action_bytes = 8
    else:
        action_bytes = 4 * int(np.prod(getattr(action_space, "shape", None) or (1,)))
    each = transition_nbytes(flat_dim(obs_space) * obs_item, action_bytes)
    need = int(capacity) * each
    if free is not None and need > free:
        raise ConfigError(f"{int(capacity):,} transitions of {each:,} bytes (observation and next "
                          f"observation, action, reward, flag) need {_size(need)}, more than the "
                          f"{_size(free)} free on {device}; lower it",
                          "algorithm.buffer_size")


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _batch_over_buffer(decl: Any, experiment: Any) -> ConfigError:
    """A batch larger than the replay buffer, as a ConfigError naming the field the user
    changed (the one an override set, when only one of the two was); the build stage adds
    where that value came from (:func:`mazedsl.rl.building.check_experiment`)."""
    from mazedsl.config.provenance import origin

    batch_at = origin(experiment, "algorithm.batch_size") or ""
    buffer_at = origin(experiment, "algorithm.buffer_size") or ""
    if buffer_at.startswith("override") and not batch_at.startswith("override"):
        return ConfigError(f"{decl.buffer_size} is smaller than one batch (algorithm.batch_size "
                           f"{decl.batch_size}): each gradient step samples a batch from the "
                           "replay buffer", "algorithm.buffer_size")
    return ConfigError(f"{decl.batch_size} is larger than the replay buffer "
                       f"(algorithm.buffer_size {decl.buffer_size})", "algorithm.batch_size")
