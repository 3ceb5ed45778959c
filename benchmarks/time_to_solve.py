"""Wall time to solve CartPole-v1, mazedsl vs Stable-Baselines3, over many seeds with intervals.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/time_to_solve.py              # PPO and A2C, seeds 0-19 (about 5 minutes)
    .venv/bin/python benchmarks/time_to_solve.py --algos ppo --json /tmp/t.json  # PPO only (about 2 minutes)
    .venv/bin/python benchmarks/time_to_solve.py --quick      # 2 seeds, tiny budgets: checks it runs

Both tools train the shipped experiments' hyperparameters (experiments/cartpole_ppo.py: the
rl-zoo PPO values; experiments/cartpole_a2c.py: SB3's A2C defaults with the zoo's 8 envs), one
torch and one BLAS thread each, the pair of one seed back to back (the order alternates by
seed). Every --eval-every env steps (after the update that crosses it) both run a deterministic
10-episode evaluation on the same number of envs (--eval-envs; default the experiment's
runner.n_eval_envs, 4: 2, 2, 3 and 3 episodes; 10 plays one episode on each); a run stops
at the first evaluation with mean return >= 475 and its wall time (from the start of training,
evaluations included) is the time to solve. mazedsl steps envs its default way (--vectorization
auto: gymnasium's numpy-vectorised CartPole from 5 envs, separate envs below), training and
evaluation alike; SB3 its DummyVecEnv of separate envs (--vectorization sync gives mazedsl the
same).
Both run on the CPU (mazedsl's ``runner.device=cpu``). Seeds are 0..--seeds-1 (default 0-19),
the same seed for both tools' training.

Printed per algorithm: mean wall seconds to solve with a 95% t-interval for each tool, the
geometric mean of the per-seed ratios mazedsl/SB3 with its 95% t-interval (seeds where both
solved), median env steps to solve, and how many seeds solved within the budget. A full default
run writes benchmarks/results/time_to_solve.json and .txt (the printed report); any other run
writes only where --json says.
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

from _common import (ArgParser, add_json_option, captured_stdout, choices_list, evolve, finite_float, load_note,
                     median, positive_int, quick_defaults, results_path, shipped, table, thread_count)
from _matrix import (MAX_ENVS, fmt_interval, fmt_ratio, mean_ci, pin_threads, ratio_ci, report_header, run_record,
                     sb3_available, write_results)

ALGOS = {"ppo": "cartpole_ppo", "a2c": "cartpole_a2c"}


def run_pair(algo: str, seed: int, opts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One seed: mazedsl and (if asked) SB3, back to back; their results by tool."""
    from vs_sb3 import run_mazedsl, run_sb3

    pin_threads(opts["threads"])
    exp = shipped(ALGOS[algo])
    exp = evolve(exp, runner=evolve(exp.runner, vectorization=opts["vectorization"],
                                    torch_threads=opts["threads"], device="cpu",
                                    n_eval_envs=opts["eval_envs"] or exp.runner.n_eval_envs))
    budget = opts["budget"] or exp.total_steps
    tools = ["mazedsl", "sb3"] if opts["sb3"] else ["mazedsl"]
    if seed % 2:
        tools.reverse()
    out = {}
    for tool in tools:
        run = run_mazedsl if tool == "mazedsl" else run_sb3
        out[tool] = run(exp, seed, opts["target"], budget, opts["eval_every"], opts["eval_episodes"])
    return out


