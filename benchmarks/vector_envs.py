"""CartPole's vector env step: gymnasium's numpy-vectorised env ('native') against separate
envs stepped in turn (mazedsl's 'sync'), by number of envs: where 'auto' switches.

    .venv/bin/python benchmarks/vector_envs.py           # 1-16 envs (about 20 seconds)
    .venv/bin/python benchmarks/vector_envs.py --envs 1,8 --rounds 20
    .venv/bin/python benchmarks/vector_envs.py --quick   # 1 and 8 envs, 2 short rounds

Per number of envs, both vector envs (as ``make_vector_env`` builds them, next-step autoreset)
take ``--steps`` steps of fixed actions in turn, ``--rounds`` times (the order alternating), in one
process. Printed: the median microseconds per vector step of each and the per-round ratio sync /
native (geometric mean, 95% t-interval): below 1 the separate envs are faster. mazedsl's 'auto'
takes the native env from ``NATIVE_MIN_ENVS`` envs (``mazedsl/rl/envs.py``). A full default run
writes benchmarks/results/vector_envs.json and .txt; any other run writes only where --json says.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

from _common import (ArgParser, add_json_option, captured_stdout, load_note, positive_int, positive_ints,
                     quick_defaults, results_path, table, thread_count)
from _matrix import MAX_ENVS, fmt_ratio, pin_threads, ratio_ci, report_header, run_record, write_results

ENVS = [1, 2, 4, 5, 6, 8, 16]


def measure(n_envs: int, rounds: int, steps: int) -> dict[str, Any]:
    """Seconds per vector step of each kind, round by round (the order alternating)."""
    import numpy as np

    from mazedsl.rl.envs import make_vector_env
    from mazedsl.spec import GymEnv

    env = GymEnv(name="CartPole-v1")
    venvs = {kind: make_vector_env(env, [], n_envs, kind) for kind in ("native", "sync")}
    actions = np.zeros(n_envs, dtype=np.int64)
    try:
        for venv in venvs.values():
            venv.reset(seed=0)
            for _ in range(min(steps, 200)):  # warm-up
                venv.step(actions)
        secs: dict[str, list[float]] = {kind: [] for kind in venvs}
        for r in range(rounds):
            for kind in (("native", "sync") if r % 2 else ("sync", "native")):
                step = venvs[kind].step
                t0 = time.perf_counter()
                for _ in range(steps):
                    step(actions)
                secs[kind].append((time.perf_counter() - t0) / steps)
    finally:
        for venv in venvs.values():
            venv.close()
    ratios = [s / n for s, n in zip(secs["sync"], secs["native"])]
    return {"n_envs": n_envs, "steps": steps, "seconds_per_step": secs, "sync_over_native": ratios,
            "sync_over_native_ci": list(ratio_ci(ratios))}


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", type=positive_ints, default=None,
                        help=f"comma-separated numbers of envs (default {','.join(map(str, ENVS))})")
    parser.add_argument("--rounds", type=positive_int, default=10, help="alternating timed runs of each")
    parser.add_argument("--steps", type=positive_int, default=2_000, help="vector steps per timed run")
    parser.add_argument("--threads", type=thread_count, default=1)
    add_json_option(parser, "vector_envs")
    parser.add_argument("--quick", action="store_true",
                        help="1 and 8 envs, 2 rounds of 50 steps (options given explicitly win)")
    args = parser.parse_args(argv)
    if args.envs and max(args.envs) > MAX_ENVS:
        parser.error(f"argument --envs: at most {MAX_ENVS} envs, got {max(args.envs)}")
    json_path = results_path(parser, args, "vector_envs")
    if args.quick:
        quick_defaults(parser, args, argv, envs=[1, 8], rounds=2, steps=50)
    envs = list(dict.fromkeys(args.envs or ENVS))
    with captured_stdout() as report:
        return run_all(args, envs, json_path, report.text, argv)


def run_all(args: Any, envs: list[int], json_path: Path | None, report_text: Callable[[], str],
            argv: list[str] | None) -> int:
    from mazedsl.rl.envs import NATIVE_MIN_ENVS

    pin_threads(args.threads)
    t_start = time.perf_counter()
    report_header("CartPole-v1 vector step, native (numpy-vectorised) vs sync (separate envs)", args.threads)
    results, rows = [], []
    for n in envs:
        res = measure(n, args.rounds, args.steps)
        mean, interval = fmt_ratio(tuple(res["sync_over_native_ci"]))  # type: ignore[arg-type]
        secs = res["seconds_per_step"]
        auto = "native" if n >= NATIVE_MIN_ENVS else "sync"
        rows.append([f"{n}", f"{statistics.median(secs['native']) * 1e6:.1f}",
                     f"{statistics.median(secs['sync']) * 1e6:.1f}", mean, interval, auto])
        results.append({**res, "auto": auto})
        print(f"  {n} envs: sync / native {mean} ({interval})", file=sys.stderr, flush=True)
    print()
    print(f"Microseconds per vector step (median of {args.rounds} rounds of {args.steps} steps); "
          "sync / native: geometric mean of the per-round ratios, 95% t-interval (below 1: sync is "
          f"faster); auto: what runner.vectorization=auto takes (native from {NATIVE_MIN_ENVS} envs)")
    print(table(["envs", "native us", "sync us", "sync / native", "95% CI", "auto"], rows))
    print(f"{load_note()} at end; {time.perf_counter() - t_start:.0f} s in all")
    if json_path is not None:
        write_results(json_path, run_record("vector_envs.py", argv, threads=args.threads, rounds=args.rounds,
                                            steps=args.steps, envs=results), report_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
