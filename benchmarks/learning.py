"""Do the shipped experiments learn? Steps to target and final evaluation, over seeds.

    .venv/bin/python benchmarks/learning.py            # the 9 experiments below x 3 seeds (about 30 minutes)
    .venv/bin/python benchmarks/learning.py --jobs 2   # two runs at a time (on 2+ free cores)
    .venv/bin/python benchmarks/learning.py --quick    # tiny budgets and 2 final episodes, to check it runs
    .venv/bin/python benchmarks/learning.py --experiments cartpole_dqn --json out.json  # + every eval

Each shipped experiment (experiments/*.py, loaded with ``mazedsl.load_experiment``) is
trained for its own budget and evaluation schedule with ``mazedsl.RunContext`` (writing
run directories into a temporary folder), once per seed. Printed per run: the env steps
at the first evaluation (deterministic, ``eval_episodes`` episodes) whose mean return
reaches the target, and a final deterministic 10-episode evaluation of the trained policy;
then whether each target is met on every seed:

- cartpole_ppo: mean return >= 475 within 100k env steps;
- cartpole_a2c: >= 475 within 500k;
- pendulum_ppo: >= -300 within 200k;
- acrobot_ppo:  >= -100 within 200k;
- cartpole_dqn: >= 475 within 50k (rl-zoo: 500 at 50k);
- mountaincar_dqn: >= -110 within 120k (rl-zoo: -100.8 +- 9.9);
- acrobot_dqn: >= -90 within 100k (rl-zoo: -76.6 +- 11.8);
- pendulum_sac: >= -200 within 20k (rl-zoo: -157 +- 89);
- cartpole_bc: >= 475 within 100k training samples, cloned from 50 episodes recorded from a
  cartpole_ppo run trained (to its full budget) with the same seed.

The off-policy and BC experiments evaluate over 20 episodes (their files' eval_episodes) and
their final evaluation uses 20 episodes too.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from _common import (QUICK_TAG, ArgParser, non_negative_int, positive_int, quick_defaults, evolve, fmt,
                     load_note, median, shipped, table, versions, writable_json)

TARGETS: dict[str, tuple[float, int]] = {  # name: (mean return, within env steps)
    "cartpole_ppo": (475.0, 100_000),
    "cartpole_a2c": (475.0, 500_000),
    "pendulum_ppo": (-300.0, 200_000),
    "acrobot_ppo": (-100.0, 200_000),
    "cartpole_dqn": (475.0, 50_000),
    "mountaincar_dqn": (-110.0, 120_000),
    "acrobot_dqn": (-90.0, 100_000),
    "pendulum_sac": (-200.0, 20_000),
    "cartpole_bc": (475.0, 100_000),
}
FINAL_EPISODES = {"cartpole_dqn": 20, "mountaincar_dqn": 20, "acrobot_dqn": 20, "pendulum_sac": 20,
                  "cartpole_bc": 20}
QUICK_STEPS = {"pendulum_sac": 200, "acrobot_dqn": 500, "mountaincar_dqn": 1_000}
BC_EXPERT_EPISODES = 50


def record_expert(seed: int, quick: bool, out_dir: str) -> str:
    """Train cartpole_ppo for ``seed`` and record episodes of its best checkpoint; returns the
    run directory (what cartpole_bc's ``algorithm.episodes`` names)."""
    from mazedsl import RunContext

    exp = evolve(shipped("cartpole_ppo"), seed=seed, target_return=None, patience=None)
    if quick:
        exp = evolve(exp, total_steps=2_000, eval_every_steps=1_000, eval_episodes=2)
    run_dir = Path(out_dir) / f"bc_expert_seed{seed}"
    RunContext(exp, run_dir=run_dir, silent=True).train()
    RunContext.load(run_dir, checkpoint="best", silent=True).rollout(
        n_episodes=5 if quick else BC_EXPERT_EPISODES)
    return str(run_dir)


def run_one(name: str, seed: int, quick: bool, out_dir: str) -> dict[str, Any]:
    """Train one shipped experiment for one seed; steps to target and final evaluation."""
    import torch

    torch.set_num_threads(1)
    target, within = TARGETS[name]
    exp = shipped(name)
    changes: dict[str, Any] = {"seed": seed, "target_return": None, "patience": None}
    if quick:
        steps = QUICK_STEPS.get(name, 2_000)
        changes.update(total_steps=steps, eval_every_steps=steps // 2, eval_episodes=2)
    if name == "cartpole_bc":
        changes["algorithm"] = evolve(exp.algorithm, episodes=[record_expert(seed, quick, out_dir)])
    exp = evolve(exp, **changes)
    budget = exp.total_steps
    t0 = time.perf_counter()
    evals: list[tuple[int, float]] = []
    try:
        from mazedsl import RunContext

        run_dir = Path(out_dir) / f"{name}_seed{seed}"
        ctx = RunContext(exp, run_dir=run_dir, silent=True)
        ctx.train()
        for line in (run_dir / "metrics.jsonl").read_text().splitlines():
            rec = json.loads(line)
            if rec.get("phase") == "eval":
                evals.append((rec["step"], rec["mean_return"]))
        final = ctx.evaluate(n_episodes=2 if quick else FINAL_EPISODES.get(name, 10),
                             deterministic=True).mean_return
    except ImportError:  # RunContext not available yet: the engine directly
        from _common import EvalSink

        from mazedsl.rl.trainer import Trainer

        sink = EvalSink()
        trainer = Trainer(exp, sink=sink)
        trainer.train()
        evals = [(s, m) for s, m, _ in sink.evals]
        final = trainer.evaluate(2 if quick else 10, True, seed + 1_000_003).mean_return
        trainer.close()
    reached = next((s for s, m in evals if m >= target), None)
    return {"name": name, "seed": seed, "target": target, "within": within, "budget": budget,
            "reached": reached, "best": max((m for _, m in evals), default=None), "final": final,
            "seconds": time.perf_counter() - t0, "evals": evals}


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", default=",".join(TARGETS),
                        help="comma-separated shipped experiment names")
    parser.add_argument("--seeds", type=positive_int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--first-seed", type=non_negative_int, default=0,
                        help="start the seeds here (e.g. 1 with --seeds 2: seeds 1 and 2)")
    parser.add_argument("--jobs", type=positive_int, default=1, help="runs in parallel processes")
    parser.add_argument("--json", type=writable_json(report=False), metavar="PATH",
                        help="also write every run's results and evaluations (step, mean) here")
    parser.add_argument("--quick", action="store_true",
                        help="tiny budgets (1 seed unless --seeds, 2k steps at most, 2 final episodes): "
                             "checks that it runs, nothing more")
    args = parser.parse_args(argv)
    if args.quick:
        quick_defaults(parser, args, argv, seeds=1)
    import torch

    torch.set_num_threads(1)
    names = [n.strip() for n in args.experiments.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown experiment(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    print(f"Shipped experiments, {args.seeds} seed(s){' (quick: tiny budgets)' if args.quick else ''}; "
          f"{versions()}", flush=True)
    print(f"{load_note()} at start", flush=True)
    jobs = [(n, s) for n in names for s in range(args.first_seed, args.first_seed + args.seeds)]
    with tempfile.TemporaryDirectory() as tmp:
        def report(r: dict[str, Any]) -> None:
            print(f"  {r['name']} seed {r['seed']}: target at {fmt(r['reached'])} steps, "
                  f"best eval {fmt(r['best'], 1)}, final {r['final']:.1f} ({r['seconds']:.0f} s)",
                  file=sys.stderr, flush=True)

        results = []
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                futures = [pool.submit(run_one, n, s, args.quick, tmp) for n, s in jobs]
                for future in as_completed(futures):
                    results.append(future.result())
                    report(results[-1])
        else:
            for n, s in jobs:
                results.append(run_one(n, s, args.quick, tmp))
                report(results[-1])
        results.sort(key=lambda r: (names.index(r["name"]), r["seed"]))
    if args.json:
        from _matrix import write_results

        write_results(Path(args.json), {"versions": versions(), "results": results})
    rows = []
    verdicts = []
    for name in names:
        runs = [r for r in results if r["name"] == name]
        target, within = TARGETS[name]
        for r in runs:
            rows.append([name, str(r["seed"]), f"{target:g}", fmt(r["reached"]) if r["reached"] else "not reached",
                         fmt(r["best"], 1), fmt(r["final"], 1), fmt(r["seconds"], 1)])
        ok = sum(r["reached"] is not None and r["reached"] <= within for r in runs)
        rows.append([f"{name} median", "", "", fmt(median(r["reached"] for r in runs)),
                     fmt(median(r["best"] for r in runs), 1), fmt(median(r["final"] for r in runs), 1),
                     fmt(median(r["seconds"] for r in runs), 1)])
        verdicts.append(f"{name}: eval >= {target:g} within {within:,} env steps on {ok}/{len(runs)} "
                        f"seed(s): {'PASS' if ok == len(runs) else 'MISS'}"
                        + (QUICK_TAG if args.quick else ""))
    print()
    print(table(["experiment", "seed", "target", "steps to target", "best eval", "final eval",
                 "seconds"], rows))
    for v in verdicts:
        print(v)
    print(f"{load_note()} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
