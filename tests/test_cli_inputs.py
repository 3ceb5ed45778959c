"""Bad command-line input: counts, flags that would do nothing, RUN and EXPERIMENT names that
name the wrong thing, paths that cannot be written, a refused resume. Each is one line and
exit status 2, with nothing written.

``mazedsl.cli.main.main`` runs in this process (no torch import for most of them); its exit
status is what the ``mazedsl`` command exits with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mazedsl.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
CARTPOLE = str(ROOT / "experiments" / "cartpole_ppo.py")


def status(args: list[str]) -> int:
    """``mazedsl ARGS``'s exit status (argparse's own errors exit through SystemExit)."""
    try:
        return main(args)
    except SystemExit as stop:
        return int(stop.code or 0)


def error_lines(capsys) -> list[str]:
    return [ln for ln in capsys.readouterr().err.splitlines() if "error" in ln]


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def fake_run(root: Path, name: str, config: str | None = "seed: 0\n", returns=(10.0,)) -> Path:
    run = root / "outputs" / "exp" / name
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"experiment": "exp", "status": "finished", "steps": 64}))
    (run / "metrics.jsonl").write_text("".join(
        json.dumps({"phase": "eval", "step": 32 * (i + 1), "time": 1.0, "mean_return": r}) + "\n"
        for i, r in enumerate(returns)))
    if config is not None:
        (run / "config.yaml").write_text(config)
    return run


@pytest.mark.parametrize("args, message", [
    (["rollout", "r", "--seed", "-1"], "argument --seed: needs a value >= 0"),
    (["rollout", "r", "--episodes", "0"], "argument --episodes: needs a value >= 1"),
    (["eval", "r", "--episodes", "-2"], "argument --episodes: needs a value >= 1"),
    (["train", CARTPOLE, "--seeds", "-1"], "argument --seeds: needs a value >= 1"),
    (["train", CARTPOLE, "--seeds", "0"], "argument --seeds: needs a value >= 1"),
    (["train", CARTPOLE, "--sweep", "seed=0,1", "--jobs", "0"], "argument --jobs: needs a value >= 1"),
    (["train", CARTPOLE, "--seeds", "2", "--jobs", "-3"], "argument --jobs: needs a value >= 1"),
    (["rollout", "r", "--seed", str(2**64 - 1), "--episodes", "2"], "must stay below 2**64"),
])
def test_counts_out_of_range_are_refused_before_anything_runs(tmp_path, monkeypatch, capsys, args,
                                                              message):
    monkeypatch.chdir(tmp_path)
    assert status(args) == 2
    errors = error_lines(capsys)
    assert len(errors) == 1 and message in errors[0], errors
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("args, message", [
    (["train", "--resume", "r", "--sweep", "seed=0,1"], "--sweep does not go with it"),
    (["train", "--resume", "r", "--seeds", "2"], "--seeds does not go with it"),
    (["train", "--resume", "r", "--run-dir", "elsewhere"], "--run-dir does not go with it"),
    (["train", "--resume", "r", "--jobs", "2"], "--jobs does not go with it"),
    (["train", CARTPOLE, "--sweep", "seed=0,1", "--run-dir", "d"], "--run-dir names one run's"),
    (["train", CARTPOLE, "--seeds", "2", "--run-dir", "d"], "choose where with output_dir=DIR"),
    (["train", CARTPOLE, "--jobs", "2"], "--jobs N runs sweep jobs in parallel"),
    (["compare", "r", "--band", "std"], "--band shapes the picture's band; it goes with --plot"),
    (["compare", "r", "--x", "time"], "--x sets the curves' x axis; it goes with --plot FILE or --json"),
])
def test_flags_that_would_do_nothing_are_refused(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert status(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1, err
    assert files_under(tmp_path) == []


def test_refusals_name_the_flag_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert status(["train", "--resume", "r", "--seeds", "2"]) == 2
    assert capsys.readouterr().err == ("error: --resume RUN continues one recorded run in its own "
                                       "directory; --seeds does not go with it\n")


@pytest.mark.parametrize("args", [["eval", ":latest"], ["rollout", ":latest"], ["show", ":latest"],
                                  ["train", "--resume", ":latest"], ["compare", ":latest"]])
def test_colon_latest_names_no_experiment(tmp_path, monkeypatch, capsys, args):
    fake_run(tmp_path, "r1")
    monkeypatch.chdir(tmp_path)
    assert status(args) == 2
    assert capsys.readouterr().err == (
        "error: ':latest' names no experiment: give EXPERIMENT:latest (e.g. cartpole_ppo:latest) "
        "or latest (the newest run of any experiment)\n")


def test_show_says_a_run_has_no_config_and_a_file_name_is_a_directory(tmp_path, monkeypatch, capsys):
    run = fake_run(tmp_path, "r1", config=None)
    (tmp_path / "x.py").mkdir()
    monkeypatch.chdir(tmp_path)
    for ref in ("exp/r1", str(run)):
        assert status(["show", ref]) == 2
        assert capsys.readouterr().err == (f"error: {Path('outputs/exp/r1') if ref == 'exp/r1' else run}:"
                                           " a run directory without config.yaml (its config is "
                                           "lost): nothing to load its config from\n")
    for args in (["show", "x.py"], ["diff", "x.py", CARTPOLE], ["train", "x.py"],
                 ["train", "x.py:experiment"]):
        assert status(args) == 2
        assert capsys.readouterr().err == "error: x.py: is a directory, not an experiment file\n"
    assert sorted(p.name for p in (tmp_path / "outputs" / "exp").iterdir()) == ["r1"]


def test_an_experiments_folder_given_for_a_run_names_its_newest_run(tmp_path, monkeypatch, capsys):
    fake_run(tmp_path, "20260101-000000_aaaaaa")
    fake_run(tmp_path, "20260102-000000_bbbbbb")
    monkeypatch.chdir(tmp_path)
    hint = ("error: outputs/exp: not a run directory (no run.json); it holds 2 runs: name one, e.g. "
            "outputs/exp/20260102-000000_bbbbbb or exp:latest\n")
    for args in (["show", "outputs/exp"], ["diff", "outputs/exp", CARTPOLE], ["eval", "outputs/exp"],
                 ["rollout", "outputs/exp"], ["train", "--resume", "outputs/exp"]):
        assert status(args) == 2, args
        assert capsys.readouterr().err == hint, args
    from mazedsl.run.listing import resolve_run

    assert resolve_run("exp:latest", "outputs") == Path("outputs/exp/20260102-000000_bbbbbb")


def test_a_sweep_whose_directory_cannot_be_made_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "afile").write_text("")
    monkeypatch.chdir(tmp_path)
    assert status(["train", CARTPOLE, "--sweep", "seed=0,1", "total_steps=64",
                   f"output_dir={tmp_path / 'afile' / 'x'}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'afile' / 'x' / 'cartpole_ppo'}/sweep_")
    assert "cannot create the sweep directory (Not a directory)" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"seeds": -1}, "seeds: needs a number N >= 1"), ({"seeds": 0}, "seeds: needs a number N >= 1"),
    ({"jobs": 0}, "jobs: needs a number N >= 1"), ({"seeds": 2, "jobs": True}, "jobs: needs"),
])
def test_run_sweep_refuses_counts_below_one(tmp_path, monkeypatch, kwargs, message):
    from mazedsl.errors import ConfigError
    from mazedsl.sweep import run_sweep

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        run_sweep(CARTPOLE, overrides=["total_steps=64"], **kwargs)
    assert files_under(tmp_path) == []


def test_plot_into_a_directory_is_one_line(tmp_path, monkeypatch, capsys):
    fake_run(tmp_path, "r1")
    (tmp_path / "d.png").mkdir()
    monkeypatch.chdir(tmp_path)
    assert status(["compare", "exp/r1", "--plot", "d.png"]) == 2
    assert capsys.readouterr().err == ("error: d.png: is a directory; give a file name for the "
                                       "picture (e.g. d.png/curves.png)\n")


def test_compare_notes_a_missing_or_unreadable_config(tmp_path, monkeypatch, capsys):
    fake_run(tmp_path, "good", config="seed: 0\nalgorithm:\n  lr: 0.001\n")
    fake_run(tmp_path, "none", config=None)
    fake_run(tmp_path, "bad", config=": [\n")
    monkeypatch.chdir(tmp_path)
    assert status(["compare", "exp/good", "exp/none", "exp/bad"]) == 0
    out = capsys.readouterr().out
    assert ("note: exp/none: no config.yaml; shown as a configuration of its own, its config keys "
            "not compared") in out
    assert "note: exp/bad: config.yaml unreadable (did not find expected key at line 1)" in out
    assert "algorithm.lr" not in out  # a run without a config makes no key differ for the others
    assert "no config differences" not in out  # only one run has a config to compare


def test_an_exception_in_an_experiment_file_is_exit_2_naming_file_and_line(tmp_path, monkeypatch,
                                                                           capsys):
    (tmp_path / "boom.py").write_text('x = 1\nraise RuntimeError("boom")\n')
    monkeypatch.chdir(tmp_path)
    assert status(["train", "boom.py"]) == 2
    assert capsys.readouterr().err == "error: boom.py:2: running it failed: RuntimeError: boom\n"
    assert files_under(tmp_path) == ["boom.py"]


def test_a_refused_resume_leaves_the_run_as_it_was(tmp_path, monkeypatch, capsys):
    from mazedsl import PPO, Experiment, RunContext
    from mazedsl.spec import Runner

    exp = Experiment(name="b", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1),
                     runner=Runner(n_envs=2), total_steps=64, eval_every_steps=0, eval_episodes=1)
    run = tmp_path / "b"
    RunContext(exp, run_dir=run, silent=True).train()
    (run / "checkpoints" / "last.pt").unlink()
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != ".lock"}
    monkeypatch.chdir(tmp_path)
    assert status(["train", "--resume", str(run), "total_steps=5000"]) == 2
    assert capsys.readouterr().err == (f"error: {run / 'checkpoints' / 'last.pt'}: no 'last' "
                                       "checkpoint in this run; 'best' exists\n")
    after = {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == before  # config.yaml, overrides.yaml and run.json keep their budget


@pytest.mark.parametrize("sweep, message", [
    ("algorithm=dqn,sac", "error: algorithm: sac needs a Box action space"),
    ("algorithm=ppo,bc", "algorithm.episodes"),
])
def test_a_sweep_point_the_algorithm_cannot_take_is_refused_before_any_job(
        tmp_path, monkeypatch, capsys, sweep, message):
    """As mazedsl-run -m does: SAC on CartPole's discrete actions, or BC without recorded
    episodes, is one line and exit 2 before the first job trains; nothing is written."""
    monkeypatch.chdir(tmp_path)
    assert status(["train", CARTPOLE, "--sweep", sweep, "total_steps=64"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err, err
    assert files_under(tmp_path) == []


def test_run_context_sweep_refuses_a_bad_point_before_any_job(tmp_path, monkeypatch):
    from mazedsl import RunContext
    from mazedsl.errors import MazeError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(MazeError, match="sac needs a Box action space"):
        RunContext.sweep(CARTPOLE, ["algorithm=sac,dqn"], overrides={"total_steps": 64})
    assert files_under(tmp_path) == []


def test_tui_with_an_experiments_folder_that_is_not_there_is_one_line(tmp_path, capsys):
    """`mazedsl tui --experiments nosuch` (a typo): refused before the UI opens, where it said
    "No experiment files in nosuch"."""
    assert status(["tui", "--experiments", str(tmp_path / "nosuch")]) == 2
    assert error_lines(capsys) == [f"error: --experiments: {str(tmp_path / 'nosuch')!r} is not a folder"]
