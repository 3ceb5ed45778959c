"""Robustness: signals, resume, SIGKILL, bad checkpoints, unwritable dirs, unsafe targets,
random inputs to the config loader."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mazedsl import Experiment, MazeError, RunContext
from mazedsl.errors import CheckpointError, RunDirError, TrainingError, UnsafeTargetError
from mazedsl.run import iter_metrics
from mazedsl.spec import GymEnv, Runner
from mazedsl import PPO

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
LONG = ["total_steps=60000", "eval_every_steps=4096", "eval_episodes=2", "runner.n_envs=4",
        "log_every_steps=512", "checkpoint_every_steps=1024", "algorithm.n_steps=32",
        "algorithm.batch_size=128", "algorithm.n_epochs=4"]
TIMING = ("time", "steps_per_s")


def untimed(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in iter_metrics(run_dir / "metrics.jsonl")]


def start_training(run_dir: Path, extra: list[str] = ()) -> subprocess.Popen:
    cmd = [str(BIN / "mazedsl"), "train", str(ROOT / "experiments" / "cartpole_ppo.py"), *LONG, *extra,
           "--run-dir", str(run_dir), "--quiet"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if path.is_file() and path.read_text().count("\n") >= n:
            return
        if proc.poll() is not None:
            raise AssertionError(f"training ended early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("no metrics in time")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_checkpoints_and_resume_matches_uninterrupted(tmp_path, sig):
    # the signal comes after 3 of the 12 metrics lines of a 6,144-step budget, while it trains
    budget = ["total_steps=6144"]
    run = tmp_path / "run"
    proc = start_training(run, budget)
    wait_for_lines(run / "metrics.jsonl", 3, proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "interrupted" and 0 < info["steps"] < 6144
    assert (run / "checkpoints" / "last.pt").is_file()

    resumed = subprocess.run([str(BIN / "mazedsl"), "train", "--resume", str(run), "--quiet"],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["steps"] == 6144

    ref = tmp_path / "ref"  # the same run, uninterrupted
    code = ("import sys; from mazedsl import RunContext; "
            "RunContext(sys.argv[1], overrides=sys.argv[3:], run_dir=sys.argv[2], silent=True).train()")
    subprocess.run([sys.executable, "-c", code, str(ROOT / "experiments" / "cartpole_ppo.py"), str(ref),
                    *LONG, *budget], check=True, capture_output=True)
    assert untimed(run) == untimed(ref)


def test_sigkill_leaves_last_checkpoint_loadable(tmp_path):
    run = tmp_path / "run"
    proc = start_training(run)
    deadline = time.time() + 120
    while not (run / "checkpoints" / "last.pt").is_file():
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.02)
    time.sleep(0.3)
    proc.kill()
    proc.wait()
    ctx = RunContext.load(run, checkpoint="last")  # a kill mid-write leaves at most a .tmp beside it
    assert ctx.compute_action(np.zeros(4, dtype=np.float32)) in (0, 1)


def test_python_resume_with_load_then_train(tmp_path):
    exp = Experiment(name="r", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=2), runner=Runner(n_envs=2),
                     total_steps=512, eval_every_steps=256, eval_episodes=2, log_every_steps=64,
                     checkpoint_every_steps=128)
    RunContext(exp, run_dir=tmp_path / "full", silent=True).train()
    part = RunContext(exp, run_dir=tmp_path / "part", silent=True)
    part.train(n_epochs=8)  # stopped at 256 steps (8 rollouts of 16 x 2), short of its budget
    RunContext.load(tmp_path / "part").train()
    assert untimed(tmp_path / "part") == untimed(tmp_path / "full")


def test_a_budget_given_on_resume_becomes_the_runs_budget_and_its_schedules(tmp_path):
    from mazedsl.cli.commands import load_run_experiment
    from mazedsl.config import explain

    exp = Experiment(name="b", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1, lr=1e-3,
                                             lr_schedule="linear"),
                     runner=Runner(n_envs=2), total_steps=4096, eval_every_steps=0, eval_episodes=1,
                     log_every_steps=32)
    RunContext(exp, run_dir=tmp_path / "b", silent=True).train(total_steps=128)
    with pytest.raises(MazeError, match="changes a loaded run's budget"):
        RunContext(exp, silent=True).set_total_steps(512)
    resumed = RunContext.load(tmp_path / "b", checkpoint="last", silent=True)
    resumed.set_total_steps(512)  # shorter than declared: the schedule now ends at 512
    assert resumed.train().steps == 512
    lrs = [r["lr"] for r in iter_metrics(tmp_path / "b" / "metrics.jsonl") if r["phase"] == "train"]
    assert lrs[-1] == pytest.approx(1e-3 * (1 - 480 / 512), rel=1e-4)  # the last update's, at 480
    assert "total_steps: 512" in (tmp_path / "b" / "config.yaml").read_text()
    assert json.loads((tmp_path / "b" / "run.json").read_text())["total_steps"] == 512
    assert explain(load_run_experiment(tmp_path / "b"), "total_steps") == \
        "total_steps = 512  (override 'total_steps=512' given on resume)"
    assert RunContext.load(tmp_path / "b", checkpoint="last", silent=True).experiment.total_steps == 512


def test_a_raised_budget_ends_with_the_closing_evaluation_a_fresh_run_gets(tmp_path, capsys):
    exp = Experiment(name="c", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1),
                     runner=Runner(n_envs=2), total_steps=256, eval_every_steps=100_000,
                     eval_episodes=1)
    RunContext(exp, run_dir=tmp_path / "c", silent=True).train()  # no scheduled eval: one at the end

    def eval_steps() -> list[int]:
        return [r["step"] for r in iter_metrics(tmp_path / "c" / "metrics.jsonl") if r["phase"] == "eval"]

    assert eval_steps() == [256]
    resumed = RunContext.load(tmp_path / "c", checkpoint="last", silent=True)
    resumed.set_total_steps(512)
    resumed.train()
    assert eval_steps() == [256, 512]  # the final policy's score, not the one at 256
    RunContext.load(tmp_path / "c", checkpoint="last").train()  # finished: nothing to add
    assert eval_steps() == [256, 512]
    assert ("note: the run finished its budget (512 of 512 steps): nothing to train"
            in capsys.readouterr().out)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("small") / "run"
    exp = Experiment(name="small", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1),
                     runner=Runner(n_envs=2), total_steps=64, eval_every_steps=0, eval_episodes=1)
    RunContext(exp, run_dir=d, silent=True).train()
    return d


def test_latest_is_the_newest_run_that_trained_and_an_untrained_one_says_so(small_run, tmp_path):
    import shutil

    from mazedsl.run.listing import resolve_run

    root = tmp_path / "outputs"
    trained = root / "small" / "20260101-000000_aaaaaa"
    shutil.copytree(small_run, trained)
    exp = Experiment(name="small", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1),
                     runner=Runner(n_envs=2), total_steps=64, eval_episodes=1, output_dir=str(root))
    untrained = RunContext(exp, silent=True)
    untrained.evaluate(1)  # an untrained policy's evaluation: a run directory, status created
    assert json.loads((untrained.run_dir / "run.json").read_text())["status"] == "created"
    for ref in ("latest", "small:latest"):
        assert resolve_run(ref, root) == trained
    assert RunContext.load("small:latest", runs_root=root, silent=True).evaluate(1).lengths != []
    with pytest.raises(CheckpointError, match="this run was never trained .status created.: no policy"):
        RunContext.load(untrained.run_dir, silent=True).evaluate(1)
    with pytest.raises(CheckpointError, match="checkpoint must be one of .*, got 'bogus'"):
        RunContext.load(trained, checkpoint="bogus")  # at once, not at first use


def test_truncated_checkpoint_is_a_clear_error(small_run, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(small_run, bad)
    data = (bad / "checkpoints" / "best.pt").read_bytes()
    (bad / "checkpoints" / "best.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="best.pt: cannot load checkpoint: the file is truncated"):
        RunContext.load(bad).evaluate(1)
    proc = subprocess.run([str(BIN / "mazedsl"), "eval", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad / 'checkpoints' / 'best.pt'}: cannot load checkpoint: the file is truncated or "
        f"damaged ({len(data) // 2} bytes)"]


@pytest.mark.parametrize("payload, problem", [
    (b"", "the file is empty (truncated)"),
    (b"\x8b\x13 random bytes that are no checkpoint" * 40, "not a checkpoint (not a file written by torch.save)"),
    ("pickle", "not a checkpoint (not a file written by torch.save)"),
    ("objects", "it holds Python objects, not only tensors"),
])
def test_garbage_checkpoint_is_named_in_one_line(small_run, tmp_path, payload, problem):
    import io
    import pickle
    import shutil

    import torch

    bad = tmp_path / "bad"
    shutil.copytree(small_run, bad)
    if payload == "pickle":
        payload = pickle.dumps({"policy": {"w": [1.0]}}, protocol=4)
    elif payload == "objects":
        buffer = io.BytesIO()
        torch.save({"policy": Path("x")}, buffer)
        payload = buffer.getvalue()
    (bad / "checkpoints" / "best.pt").write_bytes(payload)
    proc = subprocess.run([str(BIN / "mazedsl"), "eval", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad / 'checkpoints' / 'best.pt'}: cannot load checkpoint: {problem}"
        + ("; refused (checkpoints load with weights_only=True)" if payload[:2] == b"PK" else "")]


def test_checkpoint_of_other_spaces_is_refused(small_run, tmp_path):
    exp = Experiment(name="pend", env=GymEnv(name="Pendulum-v1"), total_steps=64, eval_every_steps=0,
                     eval_episodes=1, algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1), runner=Runner(n_envs=2))
    other = tmp_path / "pend"
    RunContext(exp, run_dir=other, silent=True).train()
    (other / "checkpoints" / "best.pt").write_bytes((small_run / "checkpoints" / "best.pt").read_bytes())
    with pytest.raises(CheckpointError, match="does not fit this run's model and spaces"):
        RunContext.load(other).compute_action(np.zeros(3, dtype=np.float32))


def test_pickled_payload_is_never_loaded(small_run, tmp_path):
    import pickle
    import shutil

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    bad = tmp_path / "evil"
    shutil.copytree(small_run, bad)
    (bad / "checkpoints" / "best.pt").write_bytes(pickle.dumps({"policy": Evil()}))
    with pytest.raises(CheckpointError):
        RunContext.load(bad).compute_action(np.zeros(4, dtype=np.float32))
    assert not (tmp_path / "pwned").exists()


def test_missing_and_non_run_directories(tmp_path):
    with pytest.raises(RunDirError, match="does not exist"):
        RunContext.load(tmp_path / "nope")
    with pytest.raises(RunDirError, match="not a run directory"):
        RunContext.load(tmp_path)


def test_a_folder_of_runs_names_its_newest_run(tmp_path):
    from mazedsl.run.listing import resolve_run

    root = tmp_path / "outputs"
    for name in ("20260101-000000_aaaaaa", "20260102-000000_bbbbbb"):
        (root / "exp" / name).mkdir(parents=True)
        (root / "exp" / name / "run.json").write_text('{"status": "finished"}')
    (root / "exp" / "notes").mkdir()  # not a run: not counted
    with pytest.raises(RunDirError) as info:
        resolve_run(root / "exp", root)
    assert str(info.value) == (
        f"{root / 'exp'}: not a run directory (no run.json); it holds 2 runs: name one, e.g. "
        f"{root / 'exp' / '20260102-000000_bbbbbb'} or exp:latest")
    with pytest.raises(RunDirError) as info:  # no runs inside: no hint
        resolve_run(root / "exp" / "notes", root)
    assert str(info.value) == f"{root / 'exp' / 'notes'}: not a run directory (no run.json)"


def test_malformed_config_yaml_in_run_dir(small_run, tmp_path):
    import shutil

    bad = tmp_path / "badyaml"
    shutil.copytree(small_run, bad)
    (bad / "config.yaml").write_text("algorithm: [unclosed\n")
    with pytest.raises(MazeError, match="config.yaml"):
        RunContext.load(bad)


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    ctx = RunContext(Experiment(output_dir=str(blocker / "out")), silent=True)  # nothing made yet
    with pytest.raises(RunDirError, match="cannot create the run directory"):
        ctx.train()


def test_unsafe_target_refused_before_anything_runs(tmp_path):
    marker = tmp_path / "ran"
    cfg = {"env": {"name": "CartPole-v1",
                   "kwargs": {"x": {"_target_": "os.system", "command": f"touch {marker}"}}}}
    with pytest.raises(UnsafeTargetError, match=r"env\.kwargs\.x\._target_: _target_ 'os.system' is not allowed"):
        RunContext(overrides=cfg, run_dir=tmp_path / "r", silent=True)
    cfg_file = tmp_path / "run"
    bad = {"_target_": "os.system", "command": f"touch {marker}"}
    from mazedsl.config import from_config

    with pytest.raises(UnsafeTargetError):
        from_config({"algorithm": bad})
    assert not marker.exists() and not cfg_file.exists()


def test_nan_loss_marks_run_failed_and_keeps_last_checkpoint(tmp_path):
    import gymnasium as gym

    class LateNan(gym.Wrapper):
        steps = 0

        def step(self, action):
            obs, r, term, trunc, info = self.env.step(action)
            LateNan.steps += 1
            return obs, (float("nan") if LateNan.steps > 300 else r), term, trunc, info

    exp = Experiment(name="nan", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1),
                     runner=Runner(n_envs=2, vectorization="sync"), total_steps=2048,
                     eval_every_steps=0, checkpoint_every_steps=64)
    ctx = RunContext(exp, env=lambda: LateNan(gym.make("CartPole-v1")), run_dir=tmp_path / "r", silent=True)
    with pytest.raises(TrainingError, match=r"non-finite loss at step \d+"):
        ctx.train()
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["status"] == "failed" and "non-finite loss" in info["error"]
    import torch

    state = torch.load(tmp_path / "r" / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in state["policy"].values())


OVERRIDE_KEYS = st.sampled_from(["algorithm.lr", "algorithm", "env.name", "seed", "runner.n_envs",
                                 "wrappers", "model.hidden_units", "algorithm.nope", "+env.kwargs.a",
                                 "~wrappers", "total_steps", "critic.shared", "", "algorithm.gamma"])
OVERRIDE_VALUES = st.one_of(st.sampled_from(["a2c", "ppo", "-1", "1e-3", "[64,64]", "true", "null",
                                             "vector_obs", "x y", "'q'", "[1", "{a:1}", "1,2", "0.5"]),
                            st.text(max_size=8))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(OVERRIDE_KEYS, OVERRIDE_VALUES, st.booleans()), max_size=4))
def test_random_override_strings_give_valid_config_or_package_error(items):
    base = Experiment()
    overrides = [key if (drop and key.startswith("~")) else f"{key}={value}" for key, value, drop in items]
    try:
        exp = base.override(overrides)
    except MazeError:
        return
    assert isinstance(exp, Experiment)


LEAF = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True),
                 st.text(max_size=6), st.sampled_from(["mazedsl.rl.algos.ppo.PPO", "mazedsl.rl.algos.a2c.A2C", "os.system"]))
TREE = st.recursive(LEAF, lambda children: st.one_of(
    st.lists(children, max_size=3),
    st.dictionaries(st.sampled_from(["_target_", "lr", "name", "algorithm", "env", "model", "wrappers",
                                     "hidden_units", "kwargs", "seed", "n_envs", "runner", "x"]),
                    children, max_size=4)), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(TREE)
def test_random_config_trees_give_valid_experiment_or_package_error(tree):
    from mazedsl.config import from_config

    try:
        exp = from_config(tree)
    except MazeError:
        return
    assert isinstance(exp, Experiment)
