"""The training loop of every algorithm: iterate the learner, log, evaluate, save, stop.

The trainer knows no algorithm and no files: the learner (from the build stage) collects and
updates; metrics records and checkpoint states go to a :class:`TrainerSink` (the run
directory, in :class:`mazedsl.RunContext`).
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import attrs
import numpy as np
import torch

from mazedsl.rl.building import Built, Seeds, build
from mazedsl.rl.cadence import BestEvalSelection, next_after
from mazedsl.rl.envs import EnvFactory
from mazedsl.rl.episodes import EpisodesStopped, EvalResult, evaluate, policy_actions
from mazedsl.spec import Experiment

__all__ = ["Trainer", "TrainSummary", "TrainerSink", "NullSink", "Seeds"]

#: seconds between progress reports (a progress bar redraws 4 times a second; an off-policy
#: learner iterates once per env step, where a report each time cost a few percent)
PROGRESS_EVERY_S = 0.1


@attrs.define
class TrainSummary:
    """What :meth:`Trainer.train` returns: ``steps`` and ``wall_time`` are the run's in all
    (a resumed run's count and training clock continue from its checkpoint's, as run.json's
    ``steps`` and ``train_seconds`` do), not this call's alone."""

    steps: int
    wall_time: float  # the training clock: wall seconds in train() over every session
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


