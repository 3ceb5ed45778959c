"""Deterministic demo data: experiment files, run directories and a canned config library.

Used by the TUI tests and by ``tui/screenshot.py``. The run directories follow
docs/architecture.md (run.json, config.yaml, overrides.yaml, metrics.jsonl with train
and eval lines, eval.json, train.log); every value and timestamp is fixed, so screens
drawn from them are identical from run to run.

:class:`DemoLibrary` answers the config questions (compile, provenance, diff,
overrides) from the dictionaries below, so the Experiments and Launch screens work
without ``mazedsl.config``; run listing and metrics go through the real ``mazedsl.run``.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mazedsl_tui.library import Library

def _set(config: dict, dotted: str, value: Any) -> None:
    node = config
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[part]
    node[last] = value


def _flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(config, dict) and config:
        flat: dict[str, Any] = {}
        for key, value in config.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: config}


# -- experiments ---------------------------------------------------------------------------

_PPO = {"_type_": "PPO", "lr": 0.0003, "lr_schedule": "constant", "n_steps": 128, "batch_size": 256,
        "n_epochs": 10, "gamma": 0.99, "gae_lambda": 0.95, "clip_range": 0.2, "ent_coef": 0.0,
        "vf_coef": 0.5, "max_grad_norm": 0.5}
_A2C = {"_type_": "A2C", "lr": 0.0007, "lr_schedule": "constant", "n_steps": 5, "gamma": 0.99,
        "gae_lambda": 1.0, "ent_coef": 0.0, "vf_coef": 0.5, "max_grad_norm": 0.5,
        "optimizer": "rmsprop"}


def _experiment(name: str, env: str, algorithm: dict, total_steps: int, **extra: Any) -> dict:
    config = {
        "name": name,
        "env": {"name": env, "kwargs": {}, "max_episode_steps": None},
        "wrappers": [],
        "model": {"_type_": "VectorObs", "hidden_sizes": [64, 64], "activation": "tanh"},
        "critic": {"_type_": "StateCritic", "hidden_sizes": [64, 64], "activation": "tanh"},
        "algorithm": copy.deepcopy(algorithm),
        "runner": {"n_envs": 8, "vectorization": "auto", "torch_threads": 1, "n_eval_envs": 4},
        "seed": 0,
        "total_steps": total_steps,
        "eval_every_steps": 10000,
        "eval_episodes": 10,
        "log_every_steps": 2048,
    }
    for key, value in extra.items():
        _set(config, key, value)
    return config


# name -> (config, {dotted path: line number in the experiment file})
DEMO_EXPERIMENTS: dict[str, tuple[dict, dict[str, int]]] = {
    "cartpole_ppo": (_experiment("cartpole_ppo", "CartPole-v1", _PPO, 50000),
                     {"name": 6, "env.name": 7, "algorithm": 8, "total_steps": 9}),
    "cartpole_a2c": (_experiment("cartpole_a2c", "CartPole-v1", _A2C, 50000, **{"algorithm.ent_coef": 0.01}),
                     {"name": 6, "env.name": 7, "algorithm": 8, "algorithm.ent_coef": 8,
                      "total_steps": 9}),
    "pendulum_ppo": (_experiment("pendulum_ppo", "Pendulum-v1", _PPO, 200000,
                                 **{"algorithm.gamma": 0.9, "algorithm.lr": 0.001,
                                    "algorithm.gae_lambda": 0.95, "runner.n_envs": 4}),
                     {"name": 6, "env.name": 7, "algorithm": 8, "algorithm.gamma": 9, "algorithm.lr": 9,
                      "runner.n_envs": 10, "total_steps": 11}),
}

DEMO_MODULES: dict[str, dict[str, str]] = {
    "env": {"cartpole": "name: CartPole-v1\nkwargs: {}\nmax_episode_steps: null\n",
            "pendulum": "name: Pendulum-v1\nkwargs: {}\nmax_episode_steps: null\n",
            "acrobot": "name: Acrobot-v1\nkwargs: {}\nmax_episode_steps: null\n",
            "mountaincar": "name: MountainCar-v0\nkwargs: {}\nmax_episode_steps: null\n"},
    "algorithm": {"ppo": "_target_: mazedsl.rl.algos.ppo.PPO\nlr: 0.0003\nn_steps: 128\nbatch_size: 256\n"
                         "n_epochs: 10\ngamma: 0.99\ngae_lambda: 0.95\nclip_range: 0.2\n",
                  "a2c": "_target_: mazedsl.rl.algos.a2c.A2C\nlr: 0.0007\nn_steps: 5\ngamma: 0.99\n"
                         "optimizer: rmsprop\n"},
    "model": {"vector_obs": "_target_: mazedsl.spec.VectorObs\nhidden_sizes: [64, 64]\nactivation: tanh\n",
              "pixel_obs": "_target_: mazedsl.spec.PixelObs\nchannels: [32, 64, 64]\nhidden_size: 512\n"},
    "critic": {"state_critic": "_target_: mazedsl.spec.StateCritic\nhidden_sizes: [64, 64]\n"},
    "wrappers": {"none": "[]\n", "pixel_obs": "- _target_: mazedsl.spec.Grayscale\n"
                 "- _target_: mazedsl.spec.Resize\n  size: [84, 84]\n- _target_: mazedsl.spec.FrameStack\n  n: 4\n"},
    "runner": {"default": "n_envs: 8\nvectorization: auto\n", "async": "n_envs: 8\nvectorization: async\n"},
}

_EXPERIMENT_FILE = '''"""{title}"""

from mazedsl import {algo}, Experiment, GymEnv

experiment = Experiment(
    name="{name}",
    env=GymEnv(name="{env}"),
    algorithm={algo}({algo_args}),
    total_steps={total_steps},
)
'''


def write_experiments(directory: Path) -> list[Path]:
    """The demo experiment files (real-looking Python; DemoLibrary reads the canned configs)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (config, _) in DEMO_EXPERIMENTS.items():
        algo = config["algorithm"]["_type_"]
        args = ", ".join(f"{k}={v!r}" for k, v in config["algorithm"].items()
                         if k != "_type_" and DEMO_EXPERIMENTS[name][1].get(f"algorithm.{k}"))
        path = directory / f"{name}.py"
        path.write_text(_EXPERIMENT_FILE.format(
            title=f"{config['env']['name']} with {algo}.", algo=algo, name=name,
            env=config["env"]["name"], algo_args=args, total_steps=config["total_steps"]))
        paths.append(path)
    return paths


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
            error="TrainingError: value loss is nan at step 12288 (algorithm.lr=0.5 too large?)",
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


