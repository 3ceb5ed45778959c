"""Training speed on a GPU against the CPU: the pixel PPO and the wide MLP PPO, mazedsl on both.

    .venv/bin/python benchmarks/gpu.py       # CUDA vs CPU, 2 cells, 3 seeds (est. 1-2 minutes; not yet run on a GPU)
    .venv/bin/python benchmarks/gpu.py --device cpu --quick   # the code path on a CPU-only machine

Issue #11's item 5. Cells (benchmarks/_matrix.py): PPO on 8 envs of
experiments/pixel_cartpole_ppo.py's pixel env with the Nature CNN (``ppo-8-nature-cnn``) and PPO
with 128 envs and a 256x256 tanh MLP (``ppo-128-256x256``, experiments/cartpole_ppo.py's
values). Per cell and seed, mazedsl trains once with ``runner.device=--device`` (default
``cuda``) and once with ``runner.device=cpu``, interleaved (the order alternates by seed), each
run one untimed warm-up update then N timed updates (the wall time of its ``Trainer.train`` call;
on CUDA synchronised before and after), N per cell from a CPU calibration run so that one CPU run
takes about --seconds. Both sides use the fastest vectorisation (native CartPole; sync for pixels)
and ``algorithm.backend=auto`` (on the CPU the numpy fast backend where it applies, on CUDA
torch); torch and every BLAS pool are pinned to --threads (default 1, as the CPU benchmarks).

Printed: each side's training env steps/s (mean over seeds) and the per-seed ratio device / CPU
(geometric mean, 95% t-interval). Without CUDA, ``--device cuda`` prints one line saying so and
exits 0 (``make bench`` runs it everywhere). ``--device cpu`` compares the CPU with itself: it
exercises the script on a machine without a GPU. A full default run writes
benchmarks/results/gpu.json and gpu.txt (the printed report); any other run writes only where
--json says.
"""

from __future__ import annotations

import platform
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable

from _common import (ArgParser, add_json_option, captured_stdout, load_note, positive_float, positive_int,
                     quick_defaults, results_path, table, thread_count)
from _matrix import (CNN, Cell, cells_arg, experiment, fmt_ratio, pin_threads, ratio_ci, report_header,
                     run_record, time_mazedsl, update_size, write_results)

CELLS = (Cell("ppo", 8, CNN), Cell("ppo", 128, "256x256"))
NO_CUDA = "no CUDA device here: GPU rows not measured"


def device_arg(text: str) -> str:
    """An argparse type: 'cuda', 'cuda:N' or 'cpu'."""
    import argparse

    if text == "cpu" or re.fullmatch(r"cuda(:\d+)?", text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: want cuda, cuda:N or cpu")


def vectorization(cell: Cell) -> str:
    return "sync" if cell.pixels else "native"


def rate(cell: Cell, device: str, seed: int, threads: int, updates: int) -> float:
    """Training env steps/s of ``updates`` updates on ``device`` after one warm-up update."""
    vec = vectorization(cell)
    probe = experiment(cell, vec, seed, threads, 1, device)
    # one update more than is run: the Trainer never reaches its budget (no final evaluation)
    exp = experiment(cell, vec, seed, threads, (updates + 2) * update_size(probe), device)
    steps, secs = time_mazedsl(exp, 1, updates)
    return steps / secs


def device_name(device: str) -> str:
    if device == "cpu":
        return platform.processor() or platform.machine() or "cpu"
    import torch

    return torch.cuda.get_device_name(torch.device(device))


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", type=device_arg, default="cuda",
                        help="the device measured against the CPU: cuda, cuda:N, or cpu (checks the "
                             "script without a GPU; default cuda)")
    parser.add_argument("--cells", type=cells_arg, default=None,
                        help=f"comma-separated ALGO-N_ENVS-NET (as benchmarks/scaling.py); default "
                             f"{','.join(c.key for c in CELLS)}")
    parser.add_argument("--seeds", type=positive_int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--seconds", type=positive_float, default=2.0,
                        help="target length of one timed CPU run; sets updates per cell (default 2)")
    parser.add_argument("--max-updates", type=positive_int, default=100, help="cap on updates per timed run")
    parser.add_argument("--threads", type=thread_count, default=1, help="torch and BLAS threads")
    add_json_option(parser, "gpu")
    parser.add_argument("--quick", action="store_true",
                        help="2 seeds, 1 timed update (options given explicitly win): checks that it runs")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print(NO_CUDA + (f" (nothing written to {args.json})" if args.json else ""))
            return 0
        index = torch.device(args.device).index
        if index is not None and index >= torch.cuda.device_count():
            parser.error(f"argument --device: {args.device!r}: this machine has "
                         f"{torch.cuda.device_count()} CUDA device(s), cuda:0 up to "
                         f"cuda:{torch.cuda.device_count() - 1}")
    json_path = results_path(parser, args, "gpu")
    cells = args.cells or list(CELLS)
    if args.quick:
        quick_defaults(parser, args, argv, moot={"seconds": "max_updates"}, seeds=2, max_updates=1)
    with captured_stdout() as report:
        return run(args, cells, json_path, report.text, argv)


