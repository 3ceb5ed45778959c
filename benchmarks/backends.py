"""mazedsl's fast backend against its plain-torch reference backend, per cell and MLP width.

    .venv/bin/python benchmarks/backends.py            # PPO and A2C x 8 and 128 envs x 64, 256, 512 wide (about 3 minutes)
    .venv/bin/python benchmarks/backends.py --widths 256 --envs 8 --json /tmp/b.json
    .venv/bin/python benchmarks/backends.py --quick    # one small cell, 1 round: checks it runs

``algorithm.backend=auto`` runs the fast backend only up to ``FAST_MAX_WIDTH`` hidden units
(mazedsl/rl/onpolicy.py); this is the measurement behind that limit. Per cell (the scaling
matrix's CartPole PPO / A2C with a tanh MLP of the given width for policy and value net, native
vectorisation), mazedsl trains with ``backend=torch`` and ``backend=fast`` (the width limit lifted
for the measurement), alternating, ``--rounds`` times, each run one untimed warm-up update then
N timed updates (the wall time of a ``Trainer.train`` call). Printed: the best steps/s of each backend and the
per-round ratio fast / torch (geometric mean, 95% t-interval). One thread for torch and every
BLAS pool, on the CPU (``runner.device=cpu``). A full default run writes
benchmarks/results/backends.json and .txt (the printed report); any other run writes only where
--json says.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

import attrs

from _common import (ArgParser, add_json_option, captured_stdout, choices_list, load_note, non_negative_int,
                     positive_float, positive_int, positive_ints, quick_defaults, results_path, table, thread_count)
from _matrix import (ALGOS, Cell, experiment, fmt_ratio, pin_threads, ratio_ci, report_header, run_record,
                     time_mazedsl, update_size, write_results)

BACKENDS = ("torch", "fast")


def run(cell: Cell, backend: str, seed: int, threads: int, updates: int) -> float:
    """Training env steps/s of ``updates`` updates with ``backend``."""
    import mazedsl.rl.onpolicy as onpolicy

    probe = experiment(cell, "native", seed, threads, 1)
    exp = experiment(cell, "native", seed, threads, (updates + 2) * update_size(probe))
    exp = attrs.evolve(exp, algorithm=attrs.evolve(exp.algorithm, backend=backend))
    limit = onpolicy.FAST_MAX_WIDTH
    onpolicy.FAST_MAX_WIDTH = 10 ** 9  # measure the fast backend at every width
    try:
        steps, secs = time_mazedsl(exp, 1, updates)
    finally:
        onpolicy.FAST_MAX_WIDTH = limit
    return steps / secs


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algos", type=choices_list(ALGOS), default=list(ALGOS), help="comma-separated: ppo, a2c")
    parser.add_argument("--envs", type=positive_ints, default=[8, 128], help="comma-separated n_envs")
    parser.add_argument("--widths", type=positive_ints, default=[64, 256, 512],
                        help="comma-separated hidden widths (2 layers)")
    parser.add_argument("--rounds", type=positive_int, default=5, help="alternating runs of each backend")
    parser.add_argument("--seconds", type=positive_float, default=0.6, help="target length of one timed run")
    parser.add_argument("--max-updates", type=positive_int, default=200)
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--threads", type=thread_count, default=1)
    add_json_option(parser, "backends")
    parser.add_argument("--quick", action="store_true",
                        help="one small cell, 1 round, 1 update (options given explicitly win)")
    args = parser.parse_args(argv)
    json_path = results_path(parser, args, "backends")
    if args.quick:
        quick_defaults(parser, args, argv, moot={"seconds": "max_updates"}, algos=["ppo"], envs=[8],
                       widths=[64], rounds=1, max_updates=1)
    cells = [Cell(a, n, f"{w}x{w}") for a in args.algos for w in args.widths for n in args.envs]
    with captured_stdout() as report:
        return run_all(args, cells, json_path, report.text, argv)


def run_all(args: Any, cells: list[Cell], json_path: Path | None, report_text: Callable[[], str],
            argv: list[str] | None) -> int:
    """Both backends on every cell, alternating, then the table (and the results files)."""
    pin_threads(args.threads)
    t_start = time.perf_counter()
    report_header("mazedsl fast backend vs plain-torch backend", args.threads)
    results, rows = [], []
    for cell in cells:
        if args.max_updates == 1:  # nothing to size (--quick's default)
            updates = 1
        else:  # calibrate on the reference backend
            per_update = 1.0 / run(cell, "torch", args.seed, args.threads, 2) * update_size(
                experiment(cell, "native", args.seed, args.threads, 1))
            updates = max(1, min(args.max_updates, round(args.seconds / per_update)))
        runs: dict[str, list[float]] = {b: [] for b in BACKENDS}
        for _ in range(args.rounds):
            for backend in BACKENDS:
                runs[backend].append(run(cell, backend, args.seed, args.threads, updates))
        ratios = [f / t for f, t in zip(runs["fast"], runs["torch"])]
        ci = ratio_ci(ratios)
        mean, interval = fmt_ratio(ci)
        results.append({"key": cell.key, "label": cell.label.strip(), "updates": updates,
                        "steps_per_s": runs, "ratios": ratios, "fast_over_torch": list(ci)})
        rows.append([cell.label.strip(), f"{updates}", f"{max(runs['torch']):,.0f}",
                     f"{max(runs['fast']):,.0f}", mean, interval])
        print(f"  {cell.label.strip()}: fast/torch {mean} ({interval})", file=sys.stderr, flush=True)
    print()
    print(f"Training env steps/s (best of {args.rounds}, native CartPole); fast/torch: geometric "
          f"mean of the per-round ratios, 95% t-interval")
    print(table(["cell", "updates", "torch steps/s", "fast steps/s", "fast/torch", "95% CI"], rows))
    print(f"{load_note()} at end; {time.perf_counter() - t_start:.0f} s in all")
    if json_path is not None:
        write_results(json_path, run_record("backends.py", argv, threads=args.threads, rounds=args.rounds,
                                            cells=results), report_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