def _metrics(run: DemoRun) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    best = -math.inf
    step = run.log_every
    next_eval = run.eval_every
    while step <= run.steps:
        mean = _curve(run, step, 18.0 if run.final_return > 0 else 60.0)
        spread = abs(run.final_return - run.start_return) * 0.15 * math.exp(-step / (2 * run.scale))
        k = step / run.log_every
        loss_nan = run.status == "failed" and step >= run.steps
        lines.append({
            "phase": "train", "step": step, "time": round(step / run.sps, 3),
            "steps_per_s": round(run.sps + 40 * math.sin(k), 1),
            "ep_return_mean": mean, "ep_return_min": round(mean - spread, 2),
            "ep_return_max": round(min(mean + spread, run.final_return) if run.final_return > 0
                                   else mean + spread, 2),
            "ep_length_mean": round(max(mean, 10.0), 1) if run.final_return > 0 else 200.0,
            "policy_loss": round(-0.012 * math.exp(-k / 9) + 0.002 * math.sin(k), 5),
            "value_loss": float("nan") if loss_nan else round(40.0 * math.exp(-k / 6) + 1.5, 4),
            "entropy": round(0.69 * math.exp(-k / 40), 4),
            "approx_kl": round(0.004 + 0.002 * math.cos(k), 5),
            "clip_fraction": round(0.05 + 0.03 * math.cos(k / 2), 4),
            "lr": 0.0003,
        })
        while next_eval <= step:
            mean_eval = _curve(run, next_eval, 0.0)
            is_best = mean_eval > best
            best = max(best, mean_eval)
            lines.append({
                "phase": "eval", "step": next_eval, "time": round(next_eval / run.sps + 0.4, 3),
                "mean_return": mean_eval, "std_return": round(abs(mean_eval) * 0.04, 2),
                "min_return": round(mean_eval - abs(mean_eval) * 0.08, 2), "max_return": mean_eval,
                "mean_length": round(max(mean_eval, 10.0), 1) if run.final_return > 0 else 200.0,
                "best": is_best,
            })
            next_eval += run.eval_every
        step += run.log_every
    return lines


