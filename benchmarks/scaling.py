"""Training speed across a matrix of settings, mazedsl vs Stable-Baselines3, per-seed ratios.

    .venv/bin/pip install -e '.[bench]'         # Stable-Baselines3 2.9.2 + threadpoolctl
    .venv/bin/python benchmarks/scaling.py      # the full matrix, 5 seeds (about 4-5 minutes)
    .venv/bin/python benchmarks/scaling.py --quick   # 3 small cells, 2 seeds, 1 timed update: checks it runs
    .venv/bin/python benchmarks/scaling.py --cells ppo-8-64x64 --seeds 2 --json /tmp/s.json

Cells: PPO (experiments/cartpole_ppo.py: rl-zoo CartPole values) and A2C
(experiments/cartpole_a2c.py: SB3's defaults) on CartPole-v1 with n_envs in {8, 32, 128} and a
tanh MLP of 64x64 or 256x256 (separate policy and value nets), plus PPO with the Nature CNN
(SB3's NatureCNN, shared torso) on 8 envs of experiments/pixel_cartpole_ppo.py's pixel env.

Per cell and seed, four runs, interleaved (the order rotates from cell to cell):

- mazedsl, ``runner.vectorization=sync``: gymnasium's SyncVectorEnv of separate envs, the
  same env stepping as SB3's DummyVecEnv;
- mazedsl, its fastest vectorisation: gymnasium's numpy-vectorised CartPole ('native'); the
  pixel env has none (its row is the 'sync' one);
- SB3 as shipped (``make_vec_env``: DummyVecEnv of Monitor-wrapped envs);
- SB3 in its fastest honest setting: fused Adam (PPO) / foreach RMSprop (A2C) through
  ``policy_kwargs``, and ``torch.distributions.Distribution.set_default_validate_args(False)``.

Every run uses the same hyperparameters and network on both sides, the same number of updates
(chosen per cell from a calibration run so that one SB3 run takes about --seconds), after one
warm-up update that is not timed (in --quick too: it takes mazedsl's first evaluation and
first-call set-up out of the timed call). Timed: mazedsl's ``Trainer.train`` call (rollouts, updates and
the trainer's bookkeeping), SB3's ``learn`` from the start of the first timed rollout to its end. All
runs share one process with torch threads and every BLAS/OpenMP pool (threadpoolctl) pinned to
--threads, and both sides run on the CPU (mazedsl's ``runner.device=cpu``, SB3's
``device="cpu"``; benchmarks/gpu.py measures CUDA). Ratios are mazedsl / SB3 training env steps per second, paired by seed; the table
shows their geometric mean and its 95% t-interval over seeds (on the logs). mazedsl's steps
are real transitions: its vector envs reset an env in the step after its episode ends (next-step
autoreset), a step SB3's DummyVecEnv does not take, so those are not counted.

A full default run writes benchmarks/results/scaling.json and scaling.txt (the printed report);
a run with --quick, --cells or any other option changed writes only where --json says.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

from _common import (QUICK_TAG, ArgParser, add_json_option, captured_stdout, load_note, positive_float,
                     positive_int, quick_defaults, results_path, table, thread_count)
from _matrix import (CNN, Cell, cells_arg, experiment, fmt_interval, fmt_ratio, matrix_cells, pin_threads, ratio_ci,
                     report_header, run_record, sb3_available, time_mazedsl, time_sb3, update_size,
                     write_results)

VARIANTS = ("mazedsl-sync", "mazedsl-fast", "sb3", "sb3-fast")
WARM_UPDATES = 1  # untimed updates before the timed ones, in every run (--quick too)


def fastest_vectorization(cell: Cell) -> str:
    return "sync" if cell.pixels else "native"


def run_variant(cell: Cell, variant: str, seed: int, threads: int, warm: int, updates: int) -> float:
    """Training env steps per second of one run: real transitions (mazedsl's reset steps after
    each episode's end left out, as SB3 has none)."""
    vec = "sync" if variant != "mazedsl-fast" else fastest_vectorization(cell)
    probe = experiment(cell, vec, seed, threads, 1)
    # one update more than is run: mazedsl's Trainer never reaches its budget (no final evaluation)
    exp = experiment(cell, vec, seed, threads, (warm + updates + 1) * update_size(probe))
    if variant.startswith("mazedsl"):
        steps, secs = time_mazedsl(exp, warm, updates, transitions=True)  # as SB3 counts
    else:
        steps, secs = time_sb3(exp, seed, warm, updates, fast=variant == "sb3-fast")
    return steps / secs


def calibrate(cell: Cell, threads: int, seconds: float, use_sb3: bool, max_updates: int) -> int:
    """Updates per timed run so that the (usually slowest) plain SB3 run takes ~``seconds``."""
    if max_updates == 1:  # nothing to size (--quick's default)
        return 1
    exp = experiment(cell, "sync", 10_000, threads, 1)
    rate = run_variant(cell, "sb3" if use_sb3 else "mazedsl-sync", 10_000, threads, 1, 1)
    return max(1, min(max_updates, round(seconds * rate / update_size(exp))))


def summarise(cell: Cell, runs: dict[str, dict[int, float]]) -> dict[str, Any]:
    """Per-variant mean steps/s and, per (mazedsl variant, SB3 variant), per-seed ratios + CI."""
    out: dict[str, Any] = {"rates": {v: {str(s): r for s, r in sorted(runs[v].items())} for v in runs},
                           "mean_rate": {v: statistics.fmean(runs[v].values()) for v in runs if runs[v]},
                           "ratios": {}}
    for m in ("mazedsl-sync", "mazedsl-fast"):
        for s in ("sb3", "sb3-fast"):
            seeds = sorted(set(runs.get(m, {})) & set(runs.get(s, {})))
            if not seeds:
                continue
            per_seed = [runs[m][k] / runs[s][k] for k in seeds]
            gm, lo, hi = ratio_ci(per_seed)
            out["ratios"][f"{m}/{s}"] = {"per_seed": per_seed, "geomean": gm, "ci95": [lo, hi]}
    return out


def render(cells: list[Cell], summary: dict[str, Any], use_sb3: bool, asked_sb3: bool = True) -> str:
    rows = []
    for cell in cells:
        s = summary[cell.key]
        for m, vec in (("mazedsl-sync", "sync"), ("mazedsl-fast", fastest_vectorization(cell))):
            if m not in s["mean_rate"]:
                continue
            label = f"{cell.label}, mazedsl {vec}"
            r_sb3 = fmt_ratio(_ci(s, f"{m}/sb3"))
            r_fast = fmt_ratio(_ci(s, f"{m}/sb3-fast"))
            rate = s["mean_rate"]
            rows.append([label, f"{rate[m]:,.0f}",
                         f"{rate['sb3']:,.0f}" if "sb3" in rate else "n/a",
                         f"{rate['sb3-fast']:,.0f}" if "sb3-fast" in rate else "n/a",
                         *r_sb3, *r_fast])
    headers = ["cell (mazedsl vectorisation; SB3 always DummyVecEnv)", "mazedsl steps/s", "SB3 steps/s",
               "SB3 fast steps/s", "mazedsl/SB3", "95% CI", "mazedsl/SB3 fast", "95% CI"]
    text = table(headers, rows)
    if asked_sb3 and not use_sb3:
        text += "\nStable-Baselines3 is not installed: pip install -e '.[bench]' for the comparison"
    return text


def _ci(s: dict[str, Any], key: str) -> tuple[float, float, float] | None:
    r = s["ratios"].get(key)
    return None if r is None else (r["geomean"], *r["ci95"])


def verdicts(cells: list[Cell], summary: dict[str, Any], quick: bool = False) -> list[str]:
    """The issue's targets, read off the table (lower CI bounds are printed too); tagged as no
    real check in quick mode."""
    lines = []
    eq = [(c, summary[c.key]["ratios"].get("mazedsl-sync/sb3")) for c in cells]
    eq = [(c, r) for c, r in eq if r]
    if eq:
        worst = min(eq, key=lambda cr: cr[1]["geomean"])
        below = [" ".join(c.label.split()) for c, r in eq if r["geomean"] < 2]
        lines.append(f"equal vectorisation (sync vs DummyVecEnv): mazedsl/SB3 from "
                     f"{min(r['geomean'] for _, r in eq):.2f}x to {max(r['geomean'] for _, r in eq):.2f}x; "
                     f"target >= 2x in every cell: {'PASS' if not below else 'MISS'}"
                     + (f" (below 2x: {'; '.join(below)})" if below else "")
                     + f"; worst {' '.join(worst[0].label.split())}")
    zoo = summary.get(Cell("ppo", 8, "64x64").key)
    if zoo and "mazedsl-sync/sb3" in zoo["ratios"]:
        for m in ("mazedsl-sync", "mazedsl-fast"):
            r = zoo["ratios"].get(f"{m}/sb3")
            if r is None:
                continue
            lines.append(f"CartPole zoo point (PPO 8 envs 64x64), {m}: {r['geomean']:.2f}x SB3 "
                         f"(95% CI {fmt_interval(*r['ci95'])}); target >= 3.5x: "
                         f"{'PASS' if r['geomean'] >= 3.5 else 'MISS'}")
    return [line + (QUICK_TAG if quick else "") for line in lines]


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=positive_int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--seconds", type=positive_float, default=1.0,
                        help="target duration of one timed SB3 run; sets updates per cell (default 1)")
    parser.add_argument("--max-updates", type=positive_int, default=200, help="cap on updates per timed run")
    parser.add_argument("--cells", type=cells_arg, default=None,
                        help=f"comma-separated ALGO-N_ENVS-NET (e.g. ppo-8-64x64,a2c-128-256x256,"
                             f"ppo-8-{CNN}); default the whole matrix")
    parser.add_argument("--no-cnn", action="store_true", help="leave out the pixel/CNN cell")
    parser.add_argument("--threads", type=thread_count, default=1, help="torch and BLAS threads, both sides")
    parser.add_argument("--no-sb3", action="store_true", help="mazedsl only")
    add_json_option(parser, "scaling")
    parser.add_argument("--quick", action="store_true",
                        help="3 small cells, 2 seeds, 1 timed update after the warm-up one (options "
                             "given explicitly win): checks that it runs")
    args = parser.parse_args(argv)
    cells = [c for c in args.cells or matrix_cells(args.quick) if not (args.no_cnn and c.pixels)]
    if not cells:
        parser.error("argument --no-cnn: leaves out every cell --cells names")
    json_path = results_path(parser, args, "scaling")
    if args.quick:
        quick_defaults(parser, args, argv, moot={"seconds": "max_updates"}, seeds=2, max_updates=1)
    with captured_stdout() as report:
        return run(args, cells, json_path, report.text, argv)


