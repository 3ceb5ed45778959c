"""Fixed costs a user waits for: imports, the CLI, starting a run, compiling, the TUI.

    .venv/bin/python benchmarks/overheads.py           # 5 fresh processes per item (~1 minute)
    .venv/bin/python benchmarks/overheads.py --quick   # 1 process per item

Each item is measured in fresh Python processes (so nothing is cached in memory) and the
median is printed:

- ``import mazedsl``;
- ``mazedsl --help``: the whole process, as a user runs it (n/a without the CLI entry point);
- RunContext to the first env step, beyond imports: the modules a run needs (torch,
  gymnasium, omegaconf, mazedsl's engine and config) are imported first, then the clock runs
  from ``RunContext(experiment, run_dir=..., silent=True)`` to the first vector env step
  of ``train()``; also shown cold, imports included;
- compiling the shipped default experiment: ``load_experiment`` of the file,
  ``to_config`` and ``from_config`` (first call in the process);
- the TUI's first paint: ``MazeApp.run_test()`` until the app is ready and its first screen
  has been processed, after importing ``mazedsl_tui.app``; also with that import.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import (QUICK_TAG, ArgParser, positive_int, quick_defaults, EXPERIMENTS, ROOT, fmt, load_note,
                     median, table)

BIN = Path(sys.executable).parent

IMPORT = """
import json, time
t0 = time.perf_counter()
import mazedsl
print(json.dumps({"import": time.perf_counter() - t0}))
"""

RUN_START = """
import json, sys, time
t_start = time.perf_counter()
cold = {cold}
if not cold:
    import numpy, torch, gymnasium, omegaconf
    import mazedsl, mazedsl.context, mazedsl.config, mazedsl.rl.trainer, mazedsl.rl.envs
t_imports = time.perf_counter()
sys.path.insert(0, {bench!r})
from _common import shipped
exp = shipped("cartpole_ppo")
import mazedsl
first = []
try:  # the engine's one env loop: its first step is the first env step
    from mazedsl.rl.envloop import EnvLoop
    step = EnvLoop.step

    def watched(self, actions):
        if not first:
            first.append(time.perf_counter())
        return step(self, actions)
    EnvLoop.step = watched
except ImportError:  # engines before the EnvLoop
    import mazedsl.rl.trainer as trainer_mod
    make = trainer_mod.make_vector_env

    def make_and_watch(*a, **k):
        venv = make(*a, **k)
        vstep = venv.step
        def vwatched(actions):
            if not first:
                first.append(time.perf_counter())
            return vstep(actions)
        venv.step = vwatched
        return venv
    trainer_mod.make_vector_env = make_and_watch
t0 = time.perf_counter()
ctx = mazedsl.RunContext(exp, run_dir={run_dir!r}, silent=True)
ctx.train(n_epochs=1)
print(json.dumps({{"run_start": first[0] - t0, "imports": t_imports - t_start,
                  "cold_total": first[0] - t_start + 0.0}}))
"""

COMPILE = """
import json, time
import mazedsl
from mazedsl import from_config, load_experiment, to_config
out = {{}}
t = time.perf_counter(); exp = load_experiment({path!r}); out["load_experiment"] = time.perf_counter() - t
t = time.perf_counter(); cfg = to_config(exp); out["to_config"] = time.perf_counter() - t
t = time.perf_counter(); back = from_config(cfg); out["from_config"] = time.perf_counter() - t
assert back == exp
print(json.dumps(out))
"""

TUI = """
import asyncio, json, time
t_start = time.perf_counter()
from mazedsl_tui.app import MazeApp
t_imported = time.perf_counter()

async def main():
    t0 = time.perf_counter()
    app = MazeApp(experiments_dir={experiments!r}, runs_root={runs!r})
    async with app.run_test(size=(120, 40)) as pilot:
        t_ready = time.perf_counter()
        await pilot.pause()
        t_paint = time.perf_counter()
    return {{"tui_import": t_imported - t_start, "tui_ready": t_ready - t0,
             "tui_paint": t_paint - t0, "tui_total": t_paint - t_start}}

print(json.dumps(asyncio.run(main())))
"""

COMPARE = """
import asyncio, json, time
from pathlib import Path
from mazedsl_tui.app import MazeApp
from mazedsl_tui.demo import DemoRun, write_run

