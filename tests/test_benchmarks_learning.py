"""benchmarks/learning.py's JSON of every evaluation, and benchmarks/learning_sb3.py (SB3 at a
shipped experiment's hyperparameters and evaluation schedule) stay runnable."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


def _run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_learning_json_lists_every_evaluation(tmp_path: Path) -> None:
    out = tmp_path / "learning.json"
    _run(str(BENCH / "learning.py"), "--quick", "--experiments", "cartpole_dqn", "--json", str(out))
    (run,) = json.loads(out.read_text())["results"]
    assert run["name"] == "cartpole_dqn" and run["seed"] == 0 and run["budget"] == 2_000
    steps = [s for s, _ in run["evals"]]
    # quick: an evaluation every 1,000 steps, after the 256-step phase that crosses it
    assert steps == [1_024, 2_048]
    assert run["best"] == max(m for _, m in run["evals"])


@pytest.mark.skipif(importlib.util.find_spec("stable_baselines3") is None,
                    reason="Stable-Baselines3 is in the [bench] extra")
def test_learning_sb3_quick(tmp_path: Path) -> None:
    out = tmp_path / "sb3.json"
    proc = _run(str(BENCH / "learning_sb3.py"), "--quick", "--experiments", "cartpole_dqn",
                "--json", str(out))
    (run,) = json.loads(out.read_text())["results"]
    assert [s for s, _ in run["evals"]] == [1_024, 2_048]
    assert run["final"] == run["evals"][-1][1] and 8 <= run["final"] <= 500
    assert "SB3 cartpole_dqn: eval >= 475 within 50,000 env steps on" in proc.stdout
