"""A2C's fast backend with and without reusing the rollout's forward pass in the update.

    .venv/bin/python benchmarks/a2c_reuse.py           # A2C x 8, 32, 128 envs x 64x64, 256x256 (about 1 minute)
    .venv/bin/python benchmarks/a2c_reuse.py --cells a2c-128-64x64 --rounds 20
    .venv/bin/python benchmarks/a2c_reuse.py --quick   # one small cell, 2 rounds: checks it runs

A2C takes one gradient step per rollout, with the weights that acted, so the fast backend keeps
the rollout's hidden activations and its update skips the forward pass
(``OnPolicyRollout.recorded_forward``). Per cell (the scaling matrix's CartPole A2C, native
vectorisation), two trainers of the same experiment, one reusing and one computing the forward
again, train ``--updates`` updates each in turn, ``--rounds`` times (the order alternating), in
one process. Printed: the median milliseconds per update of each and the per-round ratio
(geometric mean, 95% t-interval). One thread for torch and every BLAS pool. A full default
run writes benchmarks/results/a2c_reuse.json and .txt; any other run writes only where --json says.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

from _common import (ArgParser, add_json_option, captured_stdout, load_note, non_negative_int, positive_int,
                     quick_defaults, results_path, table, thread_count)
from _matrix import (Cell, cells_arg, experiment, fmt_ratio, pin_threads, ratio_ci, report_header,
                     run_record, write_results)

CELLS = [Cell("a2c", n, net) for net in ("64x64", "256x256") for n in (8, 32, 128)]


def a2c_cells(text: str) -> list[Cell]:
    """An argparse type: :func:`cells_arg`, A2C cells only."""
    import argparse

    cells = cells_arg(text)
    other = [c.key for c in cells if c.algo != "a2c"]
    if other:
        raise argparse.ArgumentTypeError(f"A2C cells only (a2c-N_ENVS-NET), got {', '.join(other)}")
    return cells


def measure(cell: Cell, rounds: int, updates: int, seed: int, threads: int) -> dict[str, Any]:
    """Seconds per update of each variant, round by round (the order alternating)."""
    from mazedsl.rl.trainer import Trainer

    exp = experiment(cell, "native", seed, threads, 10 ** 12)
    trainers = {"reuse": Trainer(exp), "recompute": Trainer(exp)}
    try:
        for name, trainer in trainers.items():
            trainer.learner.keep_hidden = name == "reuse"
            trainer.train(n_updates=2)  # warm-up
        secs: dict[str, list[float]] = {name: [] for name in trainers}
        for r in range(rounds):
            for name in (("reuse", "recompute") if r % 2 else ("recompute", "reuse")):
                t0 = time.perf_counter()
                trainers[name].train(n_updates=updates)
                secs[name].append((time.perf_counter() - t0) / updates)
    finally:
        for trainer in trainers.values():
            trainer.close()
    ratios = [a / b for a, b in zip(secs["recompute"], secs["reuse"])]
    return {"key": cell.key, "label": cell.label.strip(), "updates": updates, "seconds_per_update": secs,
            "speedup": ratios, "speedup_ci": list(ratio_ci(ratios))}


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=a2c_cells, default=None,
                        help="comma-separated a2c-N_ENVS-NET; default A2C x 8, 32, 128 envs x 64x64, 256x256")
    parser.add_argument("--rounds", type=positive_int, default=12, help="alternating timed runs of each")
    parser.add_argument("--updates", type=positive_int, default=40, help="updates per timed run")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--threads", type=thread_count, default=1)
    add_json_option(parser, "a2c_reuse")
    parser.add_argument("--quick", action="store_true",
                        help="one small cell, 2 rounds of 1 update (options given explicitly win)")
    args = parser.parse_args(argv)
    json_path = results_path(parser, args, "a2c_reuse")
    if args.quick:
        quick_defaults(parser, args, argv, cells=[Cell("a2c", 8, "64x64")], rounds=2, updates=1)
    cells = args.cells or CELLS
    with captured_stdout() as report:
        return run_all(args, cells, json_path, report.text, argv)


def run_all(args: Any, cells: list[Cell], json_path: Path | None, report_text: Callable[[], str],
            argv: list[str] | None) -> int:
    pin_threads(args.threads)
    t_start = time.perf_counter()
    report_header("A2C fast backend, rollout forward reused vs computed again", args.threads)
    results, rows = [], []
    for cell in cells:
        res = measure(cell, args.rounds, args.updates, args.seed, args.threads)
        mean, interval = fmt_ratio(tuple(res["speedup_ci"]))  # type: ignore[arg-type]
        secs = res["seconds_per_update"]
        rows.append([res["label"], f"{statistics.median(secs['recompute']) * 1e3:.3f}",
                     f"{statistics.median(secs['reuse']) * 1e3:.3f}", mean, interval])
        results.append(res)
        print(f"  {res['label']}: reuse speed-up {mean} ({interval})", file=sys.stderr, flush=True)
    print()
    print(f"Milliseconds per update (median of {args.rounds} rounds of {args.updates} updates, native "
          f"CartPole); speed-up: recompute / reuse, geometric mean of the per-round ratios, 95% t-interval")
    print(table(["cell", "recompute ms", "reuse ms", "speed-up", "95% CI"], rows))
    print(f"{load_note()} at end; {time.perf_counter() - t_start:.0f} s in all")
    if json_path is not None:
        write_results(json_path, run_record("a2c_reuse.py", argv, threads=args.threads, rounds=args.rounds,
                                            updates=args.updates, cells=results), report_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
