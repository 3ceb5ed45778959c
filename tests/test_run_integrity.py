"""Run-directory integrity: metrics after a crash and a resume, whole configs, one run per
folder, the training lock (crashed runs, a second trainer refused), pruning runs without a
checkpoint, damaged run files named in one line (CLI and TUI)."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mazedsl import PPO, Experiment, RunContext
from mazedsl.errors import CheckpointError, RunDirError
from mazedsl.run import iter_metrics
from mazedsl.run.directory import RunDirectory, check_new_run_dir, read_run_config
from mazedsl.run.files import MetricsWriter, end_partial_line, rewind_metrics_file
from mazedsl.run.listing import list_runs, prunable, read_run_info
from mazedsl.run.lock import RunLock, is_training, lock_holder, trainer_alive
from mazedsl.run.status import TrainingStatus
from mazedsl.spec import Runner

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CARTPOLE = str(ROOT / "experiments" / "cartpole_ppo.py")
A2C = str(ROOT / "experiments" / "cartpole_a2c.py")
TIMING = ("time", "steps_per_s")
EXP = Experiment(name="integrity", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1),
                 runner=Runner(n_envs=2), total_steps=512, eval_every_steps=128, eval_episodes=1,
                 log_every_steps=64, checkpoint_every_steps=128)


def _calls(func: object, name: str) -> bool:
    """Whether ``func``'s source calls ``name`` (the call sites context.py and the CLI add)."""
    try:
        return name in inspect.getsource(func)
    except (OSError, TypeError):
        return False


def _context_calls() -> dict[str, bool]:
    from mazedsl.cli import commands

    return {"rewind": _calls(RunContext.train, "rewind_metrics"),
            "rollouts": _calls(RunContext.rollout, "rollouts_path"),
            "show": _calls(commands.load_run_experiment, "read_run_config")}


CALLS = _context_calls()


def needs(call: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not CALLS[call], reason=f"until the {call!r} call site is added "
                              "(context.py / cli/commands.py)")


def mazedsl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.run([str(BIN / "mazedsl"), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=240)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The CLI's error line (exit status 2: bad input; never an internal error)."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "internal error" not in errors[0] and "Traceback" not in proc.stderr
    return errors[0]


def untimed(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in iter_metrics(run_dir / "metrics.jsonl")]


def keys(run_dir: Path) -> list[tuple[str, int]]:
    return [(r["phase"], r["step"]) for r in iter_metrics(run_dir / "metrics.jsonl")]


def every_line_parses(path: Path) -> bool:
    text = path.read_text()
    return text.endswith("\n") and all(isinstance(json.loads(line), dict) for line in text.splitlines())


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A small finished run (PPO on CartPole, 512 steps, evaluations every 128)."""
    run_dir = tmp_path_factory.mktemp("trained") / "outputs" / "integrity" / "20260101-000000_abc123"
    ctx = RunContext(EXP, run_dir=run_dir, silent=True)
    ctx.train()
    ctx.close()
    return run_dir


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A copy of the trained run, to damage."""
    copy = tmp_path / "outputs" / "integrity" / trained.name
    shutil.copytree(trained, copy)
    return copy


def write_records(path: Path, records: list[dict], tail: bytes = b"") -> None:
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records) + tail)


# -- 1. metrics.jsonl after a crash and a resume ---------------------------------------------------

def test_the_metrics_writer_never_glues_a_record_onto_a_partial_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_records(path, [{"phase": "train", "step": 1}], b'{"phase": "eval", "st')
    with MetricsWriter(path) as writer:
        writer.write({"phase": "train", "step": 2})
    assert [r["step"] for r in iter_metrics(path)] == [1, 2] and every_line_parses(path)
    write_records(path, [{"phase": "train", "step": 1}], b'{"phase": "eval", "step": 1}')  # no "\n"
    with MetricsWriter(path) as writer:
        writer.write({"phase": "train", "step": 2})
    assert keys(path.parent) == [("train", 1), ("eval", 1), ("train", 2)]
    path.write_bytes(b'{"cut at the very first line')
    end_partial_line(path)
    assert path.read_bytes() == b""