def summarise(results: dict[int, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    seeds = sorted(results)
    doc: dict[str, Any] = {"seeds": seeds, "runs": {str(s): results[s] for s in seeds}}
    for tool in ("mazedsl", "sb3"):
        walls = [results[s][tool]["solve_wall"] for s in seeds if tool in results[s]]
        if not walls:
            continue
        solved = [w for w in walls if w is not None]
        m, lo, hi = mean_ci(solved) if solved else (math.nan, math.nan, math.nan)
        doc[tool] = {"solved": len(solved), "runs": len(walls), "wall_mean": m, "wall_ci95": [lo, hi],
                     "steps_median": median(results[s][tool]["solve_steps"] for s in seeds),
                     "steps_per_s_median": median(results[s][tool]["steps_per_s"] for s in seeds)}
    both = [s for s in seeds if "sb3" in results[s] and results[s]["mazedsl"]["solve_wall"] is not None
            and results[s]["sb3"]["solve_wall"] is not None]
    if both:
        per_seed = [results[s]["mazedsl"]["solve_wall"] / results[s]["sb3"]["solve_wall"] for s in both]
        gm, lo, hi = ratio_ci(per_seed)
        doc["ratio"] = {"seeds": both, "per_seed": per_seed, "geomean": gm, "ci95": [lo, hi]}
    return doc


def _cell_wall(d: dict[str, Any] | None) -> list[str]:
    if d is None:
        return ["n/a", "", "n/a"]
    m, (lo, hi) = d["wall_mean"], d["wall_ci95"]
    ci = f"{max(lo, 0.0):.1f}-{hi:.1f}" if math.isfinite(lo) and math.isfinite(hi) else "n/a"
    return [f"{m:.2f}" if math.isfinite(m) else "n/a", ci, f"{d['solved']}/{d['runs']}"]


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=positive_int, default=20, help="seeds 0..N-1 (default 20)")
    parser.add_argument("--algos", type=choices_list(tuple(ALGOS)), default=list(ALGOS),
                        help="comma-separated: ppo, a2c")
    parser.add_argument("--target", type=finite_float, default=475.0, help="solve threshold (default 475)")
    parser.add_argument("--eval-every", type=positive_int, default=5_000, help="env steps between evaluations")
    parser.add_argument("--eval-episodes", type=positive_int, default=10)
    parser.add_argument("--eval-envs", type=positive_int, default=None,
                        help="envs of each evaluation, both tools (default the experiment's "
                             "runner.n_eval_envs, 4)")
    parser.add_argument("--budget", type=positive_int, default=None,
                        help="env step cap per run (default the experiment's total_steps)")
    parser.add_argument("--vectorization", default="auto", choices=("auto", "native", "sync"),
                        help="mazedsl's env stepping (SB3: always DummyVecEnv)")
    parser.add_argument("--threads", type=thread_count, default=1, help="torch and BLAS threads per run")
    parser.add_argument("--jobs", type=positive_int, default=1,
                        help="seeds in parallel processes (a pair stays in one process)")
    parser.add_argument("--no-sb3", action="store_true", help="mazedsl only")
    add_json_option(parser, "time_to_solve")
    parser.add_argument("--quick", action="store_true",
                        help="2 seeds, 2k steps, evaluation every 1k of 2 episodes, target 0 (options "
                             "given explicitly win): checks that it runs")
    args = parser.parse_args(argv)
    if args.eval_envs is not None and args.eval_envs > MAX_ENVS:
        parser.error(f"argument --eval-envs: at most {MAX_ENVS} envs, got {args.eval_envs}")
    json_path = results_path(parser, args, "time_to_solve")
    if args.quick:
        quick_defaults(parser, args, argv, seeds=2, target=0.0, eval_every=1_000, eval_episodes=2, budget=2_000)
    with captured_stdout() as report:
        return run(args, args.algos, json_path, report.text, argv)


def run(args: Any, algos: list[str], json_path: Path | None, report_text: Callable[[], str],
        argv: list[str] | None) -> int:
    """Every algorithm's seeds, mazedsl and SB3 paired, then the table (and the results files)."""
    pin_threads(args.threads)
    use_sb3 = not args.no_sb3 and sb3_available()
    opts = {"threads": args.threads, "vectorization": args.vectorization, "budget": args.budget,
            "sb3": use_sb3, "target": args.target, "eval_every": args.eval_every,
            "eval_episodes": args.eval_episodes, "eval_envs": args.eval_envs}
    t_start = time.perf_counter()
    report_header("Wall time to solve CartPole-v1, mazedsl vs Stable-Baselines3", args.threads,
                  f"; {args.jobs} job(s)")
    summary: dict[str, Any] = {}
    for algo in algos:
        results: dict[int, dict[str, dict[str, Any]]] = {}

        def report(seed: int, res: dict[str, dict[str, Any]]) -> None:
            results[seed] = res
            for tool, r in res.items():
                wall = "not solved" if r["solve_wall"] is None else f"{r['solve_wall']:.1f} s"
                print(f"  {algo.upper()} seed {seed:2d} {tool:7s}: {wall}, "
                      f"{r['steps_per_s']:,.0f} steps/s", file=sys.stderr, flush=True)

        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                futures = {s: pool.submit(run_pair, algo, s, opts) for s in range(args.seeds)}
                for s, fut in futures.items():
                    report(s, fut.result())
        else:
            for s in range(args.seeds):
                report(s, run_pair(algo, s, opts))
        summary[algo] = summarise(results)

    rows = []
    for algo in algos:
        d = summary[algo]
        ratio = d.get("ratio")
        r, ci = fmt_ratio(None if ratio is None else (ratio["geomean"], *ratio["ci95"]))
        rows.append([algo.upper(), *_cell_wall(d.get("mazedsl")), *_cell_wall(d.get("sb3")), r, ci,
                     f"{d['mazedsl']['steps_median']:,.0f}" if d["mazedsl"]["steps_median"] else "n/a",
                     f"{d['sb3']['steps_median']:,.0f}" if d.get("sb3") and d["sb3"]["steps_median"]
                     else "n/a"])
    print()
    eval_envs = args.eval_envs or shipped(ALGOS[algos[0]]).runner.n_eval_envs
    print(f"{args.seeds} seed(s); solved = first deterministic {args.eval_episodes}-episode evaluation "
          f"on {eval_envs} envs >= {args.target:g} (every {args.eval_every:,} env steps); mazedsl vectorisation "
          f"{args.vectorization}, SB3 DummyVecEnv; wall = mean seconds with 95% t-interval (solved runs); "
          f"ratio = geometric mean of per-seed mazedsl/SB3 with 95% t-interval")
    print(table(["algo", "mazedsl wall s", "95% CI", "solved", "SB3 wall s", "95% CI", "solved",
                 "mazedsl/SB3", "95% CI", "mazedsl steps (median)", "SB3 steps (median)"], rows))
    ppo = summary.get("ppo", {}).get("ratio")
    if ppo:
        ok = ppo["geomean"] <= 1 / 3 and ppo["ci95"][1] < 0.5
        print(f"PPO: wall time to solve {ppo['geomean']:.2f}x SB3's (95% CI {fmt_interval(*ppo['ci95'])}"
              f"); target <= 0.33x with the upper end < 0.5x: "
              f"{'PASS' if ok else 'MISS'}" + (" (quick budgets: not a real check)" if args.quick else ""))
    if not use_sb3 and not args.no_sb3:
        print("Stable-Baselines3 is not installed: pip install -e '.[bench]' for the comparison")
    elapsed = time.perf_counter() - t_start
    print(f"{load_note()} at end; {elapsed:.0f} s in all")
    if json_path is not None:
        doc = run_record("time_to_solve.py", argv, options=opts, seconds=elapsed, algos=summary)
        write_results(json_path, doc, report_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
