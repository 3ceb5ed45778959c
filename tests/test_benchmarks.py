"""The benchmark scripts stay runnable.

Each script runs as a subprocess with its tiny-budget flag (``--quick``); the test checks
that the printed table has the expected rows with numeric cells. Nothing is timed.
The engine's speed paths are tested in test_engine_speed_paths.py.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
HAS_SB3 = importlib.util.find_spec("stable_baselines3") is not None


def run_script(name: str, *args: str, timeout: float = 600) -> str:
    proc = subprocess.run([sys.executable, str(BENCH / name), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def bench_module(name: str):
    """A module of benchmarks/ imported in this process (its folder on sys.path, as when run)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def assert_report_file(out: str, json_path: Path) -> None:
    """The printed report was written next to the JSON as .txt, ending with the line naming both."""
    txt = json_path.with_suffix(".txt")
    assert txt.read_text() == out
    assert out.splitlines()[-1] == f"results written to {json_path} and {txt}"


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


def test_vs_sb3_quick(tmp_path):
    out = run_script("vs_sb3.py", "--quick", "--json", str(tmp_path / "v.json"))
    assert_report_file(out, tmp_path / "v.json")
    rows = table_rows(out)
    for algo in ("PPO", "A2C"):
        assert all(numeric(c) for c in rows[f"{algo} mazedsl"][:3]), rows[f"{algo} mazedsl"]
        if HAS_SB3:
            assert all(numeric(c) for c in rows[f"{algo} SB3"][:3]), rows[f"{algo} SB3"]
            assert all(numeric(c) for c in rows[f"{algo} mazedsl/SB3"][:3]), rows[f"{algo} mazedsl/SB3"]
        else:
            assert rows[f"{algo} SB3"][0] == "not installed"
    assert ("training speed" in out) == HAS_SB3
    assert "malloc settings (tune_malloc" in out.splitlines()[1]  # the header says both tools have them
    verdicts = [line for line in out.splitlines() if "PASS" in line or "MISS" in line]
    assert len(verdicts) == (3 if HAS_SB3 else 0)  # PPO speed and wall time, A2C speed
    assert all(line.endswith("(quick budgets: not a real check)") for line in verdicts), verdicts
    doc = _load(tmp_path / "v.json")
    assert doc["options"]["seeds"] == 1 and doc["options"]["threads"] == 1 and doc["options"]["quick"]
    assert doc["command"] == f"benchmarks/vs_sb3.py --quick --json {tmp_path / 'v.json'}"
    for algo in ("ppo", "a2c"):
        d = doc["algos"][algo]
        assert d["seeds"] == [0] and len(d["mazedsl"]["steps_per_s"]) == 1 and d["mazedsl"]["steps_per_s"][0] > 0
        if HAS_SB3:
            ratio = d["speed_ratio"]
            expect = [m / s for m, s in zip(d["mazedsl"]["steps_per_s"], d["sb3"]["steps_per_s"])]
            assert ratio["per_seed"] == pytest.approx(expect)
            assert ratio["geomean"] == pytest.approx(expect[0]) and len(ratio["ci95"]) == 2
            assert rows[f"{algo.upper()} mazedsl/SB3"][0] == f"{d['median_ratios']['steps_per_s']:.2f}x"


@pytest.fixture
def restore_threads():
    """torch's and every BLAS/OpenMP pool's thread counts as they were, after the test."""
    import numpy  # noqa: F401  (loaded, so threadpoolctl sees its pool)
    import torch

    threadpoolctl = pytest.importorskip("threadpoolctl")
    n = torch.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=None):  # restores the pools on exit
        yield
    torch.set_num_threads(n)


def test_vs_sb3_mazedsl_runs_keep_the_asked_threads(restore_threads):
    """--threads N: mazedsl's run applies N (its runner.torch_threads), not the shipped 1, so the
    process (and every SB3 run after it) stays at N threads."""
    import torch
    from threadpoolctl import threadpool_info

    vs_sb3, matrix = bench_module("vs_sb3"), bench_module("_matrix")
    matrix.pin_threads(2)
    res = vs_sb3.run_mazedsl(bench_module("_common").shipped("cartpole_ppo"), 0, 0.0, 256, 10 ** 6, 1,
                             threads=2)
    assert res["steps"] == 256
    assert torch.get_num_threads() == 2
    assert {p["num_threads"] for p in threadpool_info()} == {2}, threadpool_info()


def _fake_run(name: str, calls: list):
    def run(exp, seed, target, budget, eval_every, eval_episodes, threads=None):
        calls.append((name, seed, threads))
        return {"steps_per_s": 1000.0 if name == "mazedsl" else 250.0, "steps": budget, "solve_steps": None,
                "solve_wall": None}
    return run


