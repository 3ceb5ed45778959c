"""The training loop shared by PPO and A2C: collect a rollout, update, log, evaluate, save.

The trainer knows nothing about files: it hands metrics records and checkpoint states to
a :class:`TrainerSink` (the run directory, in :class:`mazedsl.RunContext`).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Protocol

import attrs
import numpy as np
import torch
from gymnasium import spaces

from mazedsl.rl.a2c import a2c_update
from mazedsl.rl.buffer import RolloutBuffer
from mazedsl.rl.envs import EnvFactory, make_vector_env
from mazedsl.rl.envstate import restore_env, snapshot_env
from mazedsl.rl.evaluation import EvalResult, evaluate_policy
from mazedsl.rl.models import ActorCritic
from mazedsl.rl.normalize import RewardNormalizer
from mazedsl.rl.observations import ObsPipeline
from mazedsl.rl.ppo import ppo_update
from mazedsl.rl.updates import make_optimizer, scheduled
from mazedsl.spec import PPO, Experiment, NormalizeReward


@attrs.define(frozen=True)
class Seeds:
    """Seeds derived from one master seed (numpy SeedSequence), all recorded in run.json."""

    master: int
    env: int
    eval: int
    torch: int

    @classmethod
    def derive(cls, master: int) -> "Seeds":
        env, ev, th = np.random.SeedSequence(master).generate_state(3) % (2 ** 31 - 1)
        return cls(master=master, env=int(env), eval=int(ev), torch=int(th))


@attrs.define
class TrainSummary:
    """What :meth:`Trainer.train` returns."""

    steps: int
    wall_time: float
    best_eval: float | None
    evaluations: int
    stopped: str  # "budget", "interrupted", "early_stopping", "target_return", "epochs"


class TrainerSink(Protocol):
    def record(self, record: dict[str, Any]) -> None: ...
    def checkpoint(self, kind: str, state: dict[str, Any]) -> None: ...
    def progress(self, steps: int, total: int, info: dict[str, Any]) -> None: ...


class NullSink:
    """A sink that drops everything (training in memory only)."""

    def record(self, record: dict[str, Any]) -> None:
        pass

    def checkpoint(self, kind: str, state: dict[str, Any]) -> None:
        pass

    def progress(self, steps: int, total: int, info: dict[str, Any]) -> None:
        pass


class Trainer:
    """Trains an :class:`ActorCritic` on an experiment's vector env."""

    def __init__(self, exp: Experiment, env_factory: EnvFactory | None = None,
                 sink: TrainerSink | None = None) -> None:
        self.exp = exp
        self.algo = exp.algorithm
        self.seeds = Seeds.derive(exp.seed)
        self.sink: TrainerSink = sink or NullSink()
        torch.set_num_threads(exp.runner.torch_threads)
        torch.manual_seed(self.seeds.torch)
        self.env_factory = env_factory
        self.venv = make_vector_env(exp.env, exp.wrappers, exp.runner.n_envs, exp.runner.vectorization,
                                    env_factory)
        self.obs_space = self.venv.single_observation_space
        self.action_space = self.venv.single_action_space
        self.prep = ObsPipeline(self.obs_space, exp.wrappers)
        self.policy = ActorCritic(self.obs_space, self.action_space, exp.model, exp.critic)
        self.optimizer = make_optimizer(list(self.policy.parameters()), self.algo)
        rn = next((w for w in exp.wrappers if isinstance(w, NormalizeReward)), None)
        self.reward_norm = (None if rn is None else
                            RewardNormalizer(exp.runner.n_envs, rn.gamma, rn.clip, rn.epsilon))
        n_envs = exp.runner.n_envs
        discrete = isinstance(self.action_space, spaces.Discrete)
        self.buffer = RolloutBuffer(self.algo.n_steps, n_envs, self.prep.shape, self.prep.dtype,
                                    () if discrete else self.action_space.shape,
                                    np.int64 if discrete else np.float32)
        # torch views of the buffer, written in place during rollouts
        self._logp_t = torch.from_numpy(self.buffer.logp)
        self._actions_t = torch.from_numpy(self.buffer.actions)
        n_out = int(self.action_space.n) if discrete else int(self.action_space.shape[0])
        self._out = np.zeros((self.algo.n_steps, n_envs, n_out), dtype=np.float32)
        self._action_clip = (None if discrete else (self.action_space.low, self.action_space.high,
                                                    self.action_space.dtype))
        self._last_values = np.zeros(n_envs, dtype=np.float32)
        self._eval_venv: Any = None
        # progress state (all saved in checkpoints)
        self.steps = 0
        self.updates = 0
        self.train_time = 0.0
        self.evaluations = 0
        self.best_eval: float | None = None
        self.evals_since_best = 0
        self.next_log = exp.log_every_steps
        self.next_eval = exp.eval_every_steps if exp.eval_every_steps > 0 else None
        self.next_checkpoint = exp.checkpoint_every_steps
        self.recent_returns: deque[float] = deque(maxlen=100)
        self.recent_lengths: deque[int] = deque(maxlen=100)
        self._stop_requested = False
        self._last_log = (0, 0.0)
        obs, _ = self.venv.reset(seed=self.seeds.env)
        self.obs = obs
        self.prev_done = np.zeros(n_envs, dtype=bool)
        self.ep_ret = np.zeros(n_envs)
        self.ep_len = np.zeros(n_envs, dtype=np.int64)

    # -- control ---------------------------------------------------------------
    def request_stop(self) -> None:
        """Finish the current update, then stop (used by signal handlers)."""
        self._stop_requested = True

    @property
    def eval_venv(self) -> Any:
        if self._eval_venv is None:
            exp = self.exp
            self._eval_venv = make_vector_env(exp.env, exp.wrappers, exp.runner.n_eval_envs,
                                              "sync" if exp.runner.vectorization == "async"
                                              else exp.runner.vectorization, self.env_factory)
        return self._eval_venv

    def close(self) -> None:
        self.venv.close()
        if self._eval_venv is not None:
            self._eval_venv.close()

    # -- training --------------------------------------------------------------
    def train(self, total_steps: int | None = None, n_updates: int | None = None,
              start_time: float | None = None) -> TrainSummary:
        """Train until ``total_steps`` env steps in all (default: the experiment's budget),
        or for ``n_updates`` more updates, or until stopped early."""
        budget = total_steps if total_steps is not None else self.exp.total_steps
        horizon = max(budget, self.exp.total_steps)
        wall0 = time.perf_counter()
        self._wall_offset = start_time if start_time is not None else 0.0
        updates_left = n_updates
        stopped = "budget"
        while self.steps < budget:
            if updates_left is not None:
                if updates_left <= 0:
                    stopped = "epochs"
                    break
                updates_left -= 1
            t0 = time.perf_counter()
            stats = self._iteration(min(self.steps / horizon, 1.0))
            self.train_time += time.perf_counter() - t0
            if self.steps >= self.next_log or self.steps >= budget:
                self._log(stats, wall0)
            reason = None
            if self.next_eval is not None and self.steps >= self.next_eval:
                reason = self._evaluate_and_select(wall0)
                while self.next_eval <= self.steps:
                    self.next_eval += self.exp.eval_every_steps
            if self.steps >= self.next_checkpoint:
                self.sink.checkpoint("last", self.state_dict())
                while self.next_checkpoint <= self.steps:
                    self.next_checkpoint += self.exp.checkpoint_every_steps
            self.sink.progress(self.steps, budget, self._progress_info())
            if reason:
                stopped = reason
                break
            if self._stop_requested:
                stopped = "interrupted"
                break
        never_evaluated = stopped in ("budget", "epochs") and self.evaluations == 0
        evaluate_at_end = stopped == "budget" and self.exp.eval_every_steps == 0
        if never_evaluated or evaluate_at_end:
            self._evaluate_and_select(wall0)
        self.sink.checkpoint("last", self.state_dict())
        return TrainSummary(steps=self.steps, wall_time=time.perf_counter() - wall0,
                            best_eval=self.best_eval, evaluations=self.evaluations, stopped=stopped)

    def _iteration(self, progress: float) -> dict[str, float]:
        algo, buf, policy = self.algo, self.buffer, self.policy
        lr = scheduled(algo.lr, algo.lr_schedule, progress)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self._collect(algo.n_steps)
        buf.compute_gae(self._last_values, algo.gamma, algo.gae_lambda)
        self.steps += algo.n_steps * self.venv.num_envs
        batch = buf.batch()
        if isinstance(algo, PPO):
            clip = scheduled(algo.clip_range, algo.clip_schedule, progress)
            stats = ppo_update(policy, self.optimizer, batch, algo, clip, self.steps).as_dict()
            stats["clip_range"] = clip
        else:
            stats = a2c_update(policy, self.optimizer, batch, algo, self.steps).as_dict()
        stats["lr"] = lr
        self.updates += 1
        return stats

    def _collect(self, n_steps: int) -> None:
        """One rollout of ``n_steps`` vector steps into the buffer.

        The weights are fixed during a rollout, so the policy's merged inference forward
        (in numpy for MLPs: a fraction of torch's per-call cost at these batch sizes) is built
        once, the sampling noise for all steps is drawn from torch's generator in one call,
        and the log-probabilities of the taken actions are computed for all steps together.
        """
        buf, policy, prep = self.buffer, self.policy, self.prep
        step_env, clip = self.venv.step, self._action_clip
        reward_norm = self.reward_norm
        out_buf = self._out
        discrete = policy.discrete
        with torch.inference_mode():
            np_forward = None if prep.image else policy.numpy_inference_fn()
            forward = policy.inference_fn() if np_forward is None else None
            if discrete:  # log E, E ~ Exp(1): argmax(logits - log E) samples the categorical
                noise = torch.empty(out_buf.shape).exponential_().log_().numpy()
            else:
                noise = (torch.randn(out_buf.shape) * policy.log_std.exp()).numpy()
            for t in range(n_steps):
                obs_in = prep(self.obs, update=True)
                buf.obs[t] = obs_in
                if np_forward is not None:
                    out, values = np_forward(obs_in)
                else:
                    out_, values_ = forward(torch.from_numpy(obs_in))
                    out, values = out_.numpy(), values_.numpy()
                out_buf[t] = out
                buf.values[t] = values
                a = np.argmax(out - noise[t], axis=1) if discrete else out + noise[t]
                buf.actions[t] = a
                if clip is not None:
                    a = np.clip(a, clip[0], clip[1]).astype(clip[2])
                self.obs, reward, term, trunc, _ = step_env(a)
                live = ~self.prev_done
                done = term | trunc
                buf.valid[t] = live
                buf.terminated[t] = term
                buf.done[t] = done
                self.ep_ret += reward
                self.ep_len += live
                buf.rewards[t] = reward if reward_norm is None else reward_norm(reward, done)
                if done.any():
                    for i in np.flatnonzero(done):
                        self.recent_returns.append(float(self.ep_ret[i]))
                        self.recent_lengths.append(int(self.ep_len[i]))
                    self.ep_ret[done] = 0.0
                    self.ep_len[done] = 0
                self.prev_done = done
            self._logp_t.copy_(policy.log_prob(torch.from_numpy(out_buf), self._actions_t))
            obs_in = prep(self.obs, update=False)
            if np_forward is not None:
                self._last_values = np_forward(obs_in)[1].copy()
            else:
                self._last_values = forward(torch.from_numpy(obs_in))[1].numpy().copy()

    def _log(self, stats: dict[str, float], wall0: float) -> None:
        last_steps, last_time = self._last_log
        dt = self.train_time - last_time
        record: dict[str, Any] = {
            "phase": "train", "step": self.steps, "update": self.updates,
            "time": round(self._wall_offset + time.perf_counter() - wall0, 4),
            "steps_per_s": round((self.steps - last_steps) / dt, 1) if dt > 0 else None,
        }
        if self.recent_returns:
            rets = np.array(self.recent_returns)
            record.update(ep_return_mean=float(rets.mean()), ep_return_min=float(rets.min()),
                          ep_return_max=float(rets.max()),
                          ep_length_mean=float(np.mean(self.recent_lengths)))
        record.update(stats)
        self.sink.record(record)
        self._last_log = (self.steps, self.train_time)
        while self.next_log <= self.steps:
            self.next_log += self.exp.log_every_steps

    def _evaluate_and_select(self, wall0: float) -> str | None:
        result = self.evaluate(self.exp.eval_episodes, True, self.seeds.eval + self.evaluations)
        self.evaluations += 1
        mean = result.mean_return
        is_best = self.best_eval is None or mean > self.best_eval
        if is_best:
            self.best_eval = mean
            self.evals_since_best = 0
        else:
            self.evals_since_best += 1
        record = {"phase": "eval", "step": self.steps,
                  "time": round(self._wall_offset + time.perf_counter() - wall0, 4),
                  **{k: v for k, v in result.summary().items() if k not in ("returns", "lengths")},
                  "best": is_best}
        self.sink.record(record)
        if is_best:
            self.sink.checkpoint("best", self.state_dict())
        if self.exp.target_return is not None and mean >= self.exp.target_return:
            return "target_return"
        if self.exp.patience is not None and self.evals_since_best >= self.exp.patience:
            return "early_stopping"
        return None

    def evaluate(self, n_episodes: int, deterministic: bool = True, seed: int | None = None) -> EvalResult:
        """Episodes on the separate evaluation envs, with frozen normalisation statistics."""
        return evaluate_policy(self.policy, self.eval_venv, lambda o: self.prep(o, update=False),
                               n_episodes, deterministic, seed)

    def _progress_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"steps_per_s": self.steps / self.train_time if self.train_time else 0.0}
        if self.recent_returns:
            info["ep_return_mean"] = float(np.mean(self.recent_returns))
        if self.best_eval is not None:
            info["best_eval"] = self.best_eval
        return info

    # -- checkpoints -----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, optimiser, statistics, RNGs, counters."""
        state: dict[str, Any] = {
            "format": 1,
            "policy": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "counters": {"steps": self.steps, "updates": self.updates, "train_time": self.train_time,
                         "evaluations": self.evaluations, "best_eval": self.best_eval,
                         "evals_since_best": self.evals_since_best, "next_log": self.next_log,
                         "next_eval": self.next_eval, "next_checkpoint": self.next_checkpoint,
                         "last_log_steps": self._last_log[0], "last_log_time": self._last_log[1]},
            "recent_returns": list(self.recent_returns),
            "recent_lengths": list(self.recent_lengths),
            "torch_rng": torch.get_rng_state(),
            "obs_norm": None if self.prep.normalizer is None else self.prep.normalizer.state_dict(),
            "reward_norm": None if self.reward_norm is None else self.reward_norm.state_dict(),
        }
        env_snap = snapshot_env(self.venv)
        if env_snap is not None and isinstance(self.obs, np.ndarray):
            state["env"] = {"snapshot": env_snap, "obs": torch.from_numpy(self.obs.copy()),
                            "prev_done": torch.from_numpy(self.prev_done.copy()),
                            "ep_ret": torch.from_numpy(self.ep_ret.copy()),
                            "ep_len": torch.from_numpy(self.ep_len.copy())}
        return state

    def load_state_dict(self, state: dict[str, Any], weights_only: bool = False) -> bool:
        """Restore a :meth:`state_dict`; returns whether the env state was restored exactly."""
        self.policy.load_state_dict(state["policy"])
        if state.get("obs_norm") is not None and self.prep.normalizer is not None:
            self.prep.normalizer.load_state_dict(state["obs_norm"])
        if weights_only:
            return False
        self.optimizer.load_state_dict(state["optimizer"])
        c = state["counters"]
        self.steps, self.updates, self.train_time = c["steps"], c["updates"], c["train_time"]
        self.evaluations, self.best_eval = c["evaluations"], c["best_eval"]
        self.evals_since_best, self.next_log = c["evals_since_best"], c["next_log"]
        self.next_eval, self.next_checkpoint = c["next_eval"], c["next_checkpoint"]
        self._last_log = (c["last_log_steps"], c["last_log_time"])
        self.recent_returns = deque(state["recent_returns"], maxlen=100)
        self.recent_lengths = deque(state["recent_lengths"], maxlen=100)
        torch.set_rng_state(state["torch_rng"])
        if state.get("reward_norm") is not None and self.reward_norm is not None:
            self.reward_norm.load_state_dict(state["reward_norm"])
        env = state.get("env")
        if env is None:
            self.obs, _ = self.venv.reset(seed=self.seeds.env + self.steps)
            return False
        restore_env(self.venv, env["snapshot"])
        self.obs = env["obs"].numpy().copy()
        self.prev_done = env["prev_done"].numpy().copy()
        self.ep_ret = env["ep_ret"].numpy().copy()
        self.ep_len = env["ep_len"].numpy().copy()
        return True
