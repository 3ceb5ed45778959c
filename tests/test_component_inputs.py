"""Components given in the forms users reach for: nn.Module classes (and what cannot be one),
numpy scalars, experiments picked by name; and mazedsl-run refusing a run before keeping it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch

from mazedsl import PPO, RunContext
from mazedsl.config import load_experiment, to_config, to_yaml
from mazedsl.errors import ConfigError
from mazedsl.spec import Experiment, Runner, TorchModel, VectorObs
from tests.plugins.space_nets import SpaceAware, make_space_aware

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ALLOW = {"allow_targets": ["tests.plugins"]}


def cli(tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=240)


# -- 1. an nn.Module class as model= / critic= ---------------------------------------------

@pytest.mark.parametrize("key", ["model", "critic"])
def test_a_module_class_is_a_torch_model(key):
    ctx = RunContext(**{key: SpaceAware}, overrides=ALLOW)
    assert getattr(ctx.experiment, key) == TorchModel(SpaceAware)
    assert "_target_: tests.plugins.space_nets.SpaceAware" in to_yaml(ctx.experiment)
    given = RunContext(overrides={key: SpaceAware, **ALLOW})  # as an override value too
    assert getattr(given.experiment, key) == TorchModel("tests.plugins.space_nets.SpaceAware")


def test_a_module_class_trains(tmp_path):
    ctx = RunContext(ROOT / "experiments" / "cartpole_ppo.py", model=SpaceAware, silent=True,
                     overrides={**ALLOW, "total_steps": 64, "runner.n_envs": 2,
                                "algorithm.n_steps": 32, "algorithm.batch_size": 64,
                                "eval_every_steps": 0, "eval_episodes": 1},
                     run_dir=tmp_path / "run")
    assert ctx.train().steps >= 64
    assert "tests.plugins.space_nets.SpaceAware" in (tmp_path / "run" / "config.yaml").read_text()


@pytest.mark.parametrize("key", ["model", "critic"])
def test_an_instance_or_factory_says_what_to_pass(key):
    instance = SpaceAware(gymnasium.spaces.Box(-1, 1, (4,)), gymnasium.spaces.Discrete(2))
    with pytest.raises(ConfigError) as info:
        RunContext(**{key: instance}, overrides=ALLOW)
    text = str(info.value)
    assert info.value.path == key and "\n" not in text and "nn.Module instance" in text
    assert "TorchModel(SpaceAware" in text and "'tests.plugins.space_nets.SpaceAware'" in text
    for factory in (make_space_aware, lambda: instance):
        with pytest.raises(ConfigError, match="not a factory") as info:
            RunContext(**{key: factory}, overrides=ALLOW)
        assert info.value.path == key and "TorchModel(" in str(info.value)


def test_a_class_a_run_cannot_import_again_is_refused_with_the_reason():
    def local():
        class Inner(torch.nn.Module):
            pass
        return Inner

    Main = type("Main", (torch.nn.Module,), {"__module__": "__main__"})
    for cls, why in ((local(), "inside a function"), (Main, "__main__")):
        with pytest.raises(ConfigError) as info:
            RunContext(model=cls, overrides=ALLOW)
        assert info.value.path == "model" and why in str(info.value)
        assert "import path" in str(info.value)
        with pytest.raises(ConfigError, match="import path"):
            TorchModel(cls)
    with pytest.raises(ConfigError, match="not a torch.nn.Module"):
        RunContext(model=int)
    with pytest.raises(ConfigError, match=r"pass an instance, e.g. VectorObs\(\)"):
        RunContext(model=VectorObs)


def test_the_allowlist_still_applies_to_a_module_class():
    with pytest.raises(ConfigError, match=r"allow_targets=\['tests.plugins.space_nets'\]"):
        RunContext(model=SpaceAware)


# -- 3. numpy scalars ------------------------------------------------------------------------

def test_numpy_scalars_are_stored_as_python_numbers():
    ppo = PPO(lr=np.float32(1e-3), n_steps=np.int64(64), normalize_advantage=np.bool_(False))
    assert ppo.lr == 0.001 and type(ppo.lr) is float
    assert type(ppo.n_steps) is int and ppo.normalize_advantage is False
    assert to_config(ppo).lr == 0.001
    assert to_config(Runner(n_envs=np.int64(4))).n_envs == 4
    assert VectorObs(hidden_units=np.array([32, 16])).hidden_units == [32, 16]
    exp = Experiment(seed=np.int64(3), algorithm=PPO(lr=np.float64(3e-4)))
    assert "seed: 3" in to_yaml(exp) and "lr: 0.0003" in to_yaml(exp)
    changed = exp.override({"runner.n_envs": np.int64(4), "algorithm.lr": np.float32(1e-3),
                            "env.kwargs": {"sutton_barto_reward": np.bool_(True)}})
    assert changed.runner.n_envs == 4 and changed.algorithm.lr == 0.001
    assert "sutton_barto_reward: true" in to_yaml(changed)
    ctx = RunContext(overrides={"algorithm.lr": np.float64(1e-3), "runner.n_envs": np.int64(2)},
                     seed=np.int64(5))
    assert (ctx.experiment.algorithm.lr, ctx.experiment.runner.n_envs, ctx.experiment.seed) == (
        0.001, 2, 5)


def test_a_numpy_array_where_one_value_is_expected_is_named():
    with pytest.raises(ConfigError, match=r"lr: must be a number, got a numpy array of shape \(2,\)"):
        PPO(lr=np.array([1e-3, 2e-3]))
    with pytest.raises(ConfigError) as info:
        Experiment().override({"algorithm.lr": np.array([1e-3, 2e-3])})
    assert "algorithm.lr: must be a number" in str(info.value) and "array(" in str(info.value)
    assert "primitive type" not in str(info.value)


# -- 4. file.py:NAME: a variable, else an experiment's name ------------------------------------

EXPS = """from mazedsl.spec import Experiment
base = Experiment(name="chain_ppo", total_steps=1000)
other = Experiment(name="chain-a2c", total_steps=2000)
alias = other
twin_a = Experiment(name="twin")
twin_b = Experiment(name="twin")
"""


def test_file_name_picks_a_variable_else_an_experiment_name(tmp_path):
    path = tmp_path / "myexps.py"
    path.write_text(EXPS)
    assert load_experiment(f"{path}:base").name == "chain_ppo"
    assert load_experiment(f"{path}:chain_ppo").total_steps == 1000
    assert load_experiment(f"{path}:chain-a2c").total_steps == 2000  # not an identifier
    with pytest.raises(ConfigError) as info:
        load_experiment(f"{path}:nope")
    assert str(info.value).endswith(
        "no experiment named 'nope' (defined: base (named 'chain_ppo'), other (named "
        "'chain-a2c'), alias (named 'chain-a2c'), twin_a (named 'twin'), twin_b (named 'twin'))")
    with pytest.raises(ConfigError, match="several experiments are named 'twin'"):
        load_experiment(f"{path}:twin")


def test_show_takes_an_experiment_name(tmp_path):
    (tmp_path / "myexps.py").write_text(EXPS)
    proc = cli("mazedsl", "show", "myexps.py:chain_ppo", "--explain", "total_steps", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "total_steps = 1000  (myexps.py:2)"


# -- 2. mazedsl-run keeps no run it refuses -----------------------------------------------------

TINY = ["total_steps=64", "eval_every_steps=0", "eval_episodes=1", "runner.n_envs=2",
        "algorithm.n_steps=32", "algorithm.batch_size=64"]


@pytest.mark.parametrize("args, expected", [
    (["runner.device=cuda:99"], "runner.device: 'cuda:99'"),
    (["model._target_=mypkg_absent.nets.PolicyNet", "allow_targets=[mypkg_absent]"],
     "cannot import 'mypkg_absent.nets.PolicyNet'"),
])
def test_mazedsl_run_refusals_leave_no_run_directory(tmp_path, args, expected):
    proc = cli("mazedsl-run", "-cn", "conf_train", *args, *TINY, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert expected in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert list(tmp_path.iterdir()) == []  # as `mazedsl train`: nothing written


@pytest.mark.parametrize("existing", [[], ["outputs"]])
def test_mazedsl_run_with_a_config_path_refused_in_the_job_leaves_no_new_folder(tmp_path, existing):
    """Under ``-cp`` no preflight runs: the build refuses inside Hydra's job, after Hydra made
    ``outputs/conf_train/<run>``; the folders made for it go again, those already there stay."""
    for name in existing:
        (tmp_path / name).mkdir()
    conf = Path(__file__).resolve().parents[1] / "conf"
    proc = cli("mazedsl-run", "-cp", str(conf), "-cn", "conf_train", "env.name=Pendulum-v1",
               "algorithm=dqn", *TINY[:3], cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "dqn needs a Discrete action space" in proc.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == existing


@pytest.mark.parametrize("args, expected", [
    (["algorithm=nope"], "algorithm: unknown config module 'nope' (available algorithm modules: a2c, "
                         "bc, dqn, fast_ppo, ppo, sac)"),
    (["algorithm=fast_ppo", "algorithm.lr=abc"], "algorithm.lr: must be a number, got 'abc'"),
    (["algorithm=fast_ppo", "runner.n_envs=2"],
     "algorithm.batch_size: 256 is larger than one rollout (n_steps 16 x runner.n_envs 2 = 32)"),
])
def test_mazedsl_run_checks_a_config_dir_before_hydra_as_the_built_in_conf(tmp_path, args, expected):
    """``--config-dir`` adds a folder after the built-in ``conf/``: its modules are known to
    the preflight, whose refusals stay one line with nothing written."""
    (tmp_path / "mine" / "algorithm").mkdir(parents=True)
    (tmp_path / "mine" / "algorithm" / "fast_ppo.yaml").write_text(
        "_target_: mazedsl.spec.PPO\nlr: 0.002\nn_steps: 16\n")
    proc = cli("mazedsl-run", "-cd", "mine", "-cn", "conf_train", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {expected}"), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    proc = cli("mazedsl-run", "--config-dir=absent", "-cn", "conf_train", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        f"error: --config-dir: {str(tmp_path / 'absent')!r} is not a folder"), proc.stderr


def test_mazedsl_run_trains_with_a_module_of_a_config_dir(tmp_path):
    (tmp_path / "mine" / "algorithm").mkdir(parents=True)
    (tmp_path / "mine" / "algorithm" / "fast_ppo.yaml").write_text(
        "_target_: mazedsl.spec.PPO\nlr: 0.002\nn_steps: 16\nbatch_size: 32\n")
    proc = cli("mazedsl-run", "-cd", "mine", "-cn", "conf_train", "algorithm=fast_ppo", "runner.n_envs=2",
               "total_steps=64", "eval_every_steps=0", "eval_episodes=1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = (tmp_path / "outputs" / "conf_train").iterdir()
    config = (run / "config.yaml").read_text()
    assert "lr: 0.002" in config and "n_steps: 16" in config


def test_mazedsl_run_refused_by_the_build_keeps_other_runs(tmp_path):
    kept = tmp_path / "outputs" / "conf_train" / "earlier"
    kept.mkdir(parents=True)
    proc = cli("mazedsl-run", "-cn", "conf_train", "~model",
               "+model={_target_: tests.plugins.my_nets.WrongShape}",
               "allow_targets=[tests.plugins]", *TINY, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "returned shape (2, 5)" in proc.stderr
    assert list((tmp_path / "outputs" / "conf_train").iterdir()) == [kept]
    runs = cli("mazedsl", "runs", "--json", cwd=tmp_path)
    assert "failed" not in runs.stdout
