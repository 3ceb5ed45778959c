"""Edges of a run's life: an output folder that cannot be made (one line from mazedsl-run,
before Hydra creates anything), a run directory announced only once it exists, rollouts that
never overwrite, and a stop inside an evaluation that resumes into it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mazedsl.cli.preflight import check_creatable
from mazedsl.errors import ConfigError

BIN = Path(sys.executable).parent


def test_a_folder_below_a_file_is_refused_and_a_fine_one_leaves_nothing(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match=r"^output_dir: cannot create .*afile/sub.*is not a directory"):
        check_creatable(tmp_path / "afile" / "sub")
    check_creatable(tmp_path / "new" / "deeper")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # the probe left nothing


@pytest.mark.parametrize("multirun", [False, True])
def test_mazedsl_run_names_an_output_dir_it_cannot_create(tmp_path, multirun):
    (tmp_path / "afile").write_text("x")
    args = [str(BIN / "mazedsl-run"), *(["-m"] if multirun else []), "-cn", "conf_train",
            "output_dir=afile/outputs", *(["seed=1,2"] if multirun else []), "total_steps=256"]
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: output_dir: cannot create '{tmp_path / 'afile' / 'outputs'}': "
        f"'{tmp_path / 'afile'}' is not a directory"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


TINY = {"total_steps": 128, "eval_every_steps": 0, "log_every_steps": 64, "runner.n_envs": 2,
        "algorithm.n_steps": 64, "algorithm.batch_size": 64, "algorithm.n_epochs": 1}
CARTPOLE = str(Path(__file__).resolve().parents[1] / "experiments" / "cartpole_ppo.py")


def test_a_run_directory_that_cannot_be_made_is_never_announced(tmp_path):
    """``on_start`` (``--quiet`` prints its path) comes once the directory exists."""
    from mazedsl import RunContext
    from mazedsl.errors import RunDirError

    (tmp_path / "afile").write_text("x")
    ctx = RunContext(CARTPOLE, overrides={**TINY, "output_dir": str(tmp_path / "afile" / "out")},
                     silent=True)
    announced: list[Path] = []
    with pytest.raises(RunDirError, match="cannot create the run directory"):
        ctx.train(on_start=announced.append)
    assert announced == []


def test_a_rollout_never_overwrites_a_recorded_episode(tmp_path):
    import numpy as np

    from mazedsl import RunContext

    ctx = RunContext(CARTPOLE, overrides=TINY, run_dir=tmp_path / "r", silent=True)
    ctx.train()
    ctx.rollout(3)
    out = tmp_path / "r" / "rollouts"
    (out / "episode_000.npz").unlink()
    kept = (out / "episode_002.npz").read_bytes()
    ctx.rollout(1, seed=99)
    assert sorted(p.name for p in out.iterdir()) == ["episode_001.npz", "episode_002.npz",
                                                     "episode_003.npz"]
    assert (out / "episode_002.npz").read_bytes() == kept
    with np.load(out / "episode_003.npz") as new:
        assert len(new.files) > 0


def _records(run: Path) -> list[dict]:
    import json

    timing = ("time", "steps_per_s")
    return [{k: v for k, v in json.loads(line).items() if k not in timing}
            for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_stop_during_an_evaluation_resumes_into_that_evaluation(tmp_path, monkeypatch):
    """Ctrl-C inside a scheduled evaluation: the resumed run runs that evaluation first, at
    its step and with its seed, and its metrics equal an uninterrupted run's (the evaluation
    used to be skipped, and the next one's seed shifted)."""
    from mazedsl import RunContext
    from mazedsl.rl.episodes import EpisodesStopped
    from mazedsl.rl.trainer import Trainer

    overrides = {**TINY, "total_steps": 768, "eval_every_steps": 256, "eval_episodes": 2,
                 "checkpoint_every_steps": 100_000}
    RunContext(CARTPOLE, overrides=overrides, run_dir=tmp_path / "full", silent=True).train()

    original, calls = Trainer.evaluate, []

    def stopped_in_the_second(self, *args, **kwargs):
        calls.append(self.steps)
        if len(calls) == 2:
            self._stop_requested = True
            raise EpisodesStopped("stopped")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "evaluate", stopped_in_the_second)
    summary = RunContext(CARTPOLE, overrides=overrides, run_dir=tmp_path / "cut",
                         silent=True).train()
    monkeypatch.undo()
    assert summary.stopped == "interrupted" and calls == [256, 512]
    RunContext.load(tmp_path / "cut", silent=True).train()
    full, cut = _records(tmp_path / "full"), _records(tmp_path / "cut")
    assert [r["step"] for r in cut if r["phase"] == "eval"] == [256, 512, 768]
    assert cut == full


def test_a_dotted_override_below_a_component_applies_after_it():
    """RunContext(env=<factory>, overrides={"env.max_episode_steps": 7}): the component is
    applied first, the value under it after (the component used to replace it)."""
    import gymnasium

    from mazedsl import RunContext
    from mazedsl.spec import PPO

    rc = RunContext(env=lambda: gymnasium.make("CartPole-v1"),
                    overrides={"env.max_episode_steps": 7}, silent=True)
    assert rc.experiment.env.max_episode_steps == 7
    rc = RunContext(algorithm=PPO(lr=0.5), overrides={"algorithm.lr": 0.1}, silent=True)
    assert rc.experiment.algorithm.lr == 0.1
    rc = RunContext(algorithm="a2c", overrides={"algorithm.lr": 0.1}, silent=True)
    assert (type(rc.experiment.algorithm).__name__, rc.experiment.algorithm.lr) == ("A2C", 0.1)


def test_rollout_from_python_checks_its_counts(tmp_path):
    from mazedsl import RunContext

    ctx = RunContext(CARTPOLE, overrides=TINY, run_dir=tmp_path / "r", silent=True)
    with pytest.raises(ConfigError, match=r"^n_episodes: must be > 0, got 0"):
        ctx.rollout(0)
    with pytest.raises(ConfigError, match=r"^seed: must be in \[0, 2\*\*64 - n_episodes\], got -1"):
        ctx.rollout(1, seed=-1)


def test_an_integer_field_takes_1e5_but_not_a_float_past_exact_integers():
    from mazedsl.config import apply_overrides, load_experiment

    exp = load_experiment(CARTPOLE)
    assert apply_overrides(exp, ["total_steps=1e5"]).total_steps == 100_000
    with pytest.raises(ConfigError, match=r"^total_steps: must be an integer, got 1e\+30"):
        apply_overrides(exp, ["total_steps=1e30"])


def test_set_total_steps_leaves_a_run_without_its_checkpoint_as_it_was(tmp_path):
    from mazedsl import RunContext
    from mazedsl.errors import MazeError

    RunContext(CARTPOLE, overrides=TINY, run_dir=tmp_path / "r", silent=True).train()
    (tmp_path / "r" / "checkpoints" / "last.pt").unlink()
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir() if p.is_file()
              and p.name != ".lock"}
    loaded = RunContext.load(tmp_path / "r", checkpoint="best", silent=True)
    loaded._checkpoint_kind = "last"  # as --resume asks for it
    with pytest.raises(MazeError, match="no 'last' checkpoint"):
        loaded.set_total_steps(4096)
    after = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir() if p.is_file()
             and p.name != ".lock"}
    assert after == before