def test_vs_sb3_tunes_malloc_once_before_any_run_and_passes_the_threads(monkeypatch, capsys, restore_threads):
    """mazedsl's process-wide malloc settings are applied before the first run of either tool (not
    at mazedsl's first DQN/SAC build, which SB3 runs after it would inherit), and every mazedsl run
    gets --threads."""
    import mazedsl.rl.algos._offpolicy as offpolicy

    vs_sb3 = bench_module("vs_sb3")
    calls: list = []
    monkeypatch.setattr(offpolicy, "tune_malloc", lambda: calls.append(("tune_malloc",)) or True)
    monkeypatch.setattr(vs_sb3, "run_mazedsl", _fake_run("mazedsl", calls))
    monkeypatch.setattr(vs_sb3, "run_sb3", _fake_run("sb3", calls))
    monkeypatch.setattr(vs_sb3, "sb3_available", lambda: True)
    assert vs_sb3.main(["--algos", "sac", "--seeds", "2", "--budget", "100", "--threads", "2"]) == 0
    assert calls == [("tune_malloc",), ("mazedsl", 0, 2), ("sb3", 0, None), ("sb3", 1, None), ("mazedsl", 1, 2)]
    out = capsys.readouterr().out
    assert "applied for both tools, process-wide, before any run" in out.splitlines()[1]
    assert "SAC: training speed 4.00x SB3's (target >= 2x): PASS" in out.splitlines()


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_scaling_quick(tmp_path):
    out = run_script("scaling.py", "--quick", "--json", str(tmp_path / "s.json"))
    assert_report_file(out, tmp_path / "s.json")
    doc = _load(tmp_path / "s.json")
    cells = {c["key"]: c for c in doc["cells"]}
    assert list(cells) == ["ppo-8-64x64", "a2c-8-64x64", "ppo-8-nature-cnn"]
    assert doc["seeds"] == 2 and doc["threads"] == 1
    assert doc["warm_updates"] == 1  # quick runs warm up too: the timed update has no first-call costs
    mazedsl = ["mazedsl-sync", "mazedsl-fast"]
    sb3 = ["sb3", "sb3-fast"] if HAS_SB3 else []
    for key, cell in cells.items():
        want = [v for v in mazedsl + sb3 if not (key.endswith("cnn") and v == "mazedsl-fast")]
        assert sorted(cell["rates"]) == sorted(want), key
        for variant, rates in cell["rates"].items():
            assert sorted(rates) == ["0", "1"] and all(0 < r < 1e7 for r in rates.values()), (key, variant)
        assert cell["steps_per_update"] == (256 if key.startswith("ppo") else 40)
        assert cell["timed_updates"] == 1
        for name, ratio in cell["ratios"].items():
            m, s = name.split("/")
            expect = [cell["rates"][m][k] / cell["rates"][s][k] for k in ("0", "1")]
            assert ratio["per_seed"] == pytest.approx(expect)
            assert min(expect) - 1e-9 <= ratio["geomean"] <= max(expect) + 1e-9
            lo, hi = ratio["ci95"]
            assert lo <= ratio["geomean"] <= hi
        assert len(cell["ratios"]) == (0 if not HAS_SB3 else 2 if key.endswith("cnn") else 4)
    rows = table_rows(out)
    sync = [r for k, r in rows.items() if k.endswith("mazedsl sync")]
    native = [r for k, r in rows.items() if k.endswith("mazedsl native")]
    assert len(sync) == 3 and len(native) == 2  # no native vector env for the pixel cell
    for cells_ in sync + native:
        assert numeric(cells_[0]), cells_
        if HAS_SB3:
            assert numeric(cells_[1]) and numeric(cells_[3]) and numeric(cells_[5]), cells_
    assert "threads: torch 1" in out
    verdicts = [line for line in out.splitlines() if "PASS" in line or "MISS" in line]
    assert len(verdicts) == (3 if HAS_SB3 else 0)  # equal vectorisation + the zoo point, 2 rows
    assert all(line.endswith("(quick budgets: not a real check)") for line in verdicts), verdicts


def test_gemm_quick(tmp_path):
    out = run_script("gemm.py", "--quick", "--json", str(tmp_path / "g.json"))
    assert_report_file(out, tmp_path / "g.json")
    doc = _load(tmp_path / "g.json")
    shapes = ["256x64x64", "256x256x256", "64x256x256", "32x256x256", "512x512x512"]
    libs = doc["rates"]
    assert "torch mm (MKL)" in libs and any(k.startswith("numpy OpenBLAS") for k in libs)
    for lib, rates in libs.items():
        assert list(rates) == shapes and all(1e8 < r < 1e13 for r in rates.values()), lib
    assert doc["peak_flops"] == max(r["512x512x512"] for r in libs.values())
    assert libs[doc["peak_library"]]["512x512x512"] == doc["peak_flops"]
    rows = table_rows(out)
    for lib in libs:
        assert all(numeric(c) for c in rows[lib]), rows[lib]
    assert f"peak: {doc['peak_flops'] / 1e9:.0f} GFLOP/s at 512^3 ({doc['peak_library']})" in out