def run(args: Any, cells: list[Cell], json_path: Path | None, report_text: Callable[[], str],
        argv: list[str] | None) -> int:
    """Calibration, the interleaved runs, the table (and the results files)."""
    pin_threads(args.threads)
    sides = (args.device, "cpu")
    t_start = time.perf_counter()
    report_header(f"mazedsl training speed, {args.device} ({device_name(args.device)}) vs cpu", args.threads)
    plan: dict[str, int] = {}
    for cell in cells:
        cpu_rate = rate(cell, "cpu", 10_000, args.threads, 1)
        size = update_size(experiment(cell, vectorization(cell), 0, 1, 1))
        plan[cell.key] = max(1, min(args.max_updates, round(args.seconds * cpu_rate / size)))
        print(f"  {cell.label}: {plan[cell.key]} timed update(s) of {size:,} env steps per run",
              file=sys.stderr, flush=True)
    runs: dict[str, dict[str, list[float]]] = {c.key: {"device": [], "cpu": []} for c in cells}
    for seed in range(args.seeds):
        for cell in cells:
            order = list(zip(("device", "cpu"), sides))
            for side, device in (order if seed % 2 == 0 else order[::-1]):
                r = rate(cell, device, seed, args.threads, plan[cell.key])
                runs[cell.key][side].append(r)
                print(f"  seed {seed} {cell.label} {device:7s} {r:10,.0f} steps/s", file=sys.stderr, flush=True)
    rows, results = [], []
    for cell in cells:
        dev, cpu = runs[cell.key]["device"], runs[cell.key]["cpu"]
        ratios = [d / c for d, c in zip(dev, cpu)]
        ci = ratio_ci(ratios)
        rows.append([f"{cell.label.strip()} ({vectorization(cell)})", f"{plan[cell.key]}",
                     f"{sum(dev) / len(dev):,.0f}", f"{sum(cpu) / len(cpu):,.0f}", *fmt_ratio(ci)])
        results.append({"key": cell.key, "label": cell.label.strip(), "vectorization": vectorization(cell),
                        "timed_updates": plan[cell.key],
                        "steps_per_update": update_size(experiment(cell, vectorization(cell), 0, 1, 1)),
                        "steps_per_s": {"device": dev, "cpu": cpu}, "ratios": ratios,
                        "geomean": ci[0], "ci95": [ci[1], ci[2]]})
    print()
    print(f"Training env steps/s, mean over {args.seeds} seed(s) (seeds 0-{args.seeds - 1}); "
          f"{args.device}/cpu: geometric mean of the per-seed ratios, 95% t-interval; "
          f"{args.threads} torch + BLAS thread(s)")
    measured = args.device if args.device != "cpu" else "cpu (as device)"
    print(table(["cell (vectorisation)", "updates", f"{measured} steps/s", "cpu steps/s",
                 f"{args.device}/cpu", "95% CI"], rows))
    if args.device == "cpu":
        print("--device cpu: the CPU against itself (checks the script; no GPU figure)")
    elapsed = time.perf_counter() - t_start
    print(f"{load_note()} at end; {elapsed:.0f} s in all")
    if json_path is not None:
        write_results(json_path, run_record(
            "gpu.py", argv, device=args.device, device_name=device_name(args.device), threads=args.threads,
            seeds=args.seeds, seconds=elapsed, cells=results), report_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