def _eval_json(run: DemoRun, best: float | None) -> dict[str, Any] | None:
    if run.status not in ("finished", "interrupted") or best is None:
        return None
    returns = [best] * 7 + [round(best * f, 1) for f in (0.974, 0.93, 0.886)]
    lengths = [int(r) for r in returns]
    mean = sum(returns) / len(returns)
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / len(returns))
    return {"mean_return": round(mean, 3), "std_return": round(std, 3), "min_return": min(returns),
            "max_return": max(returns), "mean_length": sum(lengths) / len(lengths), "returns": returns,
            "lengths": lengths, "checkpoint": "best"}


def _log_text(run: DemoRun, metrics: list[dict[str, Any]]) -> str:
    stamp = run.started.replace("T", " ")
    lines = [f"{stamp} INFO  run {run.experiment}/{run.name}",
             f"{stamp} INFO  env {DEMO_EXPERIMENTS[run.experiment][0]['env']['name']} x8, seed 0",
             f"{stamp} INFO  overrides: {' '.join(run.overrides) or '(none)'}"]
    for rec in metrics:
        if rec["phase"] == "train":
            lines.append(f"{stamp} INFO  step {rec['step']:>7,}  return {rec['ep_return_mean']:8.2f}  "
                         f"{rec['steps_per_s']:7.1f} steps/s")
        else:
            lines.append(f"{stamp} INFO  eval {rec['step']:>7,}  mean {rec['mean_return']:8.2f} "
                         f"± {rec['std_return']:.2f}{'  (best)' if rec['best'] else ''}")
    if run.status == "failed":
        lines.append(f"{stamp} ERROR {run.error}")
    elif run.status == "interrupted":
        lines.append(f"{stamp} INFO  interrupted at step {run.steps:,}; checkpoint saved")
    elif run.status == "finished":
        lines.append(f"{stamp} INFO  finished: {run.steps:,} steps")
    return "\n".join(lines) + "\n"


def write_run(runs_root: Path, run: DemoRun) -> Path:
    import yaml

    path = runs_root / run.experiment / run.name
    path.mkdir(parents=True, exist_ok=True)
    config, _ = DEMO_EXPERIMENTS[run.experiment]
    metrics = _metrics(run)
    evals = [r["mean_return"] for r in metrics if r["phase"] == "eval"]
    best = max(evals) if evals else None
    (path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (path / "overrides.yaml").write_text(yaml.safe_dump(run.overrides))
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in metrics))
    (path / "train.log").write_text(_log_text(run, metrics))
    summary = _eval_json(run, best)
    if summary is not None:
        (path / "eval.json").write_text(json.dumps(summary, indent=2))
    info = {"status": run.status, "experiment": run.experiment,
            "algorithm": config["algorithm"]["_type_"], "env": config["env"]["name"],
            "started": run.started, "ended": run.ended, "steps": run.steps, "best_eval": best,
            "seeds": {"master": 0}, "versions": {"mazedsl": "0.1.0"}, "git": None,
            "command": ["mazedsl", "train", f"experiments/{run.experiment}.py", *run.overrides],
            "error": run.error}
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
    run_dirs = [write_run(runs, run) for run in DEMO_RUNS]
    return DemoWorkspace(root=root, experiments=experiments, runs=runs, run_dirs=run_dirs)


# -- the canned config library -------------------------------------------------------------

@dataclass
class DemoExperiment:
    name: str
    file: str
    config: dict
    lines: dict[str, int]
    overridden: dict[str, str] = field(default_factory=dict)