def test_rewind_drops_the_partial_line_and_what_a_resume_writes_again(tmp_path):
    path = tmp_path / "metrics.jsonl"
    records = [{"phase": "train", "step": 64}, {"phase": "eval", "step": 128},
               {"phase": "train", "step": 128}, {"phase": "eval", "step": 128}]
    later = [{"phase": "train", "step": 192}, {"phase": "eval", "step": 256}]
    write_records(path, records + later, b'{"phase": "train", "step": 3')
    assert rewind_metrics_file(path, 128) == 3
    assert keys(tmp_path) == [("train", 64), ("eval", 128), ("train", 128), ("eval", 128)]
    assert every_line_parses(path) and not list(tmp_path.glob(".*.tmp"))
    # a checkpoint at 128 taken before the evaluation at 128 (the closing one) did not count it
    assert rewind_metrics_file(path, 128, keep_eval_at_step=False) == 2
    assert keys(tmp_path) == [("train", 64), ("train", 128)]
    # a damaged line is kept as it is; a file with nothing to drop is left untouched
    path.write_bytes(b'{"phase": "train", "step": 64}\nnot json\n')
    before = path.stat().st_ino
    assert rewind_metrics_file(path, 128) == 0 and path.stat().st_ino == before
    assert rewind_metrics_file(tmp_path / "none.jsonl", 5) == 0


def test_rewind_follows_the_checkpoints_own_evaluation_step(tmp_path):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    write_records(run_dir / "metrics.jsonl",
                  [{"phase": "eval", "step": 128}, {"phase": "train", "step": 256}])
    rd = RunDirectory(run_dir)
    assert rd.rewind_metrics({"steps": 128, "last_eval_step": 128}) == 1  # evaluated, then saved
    assert rd.locked  # it rewinds under the run's training lock
    assert rd.rewind_metrics({"steps": 128, "last_eval_step": 64}) == 1  # saved before it
    assert keys(run_dir) == []
    rd.close()
    assert not rd.locked