def test_limits_quick(tmp_path):
    out = run_script("limits.py", "--quick", "--json", str(tmp_path / "l.json"))
    assert_report_file(out, tmp_path / "l.json")
    doc = _load(tmp_path / "l.json")
    cells = {c["key"]: c for c in doc["cells"]}
    assert list(cells) == ["ppo-8-64x64", "a2c-8-64x64"]
    # 2x64 tanh policy (4 -> 64 -> 64 -> 2) and value net (4 -> 64 -> 64 -> 1), 2 FLOPs per MAC
    fwd = 2 * (4 * 64 + 64 * 64 + 64 * 2) + 2 * (4 * 64 + 64 * 64 + 64)
    first = 2 * 2 * 4 * 64
    ppo, a2c = cells["ppo-8-64x64"], cells["a2c-8-64x64"]
    assert ppo["work"]["fwd_flops_per_sample"] == fwd
    assert ppo["work"]["params"] == (4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2) + (4 * 64 + 64 + 64 * 64 + 64 + 64 + 1)
    assert ppo["updates"] == 1 and ppo["env_steps"] == 256 and a2c["env_steps"] == 40
    assert ppo["work"]["flops_update"] == 20 * 256 * (3 * fwd - first) - 256 * fwd  # epochs x samples
    assert ppo["work"]["flops_rollout"] == (256 + 8) * fwd
    assert ppo["work"]["optimizer_steps"] == 20
    assert a2c["work"]["flops_update"] == 40 * (2 * fwd - first)  # backward only
    assert a2c["work"]["optimizer_steps"] == 1
    for cell in cells.values():
        f = cell["floor_s"]
        assert f["total"] == pytest.approx(f["env"] + f["rollout"] + f["update"] + f["opt"])
        assert f["update"] >= cell["work"]["flops_update"] / doc["matmul_peak_flops"]
        assert cell["x_floor"] == pytest.approx(cell["mazedsl_s"] / f["total"])
        assert cell["x_reference"] == pytest.approx(cell["mazedsl_s"] / cell["reference_s"])
    assert 1e8 < doc["matmul_peak_flops"] < 1e13
    assert doc["matmul_peak_library"].startswith(("torch mm", "oneDNN", "numpy OpenBLAS"))
    rows = table_rows(out)
    for label in ("PPO   8 envs 64x64 (native)", "A2C   8 envs 64x64 (native)"):
        assert all(numeric(c) for c in rows[label]), rows[label]
    assert "own ms" in out  # the profile of the first cell
    verdicts = [line for line in out.splitlines() if "PASS" in line or "MISS" in line]
    assert len(verdicts) == 2 and all(line.endswith("(quick budgets: not a real check)") for line in verdicts)


def test_backends_quick(tmp_path):
    out = run_script("backends.py", "--quick", "--json", str(tmp_path / "b.json"))
    assert_report_file(out, tmp_path / "b.json")
    row = table_rows(out)["PPO   8 envs 64x64"]
    assert row[0] == "1" and all(numeric(c) for c in row[1:4]), row
    doc = _load(tmp_path / "b.json")
    cell = doc["cells"][0]
    torch_sps, fast_sps = cell["steps_per_s"]["torch"][0], cell["steps_per_s"]["fast"][0]
    assert torch_sps > 0 and fast_sps > 0
    assert cell["ratios"] == pytest.approx([fast_sps / torch_sps])
    assert row[3] == f"{cell['fast_over_torch'][0]:.2f}x"


def test_a2c_reuse_quick(tmp_path):
    out = run_script("a2c_reuse.py", "--quick", "--json", str(tmp_path / "r.json"))
    assert_report_file(out, tmp_path / "r.json")
    row = table_rows(out)["A2C   8 envs 64x64"]
    cell = _load(tmp_path / "r.json")["cells"][0]
    secs = cell["seconds_per_update"]
    assert len(secs["reuse"]) == len(secs["recompute"]) == 2 and min(secs["reuse"] + secs["recompute"]) > 0
    assert cell["speedup"] == pytest.approx([a / b for a, b in zip(secs["recompute"], secs["reuse"])])
    assert row[0] == f"{statistics.median(secs['recompute']) * 1e3:.3f}"
    assert row[2] == f"{cell['speedup_ci'][0]:.2f}x"