def run(args: Any, cells: list[Cell], json_path: Path | None, report_text: Callable[[], str],
        argv: list[str] | None) -> int:
    """The matrix: calibration, the interleaved runs, the table (and the results files)."""
    pin_threads(args.threads)
    use_sb3 = not args.no_sb3 and sb3_available()
    variants = [v for v in VARIANTS if use_sb3 or v.startswith("mazedsl")]
    t_start = time.perf_counter()
    report_header("Training speed matrix, mazedsl vs Stable-Baselines3", args.threads)
    plan: dict[str, int] = {}
    for cell in cells:
        plan[cell.key] = calibrate(cell, args.threads, args.seconds, use_sb3, args.max_updates)
        print(f"  {cell.label}: {plan[cell.key]} timed update(s) of "
              f"{update_size(experiment(cell, 'sync', 0, 1, 1)):,} env steps per run",
              file=sys.stderr, flush=True)

    def cell_variants(cell: Cell) -> list[str]:  # the pixel env has no faster vectorisation
        return [v for v in variants if not (cell.pixels and v == "mazedsl-fast")]

    runs: dict[str, dict[str, dict[int, float]]] = {c.key: {v: {} for v in cell_variants(c)}
                                                    for c in cells}
    for seed in range(args.seeds):
        for i, cell in enumerate(cells):
            order = cell_variants(cell)
            shift = (seed + i) % len(order)
            for variant in order[shift:] + order[:shift]:
                rate = run_variant(cell, variant, seed, args.threads, WARM_UPDATES, plan[cell.key])
                runs[cell.key][variant][seed] = rate
                print(f"  seed {seed} {cell.label} {variant:12s} {rate:10,.0f} steps/s",
                      file=sys.stderr, flush=True)

    summary = {c.key: summarise(c, runs[c.key]) for c in cells}
    print()
    print(f"Training env steps/s, mean over {args.seeds} seed(s), each run {WARM_UPDATES} untimed warm-up "
          f"update(s) then the timed ones; ratios: geometric mean of per-seed ratios with the 95% "
          f"t-interval; {args.threads} torch + BLAS thread(s) on both sides")
    print(render(cells, summary, use_sb3, not args.no_sb3))
    for line in verdicts(cells, summary, args.quick):
        print(line)
    elapsed = time.perf_counter() - t_start
    print(f"{load_note()} at end; {elapsed:.0f} s in all")
    if json_path is not None:
        doc = run_record(
            "scaling.py", argv, machine=platform.processor() or platform.machine(), threads=args.threads,
            seconds=elapsed, seeds=args.seeds, variants=variants, warm_updates=WARM_UPDATES,
            cells=[{"key": c.key, "label": c.label.strip(), "algo": c.algo, "n_envs": c.n_envs,
                    "net": c.net, "fastest_vectorization": fastest_vectorization(c),
                    "timed_updates": plan[c.key],
                    "steps_per_update": update_size(experiment(c, "sync", 0, 1, 1)),
                    **summary[c.key]} for c in cells])
        write_results(json_path, doc, report_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
