"""Comparing runs: the library (mazedsl.compare), the sweep listing, and `mazedsl compare` as a
subprocess (table, --json numbers, --plot pictures), on run directories of tiny real trainings."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from compare_runs import (BIN, Workspace, copy_run, eval_returns, shared_workspace, with_damaged_line,
                          with_failed_job, without_evals)
from mazedsl.compare import aggregate, compare, differing_keys, is_sweep_dir, sweep_jobs
from mazedsl.errors import MazeError
from mazedsl.run import list_entries


@pytest.fixture(scope="session")
def ws(tmp_path_factory) -> Workspace:
    return shared_workspace(tmp_path_factory, "compare")


def mazedsl(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run([str(BIN / "mazedsl"), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def lr_of(run_dir: Path) -> float:
    import yaml

    return float(yaml.safe_load((run_dir / "config.yaml").read_text())["algorithm"]["lr"])


# -- statistics -----------------------------------------------------------------------------------

def test_aggregate_counts_only_the_runs_present_at_each_x():
    curve = aggregate([([0, 10, 20], [1.0, 3.0, 5.0]), ([0, 10], [3.0, 7.0]), ([5], [100.0])])
    assert curve.x == [0, 5, 10, 20]
    assert curve.n == [2, 3, 2, 1]
    assert curve.mean == [2.0, pytest.approx((2.0 + 5.0 + 100.0) / 3), 5.0, 5.0]
    assert curve.lo == [1.0, 2.0, 3.0, 5.0] and curve.hi == [3.0, 100.0, 7.0, 5.0]
    # sample std (n - 1), as in a sweep's table: [1, 3] -> sqrt(2), not the population's 1.0
    assert curve.std[0] == pytest.approx(2 ** 0.5) and curve.std[3] == 0.0
    assert curve.std[1] == pytest.approx(statistics.stdev([2.0, 5.0, 100.0])) == pytest.approx(55.7345)
    assert aggregate([]).x == [] and aggregate([([], [])]).n == []


def test_one_std_convention_for_compare_and_sweeps(tmp_path):
    """The defect: for the same runs the sweep table said 66.8 ± 68.2 and compare 66.8 ± 48.2.
    Both now give the sample std (n - 1; 0.0 for one seed)."""
    from mazedsl.compare import mean_std
    from mazedsl.run.sweeps import collect_job, group_jobs

    finals = [115.0, 18.5]  # the two seeds of the report
    assert mean_std(finals) == (66.75, pytest.approx(68.2358)) and mean_std(finals)[1] != pytest.approx(48.25)
    assert mean_std([10.0, None, 20.0, 60.0]) == (30.0, pytest.approx(700 ** 0.5))
    assert mean_std([7.0]) == (7.0, 0.0) and mean_std([None]) == (None, None)
    jobs = []
    for seed, value in enumerate(finals):
        run_dir = tmp_path / f"job_00{seed}"
        run_dir.mkdir()
        (run_dir / "run.json").write_text(json.dumps({"status": "finished", "best_eval": value, "steps": 1024}))
        (run_dir / "metrics.jsonl").write_text(json.dumps({"phase": "eval", "step": 1024, "time": 1.0,
                                                          "mean_return": value}) + "\n")
        jobs.append(collect_job(seed, run_dir, ["algorithm.lr=0.001", f"seed={seed}"]))
    (group,) = group_jobs(jobs)
    assert (group.final_eval_mean, group.final_eval_std) == mean_std(finals)
    curve = aggregate([([1024.0], [v]) for v in finals])
    assert curve.std == [pytest.approx(68.2358)]


def test_differing_keys_keep_config_order_and_treat_missing_as_a_value():
    a = {"algorithm.lr": 0.001, "seed": 0, "total_steps": 10, "env.name": "CartPole-v1"}
    b = {"algorithm.lr": 0.003, "seed": 1, "total_steps": 10}
    assert differing_keys([a, b]) == ["algorithm.lr", "seed", "env.name"]
    assert differing_keys([a, b], ignore=["seed"]) == ["algorithm.lr", "env.name"]
    assert differing_keys([a, dict(a)]) == []
    assert differing_keys([{"x": True}, {"x": 1}]) == ["x"]  # True is not 1 in a config


# -- the library on real runs ---------------------------------------------------------------------

def test_a_sweep_groups_seeds_by_configuration(ws):
    comparison = compare([str(ws.sweep)], ws.runs)
    assert [r.path for r in comparison.runs] == ws.jobs
    assert [g.label for g in comparison.groups] == ["algorithm.lr=0.001", "algorithm.lr=0.003"]
    for group in comparison.groups:
        assert group.n == 2 and sorted(group.seeds) == [0, 1]
        assert {lr_of(r.path) for r in group.runs} == {group.params["algorithm.lr"]}
        finals = [eval_returns(r.path)[-1][1] for r in group.runs]
        bests = [max(v for _, v in eval_returns(r.path)) for r in group.runs]
        assert group.final() == (pytest.approx(statistics.mean(finals)), pytest.approx(statistics.stdev(finals)))
        assert group.best() == (pytest.approx(statistics.mean(bests)), pytest.approx(statistics.stdev(bests)))
        curve = group.curve("steps")
        assert curve.x == [512.0, 1024.0, 1536.0, 2048.0] and curve.n == [2, 2, 2, 2]
        per_run = [dict(eval_returns(r.path)) for r in group.runs]
        assert curve.mean[1] == pytest.approx(statistics.mean(p[1024.0] for p in per_run))
        assert curve.lo[1] == min(p[1024.0] for p in per_run) and curve.hi[1] == max(p[1024.0] for p in per_run)
    assert comparison.diff_keys == ["algorithm.lr", "seed"]
    assert comparison.all_notes() == []


def test_runs_of_different_experiments_and_lengths(ws):
    comparison = compare([str(ws.jobs[0]), str(ws.a2c)], ws.runs)
    assert len(comparison.groups) == 2
    ppo, a2c = comparison.groups
    assert ppo.curve().x[-1] == 2048.0 and a2c.curve().x[-1] == 1200.0
    assert "algorithm._target_" in comparison.diff_keys and "name" in comparison.diff_keys
    by_key = dict(comparison.diff_rows())
    assert by_key["algorithm._target_"] == ["mazedsl.rl.algos.ppo.PPO", "mazedsl.rl.algos.a2c.A2C"]
    assert by_key["total_steps"] == [2048, 1200]
    # time as x: each run's own wall seconds
    assert comparison.groups[1].curve("time").x == sorted(t for t in comparison.runs[1].times)


def test_every_run_form_is_accepted(ws):
    name = str(ws.jobs[2].relative_to(ws.runs))
    comparison = compare(["cartpole_a2c:latest", name, str(ws.jobs[3]), "cartpole_ppo/sweep_lr/job_000"],
                         ws.runs)
    assert [r.path.resolve() for r in comparison.runs] == [ws.a2c.resolve(), ws.jobs[2].resolve(),
                                                           ws.jobs[3].resolve(), ws.jobs[0].resolve()]
    assert [r.label for r in comparison.runs][:2] == ["cartpole_a2c/20261201-120000_a2c000", name]


def test_comparing_a_run_with_itself_shows_it_once(ws):
    comparison = compare([str(ws.jobs[0]), str(ws.jobs[0].relative_to(ws.runs))], ws.runs)
    assert len(comparison.runs) == 1 and comparison.diff_keys == []
    assert any("the same run" in note for note in comparison.all_notes())


def test_bad_input_is_noted_not_raised(ws, tmp_path):
    no_evals = without_evals(ws.jobs[0], tmp_path / "exp" / "no_evals")
    damaged = with_damaged_line(ws.jobs[1], tmp_path / "exp" / "damaged")
    comparison = compare([str(no_evals), str(damaged)], tmp_path)
    first, second = comparison.runs
    assert first.returns == [] and first.final_eval is None and first.status == "running"
    assert len(second.returns) == len(eval_returns(ws.jobs[1])) - 1 and len(second.bad_lines) == 1
    notes = comparison.all_notes()
    assert any("no evaluation yet" in n for n in notes)
    assert any(f"metrics.jsonl line {second.bad_lines[0]} damaged" in n for n in notes)
    with pytest.raises(MazeError, match="does not exist"):
        compare([str(tmp_path / "nope")], tmp_path)
    with pytest.raises(MazeError, match="at least one"):
        compare([], tmp_path)


def test_a_sweep_with_a_failed_job(ws, tmp_path):
    sweep = with_failed_job(ws.sweep, tmp_path / "cartpole_ppo" / "sweep_failed")
    jobs = sweep_jobs(sweep)
    assert [j.name for j in jobs] == ["job_000", "job_001", "job_002", "job_003", "job_004"]
    assert jobs[1].status == "failed" and "nan" in jobs[1].error
    assert jobs[4].run_dir is None and jobs[4].params == {"algorithm.lr": "0.01", "seed": "0"}
    comparison = compare([str(sweep)], tmp_path)
    assert len(comparison.runs) == 4 and [j.name for j in comparison.failed_jobs] == ["job_004"]
    assert [(g.label, g.n, g.n_failed) for g in comparison.groups] == [
        ("algorithm.lr=0.001", 2, 1), ("algorithm.lr=0.003", 2, 0), ("algorithm.lr=0.01", 0, 1)]
    notes = comparison.all_notes()
    assert any("job_004: failed (ConfigError: bad value)" in n for n in notes)
    assert any("value loss is nan" in n for n in notes)


def test_a_live_run_is_read_incrementally(ws, tmp_path):
    run = copy_run(ws.jobs[0], tmp_path / "exp" / "live")
    comparison = compare([str(run)], tmp_path)
    before = len(comparison.runs[0].returns)
    assert comparison.refresh() is False  # nothing changed: stat only
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write(json.dumps({"phase": "eval", "step": 4096, "time": 9.0, "mean_return": 321.0}) + "\n")
        fh.write('{"phase": "eval", "step": 5')  # a writer mid-line: left for later
    assert comparison.refresh() is True
    assert len(comparison.runs[0].returns) == before + 1 and comparison.runs[0].final_eval == 321.0
    assert comparison.runs[0].bad_lines == []


def test_listing_shows_a_sweep_as_one_row(ws):
    entries = list_entries(ws.runs)
    sweep = next(e for e in entries if e.is_sweep)
    assert sweep.path == ws.sweep and [j.path for j in sweep.jobs] == ws.jobs
    assert sweep.status == "finished" and sweep.n_failed == 0
    assert sweep.best_eval == max(j.best_eval for j in sweep.jobs)
    assert not any(e.path in ws.jobs for e in entries)
    assert is_sweep_dir(ws.sweep) and not is_sweep_dir(ws.jobs[0])


def test_group_labels_leave_out_keys_with_one_value_wherever_present(tmp_path):
    """PPO runs at two learning rates and an A2C run: PPO's own fields (one value in every
    PPO run, absent from A2C's config) tell no group apart, so no label lists them; where
    leaving them out would make two labels the same, the labels keep them."""
    from mazedsl.compare import MISSING_VALUE, RunData, group_runs

    def run(name: str, **config) -> RunData:
        return RunData(path=tmp_path / name, label=name, info={"experiment": "exp"},
                       config={"seed": 0, **config})

    ppo = {"algorithm._target_": "PPO", "algorithm.n_epochs": 10, "algorithm.clip_range": 0.2}
    groups = group_runs([run("a", **ppo, **{"algorithm.lr": 0.001}),
                         run("b", **ppo, **{"algorithm.lr": 0.003}),
                         run("c", **{"algorithm._target_": "A2C", "algorithm.lr": 0.0007})])
    assert [g.label for g in groups] == ["algorithm._target_=PPO algorithm.lr=0.001",
                                         "algorithm._target_=PPO algorithm.lr=0.003",
                                         "algorithm._target_=A2C algorithm.lr=0.0007"]
    assert groups[2].params["algorithm.n_epochs"] == MISSING_VALUE  # (the params keep every key)
    # two configs told apart only by a key one of them lacks: the labels keep that key
    groups = group_runs([run("d", **{"algorithm.lr": 0.001}),
                         run("e", **{"algorithm.lr": 0.001, "algorithm.max_grad_norm": 0.5})])
    assert [g.label for g in groups] == ["exp", "algorithm.max_grad_norm=0.5"]


# -- the command line -----------------------------------------------------------------------------

def test_cli_compare_table_and_differing_keys(ws):
    out = mazedsl("compare", "cartpole_ppo/sweep_lr", cwd=ws.root).stdout
    assert "4 runs in 2 configurations" in out
    comparison = compare([str(ws.sweep)], ws.runs)
    for group in comparison.groups:
        mean, std = group.final()
        assert f"{mean:.1f} ± {std:.1f}" in out
    assert "algorithm.lr" in out and "job_003" in out


def test_cli_compare_of_different_algorithms_stays_readable(ws):
    """PPO vs A2C: a long configuration label folds instead of squeezing the numbers, and
    with more differing keys than runs the key table has a row per key."""
    comparison = compare([str(ws.jobs[0]), str(ws.a2c)], ws.runs)
    assert len(comparison.diff_keys) > 2
    out = mazedsl("compare", str(ws.jobs[0]), str(ws.a2c), cwd=ws.root).stdout
    for group in comparison.groups:
        assert f"{group.final()[0]:.1f}" in out  # the final eval is printed whole
        assert "<missing>" not in group.label  # the other algorithm's fields are not listed
    lines = out.splitlines()
    header = next(line for line in lines if "┃ key" in line)
    assert ws.a2c.name in header  # the runs are the columns
    row = next(line for line in lines if "algorithm._target_" in line and "│" in line)
    assert "mazedsl.rl.algos.ppo.PPO" in row or "mazedsl.rl.algos.a2c.A2C" in row
    assert max(len(line) for line in lines) <= 160


def test_cli_compare_json_numbers(ws):
    data = json.loads(mazedsl("compare", "cartpole_ppo/sweep_lr", "cartpole_a2c:latest", "--json",
                              cwd=ws.root).stdout)
    assert len(data["runs"]) == 5 and len(data["groups"]) == 3
    by_label = {g["label"]: g for g in data["groups"]}
    lr3 = next(g for label, g in by_label.items() if "algorithm.lr=0.003" in label)
    finals = [eval_returns(j)[-1][1] for j in ws.jobs if lr_of(j) == 0.003]
    assert lr3["n"] == 2 and lr3["final_eval_mean"] == pytest.approx(statistics.mean(finals))
    assert lr3["final_eval_std"] == pytest.approx(statistics.stdev(finals))
    # the sweep's own sweep.json (its table) gives the same ± std for the same runs
    sweep = json.loads((ws.sweep / "sweep.json").read_text())
    group = next(g for g in sweep["groups"] if g["params"] == {"algorithm.lr": 0.003})
    assert lr3["final_eval_std"] == pytest.approx(group["final_eval_std"])
    assert lr3["best_eval_std"] == pytest.approx(group["best_eval_std"])
    assert lr3["curve"]["x"] == [512.0, 1024.0, 1536.0, 2048.0] and lr3["curve"]["n"] == [2, 2, 2, 2]
    assert data["diff"]["algorithm._target_"].count("mazedsl.rl.algos.a2c.A2C") == 1
    assert data["notes"] == []


def test_cli_compare_plot_png_and_svg(ws, tmp_path):
    png, svg = tmp_path / "curves.png", tmp_path / "curves.svg"
    out = mazedsl("compare", "cartpole_ppo/sweep_lr", "--plot", str(png), cwd=ws.root).stdout
    assert f"wrote {png}" in out
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (880, 495)
    mazedsl("compare", str(ws.jobs[0]), str(ws.a2c), "--plot", str(svg), "--x", "time", "--band", "std",
            cwd=ws.root)
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "wall time (s)" in svg.read_text()


def test_cli_compare_errors_are_one_line(ws, tmp_path):
    proc = mazedsl("compare", "nope/nothing", cwd=ws.root, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "does not exist" in proc.stderr
    proc = mazedsl("compare", "cartpole_ppo/sweep_lr", "--plot", str(tmp_path / "x.gif"), cwd=ws.root,
                   check=False)
    assert proc.returncode == 2 and ".png or .svg" in proc.stderr


def test_cli_compare_without_matplotlib_names_the_extra(ws, tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('blocked for this test')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    proc = subprocess.run([str(BIN / "mazedsl"), "compare", "cartpole_ppo/sweep_lr", "--plot",
                           str(tmp_path / "c.png")], cwd=ws.root, capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 2
    assert "install the plot extra: pip install 'mazedsl[plot]'" in proc.stderr
    assert not (tmp_path / "c.png").exists()


def test_cli_compare_bad_inputs_do_not_crash(ws, tmp_path):
    root = tmp_path / "outputs"
    without_evals(ws.jobs[0], root / "exp" / "a")
    with_damaged_line(ws.jobs[1], root / "exp" / "b")
    with_failed_job(ws.sweep, root / "cartpole_ppo" / "sweep_bad")
    out = mazedsl("compare", "exp/a", "exp/b", "exp/a", cwd=tmp_path).stdout
    assert "no evaluation yet" in out and "damaged" in out and "the same run" in out
    assert out.count("(1 running)") == 1  # exp/a is still training: its row says so
    out = mazedsl("compare", "cartpole_ppo/sweep_bad", cwd=tmp_path).stdout
    assert out.count("(1 failed)") == 2 and "job_004: failed" in out and "algorithm.lr=0.01 " in out
    runs = json.loads(mazedsl("runs", "--json", cwd=tmp_path).stdout)
    sweep = next(r for r in runs if r.get("kind") == "sweep")
    assert sweep["n_failed"] == 1 and len(sweep["jobs"]) == 4 and sweep["status"] == "failed"
    assert not math.isnan(sweep["best_eval"])


def test_a_hydra_style_sweep_with_the_old_schema(ws, tmp_path):
    """mazedsl-run -m writes jobs 0, 1, ... with .hydra/overrides.yaml and an older sweep.json."""
    import shutil

    sweep = tmp_path / "conf_train" / "sweep_20261201-000000_abcd"
    for i, job in enumerate(ws.jobs[:2]):
        dest = sweep / str(i)
        shutil.copytree(job, dest)
        (dest / "overrides.yaml").unlink()
        (dest / ".hydra").mkdir()
        import yaml

        seed = yaml.safe_load((job / "config.yaml").read_text())["seed"]
        (dest / ".hydra" / "overrides.yaml").write_text(f"- algorithm.lr=0.001\n- seed={seed}\n")
    (sweep / "sweep.json").write_text(json.dumps({"sweep_dir": str(sweep), "jobs": [
        {"job": "0", "overrides": ["algorithm.lr=0.001", "seed=0"], "status": "finished", "best_eval": 1.0,
         "final_eval": 1.0, "steps": 2048, "error": None, "run_dir": str(sweep / "0")},
        {"job": "1", "overrides": ["algorithm.lr=0.001", "seed=1"], "status": "finished", "best_eval": 1.0,
         "final_eval": 1.0, "steps": 2048, "error": None, "run_dir": str(sweep / "1")}]}))
    jobs = sweep_jobs(sweep)
    assert [(j.name, j.params) for j in jobs] == [("0", {"algorithm.lr": "0.001", "seed": "0"}),
                                                  ("1", {"algorithm.lr": "0.001", "seed": "1"})]
    comparison = compare(["conf_train/sweep_20261201-000000_abcd"], tmp_path)
    assert len(comparison.groups) == 1 and comparison.groups[0].n == 2
    entries = list_entries(tmp_path)
    assert [e.path for e in entries] == [sweep] and entries[0].is_sweep


def test_a_sweep_in_progress_picks_up_new_jobs(ws, tmp_path):
    import shutil

    from mazedsl.compare import compare_paths

    sweep = tmp_path / "cartpole_ppo" / "sweep_live"
    shutil.copytree(ws.jobs[0], sweep / "job_000")
    comparison = compare_paths([(sweep / "job_000", "job_000")], sweep_dir=sweep, label_root=tmp_path)
    assert comparison.live  # no sweep.json yet: the sweep is still going
    assert comparison.refresh() is False
    shutil.copytree(ws.jobs[2], sweep / "job_001")
    assert comparison.refresh() is True
    assert [r.path.name for r in comparison.runs] == ["job_000", "job_001"]
    assert len(comparison.groups) == 2 and comparison.runs[1].label == "cartpole_ppo/sweep_live/job_001"
    shutil.copy(ws.sweep / "sweep.json", sweep / "sweep.json")
    assert not comparison.live


def test_cli_compare_of_an_experiments_folder_takes_all_its_runs(ws, tmp_path):
    """`mazedsl compare cartpole_ppo` (the experiment's folder under outputs, as `mazedsl runs
    cartpole_ppo` lists it): each run in it and each job of its sweeps, not an error."""
    root = tmp_path / "outputs"
    copy_run(ws.sweep, root / "cartpole_ppo" / "sweep_lr")
    lone = copy_run(ws.jobs[1], root / "cartpole_ppo" / "20261201-000000_abcdef")
    (root / "cartpole_ppo" / "notes").mkdir()  # a folder that is neither a run nor a sweep
    data = json.loads(mazedsl("compare", "cartpole_ppo", "--json", cwd=tmp_path).stdout)
    labels = [run["run"] for run in data["runs"]]
    assert labels == [f"cartpole_ppo/{lone.name}"] + [f"cartpole_ppo/sweep_lr/{j.name}" for j in ws.jobs]
    assert sum(g["n"] for g in data["groups"]) == 5
    # the path of the folder works the same; a run named beside it is kept once, with a note
    again = json.loads(mazedsl("compare", "outputs/cartpole_ppo", f"outputs/cartpole_ppo/{lone.name}",
                               "--json", cwd=tmp_path).stdout)
    assert [run["run"] for run in again["runs"]] == labels
    assert any("the same run" in note for note in again["notes"])
    # a folder holding no run at all is still the one-line run error
    (root / "empty_exp").mkdir()
    proc = mazedsl("compare", "empty_exp", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not a run directory" in proc.stderr


def test_cli_compare_help_names_the_forms_and_the_extra(ws):
    out = mazedsl("compare", "--help", cwd=ws.root).stdout
    for text in ("RUN|SWEEP", "'latest'", "EXPERIMENT:latest", "--plot", "mazedsl[plot]", "--x", "--band"):
        assert text in out, text


def test_tables_show_brackets_in_values_as_text(capsys):
    """A value such as a BC run's ``algorithm.episodes=[cartpole_ppo:latest]`` (or a run
    folder named ``[bold]x``) is printed as it is: rich would take it for markup and drop it."""
    from mazedsl.cli.output import print_table

    print_table("runs of [b]x", ["configuration", "[dim]col"],
                [["algorithm.episodes=[cartpole_ppo:latest]", "[bold]x[/bold]"], [None, "[64,64]"]])
    out = capsys.readouterr().out
    for text in ("runs of [b]x", "[dim]col", "algorithm.episodes=[cartpole_ppo:latest]",
                 "[bold]x[/bold]", "[64,64]"):
        assert text in out, (text, out)


def test_a_job_an_interrupted_sweep_never_started_is_not_run_not_failed(ws, tmp_path):
    import shutil

    sweep = tmp_path / "cartpole_ppo" / "sweep_cut"
    shutil.copytree(ws.sweep, sweep)
    doc = json.loads((sweep / "sweep.json").read_text())
    doc["jobs"].append({"job": "job_004", "run_dir": str(sweep / "job_004"), "status": "not run",
                        "overrides": ["algorithm.lr=0.01", "seed=0"], "params": {"algorithm.lr": 0.01, "seed": 0},
                        "error": "the sweep was interrupted before this job started"})
    (sweep / "sweep.json").write_text(json.dumps(doc))
    comparison = compare([str(sweep)], tmp_path)
    assert [(j.name, j.status, j.run_dir) for j in comparison.failed_jobs] == [("job_004", "not run", None)]
    assert [(g.label, g.n, g.n_failed) for g in comparison.groups] == [
        ("algorithm.lr=0.001", 2, 0), ("algorithm.lr=0.003", 2, 0), ("algorithm.lr=0.01", 0, 0)]
    assert "job_004: not run (the sweep was interrupted before this job started)" in comparison.all_notes()
