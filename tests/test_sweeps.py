"""mazedsl.run.sweeps: job results, swept keys, groups with mean ± std across seeds."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from mazedsl.run.sweeps import (SweepResult, collect_job, group_jobs, job_name, params_of,
                                swept_keys)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _job_dir(tmp_path, name, status="finished", best=None, evals=(), steps=100, error=None):
    run_dir = tmp_path / name
    run_dir.mkdir()
    (run_dir / "run.json").write_text(json.dumps({"status": status, "best_eval": best, "steps": steps,
                                                  "error": error}))
    (run_dir / "metrics.jsonl").write_text("".join(
        json.dumps({"phase": "eval", "step": i, "time": 0.5 * i, "mean_return": r}) + "\n"
        for i, r in enumerate(evals, 1)))
    return run_dir


def test_collect_job_scores_only_finished_jobs(tmp_path):
    ok = collect_job(0, _job_dir(tmp_path, "job_000", best=30.0, evals=[10.0, 30.0, 20.0]),
                     ["algorithm.lr=1e-3", "seed=0"])
    assert (ok.job, ok.status, ok.final_eval, ok.best_eval, ok.steps, ok.wall_s) == (
        "job_000", "finished", 20.0, 30.0, 100, 1.5)
    assert ok.params == {"algorithm.lr": 0.001, "seed": 0} and ok.error is None
    created = collect_job(1, _job_dir(tmp_path, "job_001", status="created", evals=[5.0]), ["seed=1"])
    assert created.status == "failed" and created.final_eval is None and "status 'created'" in created.error
    crashed = collect_job(2, _job_dir(tmp_path, "job_002", best=9.0, evals=[9.0]), ["seed=2"],
                          error="error: boom", exit_status=1)
    assert (crashed.status, crashed.best_eval, crashed.error) == ("failed", None, "error: boom")
    assert collect_job(3, _job_dir(tmp_path, "job_003"), [], exit_status=130).status == "interrupted"
    assert job_name(7) == "job_007" and crashed.index == 2
    # a job's time is run.json's train_seconds (all sessions, to the end, as the run table
    # shows it) where recorded; the last metrics line is written before the run's end
    resumed = _job_dir(tmp_path, "job_006", best=30.0, evals=[10.0, 30.0])
    info = json.loads((resumed / "run.json").read_text())
    (resumed / "run.json").write_text(json.dumps({**info, "train_seconds": 12.25}))
    assert collect_job(6, resumed, []).wall_s == 12.25
    # an interrupted job reports its evaluations and steps so far (it is still never scored)
    cut = collect_job(4, _job_dir(tmp_path, "job_004", status="interrupted", best=246.5,
                                  evals=[100.0, 246.5, 200.0], steps=15104), ["seed=0"], exit_status=130)
    assert (cut.status, cut.best_eval, cut.final_eval, cut.steps, cut.error) == (
        "interrupted", 246.5, 200.0, 15104, None)
    assert group_jobs([cut])[0].best_eval_mean is None
    early = collect_job(5, tmp_path / "job_005", ["seed=1"], exit_status=130)
    assert (early.status, early.best_eval, early.error) == (
        "interrupted", None, "interrupted before it made its run directory")


def test_swept_keys_from_sweep_syntax_and_from_varying_values():
    jobs = [["algorithm=a2c", "seed=0", "total_steps=256"], ["algorithm=ppo", "seed=0", "total_steps=256"]]
    assert swept_keys(["algorithm=a2c,ppo", "seed=0", "total_steps=256"], jobs) == ["algorithm"]
    assert swept_keys([], [["algorithm.lr=0.1", "x=1"], ["algorithm.lr=0.2", "x=1"]]) == ["algorithm.lr"]
    assert params_of(["algorithm.lr=3e-4", "algorithm=a2c", "+env.kwargs.a=true"]) == {
        "algorithm.lr": 0.0003, "algorithm": "a2c", "env.kwargs.a": True}


def test_groups_have_mean_and_std_over_finished_seeds(tmp_path):
    jobs = [collect_job(i, _job_dir(tmp_path, job_name(i), status=st, best=b, evals=[b] if b else []),
                        [f"algorithm.lr={lr}", f"seed={seed}"])
            for i, (lr, seed, st, b) in enumerate([("0.1", 0, "finished", 10.0), ("0.1", 1, "finished", 20.0),
                                                    ("0.1", 2, "failed", None), ("0.2", 0, "finished", 50.0),
                                                    ("0.3", 0, "failed", None)])]
    groups = group_jobs(jobs)
    assert [g.label for g in groups] == ["algorithm.lr=0.2", "algorithm.lr=0.1", "algorithm.lr=0.3"]
    mid = groups[1]
    assert (mid.n, mid.n_failed, mid.jobs) == (3, 1, ["job_000", "job_001", "job_002"])
    assert mid.best_eval_mean == 15.0 and mid.best_eval_std == pytest.approx(7.0710678)
    assert mid.final_eval_mean == 15.0 and mid.params == {"algorithm.lr": 0.1}
    assert (groups[0].best_eval_std, groups[2].best_eval_mean, groups[2].n_failed) == (0.0, None, 1)
    doc = SweepResult(tmp_path, jobs, experiment="x", command=["mazedsl"]).to_json()
    assert doc["schema"] == 1 and doc["kind"] == "sweep" and len(doc["groups"]) == 3
    assert SweepResult(tmp_path, jobs).seeds_vary


def test_a_group_counts_only_failed_jobs_as_failed(tmp_path):
    """Interrupted jobs and jobs an interrupted sweep never started are not failures."""
    from mazedsl.sweep import not_run_job

    specs = [(0, "finished", 10.0), (1, "interrupted", 30.0), (2, "failed", None)]
    jobs = [collect_job(i, _job_dir(tmp_path, job_name(i), status=st, best=b, evals=[b] if b else []),
                        ["algorithm.lr=0.1", f"seed={seed}"])
            for i, (seed, st, b) in enumerate(specs)]
    jobs.append(not_run_job(3, tmp_path / job_name(3), ["algorithm.lr=0.1", "seed=3"]))
    (group,) = group_jobs(jobs)
    assert (group.n, group.n_failed, group.best_eval_mean) == (4, 1, 10.0)


# -- dict overrides (RunContext.sweep passes them to its job processes as strings) -----------------

def test_override_strings_turn_dicts_into_the_same_overrides():
    from mazedsl import A2C
    from mazedsl.config import apply_overrides, diff, load_experiment
    from mazedsl.errors import ConfigError
    from mazedsl.sweep import override_strings

    assert override_strings({"total_steps": 512}) == ["++total_steps=512"]
    given = ["eval_episodes=1", {"total_steps": 512, "algorithm": A2C(lr=1e-3),
                                 "env.kwargs": {"note": "it's c:\\dir\\"}, "algorithm.max_grad_norm": 0.25}]
    strings = override_strings(given)
    assert strings[:3] == ["eval_episodes=1", "++total_steps=512",
                           "++algorithm={_target_:'mazedsl.rl.algos.a2c.A2C'," + strings[2].split(",", 1)[1]]
    assert "lr:0.001" in strings[2] and strings[3] == "++env.kwargs={note:'it\\'s c:\\dir\\\\'}"
    base = load_experiment(str(ROOT / "experiments" / "cartpole_ppo.py"))
    from_dicts, from_strings = apply_overrides(base, given), apply_overrides(base, strings)
    assert diff(from_dicts, from_strings) == []
    assert (from_strings.total_steps, from_strings.algorithm.lr, from_strings.env.kwargs["note"]) == (
        512, 1e-3, "it's c:\\dir\\")
    with pytest.raises(ConfigError, match=r"cannot be passed to the sweep's job processes"):
        override_strings({"env.kwargs": {"a:b": 1}})  # Hydra would read it back as {a: "b:1"}


# -- Ctrl-C during a sweep ------------------------------------------------------------------------

FAKE_JOB = """
import json, os, pathlib, signal, sys, time
run_dir = pathlib.Path(sys.argv[sys.argv.index("--run-dir") + 1])
run_dir.mkdir(parents=True)
stop = []
signal.signal(signal.SIGINT, lambda *_: stop.append(1))
(run_dir / "run.json").write_text(json.dumps({"status": "running", "steps": 0, "best_eval": None}))
(run_dir / "started").write_text(json.dumps([os.getpgid(0), os.getppid()]))
deadline = time.time() + 60
while not stop and time.time() < deadline:
    time.sleep(0.01)
