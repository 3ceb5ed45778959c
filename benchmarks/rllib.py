"""RLlib runner figures: learning, throughput against the native runner, Ray start-up.

    .venv/bin/python benchmarks/rllib.py           # ~15-25 minutes on 2 cores
    .venv/bin/python benchmarks/rllib.py --quick   # tiny budgets, to check it runs

Needs ``pip install 'mazedsl[ray]'``. Everything trains ``experiments/cartpole_ppo.py`` with
only ``runner=rllib`` changed (the learning rows keep its own 100k budget and evaluation
schedule). Printed:

- Ray start-up: ``ray.init()`` of an embedded Ray with the machine's cores, then building
  RLlib's PPO (1 env runner) up to its first ``train()`` call;
- learning: per seed, the env steps at the first deterministic 10-episode evaluation whose
  mean return reaches 475, and the best evaluation (target: >= 475 within 200k, 3/3 seeds);
- throughput: training env steps/s (sampling + updates, start-up and evaluations excluded)
  with 1 env runner x 8 envs and 2 env runners x 4 envs, against the native runner (8 envs).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ArgParser, positive_int, quick_defaults, evolve, fmt, shipped, table, versions


def rllib_exp(runners: int, envs: int, **changes: Any) -> Any:
    from mazedsl.spec import RLlibRunner

    exp = shipped("cartpole_ppo").override({"runner": RLlibRunner(
        num_env_runners=runners, num_envs_per_env_runner=envs)})
    return evolve(exp, **changes)


def train_time(run_dir: Path) -> float:
    state = json.loads((run_dir / "checkpoints" / "last" / "mazedsl_state.json").read_text())
    return float(state["train_time"])


def startup() -> dict[str, float]:
    import ray

    from mazedsl.rllib.envs import register
    from mazedsl.rllib.translate import build_config, env_name, rllib_settings

    t0 = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")
    t_init = time.perf_counter() - t0
    exp = rllib_exp(1, 8)
    register(exp, None, env_name(exp))
    t1 = time.perf_counter()
    algo = build_config(exp, rllib_settings(exp)).build_algo()
    t_build = time.perf_counter() - t1
    t2 = time.perf_counter()
    algo.train()
    t_first = time.perf_counter() - t2
    algo.stop()
    return {"init": t_init, "build": t_build, "first_iteration": t_first}


def learn(seed: int, quick: bool, out: Path) -> dict[str, Any]:
    from mazedsl import RunContext
    from mazedsl.run import iter_metrics

    changes: dict[str, Any] = {"seed": seed}
    if quick:
        changes.update(total_steps=1_024, eval_every_steps=512, eval_episodes=2)
    exp = rllib_exp(1, 8, **changes)
    run_dir = out / f"learn_seed{seed}"
    t0 = time.perf_counter()
    summary = RunContext(exp, run_dir=run_dir, silent=True).train()
    wall = time.perf_counter() - t0
    evals = list(iter_metrics(run_dir / "metrics.jsonl", "eval"))
    reached = next((e["step"] for e in evals if e["mean_return"] >= 475.0), None)
    return {"seed": seed, "steps_to_475": reached, "best_eval": summary.best_eval,
            "steps": summary.steps, "wall_s": wall, "train_s": train_time(run_dir)}


def throughput(kind: str, quick: bool, out: Path) -> dict[str, Any]:
    from mazedsl import RunContext

    budget = 2_048 if quick else 20_480
    changes = {"total_steps": budget, "eval_every_steps": 0, "eval_episodes": 1,
               "checkpoint_every_steps": 10 ** 9}
    if kind == "native":
        exp = evolve(shipped("cartpole_ppo"), **changes)
        summary = RunContext(exp, run_dir=out / "native", silent=True).train()
        # the native summary's wall time includes the one final evaluation: take it out
        return {"kind": kind, "steps": summary.steps, "steps_per_s": _native_rate(out / "native")}
    runners, envs = {"rllib_1": (1, 8), "rllib_2": (2, 4)}[kind]
    run_dir = out / kind
    summary = RunContext(rllib_exp(runners, envs, **changes), run_dir=run_dir, silent=True).train()
    return {"kind": kind, "steps": summary.steps, "steps_per_s": summary.steps / train_time(run_dir)}


def _native_rate(run_dir: Path) -> float:
    from mazedsl.run import iter_metrics

    train = list(iter_metrics(run_dir / "metrics.jsonl", "train"))
    rates = [r["steps_per_s"] for r in train if r.get("steps_per_s")]
    return sorted(rates)[len(rates) // 2]


def main() -> None:
    parser = ArgParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny budgets, 1 seed unless --seeds: to check it runs")
    parser.add_argument("--seeds", type=positive_int, default=3)
    args = parser.parse_args()
    if args.quick:
        quick_defaults(parser, args, None, seeds=1)
    import torch

    torch.set_num_threads(1)
    print(f"# {versions()}  ray {__import__('ray').__version__}  cores {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        up = startup()
        print(table(["Ray start-up", "seconds"], [
            ["ray.init (embedded)", fmt(up["init"], 2)],
            ["build PPO (1 env runner)", fmt(up["build"], 2)],
            ["first train() iteration", fmt(up["first_iteration"], 2)]]))
        rows = []
        results = [learn(seed, args.quick, out) for seed in range(args.seeds)]
        for r in results:
            rows.append([f"seed {r['seed']}", r["steps_to_475"] if r["steps_to_475"] else "not reached",
                         fmt(r["best_eval"], 1), r["steps"], fmt(r["train_s"], 1), fmt(r["wall_s"], 1)])
        hits = sum(1 for r in results if r["steps_to_475"] and r["steps_to_475"] <= 200_000)
        rows.append(["reached >= 475 within 200k", f"{hits} / {len(results)}", "", "", "", ""])
        print(table(["learning (rllib, cartpole_ppo)", "env steps to eval >= 475", "best eval",
                     "steps", "train s", "wall s"], rows))
        speeds = [throughput(kind, args.quick, out) for kind in ("native", "rllib_1", "rllib_2")]
        base = speeds[0]["steps_per_s"]
        print(table(["throughput (cartpole_ppo)", "train env steps/s", "vs native"],
                    [[s["kind"], fmt(s["steps_per_s"], 0), f"{s['steps_per_s'] / base:.3f}x"]
                     for s in speeds]))
    import ray

    ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