_CHECKS = {"lr": ("> 0", lambda v: v > 0), "total_steps": ("> 0", lambda v: v > 0),
           "seed": (">= 0", lambda v: v >= 0), "gamma": ("in [0, 1]", lambda v: 0 <= v <= 1),
           "n_envs": ("> 0", lambda v: v > 0), "batch_size": ("> 0", lambda v: v > 0)}


class DemoLibrary(Library):
    """A :class:`Library` whose config answers come from :data:`DEMO_EXPERIMENTS`."""

    def config_problem(self) -> str | None:
        return None

    def load_experiment(self, path: Any) -> DemoExperiment:
        from mazedsl.errors import ConfigError

        stem = Path(path).stem
        if stem not in DEMO_EXPERIMENTS:
            raise ConfigError(f"{Path(path).name}: no `experiment` defined in this file")
        config, lines = DEMO_EXPERIMENTS[stem]
        return DemoExperiment(stem, Path(path).name, copy.deepcopy(config), dict(lines))

    def to_yaml(self, experiment: DemoExperiment) -> str:
        import yaml

        return yaml.safe_dump(experiment.config, sort_keys=False)

    def provenance(self, experiment: DemoExperiment) -> dict[str, str]:
        out = {}
        for path in _flatten(experiment.config):
            if path in experiment.overridden:
                out[path] = f"override '{experiment.overridden[path]}'"
                continue
            line = experiment.lines.get(path) or experiment.lines.get(path.split(".")[0])
            out[path] = f"{experiment.file}:{line}" if line else "default"
        return out

    def explain(self, experiment: DemoExperiment, path: str) -> str:
        value = _flatten(experiment.config).get(path)
        return f"{path} = {value!r}, set by {self.provenance(experiment).get(path, 'default')}"

    def diff(self, a: DemoExperiment, b: DemoExperiment) -> list[tuple[str, Any, Any]]:
        fa, fb = _flatten(a.config), _flatten(b.config)
        missing = object()
        rows = []
        for key in sorted(set(fa) | set(fb)):
            va, vb = fa.get(key, missing), fb.get(key, missing)
            if va != vb:
                rows.append((key, None if va is missing else va, None if vb is missing else vb))
        return rows

    def apply_overrides(self, experiment: DemoExperiment, overrides: list[str]) -> DemoExperiment:
        import yaml
        from mazedsl.errors import ConfigError

        result = copy.deepcopy(experiment)
        flat = _flatten(result.config)
        for text in overrides:
            source = f"override '{text}'"
            key, sep, raw = text.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ConfigError("expected KEY=VALUE", "", source)
            try:
                value = yaml.safe_load(raw) if raw.strip() else None
            except yaml.YAMLError:
                value = raw
            if key == "algorithm" and value in ("ppo", "a2c"):
                result.config["algorithm"] = copy.deepcopy(_PPO if value == "ppo" else _A2C)
                result.overridden.update({f"algorithm.{k}": text for k in result.config["algorithm"]})
                flat = _flatten(result.config)
                continue
            if key not in flat:
                raise ConfigError("no such key", key, source)
            old = flat[key]
            if isinstance(old, bool) != isinstance(value, bool) or (
                    isinstance(old, (int, float)) and not isinstance(value, (int, float))) or (
                    isinstance(old, int) and not isinstance(old, bool) and not isinstance(value, int)
                    and key.rsplit(".", 1)[-1] not in ("lr",)):
                raise ConfigError(f"expected {type(old).__name__}, got {raw.strip()!r}", key, source)
            check = _CHECKS.get(key.rsplit(".", 1)[-1])
            if check and not check[1](value):
                raise ConfigError(f"must be {check[0]}, got {value!r}", key, source)
            _set(result.config, key, value)
            flat[key] = value
            result.overridden[key] = text
            if key == "name":
                result.name = str(value)
        return result

    def groups(self) -> list[str]:
        return list(DEMO_MODULES)

    def list_modules(self, group: str) -> list[str]:
        return list(DEMO_MODULES.get(group, {}))

    def module_source(self, group: str, name: str) -> str:
        return DEMO_MODULES.get(group, {}).get(name, "")
