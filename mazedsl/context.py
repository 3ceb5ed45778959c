"""RunContext: train, evaluate, roll out and query a policy from plain Python."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import attrs
import numpy as np

from mazedsl.components import import_callable, import_failure, is_import_path, resolve_experiment
from mazedsl.errors import ConfigError, EnvError, RunDirError
from mazedsl.signals import stop_on_signals
from mazedsl.rllib import is_rllib
from mazedsl.rollout import Episode, Rollout, RolloutStep, play_episode
from mazedsl.run.directory import RunDirectory, new_run_path
from mazedsl.run.listing import resolve_run
from mazedsl.run.status import TrainingStatus


class RunContext:
    """The high-level API: one experiment, one run directory, and the trained policy.

    Each component may be a config-module name (``algorithm="a2c"``), a dict or DictConfig,
    an attrs declaration (``algorithm=<Declaration>(lr=1e-3)``); ``env`` may also be a factory
    callable. ``overrides`` takes dotted keys as on the command line. The resolved config
    is written to the run directory when work starts (training, evaluation, a rollout).
    ``run_dir`` names that directory (default: a new one under ``output_dir``);
    ``keep_refused``: whether input the build refuses leaves it behind, marked failed with
    the reason (default: when ``run_dir`` is given, as the TUI and sweeps watch it).
    """

    def __init__(self, experiment: Any = None, *, env: Any = None, wrappers: Any = None,
                 model: Any = None, critic: Any = None, algorithm: Any = None, runner: Any = None,
                 overrides: Mapping[str, Any] | list[str] | None = None,
                 run_dir: str | Path | None = None, silent: bool = False, seed: int | None = None,
                 keep_refused: bool | None = None,
                 _loaded: tuple[Any, RunDirectory, Any] | None = None) -> None:
        self.silent = silent
        self._trainer: Any = None
        self._agent: Any = None
        self._checkpoint_kind: str | None = None  # set by load(): where the policy comes from
        self._missing_factory: str | None = None
        if _loaded is not None:
            self._exp, self._run_obj, self._factory = _loaded
            self._run_path = self._run_obj.path
            self._keep_refused = True
            return
        components = {"env": env, "wrappers": wrappers, "model": model, "critic": critic,
                      "algorithm": algorithm, "runner": runner}
        self._exp, self._factory, raw_overrides = resolve_experiment(experiment, components,
                                                                     overrides, seed)
        if self._factory is None:
            from mazedsl.rl.envs import check_env_id, factory_from_decl

            self._factory = factory_from_decl(self._exp.env)
            if self._factory is None:
                check_env_id(self._exp.env.name)
        from mazedsl.config.instantiate import check_targets
        from mazedsl.rl.device import resolve_device

        check_targets(self._exp.env.kwargs, "env.kwargs")
        resolve_device(self._exp.runner.device)
        self._keep_refused = run_dir is not None if keep_refused is None else keep_refused
        self._run_path = Path(run_dir) if run_dir is not None else new_run_path(
            self._exp.output_dir, self._exp.name)
        self._raw_overrides = raw_overrides
        self._run_obj: RunDirectory | None = None

    # -- the run directory: created when work starts ----------------------------------
    @property
    def _run(self) -> RunDirectory:
        if self._run_obj is None:
            self._run_obj = RunDirectory.create(self._run_path)
            self._write_config(self._raw_overrides)
        return self._run_obj

    def _write_config(self, raw_overrides: list[Any]) -> None:
        from omegaconf import OmegaConf

        from mazedsl.config import to_yaml
        from mazedsl.rl.building import Seeds

        self._run.write_text("config.yaml", to_yaml(self._exp))
        self._run.write_text("overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(
            {"overrides": raw_overrides})))
        seeds = Seeds.derive(self._exp.seed)
        self._run.start_info(self._exp, {"master": seeds.master, "env": seeds.env,
                                         "eval": seeds.eval, "torch": seeds.torch}, None)

    @classmethod
    def load(cls, run_dir: str | Path, *, checkpoint: str = "best", env: Callable[[], Any] | None = None,
             silent: bool = False, runs_root: str | Path = "outputs") -> "RunContext":
        """Rebuild a run from its directory (``path``, ``latest`` or ``EXPERIMENT:latest``):
        config, spaces, weights and normalisation statistics, without re-declaring anything.

        ``train()`` on it resumes from ``checkpoints/last.pt``.
        """
        from omegaconf import OmegaConf

        from mazedsl.config import from_config
        from mazedsl.errors import CheckpointError
        from mazedsl.run.directory import CHECKPOINTS

        if checkpoint not in CHECKPOINTS:
            raise CheckpointError(f"checkpoint must be one of {', '.join(CHECKPOINTS)}, "
                                  f"got {checkpoint!r}")
        path = resolve_run(run_dir, runs_root)
        run = RunDirectory.open(path)
        try:
            cfg = OmegaConf.load(path / "config.yaml")
        except Exception as exc:  # noqa: BLE001 - malformed YAML of any kind
            raise RunDirError(f"{path / 'config.yaml'}: unreadable ({str(exc).splitlines()[0]})") from None
        exp = from_config(cfg, source=str(path / "config.yaml"))
        factory = env
        missing = None
        if factory is None and exp.env.factory:
            from mazedsl.config.targets import importable_cwd

            importable_cwd()  # your modules, importable from where you stand, as in training
            factory = import_callable(exp.env.factory)
            if factory is None:
                factory, missing = _rebuild_factory(exp, path, silent)
        ctx = cls(silent=silent, _loaded=(exp, run, factory))
        ctx._checkpoint_kind = checkpoint
        ctx._missing_factory = missing
        return ctx

    def set_total_steps(self, total_steps: int) -> None:
        """Give a loaded run a new budget before it resumes: written to its config.yaml,
        run.json and overrides.yaml (under ``resumed``), so later resumes, ``show`` and the run
        table agree; the schedules (learning rate, clip range, exploration) follow it.
        (``train(total_steps=N)`` does the same for a larger N once it resumes.)"""
        if self._checkpoint_kind is None or self._trainer is not None:
            raise ConfigError("set_total_steps() changes a loaded run's budget before it "
                              "resumes; a new run takes its budget from the experiment's "
                              "total_steps=N or from train(total_steps=N)")
        self._run.lock()
        if is_rllib(self._exp):  # a run that cannot resume keeps its budget
            from mazedsl.rllib.dispatch import resume_steps

            resume_steps(self._run.path)
        else:
            self._run.load_checkpoint(self._checkpoint_kind)
        self._exp = _with_total_steps(self._exp, total_steps, "override 'total_steps="
                                      f"{total_steps}' given on resume")
        self._record_budget("resumed")

    def _take_budget(self, total_steps: int, steps: int | None = None) -> None:
        """``train(total_steps=N)``: N becomes the run's budget, as the experiment's own
        ``total_steps`` (a new run) or :meth:`set_total_steps` (a run that has trained) would
        make it: in config.yaml, overrides.yaml and run.json, and the schedules follow it. A
        budget the run has already reached changes nothing (there is nothing to train).
        ``steps``: the run's steps so far (default: its trainer's, else 0)."""
        if steps is None:
            steps = self._trainer.steps if self._trainer is not None else 0
        exp = _with_total_steps(self._exp, total_steps, f"train(total_steps={total_steps})")
        if total_steps == self._exp.total_steps or (steps and total_steps <= steps):
            return
        self._exp = exp
        if self._trainer is not None:
            self._trainer.set_total_steps(total_steps)
        if self._run_obj is None:  # written with the run directory, as an override
            self._raw_overrides = [*self._raw_overrides, f"total_steps={total_steps}"]
        else:
            self._record_budget("resumed" if steps else "overrides")

    def _record_budget(self, key: str) -> None:
        """Write the experiment's budget to config.yaml, run.json and overrides.yaml (as
        ``total_steps=N`` appended to its ``key`` list: ``overrides`` or ``resumed``)."""
        from omegaconf import OmegaConf

        from mazedsl.config import to_yaml

        total_steps = self._exp.total_steps
        self._run.lock()  # not the budget of a run another process trains
        self._run.write_text("config.yaml", to_yaml(self._exp))
        try:
            saved = OmegaConf.to_container(OmegaConf.load(self._run.path / "overrides.yaml"))
        except Exception:  # noqa: BLE001 - missing or damaged: start it again
            saved = {}
        saved = saved if isinstance(saved, dict) else {}
        saved[key] = [*(saved.get(key) or []), f"total_steps={total_steps}"]
        self._run.write_text("overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(saved)))
        self._run.update_info(total_steps=total_steps)

    def _env_factory(self) -> Callable[[], Any] | None:  # noqa: D401
        """The env factory (None: gymnasium.make); errors if a loaded run's factory is lost."""
        if self._missing_factory:
            raise EnvError(self._missing_factory)
        return self._factory

    # -- properties -------------------------------------------------------------------
    @property
    def config(self) -> Any:
        """The resolved config (a DictConfig, as written to config.yaml)."""
        from mazedsl.config import to_config

        return to_config(self._exp)

    @property
    def experiment(self) -> Any:
        return self._exp

    @property
    def run_dir(self) -> Path:
        """The run directory (created when training, evaluation or a rollout first writes)."""
        return self._run_path

    @property
    def env_factory(self) -> Callable[[], Any]:
        """A callable that makes one (wrapped) env as the policy sees it."""
        from mazedsl.rl.envs import make_env_fn

        return make_env_fn(self._exp.env, self._exp.wrappers, self._env_factory())

    @property
    def policy(self) -> Any:
        """The torch policy module (on ``runner.device``), in eval mode as loaded and between
        training's updates (which run in train mode)."""
        return self._get_agent().policy

    @property
    def device(self) -> Any:
        """The torch device every tensor of this run lives on."""
        return self._get_agent().device

    # -- the policy (trained, loaded or fresh) -----------------------------------------
    def _get_agent(self) -> Any:
        """The built parts acting now: the trainer's, or a loaded run's policy."""
        if self._trainer is not None:
            return self._trainer.built
        if self._agent is None:
            if is_rllib(self._exp):  # Ray RLlib runs act with their RLModule
                from mazedsl.rllib import dispatch

                self._agent = dispatch.agent(self)
            elif self._checkpoint_kind is not None:
                self._agent = _load_built(self._exp, self._run, self._checkpoint_kind,
                                          self._factory)
            else:
                self._make_trainer()
                return self._trainer.built
        return self._agent

    def _make_trainer(self) -> Any:
        from mazedsl.rl.building import build
        from mazedsl.rl.trainer import Trainer

        resuming = self._checkpoint_kind is not None
        exp = _resume_experiment(self._exp, self._run.path) if resuming else self._exp
        try:
            built = build(exp, env_factory=self._env_factory(), training=True)
        except Exception as exc:
            # bad input leaves no run behind, unless the run directory was asked for (the TUI
            # and sweeps watch it) or exists already: then it says why it failed; a refused
            # resume leaves the run's status as it was
            if not resuming and (self._run_obj is not None or self._keep_refused):
                self._run.update_info(status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        if self._checkpoint_kind is not None:
            _check_recorded_spaces(self._run, built.obs_space, built.action_space)
        self._trainer = Trainer(built=built, sink=_RunSink(lambda: self._run))
        return self._trainer

    # -- training ----------------------------------------------------------------
    def train(self, n_epochs: int | None = None, total_steps: int | None = None,
              *, on_start: Callable[[Path], Any] | None = None, **trainer_kwargs: Any) -> Any:
        """Train (resuming from the last checkpoint of a loaded run).

        ``total_steps``: the run's budget, env steps in all (default: the experiment's): on a
        new run it is the experiment's ``total_steps`` (config.yaml, run.json and the schedules
        follow it); a run that has trained (loaded, or trained by an earlier call) continues to
        a larger one as after :meth:`set_total_steps`, and one it has reached trains nothing.
        ``n_epochs``: at most this many update iterations (stopped short of the budget, the
        run is ``interrupted``: a resume continues it). Returns a TrainSummary: the run's
        steps and training time in all, and why it stopped (run.json's ``stopped``).
        Ctrl-C or SIGTERM finish the current update, checkpoint, and return with
        ``stopped == "interrupted"``. ``on_start`` is called with the run directory once the
        run's parts are built, right before training starts (so the directory is kept: bad
        input refused by the build leaves none, and ``on_start`` is not called).
        """
        if trainer_kwargs:
            raise ConfigError(f"unknown train() arguments: {', '.join(sorted(trainer_kwargs))}; "
                              "valid: n_epochs, total_steps, on_start")
        if total_steps is not None and self._checkpoint_kind is None:
            self._take_budget(total_steps)  # before the build: the schedules follow it
        if is_rllib(self._exp):  # runner=rllib: the same loop contract, on Ray RLlib
            from mazedsl.rllib import dispatch

            return dispatch.train(self, total_steps, n_epochs, on_start)
        if self._trainer is None:
            resuming = self._checkpoint_kind is not None
            if resuming:
                self._run.lock()  # never two trainers in one run
            self._make_trainer()
            if resuming:
                self._run.repair_info(self._exp)  # a damaged run.json is rebuilt from the config
                state = self._run.load_checkpoint("last")
                exact = self._trainer.load_state_dict(state)
                self._run.rewind_metrics(state["counters"])  # records past it: written again
                self._checkpoint_kind = None
                self._agent = None
                if total_steps is not None:  # once the run resumes: a refused one keeps its budget
                    self._take_budget(total_steps)
                notes = self._trainer.learner.resume_notes()
                if not exact:
                    notes.insert(0, "env state not restorable; resumed with fresh episodes")
                budget = total_steps if total_steps is not None else self._exp.total_steps
                if self._trainer.steps >= budget:
                    notes.append(f"the run finished its budget ({self._trainer.steps} of {budget} "
                                 "steps): nothing to train; train(total_steps=N) with a larger N, "
                                 "or set_total_steps(N) first, trains it further")
                self._resume_notes = notes
                if not self.silent:
                    for note in notes:
                        print(f"note: {note}")
        if on_start is not None:
            on_start(self._run.path)  # the directory made first: announced only once it exists
        trainer = self._trainer
        sink: _RunSink = trainer.sink
        self._run.write_json("spaces.json", trainer.built.spaces_json())
        for name, content in trainer.built.learner.run_files().items():
            if not (self._run.path / name).exists():  # a resumed run keeps its own
                self._run.write_json(name, content)
        logger = self._run.open_logger()
        with TrainingStatus(self._run, logger, lambda: (trainer.steps, trainer.best_eval),
                            train_episodes=trainer.built.learner.plays_episodes) as status:
            logger.info("training %s on %s (%s, device %s) in %s", self._exp.name,
                        self._exp.env.label, trainer.built.algorithm.name, trainer.built.device,
                        self._run.path)
            for note in getattr(self, "_resume_notes", ()):
                logger.warning("resume: %s", note)
            self._resume_notes = []
            from mazedsl.rl.algos.base import unused_field_notes

            built = trainer.built
            for line in built.learner.notes() + unused_field_notes(
                    self._exp, built.algorithm.unused, type(self._exp.algorithm).__name__):
                warning = line.startswith("warning:")
                logger.log(logging.WARNING if warning else logging.INFO, line)
                if (warning or line.startswith("note:")) and not self.silent:
                    print(line, file=sys.stderr, flush=True)
            budget = total_steps if total_steps is not None else self._exp.total_steps
            planned = trainer.planned_steps(budget)
            nothing_to_train = trainer.steps >= budget  # (a note said so)
            if planned > budget and not nothing_to_train:  # as SB3's learn(): whole last phase
                each = trainer.learner.iteration_steps
                line = (f"note: training runs to {planned:,} steps: the budget of {budget:,} "
                        f"rounds up to whole iterations of {each:,} env steps (one rollout or "
                        "collection phase each)")
                logger.info(line)
                if not self.silent:
                    print(line, file=sys.stderr, flush=True)
            sink.progress_bar = (None if self.silent or nothing_to_train
                                 else _progress_bar(planned, trainer.steps, trainer.request_stop))
            sink.progress_total = planned
            try:
                with stop_on_signals(trainer), (sink.progress_bar or contextlib.nullcontext()):
                    return status.done(trainer.train(total_steps, n_epochs))
            finally:
                sink.progress_bar = None

    # -- evaluation and rollouts ------------------------------------------------------
    def evaluate(self, n_episodes: int = 10, deterministic: bool = True, seed: int | None = None) -> Any:
        """Play ``n_episodes`` episodes; returns an EvalResult (mean/std/min/max return, mean
        length, per-episode returns) and writes it to eval.json. The policy acts in eval mode;
        ``seed`` seeds the env resets and the action sampling (stochastic episodes replay)."""
        from mazedsl.rl.episodes import evaluate, policy_actions

        if n_episodes <= 0:
            raise ConfigError(f"must be > 0, got {n_episodes}", "n_episodes")
        built = self._get_agent()
        self._env_factory()
        venv = built.make_eval_venv(min(self._exp.runner.n_eval_envs, n_episodes))
        seed = self._exp.seed + 1_000_003 if seed is None else seed
        try:
            result = evaluate(venv, policy_actions(built, deterministic, seed), n_episodes, seed,
                              built.episode_step_limit)
        finally:
            venv.close()
        self._run.write_json("eval.json", {**result.summary(), "deterministic": deterministic,
                                           "checkpoint": self._checkpoint_kind or "current",
                                           "time": datetime.now().isoformat(timespec="seconds")})
        return result

    def iter_rollout(self, deterministic: bool = True, seed: int | None = None,
                     render_mode: str | None = None) -> Iterator[RolloutStep]:
        """Play one episode step by step (for live viewers); ``render_mode='rgb_array'``
        adds frames where the env can render. The policy acts in eval mode; ``seed`` seeds
        the env's reset and the action sampling (a stochastic episode replays)."""
        from mazedsl.rl.episodes import policy_actions

        built = self._get_agent()  # load the policy before the env is made
        self._env_factory()
        act = policy_actions(built, deterministic, seed)  # eval mode; the seed's own sampling
        yield from play_episode(lambda: built.make_env(render_mode), act,
                                self._exp.env.name, seed, render=render_mode is not None,
                                step_limit=built.episode_step_limit,
                                spaces=(built.obs_space, built.action_space))

    def rollout(self, n_episodes: int = 1, deterministic: bool = True, record: bool = True,
                render: bool = False, seed: int | None = None) -> Rollout:
        """Play ``n_episodes`` episodes and return them (a list of Episode with observations,
        actions, rewards, infos; ``.returns`` and ``.lengths`` of all); with ``record``, save
        each to ``rollouts/episode_NNN.npz``; with ``render``, draw each step in the terminal.
        Episode ``i`` is played with seed ``seed + i``; without ``seed``, the seeds continue
        after the episodes already in ``rollouts/`` (so a new call records new episodes).
        Each episode keeps its seed (``Episode.seed``, ``seed`` in its file): ``rollout(seed=
        that seed)`` with the same checkpoint and ``deterministic`` plays it again."""
        if n_episodes <= 0:
            raise ConfigError(f"must be > 0, got {n_episodes}", "n_episodes")
        if seed is not None and not 0 <= seed <= 2**64 - n_episodes:
            raise ConfigError(f"must be in [0, 2**64 - n_episodes], got {seed}", "seed")
        episodes = Rollout()
        out = self._run.rollouts_path()
        first = _next_episode_index(out)  # never over a recorded episode, gaps or not
        # without a seed, a new call continues the seed sequence of the episodes recorded so far
        base = self._exp.seed + 2_000_003 + first if seed is None else seed
        for i in range(n_episodes):
            ep = Episode([], [], [], [], seed=base + i)
            steps = self.iter_rollout(deterministic, base + i, "rgb_array" if render else None)
            for step in steps:
                if step.action is None:
                    ep.observations.append(step.observation)
                    ep.infos.append(step.info)
                    if render:
                        _draw(step)
                    continue
                ep.observations.append(step.observation)
                ep.actions.append(step.action)
                ep.rewards.append(step.reward)
                ep.infos.append(step.info)
                if render:
                    _draw(step)
            episodes.append(ep)
            if record:
                out.mkdir(exist_ok=True)
                ep.save(out / f"episode_{first + i:03d}.npz")
        return episodes

    def compute_action(self, observation: Any, deterministic: bool = True) -> Any:
        """The policy's action for one observation, or actions for a batch."""
        built = self._get_agent()
        obs_in, batch = _prepared(built, observation)
        import torch

        from mazedsl.rl.models import module_mode

        with torch.inference_mode(), module_mode(built.policy, False):
            actions = built.policy.predict(torch.as_tensor(obs_in, device=built.device), deterministic)
        from mazedsl.rl.building import _env_actions

        out = _env_actions(built.action_space, built.policy)(actions.cpu().numpy())
        if batch:
            return out
        return out[0].item() if out.ndim == 1 else out[0]

    def compute_action_distribution(self, observation: Any) -> dict[str, np.ndarray]:
        """The action distribution's parameters for one observation or a batch:
        ``probs``/``logits`` (discrete) or ``mean``/``std`` (continuous; SAC's are the
        Gaussian's before the tanh squashing and the scaling to the action bounds)."""
        import torch

        built = self._get_agent()
        obs_in, batch = _prepared(built, observation)
        if not hasattr(built.policy, "distribution"):
            raise ConfigError(f"the {built.algorithm.name} policy has no action distribution")
        from mazedsl.rl.models import module_mode

        with torch.inference_mode(), module_mode(built.policy, False):
            dist = built.policy.distribution(torch.as_tensor(obs_in, device=built.device))
        return {k: (v.cpu().numpy() if batch else v.cpu().numpy()[0]) for k, v in dist.items()}

    @staticmethod
    def sweep(experiment: str, sweep: list[str] | tuple[str, ...] = (), seeds: int | None = None,
              overrides: Mapping[str, Any] | list[Any] | tuple[Any, ...] = (), jobs: int = 1,
              quiet: bool = True) -> Any:
        """Run every combination of ``sweep`` overrides (e.g. ``["algorithm.lr=1e-3,3e-4"]``)
        and ``seeds`` of an experiment file, each job in its own process and run directory;
        returns a SweepResult with per-job status and evaluation returns.

        ``overrides`` (the same for every job) take the forms ``RunContext(overrides=...)``
        takes: strings, a dict of dotted keys, or a list mixing them. Ctrl-C stops the running
        jobs after their current update, writes the partial sweep.json (jobs not started are
        ``not run``) and raises ``mazedsl.sweep.SweepInterrupted`` (a KeyboardInterrupt) whose
        ``result`` is that SweepResult."""
        from mazedsl.sweep import run_sweep

        return run_sweep(experiment, sweep, seeds, overrides, jobs, quiet)

    def close(self) -> None:
        if self._trainer is not None:
            self._trainer.close()
        if self._run_obj is not None:
            self._run_obj.close()

    def __repr__(self) -> str:
        return f"RunContext({self._exp.name!r}, run_dir='{self._run_path}')"


def _prepared(built: Any, observation: Any) -> tuple[np.ndarray, bool]:
    """One observation or a batch as the model's input batch. One that is not in the
    observation space (shape, dtype, non-integer, out of range) is one line naming the space."""
    from mazedsl.rl.observations import ObservationMisfit, check_observation, describe_space

    space = built.obs_space
    try:
        checked, batch = check_observation(space, observation)
    except ObservationMisfit as exc:
        raise ConfigError(f"{exc} (observation space {describe_space(space)})", "observation") from None
    try:
        return (built.prep(checked) if batch else built.prep.single(checked)), batch
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ConfigError(f"observation does not fit the observation space {describe_space(space)} "
                          f"({type(exc).__name__}: {exc})", "observation") from None


def _load_built(exp: Any, run: RunDirectory, kind: str, factory: Any) -> Any:
    """A run's policy rebuilt through the build stage from spaces.json, config and a checkpoint."""
    from mazedsl.errors import CheckpointError
    from mazedsl.rl.building import build
    from mazedsl.rl.spaces import space_from_json

    if not (run.path / "spaces.json").is_file() and run.run_info().get("status") == "created":
        raise CheckpointError(f"{run.path}: this run was never trained (status created): "
                              "no policy to load")
    spaces = run.read_json("spaces.json")
    recorded = (space_from_json(spaces["observation"]), space_from_json(spaces["action"]))
    built = build(exp, env_factory=factory, training=False, recorded_spaces=recorded)
    state = run.load_checkpoint(kind, map_location=built.device)
    try:
        built.policy.load_state_dict(state["policy"])
    except RuntimeError as exc:
        raise CheckpointError(f"{run.checkpoint_path(kind)}: does not fit this run's model and "
                              f"spaces ({str(exc).splitlines()[0]})") from None
    if built.prep.normalizer is not None and state.get("obs_norm") is not None:
        built.prep.normalizer.load_state_dict(state["obs_norm"])
    built.policy.eval()
    return built


def _with_total_steps(exp: Any, total_steps: int, label: str) -> Any:
    """``exp`` with a new budget (a ConfigError for a bad one), keeping where its other
    values came from (for the build's error messages); ``label`` says where this one did."""
    from mazedsl.config.provenance import record, recorded

    changed = attrs.evolve(exp, total_steps=total_steps)
    record(changed, {**(recorded(exp) or {}), "total_steps": label})
    return changed


def _resume_experiment(exp: Any, path: Path) -> Any:
    """``exp`` as its algorithm resumes the run at ``path`` (e.g. BC on its recorded files)."""
    from mazedsl.rl.registry import entry_for

    decl = entry_for(exp.algorithm).learner_class().for_resume(exp.algorithm, path)
    return exp if decl is exp.algorithm else attrs.evolve(exp, algorithm=decl)


def _check_recorded_spaces(run: RunDirectory, obs_space: Any, action_space: Any) -> None:
    from mazedsl.rl.building import check_spaces
    from mazedsl.rl.spaces import space_from_json

    if not (run.path / "spaces.json").is_file():
        return
    spaces = run.read_json("spaces.json")
    check_spaces(obs_space, action_space, space_from_json(spaces["observation"]),
                 space_from_json(spaces["action"]), f"the run {run.path}")


def _rebuild_factory(exp: Any, path: Path, silent: bool) -> tuple[Any, str | None]:
    """A lost (e.g. lambda) env factory: rebuilt from the recorded gymnasium id when it is a
    registered env, else None with the error envs will raise. A factory recorded by import
    path is never replaced: it is imported, or the error says why not."""
    import gymnasium as gym

    name = exp.env.name
    if is_import_path(exp.env.factory):
        return None, (f"{path}: the run's env factory {exp.env.factory!r} cannot be imported from "
                      f"here ({import_failure(exp.env.factory)}); run from the directory it "
                      "trained in, put its module on PYTHONPATH, or pass it: "
                      "RunContext.load(run, env=factory)")
    if name in gym.envs.registry:
        if not silent:
            print(f"note: the run's env factory ({exp.env.factory}) cannot be imported; "
                  f"rebuilding its env from the recorded id {name!r}")
        kwargs = dict(exp.env.kwargs)
        return (lambda: gym.make(name, **kwargs)), None
    return None, (f"{path}: the run's env came from a factory ({exp.env.factory}) that cannot be "
                  "imported; pass it again: RunContext.load(run, env=factory)")


class _RunSink:
    """Trainer output to the run directory: metrics lines, checkpoints, progress bar."""

    def __init__(self, run: Callable[[], RunDirectory]) -> None:
        self._get_run = run  # the run directory is made on first output
        self.progress_bar: Any = None
        self.progress_total: int | None = None  # the bar's total
        self._tb: Any = False
        self._last_info_write = 0.0

    @property
    def run(self) -> RunDirectory:
        run = self._get_run()
        if self._tb is False:
            self._tb = _tensorboard_writer(run.path)
        return run

    def record(self, record: dict[str, Any]) -> None:
        self.run.metrics.write(record)
        if self._tb is not None:
            for key, value in record.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "step":
                    self._tb.add_scalar(f"{record['phase']}/{key}", value, record["step"])
        if self.run.logger is not None:
            shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in record.items())
            self.run.logger.info(shown)
        if record["phase"] == "eval" and self.progress_bar is not None:
            self.progress_bar.note_eval(record["step"], record["mean_return"])

    def checkpoint(self, kind: str, state: dict[str, Any]) -> None:
        self.run.save_checkpoint(kind, state)
        counters = state["counters"]
        self.run.update_info(steps=counters["steps"], best_eval=counters["best_eval"])

    def progress(self, steps: int, total: int, info: dict[str, Any]) -> None:
        if self.progress_bar is not None:  # never past the bar's total (a learner's uneven steps)
            shown = steps if self.progress_total is None else min(steps, self.progress_total)
            self.progress_bar.update(shown, info)
        now = time.monotonic()
        if now - self._last_info_write > 2.0:  # keep run.json's step count fresh for the run table
            self._last_info_write = now
            self.run.update_info(steps=steps, best_eval=info.get("best_eval"))


def _tensorboard_writer(path: Path) -> Any:
    try:
        import tensorboard  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(path / "tensorboard"))


def _progress_bar(total: int, start: int, on_closed: Callable[[], None]) -> Any:
    from mazedsl.progress import TrainingProgress

    return TrainingProgress(total, start, on_closed)


def _next_episode_index(folder: Path) -> int:
    """One past the highest ``episode_NNN.npz`` in ``folder`` (0 when it holds none)."""
    numbers = [int(p.stem[len("episode_"):]) for p in folder.glob("episode_*.npz")
               if p.stem[len("episode_"):].isdigit()] if folder.is_dir() else []
    return max(numbers, default=-1) + 1


def _draw(step: RolloutStep) -> None:
    from mazedsl.render import describe_step, frame_for, half_blocks, no_frame_reason

    frame = frame_for(step)
    text = half_blocks(frame, 60) if frame is not None else no_frame_reason()
    print("\x1b[H\x1b[2J" + text + "\n" + describe_step(step), flush=True)
    time.sleep(0.02)
