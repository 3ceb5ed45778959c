"""runner=rllib: a train batch RLlib cannot use is refused before anything is written and
before Ray is imported (the CLIs' preflight and RunContext.train), as natively.

A stand-in ``ray`` package on PYTHONPATH records any import of Ray and fails it, so these
tests need no Ray and prove the refusal comes first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mazedsl import ConfigError, RunContext, load_experiment
from mazedsl.spec import RLlibRunner

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CARTPOLE = str(ROOT / "experiments" / "cartpole_ppo.py")

TOO_BIG = ("error: algorithm.batch_size: 512 is larger than one rollout (n_steps 32 x 8 envs = "
           "256); the envs: runner.num_env_runners 1 x runner.num_envs_per_env_runner 8")


@pytest.fixture
def no_ray(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose ``import ray`` writes a marker file and fails."""
    stub = tmp_path / "stub" / "ray"
    stub.mkdir(parents=True)
    marker = tmp_path / "ray_imported"
    (stub / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nraise ImportError('ray imported')\n")
    path = os.pathsep.join([str(stub.parent), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}, marker


@pytest.mark.parametrize("cli, args, line", [
    ("mazedsl", ["train", CARTPOLE, "runner=rllib", "algorithm.batch_size=512"], TOO_BIG),
    ("mazedsl", ["train", CARTPOLE, "runner=rllib", "runner.num_env_runners=0",
                 "runner.num_envs_per_env_runner=2", "algorithm.n_steps=16"],
     "error: algorithm.batch_size: 256 is larger than one rollout (n_steps 16 x 2 envs = 32); "
     "the envs: runner.num_envs_per_env_runner 2 on the driver (runner.num_env_runners 0)"),
    ("mazedsl", ["train", CARTPOLE, "runner=rllib", "runner.num_learners=3"],
     "error: runner.num_learners: the train batch n_steps x envs = 256 does not split over 3 "
     "learners"),
    ("mazedsl-run", ["runner=rllib", "algorithm.batch_size=2048"],
     "error: algorithm.batch_size: 2048 is larger than one rollout (n_steps 128 x 8 envs = 1024); "
     "the envs: runner.num_env_runners 1 x runner.num_envs_per_env_runner 8"),
])
def test_clis_refuse_a_batch_rllib_cannot_use_before_writing_or_starting_ray(
        tmp_path, no_ray, cli, args, line):
    env, marker = no_ray
    work = tmp_path / "work"
    work.mkdir()
    out = subprocess.run([str(BIN / cli), *args], capture_output=True, text=True, timeout=180,
                         cwd=work, env=env)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [line]
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert list(work.iterdir()) == []  # no outputs/, no run directory
    assert not marker.exists()  # refused before Ray was imported


def test_run_context_refuses_it_before_making_the_run_directory(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ray_import(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise AssertionError(f"imported {name} before refusing")
        return real_import(name, *args, **kwargs)

    exp = load_experiment(CARTPOLE).override({"runner": RLlibRunner(), "output_dir": str(tmp_path),
                                              "algorithm.batch_size": 512})
    ctx = RunContext(exp, silent=True)
    monkeypatch.setattr(builtins, "__import__", no_ray_import)
    started: list[Path] = []
    with pytest.raises(ConfigError, match=r"^algorithm.batch_size: 512 is larger than one rollout"):
        ctx.train(on_start=started.append)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
    assert started == []  # a refused run is never announced


def test_dqn_and_sac_batches_that_do_not_split_over_the_learners_are_refused_by_check():
    from mazedsl.rllib.translate import check

    for name in ("cartpole_dqn.py", "pendulum_sac.py"):
        exp = load_experiment(str(ROOT / "experiments" / name)).override(
            {"runner": RLlibRunner(num_learners=3)})
        with pytest.raises(ConfigError, match=r"^runner.num_learners: the batch \d+ does not split "
                                              r"over 3 learners"):
            check(exp)