root = Path({runs!r})
paths = []
for i in range(20):  # 4 configurations x 5 seeds, 100k steps, a train line per 1,024 steps
    lr, seed = (3e-4, 1e-3, 3e-3, 1e-2)[i // 5], i % 5
    status = "running" if i == 0 else "finished"
    run = DemoRun("cartpole_ppo", f"sweep_bench/job_{{i:03d}}", status, 100_000, f"2026-01-08T09:{{i:02d}}:00",
                  None, 500.0 - 20 * seed, 20.0, 9000.0 * (1 + i // 5), 1700.0, log_every=1024, eval_every=5000)
    paths.append(write_run(root, run))
size = sum((p / "metrics.jsonl").stat().st_size for p in paths)

async def main():
    app = MazeApp(experiments_dir={experiments!r}, runs_root=str(root))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        t0 = time.perf_counter()
        app.open_compare(paths)
        while getattr(app.screen, "comparison", None) is None:
            await pilot.pause(0.005)
        await pilot.pause()
        t_paint = time.perf_counter()
        await pilot.pause(1.0)  # settle, then measure idle polling (one run is live: polled every second)
        c0, w0 = time.process_time(), time.perf_counter()
        await asyncio.sleep({idle})
        cpu = (time.process_time() - c0) / (time.perf_counter() - w0) * 100
    return {{"compare_paint": t_paint - t0, "idle_cpu": cpu, "metrics_bytes": size}}

print(json.dumps(asyncio.run(main())))
"""


def _python(code: str, timeout: float = 300) -> dict[str, Any] | None:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        print(f"  (failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode})",
              file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _process_time(cmd: list[str]) -> float | None:
    import time

    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    return elapsed if proc.returncode == 0 else None


def _tui_importable() -> bool:
    proc = subprocess.run([sys.executable, "-c", "import mazedsl_tui.app as a; a.MazeApp"],
                          capture_output=True, timeout=120, cwd=ROOT)
    return proc.returncode == 0


def _median_of(samples: list[dict[str, Any] | None], key: str) -> float | None:
    return median(s.get(key) for s in samples if s)


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=positive_int, default=5, help="fresh processes per item")
    parser.add_argument("--quick", action="store_true",
                        help="one process per item (unless --repeat), 2 s of idle polling")
    args = parser.parse_args(argv)
    if args.quick:
        quick_defaults(parser, args, argv, repeat=1)
    n = args.repeat
    print(f"Fixed costs, medians of {n} fresh process(es); {load_note()} at start", flush=True)
    results: dict[str, float | None] = {}

    results["import"] = _median_of([_python(IMPORT) for _ in range(n)], "import")

    cli = BIN / "mazedsl"
    results["help"] = (median(_process_time([str(cli), "--help"]) for _ in range(n))
                       if cli.exists() else None)

    with tempfile.TemporaryDirectory() as tmp:
        warm = [_python(RUN_START.format(cold=False, bench=str(ROOT / "benchmarks"),
                                         run_dir=str(Path(tmp) / f"warm{i}"))) for i in range(n)]
        cold = [_python(RUN_START.format(cold=True, bench=str(ROOT / "benchmarks"),
                                         run_dir=str(Path(tmp) / f"cold{i}"))) for i in range(n)]
        results["run_start"] = _median_of(warm, "run_start")
        results["run_imports"] = _median_of(warm, "imports")
        results["run_cold"] = _median_of(cold, "cold_total")

        comp = [_python(COMPILE.format(path=str(EXPERIMENTS / "cartpole_ppo.py"))) for _ in range(n)]
        for key in ("load_experiment", "to_config", "from_config"):
            results[key] = _median_of(comp, key)

        if _tui_importable():
            tui = [_python(TUI.format(experiments=str(EXPERIMENTS), runs=str(Path(tmp) / "runs")))
                   for _ in range(n)]
            for key in ("tui_import", "tui_ready", "tui_paint", "tui_total"):
                results[key] = _median_of(tui, key)
            compare = [_python(COMPARE.format(experiments=str(EXPERIMENTS), runs=str(Path(tmp) / f"cmp{i}"),
                                              idle=2.0 if args.quick else 10.0)) for i in range(n)]
            for key in ("compare_paint", "idle_cpu", "metrics_bytes"):
                results[key] = _median_of(compare, key)
        else:
            for key in ("tui_import", "tui_ready", "tui_paint", "tui_total", "compare_paint", "idle_cpu",
                        "metrics_bytes"):
                results[key] = None

    def verdict(value: float | None, limit: float) -> str:
        if value is None:
            return "n/a"
        return "PASS" if value < limit else "MISS"

    compile_total = (None if results["load_experiment"] is None else
                     sum(results[k] or 0.0 for k in ("load_experiment", "to_config", "from_config")))
    rows = [
        ["import mazedsl", fmt(results["import"], 3), "", ""],
        ["mazedsl --help (whole process)", fmt(results["help"], 3), "< 0.5", verdict(results["help"], 0.5)],
        ["RunContext to first env step, beyond imports", fmt(results["run_start"], 3), "< 1.0",
         verdict(results["run_start"], 1.0)],
        ["  the imports a run needs", fmt(results["run_imports"], 3), "", ""],
        ["  cold: process start to first env step", fmt(results["run_cold"], 3), "", ""],
        ["compile: load_experiment(cartpole_ppo.py)", fmt(results["load_experiment"], 3), "", ""],
        ["compile: to_config", fmt(results["to_config"], 3), "", ""],
        ["compile: from_config", fmt(results["from_config"], 3), "", ""],
        ["compile: total", fmt(compile_total, 3), "", ""],
        ["TUI: import mazedsl_tui.app", fmt(results["tui_import"], 3), "", ""],
        ["TUI: run_test() to ready", fmt(results["tui_ready"], 3), "", ""],
        ["TUI: first paint after import", fmt(results["tui_paint"], 3), "", ""],
        ["TUI: first paint incl. import", fmt(results["tui_total"], 3), "< 1.5",
         verdict(results["tui_total"], 1.5)],
        ["Compare first paint on 20 runs of 100k steps", fmt(results["compare_paint"], 3), "< 1.0",
         verdict(results["compare_paint"], 1.0)],
        ["  their metrics.jsonl, MB in all", fmt(None if results["metrics_bytes"] is None
                                                 else results["metrics_bytes"] / 1e6, 2), "", ""],
        ["Compare idle polling, CPU % (one live run)", fmt(results["idle_cpu"], 2), "< 2",
         verdict(results["idle_cpu"], 2.0)],
    ]
    print()
    print(table(["item", "seconds", "target", "verdict"], rows))
    if args.quick:
        print(f"verdicts of a --quick run ({n} process(es) per item, 2 s of idle polling):{QUICK_TAG}")
    print(f"{load_note()} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
