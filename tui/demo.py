"""Deterministic demo data: real experiment files and run directories in the real formats.

Used by the TUI tests and by ``tui/screenshot.py``. The experiment files are Python files
built from :mod:`mazedsl.spec` declarations; each run's ``config.yaml`` is
``mazedsl.config.to_yaml`` of that experiment with the run's overrides applied, and
``run.json``, ``metrics.jsonl``, ``eval.json`` and ``train.log`` carry the keys the engine
writes (docs/architecture.md). Every value and timestamp is fixed, so screens drawn from
them are identical from run to run. :class:`DemoLibrary` is the real :class:`Library`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mazedsl_tui.library import Library

# -- experiments ---------------------------------------------------------------------------

# file stem -> source of the experiment file (abridged copies of the shipped experiments)
DEMO_EXPERIMENTS: dict[str, str] = {
    "cartpole_a2c": '''"""CartPole-v1 with A2C (RMSprop, 5 steps per env), a small entropy bonus."""

from mazedsl.spec import A2C, Experiment, GymEnv, Runner, VectorObs

experiment = Experiment(
    name="cartpole_a2c",
    env=GymEnv(name="CartPole-v1"),
    model=VectorObs(hidden_units=[64, 64], activation="tanh"),
    algorithm=A2C(lr=7e-4, n_steps=5, gamma=0.99, ent_coef=0.01, optimizer="rmsprop"),
    runner=Runner(n_envs=8),
    total_steps=50_000,
    eval_every_steps=10_000,
    log_every_steps=2_048,
)
''',
    "cartpole_ppo": '''"""CartPole-v1 with PPO: rl-baselines3-zoo's hyperparameters."""

from mazedsl.spec import PPO, Experiment, GymEnv, Runner, VectorObs

experiment = Experiment(
    name="cartpole_ppo",
    env=GymEnv(name="CartPole-v1"),
    model=VectorObs(hidden_units=[64, 64], activation="tanh"),
    algorithm=PPO(lr=1e-3, lr_schedule="linear", n_steps=32, batch_size=256, n_epochs=20,
                  gamma=0.98, gae_lambda=0.8, clip_range=0.2, clip_schedule="linear"),
    runner=Runner(n_envs=8),
    total_steps=50_000,
    eval_every_steps=10_000,
    log_every_steps=2_048,
)
''',
    "pendulum_ppo": '''"""Pendulum-v1 (continuous actions) with PPO and normalised observations and rewards."""

from mazedsl.spec import (PPO, Experiment, GymEnv, NormalizeObservation, NormalizeReward, Runner,
                          VectorObs)

experiment = Experiment(
    name="pendulum_ppo",
    env=GymEnv(name="Pendulum-v1"),
    wrappers=[NormalizeObservation(), NormalizeReward(gamma=0.9)],
    model=VectorObs(hidden_units=[64, 64], activation="tanh"),
    algorithm=PPO(lr=1e-3, n_steps=1024, batch_size=256, n_epochs=10, gamma=0.9,
                  gae_lambda=0.95, target_kl=0.02),
    runner=Runner(n_envs=4),
    total_steps=200_000,
    eval_every_steps=10_000,
    log_every_steps=4_096,
)
''',
}


# a file of several experiments (written by tests that need one; not part of build_demo)
SEVERAL_EXPERIMENTS = ("cartpole_sizes", '''"""CartPole-v1 with PPO at two network sizes: pick one with cartpole_sizes.py:small."""

from mazedsl.spec import PPO, Experiment, GymEnv, VectorObs

small = Experiment(
    name="cartpole_small",
    env=GymEnv(name="CartPole-v1"),
    model=VectorObs(hidden_units=[16, 16]),
    algorithm=PPO(lr=1e-3),
    total_steps=20_000,
)