def test_vector_envs_quick(tmp_path):
    from mazedsl.rl.envs import NATIVE_MIN_ENVS

    out = run_script("vector_envs.py", "--quick", "--json", str(tmp_path / "v.json"))
    assert_report_file(out, tmp_path / "v.json")
    rows = table_rows(out)
    envs = _load(tmp_path / "v.json")["envs"]
    assert [e["n_envs"] for e in envs] == [1, 8]
    for e in envs:
        secs, row = e["seconds_per_step"], rows[str(e["n_envs"])]
        assert len(secs["native"]) == len(secs["sync"]) == 2 and min(secs["native"] + secs["sync"]) > 0
        assert e["sync_over_native"] == pytest.approx([s / n for s, n in zip(secs["sync"], secs["native"])])
        assert row[0] == f"{statistics.median(secs['native']) * 1e6:.1f}"
        assert row[4] == e["auto"] == ("native" if e["n_envs"] >= NATIVE_MIN_ENVS else "sync")


def test_auto_vectorization_takes_the_native_env_from_native_min_envs():
    from mazedsl.rl.envs import NATIVE_MIN_ENVS, make_vector_env
    from mazedsl.rl.syncvec import SyncEnvs
    from mazedsl.spec import GymEnv

    for n in (1, NATIVE_MIN_ENVS - 1, NATIVE_MIN_ENVS):
        venv = make_vector_env(GymEnv(name="CartPole-v1"), [], n, "auto")
        assert isinstance(venv, SyncEnvs) == (n < NATIVE_MIN_ENVS), (n, type(venv))
        venv.close()


def test_cnn_layout_quick(tmp_path):
    out = run_script("cnn_layout.py", "--quick", "--json", str(tmp_path / "c.json"))
    assert_report_file(out, tmp_path / "c.json")
    doc = _load(tmp_path / "c.json")
    rows = table_rows(out)
    for kind, label in (("pass", "Nature CNN forward+backward, 256 frames"),
                        ("update", "PPO update, pixel CartPole, 8 envs")):
        secs = doc["seconds"][kind]
        assert len(secs["mazedsl"]) == len(secs["default"]) == 2 and min(secs["mazedsl"] + secs["default"]) > 0
        assert doc[kind]["speedup"] == pytest.approx([d / m for d, m in zip(secs["default"], secs["mazedsl"])])
        assert rows[label][0] == f"{statistics.median(secs['default']) * 1e3:.2f}"
        assert rows[label][2] == f"{doc[kind]['speedup_ci'][0]:.2f}x"


def test_time_to_solve_quick(tmp_path):
    out = run_script("time_to_solve.py", "--quick", "--json", str(tmp_path / "t.json"))
    assert_report_file(out, tmp_path / "t.json")
    doc = _load(tmp_path / "t.json")
    for algo, first_eval in (("ppo", 1024), ("a2c", 1000)):  # the update that crosses 1,000 steps
        d = doc["algos"][algo]
        assert d["seeds"] == [0, 1]
        assert d["mazedsl"]["solved"] == 2 and d["mazedsl"]["steps_median"] == first_eval
        if HAS_SB3:
            assert d["sb3"]["solved"] == 2 and d["sb3"]["steps_median"] == first_eval
            walls = [(d["runs"][s]["mazedsl"]["solve_wall"], d["runs"][s]["sb3"]["solve_wall"]) for s in "01"]
            assert d["ratio"]["per_seed"] == pytest.approx([a / b for a, b in walls])
    rows = table_rows(out)
    for algo in ("PPO", "A2C"):
        assert numeric(rows[algo][0]) and rows[algo][2] == "2/2", rows[algo]
        if HAS_SB3:
            assert numeric(rows[algo][3]) and rows[algo][5] == "2/2" and numeric(rows[algo][6]), rows[algo]
    verdicts = [line for line in out.splitlines() if "PASS" in line or "MISS" in line]
    assert len(verdicts) == (1 if HAS_SB3 else 0)
    assert all(line.endswith("(quick budgets: not a real check)") for line in verdicts), verdicts


@pytest.mark.parametrize("eval_envs,want", [(None, 4), (10, 10)])
def test_time_to_solve_gives_both_tools_the_same_evaluation_envs(eval_envs, want, monkeypatch, restore_threads):
    tts, vs = bench_module("time_to_solve"), bench_module("vs_sb3")
    seen = {}

    def fake(tool):
        def run(exp, *args):
            seen[tool] = (exp.runner.n_eval_envs, exp.runner.vectorization)
            return {}
        return run

    monkeypatch.setattr(vs, "run_mazedsl", fake("mazedsl"))
    monkeypatch.setattr(vs, "run_sb3", fake("sb3"))
    opts = {"threads": 1, "vectorization": "sync", "budget": 100, "sb3": True, "target": 0.0,
            "eval_every": 50, "eval_episodes": 10, "eval_envs": eval_envs}
    tts.run_pair("ppo", 0, opts)
    assert seen == {"mazedsl": (want, "sync"), "sb3": (want, "sync")}


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


