"""Stable-Baselines3 on a shipped off-policy experiment: steps to target, as learning.py measures mazedsl.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/learning_sb3.py --experiments cartpole_dqn --seeds 3

SB3 (DQN or SAC) is built with the experiment's hyperparameters (``vs_sb3.py``'s builder) and
trained for the experiment's budget; a deterministic evaluation of ``eval_episodes`` episodes
runs after the training phase that crosses each ``eval_every_steps`` (the same points as
mazedsl's trainer), with no early stop. Prints, per seed, the env steps of the first
evaluation reaching the target (``learning.py``'s TARGETS), the best evaluation and the final
one (the schedule's last: 49,920 steps for cartpole_dqn, whose last 256-step phase ends past 50k).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from _common import (QUICK_TAG, ArgParser, non_negative_int, positive_int, quick_defaults, evolve, fmt,
                     load_note, shipped, table, versions, writable_json)
from learning import TARGETS


def run_one(name: str, seed: int, quick: bool = False) -> dict[str, Any]:
    """Train SB3 on one shipped experiment for one seed; every evaluation."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from vs_sb3 import _sb3_model

    torch.set_num_threads(1)
    exp = shipped(name)
    if quick:
        exp = evolve(exp, total_steps=2_000, eval_every_steps=1_000, eval_episodes=2)
    target, within = TARGETS[name]
    model = _sb3_model(exp, seed)
    eval_env = make_vec_env(exp.env.name, n_envs=exp.runner.n_eval_envs, seed=seed + 10_000)
    evals: list[tuple[int, float]] = []

    class Evaluate(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next_eval = exp.eval_every_steps

        def _evaluate(self) -> None:
            mean, _ = evaluate_policy(self.model, eval_env, n_eval_episodes=exp.eval_episodes,
                                      deterministic=True)
            evals.append((self.num_timesteps, float(mean)))
            while self.next_eval <= self.num_timesteps:
                self.next_eval += exp.eval_every_steps

        def _on_rollout_start(self) -> None:  # after the previous phase's training
            if self.num_timesteps >= self.next_eval:
                self._evaluate()

        def _on_step(self) -> bool:
            return True

        def _on_training_end(self) -> None:
            if self.num_timesteps >= self.next_eval:
                self._evaluate()

    t0 = time.perf_counter()
    model.learn(total_timesteps=exp.total_steps, callback=Evaluate())
    seconds = time.perf_counter() - t0
    model.get_env().close()
    eval_env.close()
    reached = next((s for s, m in evals if m >= target), None)
    return {"name": name, "seed": seed, "target": target, "within": within,
            "budget": exp.total_steps, "reached": reached,
            "best": max((m for _, m in evals), default=None),
            "final": evals[-1][1] if evals else None, "seconds": seconds, "evals": evals}


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", default="cartpole_dqn,mountaincar_dqn,acrobot_dqn",
                        help="comma-separated shipped off-policy experiment names")
    parser.add_argument("--seeds", type=positive_int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--first-seed", type=non_negative_int, default=0, help="start the seeds here")
    parser.add_argument("--json", type=writable_json(report=False), metavar="PATH",
                        help="also write the results here")
    parser.add_argument("--quick", action="store_true",
                        help="2k steps, 1 seed unless --seeds: checks that it runs")
    args = parser.parse_args(argv)
    if args.quick:
        quick_defaults(parser, args, argv, seeds=1)
    names = [n.strip() for n in args.experiments.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown experiment(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    import stable_baselines3
    import torch

    torch.set_num_threads(1)
    print(f"SB3 {stable_baselines3.__version__}; {versions()}; {load_note()} at start", flush=True)
    results = []
    for name in names:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            r = run_one(name, seed, args.quick)
            results.append(r)
            print(f"  {name} seed {seed}: target at {fmt(r['reached'])} steps, best eval "
                  f"{fmt(r['best'], 1)}, final {fmt(r['final'], 1)} ({r['seconds']:.0f} s)",
                  file=sys.stderr, flush=True)
            if args.json:  # after every run: a long sweep keeps what it has measured
                from _matrix import write_results

                write_results(Path(args.json), {"versions": versions(), "results": results})
    rows = [[r["name"], str(r["seed"]), f"{r['target']:g}",
             fmt(r["reached"]) if r["reached"] is not None else "not reached",
             fmt(r["best"], 1), fmt(r["final"], 1), fmt(r["seconds"], 1)] for r in results]
    print()
    print(table(["experiment (SB3)", "seed", "target", "steps to target", "best eval",
                 "final eval", "seconds"], rows))
    for name in names:
        runs = [r for r in results if r["name"] == name]
        ok = sum(r["reached"] is not None and r["reached"] <= r["within"] for r in runs)
        print(f"SB3 {name}: eval >= {TARGETS[name][0]:g} within {TARGETS[name][1]:,} env steps "
              f"on {ok}/{len(runs)} seed(s)" + (QUICK_TAG if args.quick else ""))
    print(f"{load_note()} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