large = Experiment(
    name="cartpole_large",
    env=GymEnv(name="CartPole-v1"),
    model=VectorObs(hidden_units=[256, 256]),
    algorithm=PPO(lr=3e-4),
    total_steps=20_000,
)
''')


def write_several(directory: Path) -> Path:
    """Write :data:`SEVERAL_EXPERIMENTS` into ``directory``; its path."""
    stem, source = SEVERAL_EXPERIMENTS
    path = Path(directory) / f"{stem}.py"
    path.write_text(source, encoding="utf-8")
    return path


def write_experiments(directory: Path) -> list[Path]:
    """Write the demo experiment files into ``directory``; their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, source in DEMO_EXPERIMENTS.items():
        path = directory / f"{stem}.py"
        path.write_text(source, encoding="utf-8")
        paths.append(path)
    return paths


def _compiled(experiment_file: Path, overrides: list[str]) -> tuple[Any, str]:
    """The experiment of ``experiment_file`` with ``overrides`` applied, and its YAML."""
    from mazedsl.config import apply_overrides, load_experiment, to_yaml

    experiment = apply_overrides(load_experiment(experiment_file), list(overrides))
    return experiment, to_yaml(experiment)


# -- run directories -----------------------------------------------------------------------

@dataclass
class DemoRun:
    experiment: str
    name: str
    status: str
    steps: int
    started: str
    ended: str | None
    final_return: float
    start_return: float
    scale: float  # steps to reach ~63% of the way
    sps: float
    log_every: int = 2048
    eval_every: int = 10000
    error: str | None = None
    overrides: list[str] = field(default_factory=list)


DEMO_RUNS = [
    DemoRun("cartpole_ppo", "20260105-093012_3fa9c1", "finished", 50000, "2026-01-05T09:30:12",
            "2026-01-05T09:30:41", 500.0, 22.0, 9000.0, 1720.0),
    DemoRun("cartpole_ppo", "20260104-170245_9e1d7b", "interrupted", 20480, "2026-01-04T17:02:45",
            "2026-01-04T17:02:58", 500.0, 21.0, 14000.0, 1650.0, overrides=["algorithm.lr=0.001"]),
    DemoRun("cartpole_a2c", "20260106-141500_b27e04", "failed", 12288, "2026-01-06T14:15:00",
            "2026-01-06T14:15:04", 500.0, 20.0, 30000.0, 4800.0,
            error=("TrainingError: non-finite loss at step 12288: loss=nan, policy_loss=0.0213, "
                   "value_loss=nan; training stopped, the last checkpoint is kept"),
            overrides=["algorithm.lr=0.5"]),
    DemoRun("pendulum_ppo", "20260107-080000_5d0c2a", "running", 36864, "2026-01-07T08:00:00", None,
            -180.0, -1350.0, 60000.0, 1310.0, log_every=4096),
]


def _curve(run: DemoRun, step: int, wiggle: float) -> float:
    progress = 1.0 - math.exp(-step / run.scale)
    value = run.start_return + (run.final_return - run.start_return) * progress
    value += wiggle * math.sin(step / 1700.0) * (1 - progress)
    if run.final_return > 0:
        value = min(value, run.final_return)
    return round(value, 2)


def _metrics(run: DemoRun, experiment: Any) -> list[dict[str, Any]]:
    """train and eval lines with the keys the trainer writes (values from a fixed curve)."""
    lines: list[dict[str, Any]] = []
    algorithm = experiment.algorithm
    per_update = algorithm.n_steps * experiment.runner.n_envs
    ppo = type(algorithm).__name__ == "PPO"
    best = -math.inf
    step = run.log_every
    next_eval = run.eval_every
    while step <= run.steps:
        mean = _curve(run, step, 18.0 if run.final_return > 0 else 60.0)
        spread = abs(run.final_return - run.start_return) * 0.15 * math.exp(-step / (2 * run.scale))
        k = step / run.log_every
        loss_nan = run.status == "failed" and step >= run.steps
        train = {
            "phase": "train", "step": step, "update": step // per_update, "time": round(step / run.sps, 3),
            "steps_per_s": round(run.sps + 40 * math.sin(k), 1),
            "ep_return_mean": mean, "ep_return_min": round(mean - spread, 2),
            "ep_return_max": round(min(mean + spread, run.final_return) if run.final_return > 0
                                   else mean + spread, 2),
            "ep_length_mean": round(max(mean, 10.0), 1) if run.final_return > 0 else 200.0,
            "policy_loss": round(-0.012 * math.exp(-k / 9) + 0.002 * math.sin(k), 5),
            "value_loss": float("nan") if loss_nan else round(40.0 * math.exp(-k / 6) + 1.5, 4),
            "entropy": round(0.69 * math.exp(-k / 40), 4),
            "approx_kl": round(0.004 + 0.002 * math.cos(k), 5),
            "clip_fraction": round(0.05 + 0.03 * math.cos(k / 2), 4) if ppo else 0.0,
        }
        if ppo:
            train["clip_range"] = algorithm.clip_range
        train["lr"] = algorithm.lr
        lines.append(train)
        while next_eval <= step:
            mean_eval = _curve(run, next_eval, 0.0)
            is_best = mean_eval > best
            best = max(best, mean_eval)
            lines.append({
                "phase": "eval", "step": next_eval, "time": round(next_eval / run.sps + 0.4, 3),
                "mean_return": mean_eval, "std_return": round(abs(mean_eval) * 0.04, 2),
                "min_return": round(mean_eval - abs(mean_eval) * 0.08, 2), "max_return": mean_eval,
                "mean_length": round(max(mean_eval, 10.0), 1) if run.final_return > 0 else 200.0,
                "n_episodes": experiment.eval_episodes, "best": is_best,
            })
            next_eval += run.eval_every
        step += run.log_every
    return lines


def _eval_json(run: DemoRun, best: float | None) -> dict[str, Any] | None:
    """eval.json as ``RunContext.evaluate`` writes it (finished and interrupted runs)."""
    if run.status not in ("finished", "interrupted") or best is None:
        return None
    returns = [best] * 7 + [round(best * f, 1) for f in (0.974, 0.93, 0.886)]
    lengths = [int(r) for r in returns]
    mean = sum(returns) / len(returns)
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / len(returns))
    return {"mean_return": round(mean, 3), "std_return": round(std, 3), "min_return": min(returns),
            "max_return": max(returns), "mean_length": sum(lengths) / len(lengths),
            "n_episodes": len(returns), "returns": returns, "lengths": lengths, "deterministic": True,
            "checkpoint": "best", "time": run.ended}


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _log_text(run: DemoRun, experiment: Any, metrics: list[dict[str, Any]], best: float | None) -> str:
    """train.log as the engine writes it: one line per metrics record, then how it ended."""
    stamp = run.started.replace("T", " ") + ",000"
    algorithm = type(experiment.algorithm).__name__
    lines = [f"{stamp} INFO training {experiment.name} on {experiment.env.name} ({algorithm}) in "
             f"outputs/{run.experiment}/{run.name}"]
    lines += [f"{stamp} INFO " + ", ".join(f"{k}={_fmt(v)}" for k, v in rec.items()) for rec in metrics]
    if run.status == "failed":
        lines.append(f"{stamp} ERROR training failed: {run.error}")
    if run.status != "running":
        lines.append(f"{stamp} INFO training {run.status} at step {run.steps} (best eval {best})")
    return "\n".join(lines) + "\n"


DEMO_VERSIONS = {"python": "3.11.7", "mazedsl": "0.1.0", "torch": "2.13.0+cpu", "gymnasium": "1.4.0",
                 "numpy": "2.4.6", "hydra-core": "1.3.8", "omegaconf": "2.3.1"}


def write_run(runs_root: Path, run: DemoRun, experiments: Path | None = None) -> Path:
    """Write one demo run directory under ``runs_root`` (its experiment file in ``experiments``,
    written to a temporary folder when None)."""
    path = runs_root / run.experiment / run.name
    path.mkdir(parents=True, exist_ok=True)
    if experiments is None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            experiment, config_yaml = _compiled(write_experiments(Path(tmp))[0].with_name(
                f"{run.experiment}.py"), run.overrides)
    else:
        experiment, config_yaml = _compiled(experiments / f"{run.experiment}.py", run.overrides)
    file = Path("experiments") / f"{run.experiment}.py"
    metrics = _metrics(run, experiment)
    evals = [r["mean_return"] for r in metrics if r["phase"] == "eval"]
    best = max(evals) if evals else None
    (path / "config.yaml").write_text(config_yaml, encoding="utf-8")
    (path / "overrides.yaml").write_text("".join(f"- {o}\n" for o in run.overrides) or "[]\n")
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in metrics))
    (path / "train.log").write_text(_log_text(run, experiment, metrics, best))
    summary = _eval_json(run, best)
    if summary is not None:
        (path / "eval.json").write_text(json.dumps(summary, indent=2))
    info = {"status": run.status, "experiment": experiment.name,
            "algorithm": type(experiment.algorithm).__name__, "env": experiment.env.name,
            "total_steps": experiment.total_steps, "steps": run.steps, "best_eval": best,
            "created": run.started, "seeds": {"master": experiment.seed, "env": 821328063,
                                              "eval": 1529665512, "torch": 745650761},
            "versions": DEMO_VERSIONS, "git": None,
            "command": ["mazedsl", "train", file.as_posix(), *run.overrides],
            "cwd": "/home/demo/project", "started": run.started, "ended": run.ended, "error": run.error}
    if run.status != "created":  # written when training starts
        info["train_episodes"] = True
        info["sessions"] = 1
    if run.status != "running":
        info["stopped"] = "budget" if run.status == "finished" else run.status  # as TrainingStatus
        if run.started and run.ended:  # one session: all of its time trained
            info["train_seconds"] = (datetime.fromisoformat(run.ended)
                                     - datetime.fromisoformat(run.started)).total_seconds()
    (path / "run.json").write_text(json.dumps(info, indent=2))
    return path


@dataclass
class DemoWorkspace:
    root: Path
    experiments: Path
    runs: Path
    run_dirs: list[Path]


def build_demo(root: str | Path) -> DemoWorkspace:
    """Write the demo experiments and run directories under ``root`` (experiments/, outputs/)."""
    root = Path(root)
    experiments = root / "experiments"
    runs = root / "outputs"
    write_experiments(experiments)
    run_dirs = [write_run(runs, run, experiments) for run in DEMO_RUNS]
    return DemoWorkspace(root=root, experiments=experiments, runs=runs, run_dirs=run_dirs)


class DemoLibrary(Library):
    """The real :class:`Library` (the demo files are real); tests subclass it to stub parts.
    The demo runs hold no checkpoint files: one that has trained steps answers as the real run
    it stands for (with ``checkpoints/last.pt``) would."""

    def resume_problem(self, run_dir: str | os.PathLike[str], status: str, steps: int) -> str | None:
        return None if steps else super().resume_problem(run_dir, status, steps)


# -- a demo sweep (for Compare and the Sweep view; not part of build_demo) -------------------------

DEMO_SWEEP = "sweep_20260108-090000_1a2b3c"


def write_demo_sweep(runs_root: str | Path) -> Path:
    """A finished sweep of cartpole_ppo: ``algorithm.lr`` 3e-4 vs 1e-3, seeds 0-2 (one job failed)."""
    import yaml

    sweep = Path(runs_root) / "cartpole_ppo" / DEMO_SWEEP
    jobs = []
    index = 0
    for lr, scale, final in ((0.0003, 16000.0, 430.0), (0.001, 7000.0, 500.0)):
        for seed in range(3):
            name = f"job_{index:03d}"
            failed = index == 5
            run = DemoRun("cartpole_ppo", name, "failed" if failed else "finished", 30000 if failed else 50000,
                          f"2026-01-08T09:{index:02d}:00", f"2026-01-08T09:{index:02d}:30",
                          final - 25.0 * seed, 20.0 + 2 * seed, scale * (1 + 0.25 * seed), 1700.0 - 40 * seed,
                          error="TrainingError: value loss is nan at step 30720" if failed else None,
                          overrides=[f"algorithm.lr={lr}", f"seed={seed}"])
            path = write_run(Path(runs_root), attrs_replace(run, name=f"{DEMO_SWEEP}/{name}"))
            config = yaml.safe_load((path / "config.yaml").read_text())
            config["algorithm"]["lr"], config["seed"] = lr, seed
            (path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
            jobs.append({"job": name, "run_dir": str(path), "overrides": run.overrides,
                         "params": {"algorithm.lr": lr, "seed": seed}, "status": run.status,
                         "error": run.error})
            index += 1
    (sweep / "sweep.json").write_text(json.dumps({"schema": 1, "kind": "sweep", "experiment": "cartpole_ppo",
                                                  "sweep_dir": str(sweep), "jobs": jobs}, indent=2))
    return sweep


def attrs_replace(run: DemoRun, **changes: Any) -> DemoRun:
    import dataclasses

    return dataclasses.replace(run, **changes)
