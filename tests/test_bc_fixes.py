"""Behaviour cloning and recorded rollouts: a trained BC run lives without its data, the
episodes manifest pins what a run trained on, refused resumes keep the run's status, new
rollouts get new seeds, BC stops at its budget, and its messages are one readable line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mazedsl import PPO, Experiment, RunContext
from mazedsl.errors import ConfigError
from mazedsl.rl.algos.bc import BC
from mazedsl.run import iter_metrics
from mazedsl.spec import GymEnv, Runner

BIN = Path(sys.executable).parent
TIMING = ("time", "steps_per_s")


def untimed(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in iter_metrics(run_dir / "metrics.jsonl")]


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.run([str(BIN / "mazedsl"), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=240)


def ppo_exp(root: Path) -> Experiment:
    return Experiment(name="cp_expert", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1),
                      runner=Runner(n_envs=2), total_steps=64, eval_every_steps=0, eval_episodes=1,
                      output_dir=str(root))


@pytest.fixture(scope="module")
def expert_root(tmp_path_factory) -> Path:
    """A runs root holding one (barely trained) PPO CartPole run with 4 recorded episodes."""
    root = tmp_path_factory.mktemp("runs") / "outputs"
    ctx = RunContext(ppo_exp(root), run_dir=root / "cp_expert" / "a_old", silent=True)
    ctx.train()
    ctx.rollout(n_episodes=4)
    return root


@pytest.fixture
def root(tmp_path: Path, expert_root: Path) -> Path:
    """A private copy of the runs root (tests add and remove episodes)."""
    out = tmp_path / "outputs"
    shutil.copytree(expert_root, out)
    return out


def bc_exp(root: Path, episodes: list[str], **changes) -> Experiment:
    base = dict(name="bc_tiny", env=GymEnv(name="CartPole-v1"),
                algorithm=BC(episodes=episodes, batch_size=16, steps_per_iteration=64,
                             validation_fraction=0.25),
                runner=Runner(n_envs=1), total_steps=128, eval_every_steps=64, eval_episodes=1,
                log_every_steps=64, checkpoint_every_steps=64, output_dir=str(root))
    base.update(changes)
    return Experiment(**base)


def status(run: Path) -> str:
    return json.loads((run / "run.json").read_text())["status"]


# -- D1: a trained BC policy needs no recorded episodes -----------------------------------------
def test_trained_bc_run_loads_evaluates_and_plays_without_its_episodes(root: Path) -> None:
    bc = root / "bc_tiny" / "run"
    RunContext(bc_exp(root, ["cp_expert:latest"]), run_dir=bc, silent=True).train()
    # a newer expert run without rollouts: 'cp_expert:latest' now names no recorded episodes
    RunContext(ppo_exp(root), run_dir=root / "cp_expert" / "z_new", silent=True).train()
    ctx = RunContext.load(bc)
    assert len(ctx.evaluate(2).returns) == 2
    assert len(ctx.rollout(1, record=False)) == 1
    assert sum(1 for _ in ctx.iter_rollout()) > 1  # what the TUI's rollout viewer plays
    assert ctx.compute_action(np.zeros(4, dtype=np.float32)) in (0, 1)
    for args in (["eval", str(bc), "--episodes", "2"], ["rollout", str(bc), "--no-record"]):
        proc = cli(args, root.parent)
        assert proc.returncode == 0, proc.stderr
    # training anew still needs the data, and names the run 'cp_expert:latest' resolved to
    with pytest.raises(ConfigError, match=r"^algorithm.episodes: no recorded episodes \(rollouts/\*"
                       r"\.npz\) found in 'cp_expert:latest' \(the run .*z_new\)"):
        RunContext(bc_exp(root, ["cp_expert:latest"]), silent=True).train()


# -- D2: the episodes manifest; a resume trains on the recorded files ---------------------------
def test_manifest_records_the_files_and_resume_trains_on_them(root: Path) -> None:
    expert = root / "cp_expert" / "a_old"
    exp = bc_exp(root, ["cp_expert:latest"], total_steps=256)
    full = root / "bc_tiny" / "full"
    RunContext(exp, run_dir=full, silent=True).train()
    manifest = json.loads((full / "episodes.json").read_text())
    recorded = sorted(str(p.resolve()) for p in (expert / "rollouts").glob("*.npz"))
    assert manifest["count"] == 4 and manifest["references"] == ["cp_expert:latest"]
    assert sorted(f["path"] for f in manifest["files"]) == recorded
    assert manifest["steps"] == sum(f["steps"] for f in manifest["files"]) > 0
    assert len(manifest["validation"]) == 1  # round(0.25 * 4) whole episodes held out
    log = (full / "train.log").read_text()
    assert "behaviour cloning from 4 recorded episodes" in log and recorded[0] in log

    part = root / "bc_tiny" / "part"
    RunContext(exp, run_dir=part, silent=True).train(n_epochs=2)  # 2 x 64 samples, short of the budget
    RunContext.load(expert).rollout(3)  # more rollouts: 'cp_expert:latest' now has 7 episodes
    RunContext.load(part, silent=True).train()
    assert untimed(part) == untimed(full)  # the same 4 episodes, the same validation split
    assert json.loads((part / "episodes.json").read_text())["count"] == 4


# -- D6: a refused resume leaves the run's status alone -----------------------------------------
@pytest.mark.parametrize("manifest", [True, False], ids=["manifest", "older-run"])
def test_resume_without_the_episodes_is_refused_and_keeps_the_status(root: Path, manifest: bool) -> None:
    data = root.parent / "episodes"
    shutil.copytree(root / "cp_expert" / "a_old" / "rollouts", data)
    bc = root / "bc_tiny" / "run"
    RunContext(bc_exp(root, [str(data)]), run_dir=bc, silent=True).train()
    assert status(bc) == "finished"
    if not manifest:
        (bc / "episodes.json").unlink()
    shutil.rmtree(data)
    proc = cli(["train", "--resume", str(bc), "total_steps=256"], root.parent)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    if manifest:
        assert "cannot resume" in proc.stderr and "4 of the 4 recorded episode files" in proc.stderr
    else:
        assert f"no recorded episodes at {data} (no such file or folder" in proc.stderr
    assert "run directory does not exist" not in proc.stderr
    assert status(bc) == "finished"


# -- D9: new rollouts are new episodes; a seed reproduces them ----------------------------------
def test_repeated_rollouts_record_new_episodes_and_a_seed_reproduces(root: Path) -> None:
    run = root / "cp_expert" / "a_old"
    ctx = RunContext.load(run, silent=True)
    ctx.rollout(2)
    files = sorted((run / "rollouts").glob("episode_*.npz"))
    assert [f.name for f in files[-2:]] == ["episode_004.npz", "episode_005.npz"]
    firsts = {tuple(np.load(f)["observations"][0].round(6)) for f in files}
    assert len(firsts) == 6  # six different start states
    a = ctx.rollout(1, seed=7, record=False)[0]
    b = ctx.rollout(1, seed=7, record=False)[0]
    assert np.array_equal(np.asarray(a.observations), np.asarray(b.observations))
    for _ in range(2):
        proc = cli(["rollout", str(run), "--episodes", "1", "--seed", "11"], root.parent)
        assert proc.returncode == 0, proc.stderr
    with np.load(run / "rollouts" / "episode_006.npz") as x, \
            np.load(run / "rollouts" / "episode_007.npz") as y:
        assert np.array_equal(x["observations"], y["observations"])
    proc = cli(["rollout", str(run), "--episodes", "1"], root.parent)
    assert proc.returncode == 0, proc.stderr
    with np.load(run / "rollouts" / "episode_008.npz") as z, \
            np.load(run / "rollouts" / "episode_000.npz") as first:
        assert not np.array_equal(z["observations"][0], first["observations"][0])


# -- D10: BC trains exactly its budget ----------------------------------------------------------
def test_bc_stops_exactly_at_the_budget_and_resumes_exactly(root: Path) -> None:
    episodes = [str(root / "cp_expert" / "a_old")]
    small = root / "bc_tiny" / "small"
    RunContext(bc_exp(root, episodes, total_steps=100, eval_every_steps=100), run_dir=small,
               silent=True).train()
    recs = list(iter_metrics(small / "metrics.jsonl"))
    assert [r["step"] for r in recs if r["phase"] == "train"] == [64, 100]
    assert [r["step"] for r in recs if r["phase"] == "eval"] == [100]
    assert [r["n_updates"] for r in recs if r["phase"] == "train"] == [4, 7]  # 16+16+4 rows last
    assert json.loads((small / "run.json").read_text())["steps"] == 100
    exp = bc_exp(root, episodes, total_steps=200)
    full, part = root / "bc_tiny" / "full", root / "bc_tiny" / "part"
    RunContext(exp, run_dir=full, silent=True).train()
    assert [r["step"] for r in iter_metrics(full / "metrics.jsonl") if r["phase"] == "eval"] == [64, 128, 192]
    assert json.loads((full / "run.json").read_text())["steps"] == 200
    RunContext(exp, run_dir=part, silent=True).train(n_epochs=2)  # 2 x 64 samples, short of the budget
    RunContext.load(part, silent=True).train()
    assert untimed(part) == untimed(full)


# -- D11: one episode: no validation split, said so -----------------------------------------
def test_one_episode_warns_that_there_is_no_validation_split(root: Path, capsys) -> None:
    one = str(root / "cp_expert" / "a_old" / "rollouts" / "episode_000.npz")
    run = root / "bc_tiny" / "one"
    RunContext(bc_exp(root, [one], total_steps=64), run_dir=run).train()
    warning = "warning: no validation split (no bc_val_loss): 1 recorded episode"
    assert warning in capsys.readouterr().err
    assert warning in (run / "train.log").read_text()
    assert not any("bc_val_loss" in r for r in iter_metrics(run / "metrics.jsonl"))


# -- D12: readable one-line messages -------------------------------------------------------
def test_bc_messages_are_one_readable_line(root: Path, tmp_path: Path) -> None:
    expert = str(root / "cp_expert" / "a_old")
    with pytest.raises(ConfigError) as err:
        RunContext(bc_exp(root, [expert], env=GymEnv(name="Acrobot-v1")), silent=True).train()
    msg = str(err.value)
    assert msg.endswith("recorded with the observation space Box(4,) float32, this env's is "
                        "Box(6,) float32")
    assert "\n" not in msg and "inf" not in msg and len(msg) < 250
    text = tmp_path / "notes.npz"
    text.write_text("not an episode\n")
    np.savez(tmp_path / "objects.npz", actions=np.array([{"a": 1}], dtype=object))
    (tmp_path / "readme.txt").write_text("hello")
    for bad in (text, tmp_path / "objects.npz", tmp_path / "readme.txt"):
        with pytest.raises(ConfigError) as err:
            RunContext(bc_exp(root, [str(bad)]), silent=True).train()
        msg = str(err.value)
        assert msg.startswith(f"algorithm.episodes: {bad} is not a recorded episode (.npz of arrays): ")
        assert "allow_pickle" not in msg and "\n" not in msg
    with pytest.raises(ConfigError, match=r"no recorded episodes at .*gone \(no such file or folder, "
                       r"nor a run under"):
        RunContext(bc_exp(root, [str(tmp_path / "gone")]), silent=True).train()


def test_pinned_episodes_names_a_gone_or_changed_file(tmp_path: Path) -> None:
    from mazedsl.rl.algos.bc.manifest import MANIFEST, pinned_episodes

    run = tmp_path / "run"
    run.mkdir()
    assert pinned_episodes(run) is None  # a run from before manifests resolves its references
    files = [tmp_path / f"e{i}.npz" for i in range(3)]
    for f in files:
        f.write_bytes(b"x" * 10)
    (run / MANIFEST).write_text(json.dumps({"files": [{"path": str(f), "bytes": 10, "steps": 1}
                                                      for f in files]}))
    assert pinned_episodes(run) == [str(f) for f in files]
    files[1].write_bytes(b"y" * 11)
    with pytest.raises(ConfigError, match=r"1 of the 3 recorded episode files it trained on has "
                       r"changed \(.*e1\.npz\); restore it \(listed in .*episodes\.json\)"):
        pinned_episodes(run)
    files[0].unlink()
    files[2].unlink()
    with pytest.raises(ConfigError, match=r"2 of the 3 .* are gone \(.*e0\.npz, \.\.\.\); restore them"):
        pinned_episodes(run)
    (run / MANIFEST).write_text("{")
    with pytest.raises(ConfigError, match="unreadable episodes manifest"):
        pinned_episodes(run)


def test_latest_skips_the_run_being_built(root: Path) -> None:
    """BC in the experiment it clones, from Hydra (which creates the run directory before the
    build): 'cp_expert:latest' names the recorded expert run, not the BC run's own directory."""
    proc = subprocess.run(
        [str(BIN / "mazedsl-run"), "algorithm=bc", "name=cp_expert", "algorithm.episodes=[cp_expert:latest]",
         "algorithm.steps_per_iteration=64", "total_steps=64", "eval_every_steps=0"],
        cwd=root.parent, capture_output=True, text=True, timeout=240,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.returncode == 0, proc.stderr
    runs = [p for p in (root / "cp_expert").iterdir() if p.name != "a_old"]
    assert len(runs) == 1 and status(runs[0]) == "finished"
    manifest = json.loads((runs[0] / "episodes.json").read_text())
    assert manifest["count"] == 4
    assert all("a_old" in f["path"] for f in manifest["files"])