(run_dir / "metrics.jsonl").write_text(json.dumps({"phase": "eval", "step": 15104, "time": 1.0,
                                                   "mean_return": 200.0}) + "\\n")
(run_dir / "run.json").write_text(json.dumps({"status": "interrupted", "steps": 15104, "best_eval": 246.5}))
sys.exit(130)
"""


@pytest.fixture
def sigint_deliverable():
    """SIGINT as a terminal delivers it: not blocked in this thread, Python's handler set.
    A test worker can inherit it blocked or ignored from whatever ran before it in the same
    process (seen once in a full `make test` run), and then a test of Ctrl-C would wait for
    a signal that never arrives; the child processes these tests start inherit both."""
    import signal

    blocked = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _when(condition, timeout=120.0):
    import time

    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_an_interrupted_sweep_writes_what_ran_and_lists_the_rest_as_not_run(sigint_deliverable, tmp_path, monkeypatch):
    """Ctrl-C reaches the sweep (not its jobs, which run in their own process groups): the
    sweep passes it on to the running job, starts no other, writes sweep.json and raises."""
    import os
    import signal
    import sys
    import threading

    from mazedsl.sweep import SweepInterrupted, run_sweep

    job = tmp_path / "fake_job.py"
    job.write_text(FAKE_JOB)
    python = tmp_path / "python"  # `python -m mazedsl train ...` runs the fake job instead
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{job}" "$@"\n')
    python.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(python))
    sweep_dir = tmp_path / "sweep"
    started = sweep_dir / "job_000" / "started"
    handler = signal.getsignal(signal.SIGINT)

    def interrupt() -> None:
        _when(started.is_file)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(SweepInterrupted) as caught:
        run_sweep(str(ROOT / "experiments" / "cartpole_ppo.py"), ["algorithm.lr=3e-4,1e-3,3e-3"],
                  overrides={"total_steps": 100000}, sweep_dir=sweep_dir, quiet=True)
    assert isinstance(caught.value, KeyboardInterrupt) and signal.getsignal(signal.SIGINT) is handler
    group, parent = json.loads(started.read_text())
    assert parent == os.getpid() and group != os.getpgid(0)  # its own process group
    result = caught.value.result
    assert [(j.job, j.status, j.best_eval, j.final_eval, j.steps) for j in result.jobs] == [
        ("job_000", "interrupted", 246.5, 200.0, 15104),
        ("job_001", "not run", None, None, 0), ("job_002", "not run", None, None, 0)]
    assert [j.params for j in result.jobs] == [{"algorithm.lr": v} for v in (0.0003, 0.001, 0.003)]
    assert not (sweep_dir / "job_001").exists() and not list(sweep_dir.glob("*.tmp*"))
    doc = json.loads((sweep_dir / "sweep.json").read_text())
    assert doc == json.loads(json.dumps(result.to_json()))
    assert [(j["status"], j["best_eval"], j["error"]) for j in doc["jobs"]] == [
        ("interrupted", 246.5, None), ("not run", None, "the sweep was interrupted before this job started"),
        ("not run", None, "the sweep was interrupted before this job started")]


def test_an_interrupted_multirun_summary(tmp_path, capsys):
    """mazedsl-run -m: Hydra calls no callback on Ctrl-C, so mazedsl-run asks for the summary:
    the job that ran when interrupted with its evaluations, the rest of the sweep not run."""
    import signal

    from omegaconf import OmegaConf

    from mazedsl.cli import hydra_callbacks

    sweep = tmp_path / "sweep"
    sweep.mkdir()
    fixed = "total_steps=256"
    for index, (seed, status, best) in enumerate([(0, "finished", 30.0), (1, "running", 12.5)]):
        run_dir = _job_dir(sweep, job_name(index), status=status, best=best, evals=[best],
                           steps=256 if status == "finished" else 128)
        (run_dir / ".hydra").mkdir()
        (run_dir / ".hydra" / "overrides.yaml").write_text(f"- algorithm.lr=0.0003\n- seed={seed}\n- {fixed}\n")
    config = OmegaConf.create({"name": "conf_train", "hydra": {
        "sweep": {"dir": str(sweep)}, "overrides": {"task": ["algorithm.lr=3e-4,1e-3", "seed=0,1", fixed]},
        "sweeper": {"_target_": hydra_callbacks.BASIC_SWEEPER, "params": None}}})
    assert hydra_callbacks.summarize_interrupted() is False  # no multirun under way
    hydra_callbacks.SweepSummary().on_multirun_start(config)
    handler = signal.getsignal(signal.SIGINT)
    assert hydra_callbacks.summarize_interrupted() is True
    assert signal.getsignal(signal.SIGINT) is handler and hydra_callbacks._ACTIVE is None
    doc = json.loads((sweep / "sweep.json").read_text())
    assert [(j["job"], j["status"], j["params"], j["best_eval"], j["steps"]) for j in doc["jobs"]] == [
        ("job_000", "finished", {"algorithm.lr": 0.0003, "seed": 0}, 30.0, 256),
        ("job_001", "interrupted", {"algorithm.lr": 0.0003, "seed": 1}, 12.5, 128),
        ("job_002", "not run", {"algorithm.lr": 0.001, "seed": 0}, None, 0),
        ("job_003", "not run", {"algorithm.lr": 0.001, "seed": 1}, None, 0)]
    out = capsys.readouterr().out
    assert "(4 jobs, 0 failed, 1 interrupted, 2 not run)" in out and out.count("not run") >= 3


# -- the command lines, interrupted ----------------------------------------------------------------

def _interrupt_after_first_eval(args, cwd, pattern):
    """Start a sweep command, SIGINT it (the sweep process alone) once its first job has
    evaluated; returns (process, its stdout, its stderr)."""
    import signal
    import subprocess

    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "220"})
    try:
        _when(lambda: any('"eval"' in p.read_text() for p in cwd.glob(pattern)) or proc.poll() is not None)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc, out, err


def _check_interrupted(doc, first_run_dir):
    info = json.loads((first_run_dir / "run.json").read_text())
    (first,) = [j for j in doc["jobs"] if j["job"] == "job_000"]
    assert info["status"] == "interrupted" and info["best_eval"] is not None and info["steps"] > 0
    assert (first["status"], first["best_eval"], first["steps"]) == ("interrupted", info["best_eval"], info["steps"])
    assert [(j["job"], j["status"]) for j in doc["jobs"] if j["job"] != "job_000"] == [("job_001", "not run")]


def test_cli_sweep_interrupted_exits_130_with_the_table_and_sweep_json(sigint_deliverable, tmp_path):
    proc, out, err = _interrupt_after_first_eval(
        [str(BIN / "mazedsl"), "train", str(ROOT / "experiments" / "cartpole_ppo.py"), "total_steps=100000",
         "eval_every_steps=256", "eval_episodes=1", "target_return=null", "name=swint",
         "--sweep", "algorithm.lr=3e-4,1e-3"], tmp_path, "outputs/swint/sweep_*/job_000/metrics.jsonl")
    assert proc.returncode == 130, (out, err)
    (sweep_json,) = tmp_path.glob("outputs/swint/sweep_*/sweep.json")
    doc = json.loads(sweep_json.read_text())
    _check_interrupted(doc, sweep_json.parent / "job_000")
    best = doc["jobs"][0]["best_eval"]
    assert f"[1/2] algorithm.lr=0.0003: interrupted, best eval {best} at {doc['jobs'][0]['steps']} steps" in out
    assert "[2/2] algorithm.lr=0.001: not run" in out and "(2 jobs, 0 failed, 1 interrupted, 1 not run)" in out
    assert "best eval None" not in out and "error: interrupted" in err
    assert not (sweep_json.parent / "job_001").exists()


def test_hydra_multirun_interrupted_exits_130_with_the_table_and_sweep_json(sigint_deliverable, tmp_path):
    proc, out, err = _interrupt_after_first_eval(
        [str(BIN / "mazedsl-run"), "-m", "algorithm.lr=3e-4,1e-3", "total_steps=100000", "eval_every_steps=256",
         "eval_episodes=1", "target_return=null"], tmp_path, "outputs/conf_train/sweep_*/job_000/metrics.jsonl")
    assert proc.returncode == 130, (out, err)
    (sweep_json,) = tmp_path.glob("outputs/conf_train/sweep_*/sweep.json")
    doc = json.loads(sweep_json.read_text())
    _check_interrupted(doc, sweep_json.parent / "job_000")
    assert "(2 jobs, 0 failed, 1 interrupted, 1 not run)" in out
