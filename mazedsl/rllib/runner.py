"""Training on RLlib, writing mazedsl's run directory.

``algo.train()`` does the sampling (on Ray env runners) and the updates (on the learners);
around it this loop keeps mazedsl's contract: ``metrics.jsonl`` train lines from RLlib's
results and eval lines from deterministic episodes played with the current RLModule in
mazedsl's own episode loop, ``checkpoints/{last,best}/`` in RLlib's checkpoint format (plus
``mazedsl_state.json`` with the loop's counters), ``run.json`` status, SIGINT handling and
resume.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable


from mazedsl.rl.cadence import BestEvalSelection, next_after
from mazedsl.rl.trainer import TrainSummary
from mazedsl.run.status import TrainingStatus
from mazedsl.rllib import RLlibError, require_ray
from mazedsl.rllib.policy import STATE_FILE, built_for, checkpoint_dir
from mazedsl.signals import stop_on_signals

STATE_FORMAT = "mazedsl-rllib-1"


#: What RLlib training returns: the native TrainSummary's fields ("budget", "interrupted",
#: "early_stopping", "target_return", "epochs" in ``stopped``).
RLlibSummary = TrainSummary


def settings_yaml(settings: Mapping[str, Any]) -> str:
    import yaml

    head = ("# The RLlib config mazedsl built from config.yaml: <Algo>Config().<section>(**values)\n"
            "# for each section below, then build_algo() (see mazedsl.rllib.translate).\n")
    return head + yaml.safe_dump(json.loads(json.dumps(settings, default=str)), sort_keys=False)


def _last_line(exc: BaseException) -> str:
    """The telling line of an error (Ray's carry the remote traceback above it): the last
    ``SomeError: message`` line, else the last line."""
    import re

    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    named = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception)\b.*:", ln)]
    return (named[-1] if named else lines[-1] if lines else type(exc).__name__)[:300]


def probe_spaces(exp: Any, factory: Callable[[], Any] | None) -> tuple[Any, Any]:
    """The observation and action spaces of one env as the policy sees it."""
    from mazedsl.rl.envs import make_env_fn

    env = make_env_fn(exp.env, exp.wrappers, factory)()
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out


class RLlibLoop(BestEvalSelection):
    """One RLlib Algorithm and the mazedsl loop around it (log, evaluate, checkpoint, stop)."""

    def __init__(self, exp: Any, run: Any, factory: Callable[[], Any] | None,
                 settings: dict[str, dict[str, Any]], spaces: tuple[Any, Any]) -> None:
        import torch

        from mazedsl.rl.building import Seeds
        from mazedsl.rllib.translate import build_config

        self.exp, self.run, self.factory = exp, run, factory
        self.seeds = Seeds.derive(exp.seed)
        torch.set_num_threads(exp.runner.torch_threads)
        self.obs_space, self.action_space = spaces
        config = build_config(exp, settings)
        try:
            self.algo = config.build_algo()
        except Exception as exc:  # noqa: BLE001 - Ray and RLlib raise many kinds here
            raise RLlibError(f"RLlib could not build {type(exp.algorithm).__name__} for {exp.name}: "
                             f"{_last_line(exc)}") from None
        self.steps = 0
        self.iterations = 0
        self.train_time = 0.0
        self.evaluations = 0
        self.best_eval: float | None = None
        self.evals_since_best = 0
        self.next_log = exp.log_every_steps
        self.next_eval = exp.eval_every_steps if exp.eval_every_steps > 0 else None
        self.next_checkpoint = exp.checkpoint_every_steps
        self.last_log = (0, 0.0)
        self.last_result: dict[str, Any] = {}
        self.progress_bar: Any = None
        self._stop = False
        self._eval_venv: Any = None
        self._wall_offset = 0.0

    # -- control -----------------------------------------------------------------
    def request_stop(self) -> None:
        self._stop = True

    def close(self) -> None:
        if self._eval_venv is not None:
            self._eval_venv.close()
        with contextlib.suppress(Exception):
            self.algo.stop()

    # -- state -------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT, "steps": self.steps, "iterations": self.iterations,
                "train_time": self.train_time, "evaluations": self.evaluations,
                "best_eval": self.best_eval, "evals_since_best": self.evals_since_best,
                "next_log": self.next_log, "next_eval": self.next_eval,
                "next_checkpoint": self.next_checkpoint, "last_log": list(self.last_log)}

    def save(self, kind: str) -> Path:
        """RLlib's checkpoint of the whole Algorithm at ``checkpoints/<kind>/``, swapped in whole."""
        from mazedsl.run.files import atomic_write_json

        root = self.run.path / "checkpoints"
        root.mkdir(exist_ok=True)
        final, tmp, old = root / kind, root / f".{kind}.tmp", root / f".{kind}.old"
        shutil.rmtree(tmp, ignore_errors=True)
        self.algo.save_to_path(str(tmp.resolve()))
        atomic_write_json(tmp / STATE_FILE, self.state())
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
        self.run.update_info(steps=self.steps, best_eval=self.best_eval)
        return final

    def restore(self) -> None:
        """Continue from ``checkpoints/last/`` (RLlib's restore + the loop's counters)."""
        path = checkpoint_dir(self.run.path, "last")
        state = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
        if state.get("format") != STATE_FORMAT:
            raise RLlibError(f"{path}: not a mazedsl RLlib checkpoint ({state.get('format')!r})")
        try:
            self.algo.restore_from_path(str(path.resolve()))
        except Exception as exc:  # noqa: BLE001
            raise RLlibError(f"{path}: RLlib cannot restore it ({_last_line(exc)})") from None
        self.steps, self.iterations = state["steps"], state["iterations"]
        self.train_time, self.evaluations = state["train_time"], state["evaluations"]
        self.best_eval, self.evals_since_best = state["best_eval"], state["evals_since_best"]
        self.next_log, self.next_eval = state["next_log"], state["next_eval"]
        self.next_checkpoint = state["next_checkpoint"]
        self.last_log = tuple(state["last_log"])  # type: ignore[assignment]

    # -- the loop -----------------------------------------------------------------
    def train(self, total_steps: int | None = None, n_epochs: int | None = None) -> RLlibSummary:
        exp = self.exp
        budget = total_steps if total_steps is not None else exp.total_steps
        wall0 = time.perf_counter()
        self._wall_offset = self.train_time
        left = n_epochs
        stopped = "budget"
        while self.steps < budget:
            if left is not None:
                if left <= 0:
                    stopped = "epochs"
                    break
                left -= 1
            t0 = time.perf_counter()
            try:
                result = self.algo.train()
            except Exception as exc:  # noqa: BLE001 - a remote failure: its telling line
                raise RLlibError(f"RLlib training failed after {self.steps} env steps: "
                                 f"{_last_line(exc)}") from None
            self.train_time += time.perf_counter() - t0
            self.iterations += 1
            self.last_result = result
            runners = result.get("env_runners", {})
            self.steps += int(runners.get("num_env_steps_sampled", 0) or 0)
            if self.steps >= self.next_log or self.steps >= budget:
                self._log(result, wall0)
            reason = None
            if self.next_eval is not None and self.steps >= self.next_eval:
                reason = self._evaluate_and_select(wall0)
                self.next_eval = next_after(self.next_eval, self.steps, exp.eval_every_steps)
            if self.steps >= self.next_checkpoint:
                self.save("last")
                self.next_checkpoint = next_after(self.next_checkpoint, self.steps,
                                                  exp.checkpoint_every_steps)
            self._progress(budget)
            if reason:
                stopped = reason
                break
            if self._stop:
                stopped = "interrupted"
                break
        never_evaluated = stopped in ("budget", "epochs") and self.evaluations == 0
        if never_evaluated or (stopped == "budget" and exp.eval_every_steps == 0):
            self._evaluate_and_select(wall0)
        self.save("last")
        return RLlibSummary(steps=self.steps, wall_time=self._time(wall0),
                            best_eval=self.best_eval, evaluations=self.evaluations, stopped=stopped)

    def _time(self, wall0: float) -> float:
        return round(self._wall_offset + time.perf_counter() - wall0, 4)

    def _record(self, record: dict[str, Any]) -> None:
        self.run.metrics.write(record)
        if self.run.logger is not None:
            self.run.logger.info(", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                           for k, v in record.items()))
        if record["phase"] == "eval" and self.progress_bar is not None:
            self.progress_bar.note_eval(record["step"], record["mean_return"])

    def _log(self, result: dict[str, Any], wall0: float) -> None:
        last_steps, last_time = self.last_log
        dt = self.train_time - last_time
        runners = result.get("env_runners", {})
        learner = result.get("learners", {}).get("default_policy", {})
        record: dict[str, Any] = {
            "phase": "train", "step": self.steps, "update": self.iterations, "time": self._time(wall0),
            "steps_per_s": round((self.steps - last_steps) / dt, 1) if dt > 0 else None,
        }
        for key, src, name in (("ep_return_mean", runners, "episode_return_mean"),
                               ("ep_return_min", runners, "episode_return_min"),
                               ("ep_return_max", runners, "episode_return_max"),
                               ("ep_length_mean", runners, "episode_len_mean"),
                               ("policy_loss", learner, "policy_loss"),
                               ("value_loss", learner, "vf_loss"),
                               ("entropy", learner, "entropy"),
                               ("approx_kl", learner, "mean_kl_loss"),
                               ("clip_fraction", learner, "clip_fraction"),
                               ("clip_range", learner, "clip_param"),
                               ("explained_variance", learner, "vf_explained_var"),
                               ("lr", learner, "default_optimizer_learning_rate"),
                               ("lr", learner, "policy_learning_rate"),  # SAC
                               ("q_loss", learner, "qf_loss"),  # DQN, SAC
                               ("q_mean", learner, "qf_mean"),
                               ("ent_coef", learner, "alpha_value"),  # SAC
                               ("ent_coef_loss", learner, "alpha_loss")):
            value = _num(src.get(name))
            if value is not None:
                record[key] = value
        self._record(record)
        self.last_log = (self.steps, self.train_time)
        self.next_log = next_after(self.next_log, self.steps, self.exp.log_every_steps)

    def env_runner_nodes(self) -> list[str]:
        """The Ray node id of each env runner (the driver's when envs step in this process)."""
        import ray

        if self.exp.runner.num_env_runners == 0:
            return [ray.get_runtime_context().get_node_id()]
        return list(self.algo.env_runner_group.foreach_env_runner(
            lambda _runner: __import__("ray").get_runtime_context().get_node_id(),
            local_env_runner=False))

    def built(self) -> Any:
        """The current policy (the driver's copy of the RLModule, synced after each update)."""
        return built_for(self.exp, self.algo.get_module(), self.obs_space, self.action_space,
                         self.factory)

    def evaluate(self, n_episodes: int, deterministic: bool = True, seed: int | None = None) -> Any:
        from mazedsl.rl.episodes import evaluate, policy_actions

        built = self.built()
        if self._eval_venv is None:
            self._eval_venv = built.make_eval_venv(self.exp.runner.n_eval_envs)
        # as the native trainer: eval mode, and a stochastic policy samples from the seed's
        # own stream
        return evaluate(self._eval_venv, policy_actions(built, deterministic, seed), n_episodes,
                        seed, built.episode_step_limit)

    def _evaluate_and_select(self, wall0: float) -> str | None:
        exp = self.exp
        result = self.evaluate(exp.eval_episodes, True, self.seeds.eval + self.evaluations)
        record, is_best, reason = self._select(result, self.steps, self._time(wall0))
        self._record(record)
        if is_best:
            self.save("best")
        return reason

    def _progress(self, budget: int) -> None:
        info: dict[str, Any] = {"steps_per_s": self.steps / self.train_time if self.train_time else 0.0}
        ret = _num(self.last_result.get("env_runners", {}).get("episode_return_mean"))
        if ret is not None:
            info["ep_return_mean"] = ret
        if self.best_eval is not None:
            info["best_eval"] = self.best_eval
        if self.progress_bar is not None:
            self.progress_bar.update(self.steps, info)


def train_run(exp: Any, run: Any, factory: Callable[[], Any] | None, *, resume: bool = False,
              total_steps: int | None = None, n_epochs: int | None = None,
              silent: bool = False) -> RLlibSummary:
    """Train ``exp`` on RLlib into the run directory ``run`` (a RunDirectory).

    The run is marked running, then finished, interrupted or failed (with the reason) in
    ``run.json``. Ray is started (or joined) for the call and left as found.
    """
    from mazedsl.rllib import cluster, envs
    from mazedsl.rllib.translate import env_name, rllib_settings

    logger = run.open_logger()
    loops: list[RLlibLoop] = []

    def counters() -> tuple[int, float | None]:
        if loops:
            return loops[0].steps, loops[0].best_eval
        info = run.run_info()
        return info.get("steps", 0), info.get("best_eval")

    with TrainingStatus(run, logger, counters, runner="rllib") as status:
        require_ray()
        from gymnasium import spaces as gym_spaces

        from mazedsl.rl.spaces import space_to_json

        spaces = probe_spaces(exp, factory)
        run.write_json("spaces.json", {"observation": space_to_json(spaces[0]),
                                       "action": space_to_json(spaces[1])})
        settings = rllib_settings(exp, isinstance(spaces[1], gym_spaces.Box))
        run.write_text("rllib_config.yaml", settings_yaml(settings))
        with cluster.session(exp.runner) as info:
            resources = cluster.check_resources(exp.runner)
            logger.info("training %s on %s with RLlib %s (%d env runners x %d envs; Ray at %s, "
                        "%d nodes, %g CPUs) in %s", exp.name, exp.env.label,
                        type(exp.algorithm).__name__,
                        exp.runner.num_env_runners, exp.runner.num_envs_per_env_runner,
                        info["address"], info["nodes"], resources["CPU"], run.path)
            envs.register(exp, factory, env_name(exp))
            loop = RLlibLoop(exp, run, factory, settings, spaces)
            loops.append(loop)
            try:
                run.update_info(rllib={"address": info["address"], "nodes": info["nodes"],
                                       "cpus": resources["CPU"], "gpus": resources["GPU"],
                                       "env_runner_nodes": loop.env_runner_nodes()})
                if resume:
                    loop.restore()
                    run.rewind_metrics({"steps": loop.steps})  # what it writes again goes
                budget = total_steps if total_steps is not None else exp.total_steps
                bar = None
                if not silent:
                    from mazedsl.progress import TrainingProgress

                    bar = TrainingProgress(budget, loop.steps, loop.request_stop)
                loop.progress_bar = bar
                with stop_on_signals(loop), (bar or contextlib.nullcontext()):
                    summary = loop.train(total_steps, n_epochs)
                loop.progress_bar = None
                if summary.stopped == "budget" and summary.steps > budget:  # (the bar went past)
                    line = (f"note: RLlib sampled {summary.steps:,} env steps for the budget of "
                            f"{budget:,}: each of its iterations collects a whole train batch, and "
                            "the last one crossed the budget")
                    logger.info(line)
                    if not silent:
                        print(line, file=sys.stderr, flush=True)
            finally:
                loop.close()
        return status.done(summary)
