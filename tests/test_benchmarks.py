"""The benchmark scripts stay runnable.

Each script runs as a subprocess with its tiny-budget flag (``--quick``); the test checks
that the printed table has the expected rows with numeric cells. Nothing is timed.
The engine's speed paths are tested in test_engine_speed_paths.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
HAS_SB3 = importlib.util.find_spec("stable_baselines3") is not None


def run_script(name: str, *args: str, timeout: float = 600) -> str:
    proc = subprocess.run([sys.executable, str(BENCH / name), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def table_rows(out: str) -> dict[str, list[str]]:
    """First cell -> the other cells, for every row of the printed ``|`` table(s)."""
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():
        if not line.startswith("|") or set(line) <= {"|", "-"}:
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def numeric(cell: str) -> bool:
    try:
        float(cell.replace(",", "").rstrip("x"))
    except ValueError:
        return False
    return True


def test_vs_sb3_quick():
    out = run_script("vs_sb3.py", "--quick")
    rows = table_rows(out)
    for algo in ("PPO", "A2C"):
        assert all(numeric(c) for c in rows[f"{algo} mazedsl"][:3]), rows[f"{algo} mazedsl"]
        if HAS_SB3:
            assert all(numeric(c) for c in rows[f"{algo} SB3"][:3]), rows[f"{algo} SB3"]
            assert all(numeric(c) for c in rows[f"{algo} mazedsl/SB3"][:3]), rows[f"{algo} mazedsl/SB3"]
        else:
            assert rows[f"{algo} SB3"][0] == "not installed"
    assert ("training speed" in out) == HAS_SB3


def test_limits_quick():
    rows = table_rows(run_script("limits.py", "--quick"))
    for algo in ("PPO", "A2C"):
        for part in ("floor: env stepping", "floor: policy forward", "floor: torch update", "floor: sum",
                     "mazedsl training"):
            cells = rows[f"{algo} {part}"]
            assert numeric(cells[0]) and numeric(cells[1]), (part, cells)
        assert numeric(rows[f"{algo} mazedsl training"][2])


def test_overheads_quick():
    rows = table_rows(run_script("overheads.py", "--quick"))
    for item in ("import mazedsl", "RunContext to first env step, beyond imports",
                 "compile: load_experiment(cartpole_ppo.py)", "compile: to_config", "compile: from_config"):
        assert numeric(rows[item][0]), (item, rows[item])
    for item in ("mazedsl --help (whole process)", "TUI: first paint incl. import"):
        assert numeric(rows[item][0]) or rows[item][0] == "n/a", (item, rows[item])


def test_learning_quick():
    rows = table_rows(run_script("learning.py", "--quick"))
    for name in ("cartpole_ppo", "cartpole_a2c", "pendulum_ppo", "acrobot_ppo"):
        cells = rows[name]
        assert cells[0] == "0" and numeric(cells[1]), cells  # seed, target
        assert numeric(cells[3]) and numeric(cells[4]) and numeric(cells[5]), cells  # best, final, s
        target, best = (float(cells[i].replace(",", "")) for i in (1, 3))
        if cells[2] == "not reached":  # then no evaluation reached the target
            assert best < target, cells
        else:  # reached within the quick budget, by an evaluation at least as good as the target
            assert 0 < float(cells[2].replace(",", "")) <= 2_000 and best >= target, cells
