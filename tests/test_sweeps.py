"""mazedsl.run.sweeps: job results, swept keys, groups with mean ± std across seeds."""

from __future__ import annotations

import json

import pytest

from mazedsl.run.sweeps import (SweepResult, collect_job, group_jobs, job_name, params_of,
                                swept_keys)


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