class Trainer(BestEvalSelection):
    """Trains an experiment's learner (``Trainer(exp)`` builds it; or pass ``built``)."""

    def __init__(self, exp: Experiment | None = None, env_factory: EnvFactory | None = None,
                 sink: TrainerSink | None = None, *, built: Built | None = None) -> None:
        if built is None:
            assert exp is not None, "Trainer needs an experiment or a built one"
            built = build(exp, env_factory=env_factory, training=True)
        self.built = built
        self.exp = built.experiment
        self.seeds = built.seeds
        self.sink: TrainerSink = sink or NullSink()
        self.learner = built.learner
        self.loop = built.env_loop
        self.policy = built.policy
        # between updates the policy rests in eval mode, as a loaded one: what acts on it
        # (evaluations, compute_action, the learners' collection) acts as the user's Dropout
        # and BatchNorm mean it to; the learners switch to train mode for their updates
        self.policy.eval()
        self.prep = built.prep
        self.obs_space, self.action_space = built.obs_space, built.action_space
        self._eval_venv: Any = None
        exp = self.exp
        self.updates = 0
        self.train_time = 0.0
        self.evaluations = 0
        self.last_eval_step: int | None = None
        self.best_eval: float | None = None
        self.evals_since_best = 0
        self.next_log = exp.log_every_steps
        self.next_eval = exp.eval_every_steps if exp.eval_every_steps > 0 else None
        self.next_checkpoint = exp.checkpoint_every_steps
        self._stop_requested = False
        self._last_log = (0, 0.0)
        self._wall_offset = 0.0  # the training clock of the trainings before this one
        self._clock0: float | None = None  # when this train() started (perf_counter)

    @property
    def steps(self) -> int:
        return self.loop.steps

    @property
    def wall_time(self) -> float:
        """The training clock: wall seconds spent in train(), over every session (a resumed
        run continues from its checkpoint's); the metrics' ``time``."""
        running = time.perf_counter() - self._clock0 if self._clock0 is not None else 0.0
        return self._wall_offset + running

    # -- control ---------------------------------------------------------------
    def request_stop(self) -> None:
        """Finish the current update, then stop (used by signal handlers)."""
        self._stop_requested = True

    @property
    def eval_venv(self) -> Any:
        if self._eval_venv is None:
            self._eval_venv = self.built.make_eval_venv(self.exp.runner.n_eval_envs)
        return self._eval_venv

    def close(self) -> None:
        self.built.close()
        if self._eval_venv is not None:
            self._eval_venv.close()

    def set_total_steps(self, total_steps: int) -> None:
        """A new budget for the run: the schedules (learning rate, clip range, exploration)
        follow it from here, as they follow the experiment's ``total_steps``."""
        self.exp = self.built.experiment = attrs.evolve(self.exp, total_steps=total_steps)

    # -- training --------------------------------------------------------------
    def planned_steps(self, budget: int) -> int:
        """The env step count training to ``budget`` ends at, unless stopped early: the
        learner's iterations are whole (an on-policy rollout, an off-policy collection
        phase), so a budget between two iterations' ends rounds up to the next one."""
        each = getattr(self.learner, "iteration_steps", None)
        if not each or self.steps >= budget:
            return max(budget, self.steps)
        return self.steps + -(-(budget - self.steps) // each) * each

    def train(self, total_steps: int | None = None, n_updates: int | None = None) -> TrainSummary:
        """Train until ``total_steps`` env steps in all (default: the experiment's budget),
        or for ``n_updates`` more updates, or until stopped early."""
        budget = total_steps if total_steps is not None else self.exp.total_steps
        horizon = max(budget, self.exp.total_steps)
        self.learner.budget = budget
        wall0 = self._clock0 = time.perf_counter()
        try:
            return self._train(budget, horizon, n_updates, wall0)
        finally:
            self._wall_offset, self._clock0 = self.wall_time, None

    def _train(self, budget: int, horizon: int, n_updates: int | None, wall0: float
               ) -> TrainSummary:
        updates_left = n_updates
        # an evaluation a stop cut short (the run resumed from the checkpoint of that stop)
        # runs first, at the step where an uninterrupted run ran it
        stopped = (self._scheduled_evaluation() if self._evaluation_due() else None) or "budget"
        planned = self.planned_steps(budget)
        next_progress = wall0
        while stopped == "budget" and self.steps < budget:
            if updates_left is not None:
                if updates_left <= 0:
                    stopped = "epochs"
                    break
                updates_left -= 1
            t0 = time.perf_counter()
            stats = self.learner.iteration(min(self.steps / horizon, 1.0))
            self.updates += 1
            self.train_time += time.perf_counter() - t0
            if self.steps >= self.next_log or self.steps >= budget:
                self._log(stats)
            reason = self._scheduled_evaluation() if self._evaluation_due() else None
            if self.steps >= self.next_checkpoint:
                self.sink.checkpoint("last", self.state_dict())
                self.next_checkpoint = next_after(self.next_checkpoint, self.steps,
                                                  self.exp.checkpoint_every_steps)
            if t0 >= next_progress:
                self.sink.progress(self.steps, planned, self._progress_info())
                next_progress = t0 + PROGRESS_EVERY_S
            if reason:
                stopped = reason
                break
            if self._stop_requested:
                stopped = "interrupted"
                break
        # a budget reached before any scheduled evaluation (or with none scheduled) ends with
        # one of the final policy, also when a resume raised it after such a closing evaluation;
        # a run stopped short (n_epochs) is not evaluated, as one stopped by Ctrl-C: its
        # resume then evaluates what an uninterrupted run evaluates, with the same seeds
        unscheduled = self.exp.eval_every_steps == 0 or self.steps < self.exp.eval_every_steps
        closing = stopped == "budget" and unscheduled and self.last_eval_step != self.steps
        if closing and self._evaluate_and_select() == "interrupted":
            stopped = "interrupted"
        self.sink.checkpoint("last", self.state_dict())
        self.sink.progress(self.steps, max(planned, self.steps), self._progress_info())
        return TrainSummary(steps=self.steps, wall_time=self.wall_time,
                            best_eval=self.best_eval, evaluations=self.evaluations, stopped=stopped)

    def _log(self, stats: dict[str, float]) -> None:
        last_steps, last_time = self._last_log
        dt = self.train_time - last_time
        record: dict[str, Any] = {
            "phase": "train", "step": self.steps, "update": self.updates,
            "time": round(self.wall_time, 4),
            "steps_per_s": round((self.steps - last_steps) / dt, 1) if dt > 0 else None,
        }
        if self.loop.recent_returns:
            rets = np.array(self.loop.recent_returns)
            record.update(ep_return_mean=float(rets.mean()), ep_return_min=float(rets.min()),
                          ep_return_max=float(rets.max()),
                          ep_length_mean=float(np.mean(self.loop.recent_lengths)))
        record.update(stats)
        self.sink.record(record)
        self._last_log = (self.steps, self.train_time)
        self.next_log = next_after(self.next_log, self.steps, self.exp.log_every_steps)

    def _evaluation_due(self) -> bool:
        return self.next_eval is not None and self.steps >= self.next_eval

    def _scheduled_evaluation(self) -> str | None:
        """The evaluation due now; the next is scheduled unless a stop cut this one short
        (then a resume from the checkpoint taken at the stop runs it again, as it was)."""
        reason = self._evaluate_and_select()
        if reason != "interrupted":
            self.next_eval = next_after(self.next_eval, self.steps, self.exp.eval_every_steps)
        return reason

    def _evaluate_and_select(self) -> str | None:
        try:
            result = self.evaluate(self.exp.eval_episodes, True, self.seeds.eval + self.evaluations)
        except EpisodesStopped:
            return "interrupted"
        self.last_eval_step = self.steps
        record, is_best, reason = self._select(
            result, self.steps, round(self.wall_time, 4))
        self.sink.record(record)
        if is_best:
            self.sink.checkpoint("best", self.state_dict())
        return reason

    def evaluate(self, n_episodes: int, deterministic: bool = True, seed: int | None = None) -> EvalResult:
        """Episodes on the separate evaluation envs, with frozen normalisation statistics and
        the policy in eval mode (its action sampling seeded by ``seed`` apart from training's
        random stream); a stop request (signal) ends it at once (:class:`EpisodesStopped`)."""
        return evaluate(self.eval_venv, policy_actions(self.built, deterministic, seed),
                        n_episodes, seed, self.built.episode_step_limit,
                        lambda: self._stop_requested)

    def _progress_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"steps_per_s": self.steps / self.train_time if self.train_time else 0.0}
        if self.loop.recent_returns:
            info["ep_return_mean"] = float(np.mean(self.loop.recent_returns))
        if self.best_eval is not None:
            info["best_eval"] = self.best_eval
        return info

    # -- checkpoints -----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, learner, statistics, RNGs, counters."""
        return {
            "format": 2,
            "algorithm": self.built.algorithm.name,
            "policy": self.policy.state_dict(),
            "learner": self.learner.state_dict(),
            "counters": {"steps": self.steps, "updates": self.updates, "train_time": self.train_time,
                         "wall_time": self.wall_time,
                         "evaluations": self.evaluations, "best_eval": self.best_eval,
                         "last_eval_step": self.last_eval_step,
                         "evals_since_best": self.evals_since_best, "next_log": self.next_log,
                         "next_eval": self.next_eval, "next_checkpoint": self.next_checkpoint,
                         "last_log_steps": self._last_log[0], "last_log_time": self._last_log[1]},
            "env_loop": self.loop.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": (torch.cuda.get_rng_state(self.built.device)
                         if self.built.device.type == "cuda" else None),
            "obs_norm": None if self.prep.normalizer is None else self.prep.normalizer.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any], weights_only: bool = False) -> bool:
        """Restore a :meth:`state_dict`; returns whether the env state was restored exactly."""
        self.policy.load_state_dict(state["policy"])
        if state.get("obs_norm") is not None and self.prep.normalizer is not None:
            self.prep.normalizer.load_state_dict(state["obs_norm"])
        if weights_only:
            return False
        self.learner.load_state_dict(state.get("learner", {}))
        c = state["counters"]
        self.updates, self.train_time = c["updates"], c["train_time"]
        self._wall_offset = c.get("wall_time", c["train_time"])  # (checkpoints before it: none)
        self.evaluations, self.best_eval = c["evaluations"], c["best_eval"]
        self.last_eval_step = c.get("last_eval_step")  # (checkpoints before it: None)
        self.evals_since_best, self.next_log = c["evals_since_best"], c["next_log"]
        self.next_eval, self.next_checkpoint = c["next_eval"], c["next_checkpoint"]
        self._last_log = (c["last_log_steps"], c["last_log_time"])
        torch.set_rng_state(state["torch_rng"].cpu())
        if state.get("cuda_rng") is not None and self.built.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), self.built.device)
        return self.loop.load_state_dict(state["env_loop"])
