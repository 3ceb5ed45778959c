"""Single-thread float32 matrix products on every GEMM library at hand: which the fast paths use.

    .venv/bin/python benchmarks/gemm.py            # the fast paths' shapes, each library
    .venv/bin/python benchmarks/gemm.py --quick    # fewer repetitions, to check it runs

Libraries: torch's ``mm`` (MKL's sgemm in torch's CPU build), oneDNN through torch
(``torch.ops.mkldnn._linear_pointwise``, what ``mazedsl.rl.gemm`` routes products of 2M
multiply-adds and more to), and numpy's OpenBLAS in a child process, with the kernel OpenBLAS
picks for this CPU and, where the environment sets ``OPENBLAS_CORETYPE`` (this project's
machines set ``Haswell``, the AVX2 kernel), with that one too. Every figure is the best of
many short products, as ``limits.py``'s P is; the largest rate any library reaches at 512^3
is the matmul term of the physical floor (``peak_flops``).

A full default run writes benchmarks/results/gemm.json and gemm.txt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Callable

from _common import ArgParser, add_json_option, captured_stdout, results_path, table, thread_count, timed
from _matrix import pin_threads, report_header, run_record, write_results

# (rows, inner, cols): the products of a 256-sample minibatch through 64- and 256-wide layers
SHAPES = [(256, 64, 64), (256, 256, 256), (64, 256, 256), (32, 256, 256), (512, 512, 512)]


def best_seconds(fn: Callable[[], Any], repeat: int) -> float:
    """The fastest of ``repeat`` calls, after one untimed call."""
    fn()
    return min(timed(fn) for _ in range(repeat))


def torch_rates(shapes: list[tuple[int, int, int]], repeat: int) -> dict[str, dict[str, float]]:
    """FLOP/s of torch.mm (MKL) and oneDNN per shape (``"RxKxC"``)."""
    import torch

    from mazedsl.rl import gemm

    out: dict[str, dict[str, float]] = {"torch mm (MKL)": {}}
    if gemm.HAS_ONEDNN:  # (measured where mazedsl leaves it unused too: P is any library's best)
        out["oneDNN (torch)"] = {}
    for m, k, n in shapes:
        a, w = torch.randn(m, k), torch.randn(n, k)
        flops = 2 * m * k * n
        key = f"{m}x{k}x{n}"
        out["torch mm (MKL)"][key] = flops / best_seconds(lambda: torch.mm(a, w.t()), repeat)
        if gemm.HAS_ONEDNN:
            lin = torch.ops.mkldnn._linear_pointwise
            out["oneDNN (torch)"][key] = flops / best_seconds(
                lambda: lin(a, w, None, "none", [], ""), repeat)
    return out


_NUMPY_CHILD = """
import json, math, sys, time
import numpy as np
from threadpoolctl import threadpool_info
shapes, repeat = json.loads(sys.argv[1]), int(sys.argv[2])
rates = {}
for m, k, n in shapes:
    a = np.random.randn(m, k).astype(np.float32); w = np.random.randn(n, k).astype(np.float32)
    o = np.empty((m, n), np.float32); np.matmul(a, w.T, out=o); best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter(); np.matmul(a, w.T, out=o); best = min(best, time.perf_counter() - t0)
    rates[f"{m}x{k}x{n}"] = 2 * m * k * n / best
arch = [i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"]
print(json.dumps({"kernel": arch[0] if arch else None, "rates": rates}))
"""


def numpy_rates(shapes: list[tuple[int, int, int]], repeat: int, threads: int) -> dict[str, dict[str, float]]:
    """FLOP/s of numpy's matmul per shape, in a child process: with the OpenBLAS kernel this
    environment's OPENBLAS_CORETYPE names (if it names one) and with the one OpenBLAS picks."""
    tries = [os.environ.get("OPENBLAS_CORETYPE"), None] if os.environ.get("OPENBLAS_CORETYPE") else [None]
    out: dict[str, dict[str, float]] = {}
    for core in tries:
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        if core:
            env["OPENBLAS_CORETYPE"] = core
        res = subprocess.run([sys.executable, "-c", _NUMPY_CHILD, json.dumps(shapes), str(repeat)],
                             env=env, capture_output=True, text=True, timeout=300)
        if res.returncode != 0:
            print(f"note: numpy with OPENBLAS_CORETYPE={core}: {res.stderr.strip()[-200:]}",
                  file=sys.stderr)
            continue
        doc = json.loads(res.stdout)
        how = "OPENBLAS_CORETYPE as set here" if core else "kernel OpenBLAS picks"
        out[f"numpy OpenBLAS {doc['kernel']} ({how})"] = doc["rates"]
    return out


def peak_flops(threads: int, n: int = 512, repeat: int = 100) -> tuple[float, str]:
    """The fastest single-product rate of any library at ``n^3``, and which library."""
    shape = [(n, n, n)]
    rates = {**torch_rates(shape, repeat), **numpy_rates(shape, repeat, threads)}
    key = f"{n}x{n}x{n}"
    lib = max(rates, key=lambda k: rates[k][key])
    return rates[lib][key], lib


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=thread_count, default=1, help="threads for every library")
    parser.add_argument("--repeat", type=int, default=200, help="products timed per shape and library")
    parser.add_argument("--quick", action="store_true", help="20 repetitions, to check the script runs")
    add_json_option(parser, "gemm.json")
    args = parser.parse_args(argv)
    json_path = results_path(parser, args, "gemm")
    if args.quick:
        args.repeat = 20
    pin_threads(args.threads)
    with captured_stdout() as report:
        report_header("Single-thread float32 GEMM by library", args.threads)
        rates = {**torch_rates(SHAPES, args.repeat), **numpy_rates(SHAPES, args.repeat, args.threads)}
        keys = [f"{m}x{k}x{n}" for m, k, n in SHAPES]
        print(f"\nGFLOP/s, best of {args.repeat} products each (rows x inner x cols)")
        print(table(["library", *keys], [[lib, *(f"{r[k] / 1e9:.0f}" for k in keys)]
                                         for lib, r in rates.items()]))
        top = max(rates, key=lambda lib: rates[lib]["512x512x512"])
        print(f"peak: {rates[top]['512x512x512'] / 1e9:.0f} GFLOP/s at 512^3 ({top})")
        if json_path is not None:
            doc = run_record("gemm.py", argv, threads=args.threads, repeat=args.repeat,
                             rates=rates, peak_flops=rates[top]["512x512x512"], peak_library=top)
            write_results(json_path, doc, report.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