def test_gpu_quick_on_the_cpu(tmp_path):
    """--device cpu runs gpu.py's whole path on a machine without CUDA (the CPU against itself);
    on the cheapest cell, and its default cells are the issue's two."""
    assert [c.key for c in bench_module("gpu").CELLS] == ["ppo-8-nature-cnn", "ppo-128-256x256"]
    out = run_script("gpu.py", "--device", "cpu", "--quick", "--cells", "ppo-8-64x64",
                     "--json", str(tmp_path / "g.json"))
    assert_report_file(out, tmp_path / "g.json")
    doc = _load(tmp_path / "g.json")
    assert doc["device"] == "cpu" and doc["seeds"] == 2 and doc["threads"] == 1
    cells = {c["key"]: c for c in doc["cells"]}
    assert list(cells) == ["ppo-8-64x64"]
    assert cells["ppo-8-64x64"]["steps_per_update"] == 8 * 32
    for cell in cells.values():
        assert cell["timed_updates"] == 1
        dev, cpu = cell["steps_per_s"]["device"], cell["steps_per_s"]["cpu"]
        assert len(dev) == len(cpu) == 2 and all(0 < r < 1e7 for r in dev + cpu)
        assert cell["ratios"] == pytest.approx([d / c for d, c in zip(dev, cpu)])
        lo, hi = cell["ci95"]
        assert min(cell["ratios"]) - 1e-9 <= cell["geomean"] <= max(cell["ratios"]) + 1e-9
        assert lo <= cell["geomean"] <= hi
    rows = table_rows(out)
    label = "PPO   8 envs 64x64 (native)"
    assert rows[label][0] == "1" and all(numeric(c) for c in rows[label][1:4]), rows[label]
    assert rows[label][3] == f"{cells['ppo-8-64x64']['geomean']:.2f}x"


