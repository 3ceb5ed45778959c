"""Real run directories for the Compare tests, made by tiny trainings (shared by test_compare.py
and test_tui_compare.py), plus hand-damaged copies for the bad-input cases."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
A2C_RUN = "20261201-120000_a2c000"
TINY = ["total_steps=2048", "eval_every_steps=512", "eval_episodes=2", "runner.n_envs=4",
        "algorithm.batch_size=128", "algorithm.n_epochs=2"]


@dataclass
class Workspace:
    """``root`` (the cwd), ``runs`` (= root/outputs), a 2 lr x 2 seed sweep and a shorter A2C run."""

    root: Path
    runs: Path
    sweep: Path
    jobs: list[Path]
    a2c: Path


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}


def make_workspace(root: Path) -> Workspace:
    """Train the sweep (4 jobs, 2 at a time) and the A2C run side by side: about 10 s."""
    runs = root / "outputs"
    sweep = runs / "cartpole_ppo" / "sweep_lr"
    a2c = runs / "cartpole_a2c" / A2C_RUN
    procs = [
        subprocess.Popen([str(BIN / "mazedsl"), "train", str(ROOT / "experiments" / "cartpole_ppo.py"), *TINY,
                          "--sweep", "algorithm.lr=1e-3,3e-3", "--seeds", "2", "--jobs", "2", "--quiet"],
                         cwd=root, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        subprocess.Popen([str(BIN / "mazedsl"), "train", str(ROOT / "experiments" / "cartpole_a2c.py"),
                          "total_steps=1200", "eval_every_steps=400", "eval_episodes=2", "--run-dir", str(a2c),
                          "--quiet"], cwd=root, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True),
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"{proc.args} exited {proc.returncode}\n{out}\n{err}")
    made = [p.parent for p in (runs / "cartpole_ppo").glob("sweep_*/sweep.json")]
    assert len(made) == 1, made
    made[0].rename(sweep)
    jobs = sorted(p.parent for p in sweep.glob("*/run.json"))
    assert len(jobs) == 4, jobs
    return Workspace(root, runs, sweep, jobs, a2c)


def shared_workspace(tmp_path_factory, name: str) -> Workspace:
    """A copy of one :func:`make_workspace` per test session: the first test file to ask
    trains it (under a lock, so the other xdist worker waits instead of training it again:
    six CLI processes), each gets its own copy under ``name`` (nothing in it names its path)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    cache = shared / "compare_workspace"
    with open(shared / "compare_workspace.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / ".ready").is_file():
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()
            make_workspace(cache)
            (cache / ".ready").write_text("")
    root = tmp_path_factory.mktemp(name)
    shutil.copytree(cache / "outputs", root / "outputs")
    runs = root / "outputs"
    sweep = runs / "cartpole_ppo" / "sweep_lr"
    return Workspace(root, runs, sweep, sorted(p.parent for p in sweep.glob("*/run.json")),
                     runs / "cartpole_a2c" / A2C_RUN)


def copy_run(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def without_evals(src: Path, dest: Path) -> Path:
    """A copy of a run that is still running and has written no eval line yet."""
    copy_run(src, dest)
    lines = (dest / "metrics.jsonl").read_text().splitlines()
    (dest / "metrics.jsonl").write_text("".join(ln + "\n" for ln in lines if '"eval"' not in ln))
    info = json.loads((dest / "run.json").read_text())
    info.update(status="running", best_eval=None)
    (dest / "run.json").write_text(json.dumps(info))
    return dest


def with_damaged_line(src: Path, dest: Path) -> Path:
    """A copy of a run whose metrics.jsonl has its second eval line cut in half."""
    copy_run(src, dest)
    lines = (dest / "metrics.jsonl").read_text().splitlines()
    evals = [i for i, ln in enumerate(lines) if '"eval"' in ln]
    lines[evals[1]] = lines[evals[1]][: len(lines[evals[1]]) // 2]
    (dest / "metrics.jsonl").write_text("".join(ln + "\n" for ln in lines))
    return dest


def with_failed_job(src: Path, dest: Path) -> Path:
    """A copy of the sweep where job_001 failed (its run.json says so) and a fifth job never
    made its run directory (only sweep.json knows it)."""
    shutil.copytree(src, dest)
    failed = dest / "job_001"
    info = json.loads((failed / "run.json").read_text())
    info.update(status="failed", error="TrainingError: value loss is nan at step 1024")
    (failed / "run.json").write_text(json.dumps(info))
    sweep = json.loads((dest / "sweep.json").read_text())
    sweep["jobs"].append({"job": "job_004", "run_dir": None, "overrides": ["algorithm.lr=0.01", "seed=0"],
                          "status": "failed", "error": "ConfigError: bad value"})
    (dest / "sweep.json").write_text(json.dumps(sweep))
    return dest


def eval_returns(run_dir: Path) -> list[tuple[float, float]]:
    """``(step, mean_return)`` of every eval line, read independently of mazedsl.compare."""
    out = []
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("phase") == "eval":
            out.append((float(rec["step"]), float(rec["mean_return"])))
    return out