def test_resuming_an_earlier_checkpoint_gives_the_uninterrupted_runs_metrics(tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    RunContext(EXP, run_dir=full, silent=True).train()
    first = RunContext(EXP, run_dir=part, silent=True)
    first.train(n_epochs=8)  # 8 rollouts of 16 x 2: evaluates at 256, then checkpoints
    first.close()
    saved = (part / "checkpoints" / "last.pt").read_bytes()
    RunContext.load(part, checkpoint="last", silent=True).train()  # on to 512
    # a crash right after the checkpoint at 256: its records went on, the last one cut short
    (part / "checkpoints" / "last.pt").write_bytes(saved)
    with open(part / "metrics.jsonl", "ab") as fh:
        fh.write(b'{"phase": "train", "step": 5')
    if not CALLS["rewind"]:  # what RunContext.train does on resume, once it calls it
        rd = RunDirectory(part)
        rd.rewind_metrics(rd.load_checkpoint("last")["counters"])
        rd.close()
    RunContext.load(part, checkpoint="last", silent=True).train()
    assert every_line_parses(part / "metrics.jsonl")
    assert untimed(part) == untimed(full)


@needs("rewind")
def test_cli_resume_of_a_half_written_metrics_file(run, tmp_path):
    data = (run / "metrics.jsonl").read_bytes()
    (run / "metrics.jsonl").write_bytes(data[:-50])
    proc = mazedsl("train", "--resume", str(run), "total_steps=768", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert every_line_parses(run / "metrics.jsonl")
    assert len(keys(run)) == len(set(keys(run))) and keys(run)[-1] == ("eval", 768)


# -- 2. a whole config.yaml, or none ----------------------------------------------------------------

@pytest.mark.parametrize("cut, problem", [
    (16, "incomplete (missing critic, algorithm, runner, seed, total_steps, eval_every_steps and "),
    (0, "empty (no field of an experiment)"),
])
def test_a_cut_config_yaml_is_refused_not_filled_with_defaults(run, cut, problem):
    config = run / "config.yaml"
    config.write_text("".join(config.read_text().splitlines(keepends=True)[:cut]))
    (run / "run.json").write_text("[1]")  # (so that repair_info reads the config)
    before = config.read_text()
    with pytest.raises(RunDirError) as err:
        read_run_config(run)
    assert str(err.value) == f"{config}: {problem}" + (
        "7 more); the run cannot be loaded" if cut else "; the run cannot be loaded")
    for load in (lambda: RunContext.load(run, silent=True),
                 lambda: RunContext.load(run, checkpoint="last", silent=True)):
        with pytest.raises(RunDirError, match="config.yaml: .*the run cannot be loaded"):
            load()
    with pytest.raises(RunDirError, match="config.yaml"):
        RunDirectory(run).repair_info()
    assert config.read_text() == before


def test_a_whole_config_loads_and_a_list_is_refused(run):
    assert read_run_config(run).total_steps == 512
    (run / "config.yaml").write_text("- algorithm\n")
    with pytest.raises(RunDirError, match="not a config .a YAML list, not a mapping."):
        read_run_config(run)


def test_cli_resume_of_a_cut_config_is_one_line_and_changes_nothing(run, tmp_path):
    config = run / "config.yaml"
    config.write_text("".join(config.read_text().splitlines(keepends=True)[:16]))
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    line = one_line_error(mazedsl("train", "--resume", str(run), "total_steps=1024", "--quiet", cwd=tmp_path))
    assert "config.yaml: incomplete (missing critic, algorithm" in line
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


@needs("show")
def test_show_of_a_cut_config_is_refused(run, tmp_path):
    (run / "config.yaml").write_text("")
    assert "config.yaml: empty" in one_line_error(mazedsl("show", str(run), cwd=tmp_path))


# -- 3. one run per folder --------------------------------------------------------------------------

def test_a_new_run_is_never_made_in_a_folder_that_holds_one(run, tmp_path):
    with pytest.raises(RunDirError) as err:
        RunDirectory.create(run)
    assert str(err.value).startswith(f"{run} already holds a run (integrity, finished); use "
                                     f"--resume {run} to continue it")
    empty = tmp_path / "empty"
    empty.mkdir()
    check_new_run_dir(empty)
    RunDirectory.create(empty)  # an empty folder is fine, and so is a missing one
    RunDirectory.create(tmp_path / "new" / "run")
    lone = tmp_path / "lone"
    (lone / "checkpoints").mkdir(parents=True)
    (lone / "checkpoints" / "last.pt").write_bytes(b"PK")
    with pytest.raises(RunDirError, match="already holds a run"):
        RunDirectory.create(lone)


def test_cli_train_into_another_runs_folder_is_refused(run, tmp_path):
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    line = one_line_error(mazedsl("train", A2C, "total_steps=500", "--run-dir", str(run), "--quiet",
                                  cwd=tmp_path))
    assert f"{run} already holds a run (integrity, finished); use --resume {run}" in line
    assert {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


# -- 4. the training lock ---------------------------------------------------------------------------

HOLD = ("import sys, time; from mazedsl.run.lock import RunLock; lock = RunLock(sys.argv[1]); "
        "lock.acquire(); print('held', flush=True); time.sleep(120)")


@pytest.fixture
def holder(run):
    """A process holding the run's training lock (as a training does)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_held_lock_refuses_a_second_trainer_naming_it(run, holder):
    assert is_training(run) and trainer_alive(run) is True
    assert lock_holder(run)["pid"] == holder.pid
    with pytest.raises(RunDirError) as err:
        RunLock(run).acquire(wait_s=0.1)
    assert f"this run is training in another process (pid {holder.pid} on host " in str(err.value)
    rd = RunDirectory(run)
    with pytest.raises(RunDirError, match=f"pid {holder.pid}"):
        with TrainingStatus(rd, rd.open_logger(), lambda: (0, None)):
            pass
    assert json.loads((run / "run.json").read_text())["status"] == "finished"  # untouched
    rd.close()
    holder.kill()
    holder.wait()  # the OS lets go of a dead process's lock
    assert not is_training(run)
    lock = RunLock(run)
    lock.acquire()
    assert lock.held and lock_holder(run)["pid"] == os.getpid()
    lock.release()
    assert lock_holder(run) == {} and not is_training(run)


def test_a_running_run_whose_trainer_died_is_crashed(run, holder):
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "running"}))
    assert read_run_info(run).status == "running"
    holder.kill()
    holder.wait()
    assert read_run_info(run).status == "crashed"
    assert [r.status for r in list_runs(run.parents[1])] == ["crashed"]
    assert json.loads((run / "run.json").read_text())["status"] == "running"  # readers never write
    (run / ".lock").write_text(json.dumps({"pid": 1, "host": "elsewhere.example"}))
    assert trainer_alive(run) is None and read_run_info(run).status == "running"  # cannot tell
    (run / ".lock").unlink()
    assert trainer_alive(run) is None and read_run_info(run).status == "running"  # before locks


def test_without_fcntl_nothing_is_locked(run, monkeypatch):
    import mazedsl.run.lock as lock_module

    monkeypatch.setattr(lock_module, "fcntl", None)
    lock = RunLock(run)
    lock.acquire()
    assert not lock.held and not is_training(run) and trainer_alive(run) is None


def test_a_killed_training_is_crashed_and_a_second_trainer_is_refused(tmp_path):
    run = tmp_path / "outputs" / "cartpole_ppo" / "20260101-000000_def456"
    proc = subprocess.Popen([str(BIN / "mazedsl"), "train", CARTPOLE, "total_steps=400000",
                             "checkpoint_every_steps=512", "eval_every_steps=100000",
                             "--run-dir", str(run), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not (run / "checkpoints" / "last.pt").is_file():
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.05)
        assert is_training(run) and lock_holder(run)["pid"] == proc.pid
        assert read_run_info(run).status == "running"
        second = mazedsl("train", "--resume", str(run), "--quiet", cwd=tmp_path)
        assert f"training in another process (pid {proc.pid} on host" in one_line_error(second)
        assert proc.poll() is None  # the first one trains on
    finally:
        proc.kill()
        proc.wait()
    assert not is_training(run)
    listed = mazedsl("runs", "--runs-root", str(tmp_path / "outputs"), "--json", cwd=tmp_path)
    runs = json.loads(listed.stdout)
    assert [r["status"] for r in runs] == ["crashed"]
    steps = json.loads((run / "run.json").read_text())["steps"]
    resumed = mazedsl("train", "--resume", str(run), f"total_steps={steps + 256}", "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert read_run_info(run).status == "finished" and not is_training(run)
    if CALLS["rewind"]:  # the records past the checkpoint went before the resume wrote them again
        assert every_line_parses(run / "metrics.jsonl") and len(keys(run)) == len(set(keys(run)))


# -- 5. runs without a checkpoint -------------------------------------------------------------------

def _without_checkpoints(run: Path, status: str) -> None:
    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").mkdir()
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": status, "steps": 64}))


@pytest.mark.parametrize("status", ["interrupted", "running"])
def test_runs_stopped_before_their_first_checkpoint_are_pruned(run, status):
    _without_checkpoints(run, status)
    if status == "running":  # its trainer died (kill -9): crashed
        lock = RunLock(run)
        lock.acquire()
        lock._fh.close()  # as a killed process: the lock goes, its holder stays written
        lock._fh = None
    [(info, why)] = prunable(list_runs(run.parents[1]))
    expected = "interrupted" if status == "interrupted" else "crashed"
    assert info.status == expected and why == f"{expected} before any checkpoint: nothing to resume from"


def test_runs_with_a_checkpoint_or_still_training_are_never_pruned(run, tmp_path):
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "interrupted"}))
    assert prunable(list_runs(run.parents[1])) == []  # it has checkpoints/last.pt
    rllib = tmp_path / "rllib" / "x" / "20260101-000000_000001"
    (rllib / "checkpoints" / "last").mkdir(parents=True)  # runner=rllib: checkpoint folders
    (rllib / "run.json").write_text(json.dumps({"status": "failed", "steps": 9}))
    assert prunable(list_runs(tmp_path / "rllib")) == []
    (rllib / "run.json").write_text(json.dumps({"status": "running", "steps": 9}))
    shutil.rmtree(rllib / "checkpoints" / "last")
    lock = RunLock(rllib)
    lock.acquire()  # training now, no checkpoint yet
    assert prunable(list_runs(tmp_path / "rllib")) == []
    (rllib / "run.json").write_text(json.dumps({"status": "interrupted", "steps": 9}))
    assert prunable(list_runs(tmp_path / "rllib")) == []  # being resumed right now
    lock.release()
    assert [why for _run, why in prunable(list_runs(tmp_path / "rllib"))] == [
        "interrupted before any checkpoint: nothing to resume from"]


def test_resuming_a_run_without_a_checkpoint_says_so(run, tmp_path):
    _without_checkpoints(run, "interrupted")
    with pytest.raises(CheckpointError) as err:
        RunDirectory(run).load_checkpoint("last")
    assert str(err.value) == (f"{run}: no checkpoint in this run (its training stopped before "
                              "writing the first one): nothing to load or resume from; train the "
                              "experiment anew (`mazedsl runs --prune` removes this run)")
    line = one_line_error(mazedsl("train", "--resume", str(run), "--quiet", cwd=tmp_path))
    assert "no checkpoint in this run" in line and "nothing to load or resume from" in line
    pruned = mazedsl("runs", "--prune", "--runs-root", str(tmp_path / "outputs"), cwd=tmp_path)
    assert pruned.returncode == 0 and not run.exists()


# -- 6. damaged run files ---------------------------------------------------------------------------

@pytest.mark.parametrize("content, problem", [
    ('{"observation": 3}', "its 'observation' space is not a space description (TypeError"),
    ('{"observation": {"type": "Discrete", "n": 2}}', "no 'action' space"),
    ("[1]", "a JSON list, not an object"),
])
def test_a_damaged_spaces_json_is_named(run, content, problem):
    (run / "spaces.json").write_text(content)
    with pytest.raises(RunDirError, match="spaces.json: damaged") as err:
        RunContext.load(run, silent=True).evaluate(1)
    assert problem in str(err.value)
    with pytest.raises(RunDirError, match="spaces.json: damaged"):
        RunContext.load(run, checkpoint="last", silent=True).train(total_steps=1024)


def test_cli_eval_and_resume_of_a_damaged_spaces_json(run, tmp_path):
    (run / "spaces.json").write_text('{"observation": 3}')
    for args in (["eval", str(run)], ["train", "--resume", str(run), "total_steps=1024"]):
        assert f"{run}/spaces.json: damaged" in one_line_error(mazedsl(*args, cwd=tmp_path))


def test_a_run_json_that_is_no_object_is_rebuilt_on_resume(run, tmp_path):
    (run / "run.json").write_text("[1]")
    assert RunDirectory(run).run_info() == {}
    with pytest.raises(RunDirError, match="run.json: damaged .a JSON list, not an object."):
        RunDirectory(run).read_json("run.json")
    proc = mazedsl("train", "--resume", str(run), "total_steps=768", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["steps"] == 768 and "repaired" in info


def test_a_folder_in_place_of_a_file_is_named(run, tmp_path):
    (run / "eval.json").mkdir()
    with pytest.raises(RunDirError) as err:
        RunContext.load(run, silent=True).evaluate(1)
    assert str(err.value) == f"{run}/eval.json: cannot write it (a folder is in its place; move it away)"
    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl").mkdir()
    with pytest.raises(RunDirError, match="metrics.jsonl: cannot (read|write) it .a folder is in its place"):
        RunContext.load(run, checkpoint="last", silent=True).train(total_steps=1024)
    from mazedsl.run import read_metrics

    with pytest.raises(RunDirError, match="metrics.jsonl: cannot read it"):
        read_metrics(run / "metrics.jsonl")
    line = one_line_error(mazedsl("eval", str(run), cwd=tmp_path))
    assert f"{run}/eval.json: cannot write it (a folder is in its place" in line


def test_a_file_in_place_of_the_rollouts_folder_is_named(run):
    (run / "rollouts").write_text("x")
    with pytest.raises(RunDirError, match="rollouts: a file is where the run keeps its recorded episodes"):
        RunDirectory(run).rollouts_path()
    if CALLS["rollouts"]:
        with pytest.raises(RunDirError, match="rollouts: a file is where"):
            RunContext.load(run, silent=True).rollout(1)


# -- the TUI: crashed and damaged runs can be resumed ----------------------------------------------

def _tui_app(runs_root: Path):
    from mazedsl_tui.app import MazeApp
    from mazedsl_tui.demo import DemoLibrary

    return MazeApp(runs_root.parent / "experiments", runs_root, poll_interval=0.05, library=DemoLibrary())


def _summary(app) -> str:
    """The run screen's summary as drawn ("" until it is there)."""
    from textual.css.query import NoMatches
    from textual.widgets import Static

    from tests.tui_helpers import widget_text

    try:
        return widget_text(app.screen.query_one("#run-summary", Static))
    except NoMatches:
        return ""


@pytest.mark.parametrize("damage", ["bad json", "list", "crashed"])
def test_tui_shows_crashed_and_damaged_runs_and_offers_to_resume_them(run, damage):
    import asyncio

    from mazedsl_tui.screens.resume import ResumeScreen
    from mazedsl_tui.screens.run_detail import RunDetailScreen
    from tests.tui_helpers import wait_for

    if damage == "crashed":
        info = json.loads((run / "run.json").read_text())
        (run / "run.json").write_text(json.dumps({**info, "status": "running"}))
        lock = RunLock(run)
        lock.acquire()
        lock._fh.close()  # as a killed trainer leaves it
        lock._fh = None
        expected = "crashed"
    else:
        (run / "run.json").write_text('{"status": "runn' if damage == "bad json" else "[1]")
        expected = "damaged"

    async def check() -> None:
        app = _tui_app(run.parents[1])
        async with app.run_test(size=(120, 36)) as pilot:
            assert app.library.read_run_info(run).status == expected
            app.open_run(run)
            await wait_for(pilot, lambda: isinstance(app.screen, RunDetailScreen)
                           and expected in _summary(app))
            summary = _summary(app)
            if damage == "crashed":
                assert "its training process died" in summary
            else:
                assert "run.json damaged (" in summary and "no run.json here" not in summary
            notes: list[str] = []
            app.notify = lambda message, **_: notes.append(str(message))  # type: ignore[method-assign]
            app.stop_training(run)
            assert notes == ["It is not training: nothing to stop."]
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ResumeScreen) and app.screen.is_mounted)
            assert app.screen.error is None

    asyncio.run(check())


def test_tui_stop_names_the_process_training_a_run_elsewhere(run, holder):
    from mazedsl_tui.demo import DemoLibrary

    assert DemoLibrary().training_holder(run).startswith(f"pid {holder.pid} on host ")
    holder.kill()
    holder.wait()
    assert DemoLibrary().training_holder(run) is None


def test_tui_reads_a_folder_for_metrics_and_a_list_for_eval_json_as_nothing(run):
    from mazedsl_tui.demo import DemoLibrary
    from mazedsl_tui.screens.run_detail import _read_json

    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl").mkdir()
    assert DemoLibrary().read_metrics(run / "metrics.jsonl", 7) == ([], 7)
    (run / "eval.json").write_text("[1]")
    assert _read_json(run / "eval.json") is None