def test_gpu_without_cuda_says_so_in_one_line(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: gpu.py measures")
    proc = subprocess.run([sys.executable, str(BENCH / "gpu.py")], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == "no CUDA device here: GPU rows not measured\n"
    out = tmp_path / "gpu.json"
    proc = subprocess.run([sys.executable, str(BENCH / "gpu.py"), "--json", str(out)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0 and proc.stderr == "" and not out.exists()
    assert proc.stdout == f"no CUDA device here: GPU rows not measured (nothing written to {out})\n"


BAD_ARGS = [  # (script, arguments, a text the one error line must contain)
    ("scaling.py", ["--cells", "foo"], "'foo'"),
    ("scaling.py", ["--cells", "ppo-8"], "'ppo-8'"),
    ("scaling.py", ["--cells", "ppo-x-64x64"], "'ppo-x-64x64'"),
    ("scaling.py", ["--cells", "ppo-8-128x128"], "'ppo-8-128x128'"),
    ("scaling.py", ["--cells", "ppo-0-64x64", "--no-sb3", "--seeds", "1"], "'ppo-0-64x64'"),
    ("scaling.py", ["--threads", "0"], "--threads"),
    ("limits.py", ["--cells", "a2c-8-nature-cnn"], "'a2c-8-nature-cnn'"),
    ("limits.py", ["--quick", "--profile", "bogus"], "'bogus'"),
    ("limits.py", ["--repeat", "0"], "--repeat"),
    ("time_to_solve.py", ["--seeds", "0"], "--seeds"),
    ("time_to_solve.py", ["--seeds", "-1"], "'-1'"),
    ("time_to_solve.py", ["--algos", "ppo,dqn"], "'dqn'"),
    ("backends.py", ["--rounds", "0"], "--rounds"),
    ("backends.py", ["--widths", "abc"], "'abc'"),
    ("backends.py", ["--algos", "dqn"], "'dqn'"),
    ("a2c_reuse.py", ["--cells", "ppo-8-64x64"], "A2C cells only"),
    ("a2c_reuse.py", ["--rounds", "0"], "--rounds"),
    ("cnn_layout.py", ["--passes", "0"], "--passes"),
    ("cnn_layout.py", ["--model", "resnet"], "'resnet'"),
    ("gpu.py", ["--device", "tpu"], "'tpu'"),
    ("gpu.py", ["--device", "cpu", "--seeds", "0"], "--seeds"),
    ("time_to_solve.py", ["--quick", "--target", "nan"], "'nan'"),
    ("vs_sb3.py", ["--target", "inf", "--quick", "--algos", "ppo"], "'inf'"),
    ("vs_sb3.py", ["--target", "x"], "'x'"),
    ("limits.py", ["--quick", "--seed", "-1"], "'-1'"),
    ("a2c_reuse.py", ["--quick", "--seed", "-1"], "'-1'"),
    ("cnn_layout.py", ["--quick", "--seed", "-1"], "'-1'"),
    ("backends.py", ["--quick", "--seed", "-1"], "'-1'"),
    ("learning.py", ["--quick", "--experiments", "cartpole_ppo", "--first-seed", "-3"], "'-3'"),
    ("learning_sb3.py", ["--quick", "--first-seed", "-1"], "'-1'"),
    ("scaling.py", ["--threads", "100000"], "at most"),
    ("vs_sb3.py", ["--threads", "100000"], "at most"),
    ("limits.py", ["--cells", "ppo-99999999999999999999-64x64"], "at most 1024 envs"),
    ("scaling.py", ["--cells", "ppo-8-nature-cnn", "--no-cnn"], "--no-cnn"),
    ("vector_envs.py", ["--envs", "1,2000"], "at most 1024 envs"),
    ("time_to_solve.py", ["--eval-envs", "2000"], "at most 1024 envs"),
]


def test_cells_and_names_given_twice_count_once():
    matrix, common = bench_module("_matrix"), bench_module("_common")
    assert [c.key for c in matrix.parse_cells("a2c-8-64x64,ppo-8-64x64,a2c-8-64x64")] == [
        "a2c-8-64x64", "ppo-8-64x64"]
    assert common.choices_list(("ppo", "a2c"))("a2c,ppo,A2C") == ["a2c", "ppo"]


def test_one_seed_has_no_interval():
    """One per-seed ratio gives no 95% interval: null in the JSON, 'n/a (1 seed)' printed."""
    matrix = bench_module("_matrix")
    mean, lo, hi = matrix.ratio_ci([2.0])
    assert mean == pytest.approx(2.0) and matrix.finite([lo, hi]) == [None, None]
    assert matrix.fmt_ratio((mean, lo, hi)) == ("2.00x", "n/a (1 seed)")
    assert matrix.fmt_interval(None, None) == "n/a (1 seed)"
    mean, lo, hi = matrix.ratio_ci([2.0, 2.2, 1.9])
    assert lo < mean < hi and matrix.fmt_interval(lo, hi) == f"{lo:.2f}-{hi:.2f}"


@pytest.mark.parametrize("script,args,names", BAD_ARGS, ids=[f"{s}:{' '.join(a)}" for s, a, _ in BAD_ARGS])
def test_bad_arguments_exit_2_with_one_line(script, args, names):
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{script}: error: argument "), proc.stderr
    assert names in lines[0] and "Traceback" not in proc.stderr and proc.stdout == ""


JSON_SCRIPTS = [  # every script with --json, with arguments that would make it measure (quickly)
    ("scaling.py", ["--cells", "ppo-8-64x64", "--quick"]), ("limits.py", ["--quick"]),
    ("backends.py", ["--quick"]), ("a2c_reuse.py", ["--quick"]), ("cnn_layout.py", ["--quick"]),
    ("vector_envs.py", ["--quick"]),
    ("gpu.py", ["--device", "cpu", "--quick"]), ("time_to_solve.py", ["--quick"]),
    ("vs_sb3.py", ["--quick"]), ("learning.py", ["--quick", "--experiments", "cartpole_ppo"]),
    ("learning_sb3.py", ["--quick", "--experiments", "cartpole_dqn"]),
]


@pytest.mark.parametrize("script,args", JSON_SCRIPTS, ids=[s for s, _ in JSON_SCRIPTS])
def test_an_unwritable_json_path_stops_before_measuring(script, args, tmp_path):
    """Checked at argument parsing: one line, exit status 2, nothing run (a folder in its place,
    a file where a folder should be, a folder where no file can be made, by turns)."""
    (tmp_path / "file").write_text("")
    bad = [str(tmp_path), str(tmp_path / "file" / "x.json"),
           "/proc/x.json" if Path("/proc/self").is_dir() else str(tmp_path)]
    path = bad[[s for s, _ in JSON_SCRIPTS].index(script) % len(bad)]
    proc = subprocess.run([sys.executable, str(BENCH / script), *args, "--json", path], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{script}: error: argument --json: "), proc.stderr
    assert proc.stdout == ""


def test_writable_json_names_what_is_wrong(tmp_path):
    common = bench_module("_common")
    check = common.writable_json()
    (tmp_path / "file").write_text("")
    (tmp_path / "r.txt").mkdir()
    for path, says in ((tmp_path, "is a folder"), (tmp_path / "r.json", "r.txt' is a folder"),
                       (tmp_path / "file" / "x.json", "is a file, not a folder"), ("", "empty")):
        with pytest.raises(argparse.ArgumentTypeError, match=says):
            check(str(path))
    assert common.writable_json(report=False)(str(tmp_path / "r.json")) == str(tmp_path / "r.json")
    deep = tmp_path / "new" / "deeper" / "x.json"  # missing folders are made when written
    assert check(str(deep)) == str(deep) and not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "r.txt"]  # the probe file is gone


def test_quick_fills_only_the_options_not_given(capsys):
    common = bench_module("_common")
    parser = common.ArgParser()
    parser.add_argument("--seeds", type=common.positive_int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--max-updates", type=common.positive_int, default=200)
    parser.add_argument("--quick", action="store_true")
    argv = ["--quick", "--seeds", "5", "--seconds", "2"]
    assert parser.given(argv) == {"quick", "seeds", "seconds"}
    args = parser.parse_args(argv)
    common.quick_defaults(parser, args, argv, moot={"seconds": "max_updates"}, seeds=2, max_updates=1)
    assert (args.seeds, args.seconds, args.max_updates) == (5, 2.0, 1)  # --seeds 5 given: kept
    assert capsys.readouterr().err == "note: --quick sets --max-updates 1, so --seconds has no effect " \
                                      "(give --max-updates too)\n"
    assert parser.get_default("seeds") == 5  # the defaults are back after given()


QUICK_EXPLICIT = [  # (module, its function after parsing, argv, options the run must see)
    ("scaling", "run", ["--quick", "--seeds", "3", "--max-updates", "4"], {"seeds": 3, "max_updates": 4}),
    ("scaling", "run", ["--quick"], {"seeds": 2, "max_updates": 1}),
    ("limits", "run", ["--quick", "--repeat", "2", "--top", "3"], {"repeat": 2, "max_updates": 1, "top": 3}),
    ("backends", "run_all", ["--quick", "--rounds", "3", "--algos", "a2c"],
     {"rounds": 3, "algos": ["a2c"], "envs": [8], "widths": [64], "max_updates": 1}),
    ("a2c_reuse", "run_all", ["--quick", "--cells", "a2c-32-64x64", "--updates", "5"],
     {"cells": [("a2c", 32, "64x64")], "updates": 5, "rounds": 2}),
    ("cnn_layout", "run", ["--quick", "--rounds", "4"], {"rounds": 4, "passes": 1, "updates": 1}),
    ("gpu", "run", ["--device", "cpu", "--quick", "--seeds", "1"], {"seeds": 1, "max_updates": 1}),
    ("time_to_solve", "run", ["--quick", "--target", "100", "--eval-every", "500", "--seeds", "1"],
     {"target": 100.0, "eval_every": 500, "seeds": 1, "eval_episodes": 2, "budget": 2_000}),
    ("vs_sb3", "run", ["--quick", "--seeds", "2", "--eval-episodes", "3"],
     {"seeds": 2, "eval_episodes": 3, "eval_every": 1_000, "budget": 2_000}),
]


@pytest.mark.parametrize("module,func,argv,want", QUICK_EXPLICIT,
                         ids=[f"{m}:{' '.join(a)}" for m, _, a, _ in QUICK_EXPLICIT])
def test_options_given_explicitly_win_over_quick(module, func, argv, want, monkeypatch):
    mod = bench_module(module)
    seen = {}
    monkeypatch.setattr(mod, func, lambda args, *rest: seen.update(vars(args)) or 0)
    assert mod.main(argv) == 0
    got = {k: seen[k] for k in want}
    if "cells" in got:
        got["cells"] = [(c.algo, c.n_envs, c.net) for c in got["cells"]]
    assert got == want


def test_learning_scripts_quick_honour_seeds_and_tag_their_verdicts(monkeypatch, capsys, restore_threads):
    learning = bench_module("learning")
    fake = {"target": 475.0, "within": 50_000, "budget": 2_000, "reached": None, "best": 9.0, "final": 9.0,
            "seconds": 0.1, "evals": [(1_000, 9.0)]}
    monkeypatch.setattr(learning, "run_one", lambda name, seed, *a: {"name": name, "seed": seed, **fake})
    assert learning.main(["--quick", "--experiments", "cartpole_ppo", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert [r[0] for k, r in table_rows(out).items() if k == "cartpole_ppo"] == ["1"]  # the last row's seed
    verdict = [line for line in out.splitlines() if line.startswith("cartpole_ppo: eval")]
    assert verdict == ["cartpole_ppo: eval >= 475 within 100,000 env steps on 0/2 seed(s): MISS"
                       " (quick budgets: not a real check)"]
    if not HAS_SB3:
        return
    learning_sb3 = bench_module("learning_sb3")
    monkeypatch.setattr(learning_sb3, "run_one", lambda name, seed, quick: {"name": name, "seed": seed, **fake})
    assert learning_sb3.main(["--quick", "--experiments", "cartpole_dqn"]) == 0
    out = capsys.readouterr().out
    assert "SB3 cartpole_dqn: eval >= 475 within 50,000 env steps on 0/1 seed(s) " \
           "(quick budgets: not a real check)" in out.splitlines()


def test_experiment_refuses_an_unknown_algorithm():
    matrix = bench_module("_matrix")
    with pytest.raises(ValueError, match="unknown algorithm 'dqn'"):
        matrix.experiment(matrix.Cell("dqn", 8, "64x64"), "sync", 0, 1, 1_000)
    exp = matrix.experiment(matrix.Cell("a2c", 8, "64x64"), "sync", 0, 1, 1_000)
    assert type(exp.algorithm).__name__ == "A2C" and exp.runner.device == "cpu"


def test_results_go_to_the_committed_files_only_from_a_full_default_run():
    common = bench_module("_common")
    parser = common.ArgParser()
    parser.add_argument("--seeds", type=common.positive_int, default=5)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--json", default=None)
    default = common.results_path(parser, parser.parse_args([]), "scaling")
    assert default == common.RESULTS / "scaling.json"
    assert common.results_path(parser, parser.parse_args(["--profile", "x"]), "s", free=("profile",)) \
        == common.RESULTS / "s.json"
    assert common.results_path(parser, parser.parse_args(["--seeds", "1"]), "scaling") is None
    assert common.results_path(parser, parser.parse_args(["--seeds", "1", "--json", "x.json"]),
                               "scaling") == Path("x.json")
    assert common.rel(common.RESULTS / "scaling.json") == "benchmarks/results/scaling.json"


def test_a_narrowed_run_leaves_the_committed_results_alone():
    before = {p.name: p.read_bytes() for p in (BENCH / "results").glob("scaling.*")}
    proc = subprocess.run([sys.executable, str(BENCH / "scaling.py"), "--cells", "a2c-8-64x64", "--seeds",
                           "1", "--max-updates", "1", "--no-sb3"], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "note: not a full default run (--seeds, --max-updates, --cells, --no-sb3)" in proc.stderr
    assert "results written" not in proc.stdout
    assert {p.name: p.read_bytes() for p in (BENCH / "results").glob("scaling.*")} == before


def test_make_bench_runs_every_figure_script():
    """`make bench` (dry run) calls each script whose figures the README quotes, the DQN and
    SAC speed rows included."""
    proc = subprocess.run(["make", "-n", "bench"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    commands = [line.split() for line in proc.stdout.splitlines() if "benchmarks/" in line]
    scripts = [Path(next(w for w in c if w.startswith("benchmarks/"))).name for c in commands]
    assert set(scripts) >= {"gemm.py", "scaling.py", "limits.py", "backends.py", "a2c_reuse.py", "cnn_layout.py", "gpu.py",
                            "vector_envs.py",
                            "time_to_solve.py", "overheads.py", "learning.py", "vs_sb3.py"}
    assert {c[c.index("--algos") + 1] for c in commands if "--algos" in c} == {"dqn", "sac"}
    for c in commands:  # the off-policy rows' results files, which the README points to
        if "--algos" in c:
            assert c[c.index("--json") + 1] == f"benchmarks/results/vs_sb3-{c[c.index('--algos') + 1]}.json"
    for script in scripts:
        assert (BENCH / script).is_file()


def test_every_report_names_the_cpu_and_its_widest_vector_unit(monkeypatch, tmp_path):
    """The VM can land on hosts with and without AVX-512 (2x apart in matmul peak), so each
    report's version line says which: read from /proc/cpuinfo's flags."""
    common = bench_module("_common")
    cpuinfo = tmp_path / "cpuinfo"
    real_path = common.Path

    def fake_path(arg, *rest):
        return cpuinfo if str(arg) == "/proc/cpuinfo" else real_path(arg, *rest)

    monkeypatch.setattr(common, "Path", fake_path)
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu sse2 avx avx2 fma\n")
    assert common.cpu_note() == "Test CPU 9000 (AVX2, no AVX-512)"
    cpuinfo.write_text("model name\t: Big CPU\nflags\t\t: avx2 avx512f avx512bw\n")
    assert common.cpu_note() == "Big CPU (AVX-512)"
    assert common.versions().endswith("CPU Big CPU (AVX-512)")
    cpuinfo.write_text("model name\t: Old CPU\nflags\t\t: sse2 avx\n")
    assert common.cpu_note() == "Old CPU (no AVX2)"
