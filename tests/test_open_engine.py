"""The open engine: algorithms by registry (one defined outside mazedsl), your own torch
models, your own envs (``module:id`` and factories), every action space, and the device."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
import yaml

from mazedsl import Experiment, RunContext, TorchModel
from mazedsl.errors import ConfigError, EnvError, MazeError

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TINY = {"total_steps": 512, "eval_every_steps": 256, "eval_episodes": 2, "log_every_steps": 128,
        "checkpoint_every_steps": 256, "runner.n_envs": 2}


def cli(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


# -- algorithms by registry ---------------------------------------------------------------
def test_a_registered_precheck_refuses_before_the_learner_is_imported() -> None:
    """``register_algorithm(..., precheck=f)``: the CLIs' preflight calls ``f`` with the
    declaration, the experiment and the env's spaces before it imports the learner."""
    import attrs

    from mazedsl import register_algorithm
    from mazedsl.cli.preflight import check_runnable
    from mazedsl.rl import registry
    from mazedsl.spec import param

    @attrs.define(frozen=True, kw_only=True)
    class Picky:
        n_steps: int = param(8, "Steps per env before each update.")

    seen = []

    def precheck(decl, experiment, obs_space, action_space) -> None:
        seen.append((decl.n_steps, experiment.env.name, obs_space.shape, action_space.n))
        raise ConfigError("must be at least 16", "algorithm.n_steps")

    register_algorithm("picky", Picky, "no_such_module:Learner", action_spaces=("Discrete",),
                       precheck=precheck, config_module=False)
    try:
        with pytest.raises(ConfigError, match="must be at least 16") as err:
            check_runnable(Experiment(algorithm=Picky()))
        assert err.value.path == "algorithm.n_steps"
        assert seen == [(8, "CartPole-v1", (4,), 2)]
        with pytest.raises(ConfigError, match="picky needs a Discrete action space"):
            check_runnable(Experiment(algorithm=Picky()).override({"env.name": "Pendulum-v1"}))
        assert len(seen) == 1  # the action space is refused first
    finally:
        registry._ENTRIES.pop("picky")



def test_an_algorithm_from_outside_trains_through_run_context(tmp_path):
    from tests.plugins.reinforce_algo import Reinforce

    from mazedsl.rl.registry import algorithms

    assert "reinforce" in algorithms()
    ctx = RunContext(Experiment(algorithm=Reinforce(n_steps=32)).override(TINY),
                     run_dir=tmp_path / "r", silent=True)
    summary = ctx.train()
    assert summary.steps >= 512 and summary.evaluations >= 2
    assert "tests.plugins.reinforce_algo.Reinforce" in (tmp_path / "r" / "config.yaml").read_text()
    lines = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert any(line["phase"] == "train" and "loss" in line for line in lines)
    by_name = RunContext(algorithm="reinforce", overrides=TINY, run_dir=tmp_path / "n", silent=True)
    assert isinstance(by_name.experiment.algorithm, Reinforce)
    loaded = RunContext.load(tmp_path / "r", silent=True)  # the config names the plugin
    assert len(loaded.evaluate(2).returns) == 2


def test_an_algorithm_from_outside_trains_through_both_clis(tmp_path):
    exp_file = tmp_path / "reinforce_cartpole.py"
    exp_file.write_text("from tests.plugins.reinforce_algo import Reinforce\n"
                        "from mazedsl import Experiment\n"
                        "experiment = Experiment(name='rf', algorithm=Reinforce(n_steps=32))\n")
    cli("mazedsl", "train", str(exp_file), *(f"{k}={v}" for k, v in TINY.items()),
        "--run-dir", str(tmp_path / "cli"), "--quiet", cwd=tmp_path)
    assert json.loads((tmp_path / "cli" / "run.json").read_text())["status"] == "finished"
    conf = tmp_path / "conf" / "algorithm"
    conf.mkdir(parents=True)
    (conf / "reinforce.yaml").write_text("_target_: tests.plugins.reinforce_algo.Reinforce\n"
                                         "lr: 0.001\nn_steps: 32\ngamma: 0.99\n")
    env = {"MAZEDSL_CONFIG_PATH": str(tmp_path / "conf")}
    os.environ.update(env)
    try:
        proc = cli("mazedsl-run", "algorithm=reinforce", "allow_targets=[tests.plugins]",
                   "output_dir=out", *(f"{k}={v}" for k, v in TINY.items()), cwd=tmp_path)
    finally:
        os.environ.pop("MAZEDSL_CONFIG_PATH")
    runs = list((tmp_path / "out").glob("conf_train/*/run.json"))
    assert len(runs) == 1 and json.loads(runs[0].read_text())["status"] == "finished", proc.stdout
    assert "ConfigStore schema" not in proc.stderr  # Hydra's deprecation note: not the user's to fix
    refused = cli("mazedsl-run", "algorithm=reinforce", "output_dir=out2", cwd=tmp_path, check=False)
    assert refused.returncode == 2 and "algorithm" in refused.stderr


def test_an_algorithm_package_in_the_working_directory_imports_and_its_errors_are_named(
        tmp_path, monkeypatch):
    """As for envs and models, the working directory is importable (no PYTHONPATH); an import
    error inside the package is named, not reported as an unknown _target_ alone."""
    from mazedsl.rl.registry import _ENTRIES

    pkg = tmp_path / "cwd_algos_t1"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    source = (ROOT / "tests" / "plugins" / "reinforce_algo.py").read_text()
    (pkg / "algo.py").write_text(source.replace('register_algorithm("reinforce"',
                                                'register_algorithm("reinforce_cwd_t1"'))
    (pkg / "broken.py").write_text("import no_such_dependency_t1\n")
    monkeypatch.chdir(tmp_path)
    try:
        exp = Experiment().override({"allow_targets": ["cwd_algos_t1"],
                                     "algorithm": {"_target_": "cwd_algos_t1.algo.Reinforce"}})
        assert type(exp.algorithm).__module__ == "cwd_algos_t1.algo"
        with pytest.raises(MazeError) as err:
            Experiment().override({"allow_targets": ["cwd_algos_t1"],
                                   "algorithm": {"_target_": "cwd_algos_t1.broken.Reinforce"}})
        assert ("unknown _target_ 'cwd_algos_t1.broken.Reinforce' (importing cwd_algos_t1.broken "
                "failed: ModuleNotFoundError: No module named 'no_such_dependency_t1')") in str(err.value)
    finally:
        from hydra.core.config_store import ConfigStore

        _ENTRIES.pop("reinforce_cwd_t1", None)
        ConfigStore.instance().repo.get("algorithm", {}).pop("reinforce_cwd_t1.yaml", None)


def test_algorithm_files_state_every_field_of_their_declaration():
    from omegaconf import OmegaConf

    from mazedsl.config.convert import unstructure
    from mazedsl.rl.registry import algorithms

    for name, entry in algorithms().items():
        path = ROOT / "conf" / "algorithm" / f"{name}.yaml"
        if entry.declaration.__module__.startswith("mazedsl."):
            assert path.is_file(), f"built-in algorithm {name} has no config module"
            assert OmegaConf.to_container(OmegaConf.load(path)) == unstructure(entry.declaration())


def test_trainer_and_spec_name_no_concrete_algorithm():
    for path in [ROOT / "mazedsl" / "rl" / "trainer.py", ROOT / "mazedsl" / "rl" / "building.py",
                 ROOT / "mazedsl" / "context.py", *(ROOT / "mazedsl" / "spec").glob("*.py")]:
        text = path.read_text()
        for name in ("PPO", "A2C", "ppo_update", "a2c_update"):
            assert name not in text, f"{path.name} names {name}"


# -- your own models -----------------------------------------------------------------------

MODEL = {"_target_": "tests.plugins.my_nets.PolicyNet", "hidden_units": [32, 32],
         "non_lin": "torch.nn.Tanh"}


def test_the_reference_documents_model_example_trains_checkpoints_resumes_and_reloads(tmp_path):
    ctx = RunContext(overrides={"model": MODEL, "allow_targets": ["tests.plugins"], **TINY,
                                "algorithm.n_steps": 64, "algorithm.batch_size": 64},
                     run_dir=tmp_path / "r", silent=True)
    assert isinstance(ctx.experiment.model, TorchModel)
    ctx.train(n_epochs=2)  # 2 rollouts of 64 x 2: 256 of its 512 steps
    cfg = (tmp_path / "r" / "config.yaml").read_text()
    assert "_target_: tests.plugins.my_nets.PolicyNet" in cfg and "non_lin: torch.nn.Tanh" in cfg
    resumed = RunContext.load(tmp_path / "r", silent=True)
    summary = resumed.train()
    assert summary.steps == 512
    loaded = RunContext.load(tmp_path / "r", checkpoint="last", silent=True)
    inner = loaded.policy.pi_torso.inner
    assert type(inner).__name__ == "PolicyNet" and isinstance(inner.net[1], torch.nn.Tanh)
    assert loaded.compute_action(np.zeros(4, np.float32)) in (0, 1)
    assert len(loaded.evaluate(2).returns) == 2
    episodes = loaded.rollout(1)
    assert episodes.lengths[0] > 0 and (tmp_path / "r" / "rollouts" / "episode_000.npz").is_file()
    steps = list(loaded.iter_rollout())  # the TUI viewer's path
    assert steps[0].action is None and steps[-1].terminated or steps[-1].truncated


def test_a_user_critic_and_the_python_form(tmp_path):
    from tests.plugins.my_nets import PolicyNet, ValueNet

    exp = Experiment(model=TorchModel(PolicyNet, hidden_units=[16], non_lin=torch.nn.ReLU),
                     critic=TorchModel(ValueNet, width=8), allow_targets=["tests.plugins"]
                     ).override(TINY, {"algorithm.n_steps": 64, "algorithm.batch_size": 64})
    ctx = RunContext(exp, run_dir=tmp_path / "r", silent=True)
    assert ctx.train(total_steps=128).steps == 128
    assert type(ctx.policy.vf_torso.inner).__name__ == "ValueNet"


@pytest.mark.parametrize("model, message", [
    ({"_target_": "tests.plugins.my_nets.Nope"}, "model._target_: cannot import 'tests.plugins.my_nets.Nope'"),
    ({"_target_": "tests.plugins.my_nets.NotAModule"}, "is not a torch.nn.Module class"),
    ({"_target_": "tests.plugins.my_nets.WrongShape"},
     r"model: tests.plugins.my_nets.WrongShape returned shape \(2, 5\) for a batch of 2; action "
     r"space Discrete\(2\) needs \(batch, 2\)"),
])
def test_bad_user_models_are_one_line_and_leave_no_run(tmp_path, model, message):
    ctx = RunContext(overrides={"model": model, "allow_targets": ["tests.plugins"], **TINY,
                                "output_dir": str(tmp_path / "out")}, silent=True)
    with pytest.raises(ConfigError, match=message):
        ctx.train()
    assert not (tmp_path / "out").exists()  # nothing half-written
    asked = RunContext(overrides={"model": model, "allow_targets": ["tests.plugins"], **TINY},
                       run_dir=tmp_path / "r", silent=True)  # a watched run dir says why
    with pytest.raises(ConfigError, match=message):
        asked.train()
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "failed"


def test_a_model_given_whole_replaces_the_node_and_its_target_alone_says_so(tmp_path):
    """`model={_target_: ...}` replaces conf_train's VectorObs node, in RunContext and in both
    CLIs alike; `model._target_=...` alone keeps the node's other fields, and the error says so."""
    net = "{_target_:tests.plugins.my_nets.PolicyNet,hidden_units:[8],non_lin:torch.nn.ReLU}"
    whole = RunContext(overrides=[f"model={net}", "allow_targets=[tests.plugins]"],
                       run_dir=tmp_path / "whole", silent=True)
    assert whole.experiment.model.kwargs == {"hidden_units": [8], "non_lin": "torch.nn.ReLU"}
    assert type(whole.policy.pi_torso.inner).__name__ == "PolicyNet"
    alone = RunContext(overrides=["model._target_=tests.plugins.my_nets.PolicyNet",
                                  "allow_targets=[tests.plugins]"], run_dir=tmp_path / "alone",
                       silent=True)
    with pytest.raises(ConfigError, match=r"^model: tests.plugins.my_nets.PolicyNet\(\.\.\.\) rejected "
                       r"its arguments: .*unexpected keyword argument '(\w+)' \('\1' is a field of the "
                       r"built-in declaration the model node held; give the whole node to replace "
                       r"it: model=\{_target_: \.\.\., \.\.\.\}\)$"):
        alone.train()
    run_dir = tmp_path / "hydra"
    cli("mazedsl-run", "-cn", "conf_train", f"model={net}", "allow_targets=[tests.plugins]",
        *(f"{k}={v}" for k, v in TINY.items()), "total_steps=128", "algorithm.n_steps=64",
        "algorithm.batch_size=64", f"hydra.run.dir={run_dir}", cwd=ROOT)
    logged = yaml.safe_load((run_dir / "config.yaml").read_text())["model"]
    assert logged == {"_target_": "tests.plugins.my_nets.PolicyNet", "hidden_units": [8],
                      "non_lin": "torch.nn.ReLU"}


def test_user_modules_are_outside_the_allowlist_by_default(tmp_path):
    with pytest.raises(MazeError, match=r"model._target_: .*outside the allowed modules; allow it "
                                        r"with the experiment setting allow_targets=\['tests.plugins.my_nets'\]"):
        RunContext(overrides={"model": MODEL, **TINY}, run_dir=tmp_path / "r", silent=True)
    assert not (tmp_path / "r").exists()


def test_activations_accept_names_and_torch_classes():
    from mazedsl.spec import VectorObs

    assert VectorObs(activation=torch.nn.Tanh).activation == "torch.nn.Tanh"
    exp = Experiment().override("model.activation=torch.nn.ReLU")
    from mazedsl.rl.building import build

    built = build(exp, training=False)
    assert isinstance(built.policy.pi_torso[1], torch.nn.ReLU)
    with pytest.raises(ConfigError, match="model.activation: must be one of 'tanh'"):
        Experiment().override("model.activation=sigmoidish")


# -- your own envs -------------------------------------------------------------------------

def test_module_id_env_and_factory_from_the_cli(tmp_path):
    for extra in (["env.name=tests.plugins.my_envs:MyCorridor-v0"],
                  ["env.factory=tests.plugins.my_envs:make_corridor", "env.name=corridor"]):
        run_dir = tmp_path / extra[0].split("=")[0]
        cli("mazedsl", "train", str(ROOT / "experiments" / "pendulum_ppo.py"), *extra,
            *(f"{k}={v}" for k, v in TINY.items()), "algorithm.n_steps=64", "algorithm.batch_size=64",
            "--run-dir", str(run_dir), "--quiet", cwd=ROOT)
        spaces = json.loads((run_dir / "spaces.json").read_text())
        assert spaces["action"]["shape"] == [1, 2]  # the corridor trained, not Pendulum
        out = cli("mazedsl", "eval", str(run_dir), "--episodes", "2", "--json", cwd=ROOT)
        assert json.loads(out.stdout)["mean_return"] > -100
    bad = cli("mazedsl", "train", str(ROOT / "experiments" / "cartpole_ppo.py"),
              "env.factory=tests.plugins.my_envs:nope", cwd=ROOT, check=False)
    assert bad.returncode == 2 and "env.factory: cannot import the env factory" in bad.stderr


def test_a_run_of_a_factory_from_the_working_directory_evaluates_from_there(tmp_path):
    """Training imports `env.factory` with the working directory importable (as `python -m`);
    loading the run from the same place (eval, rollout, the TUI) does too. No PYTHONPATH."""
    (tmp_path / "my_factories.py").write_text(
        "import gymnasium\n\ndef make():\n    return gymnasium.make('CartPole-v1')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "mazedsl"), *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=300)

    trained = run("train", str(ROOT / "experiments" / "cartpole_ppo.py"),
                  "env.factory=my_factories:make",  # env.name keeps the file's CartPole-v1
                  *(f"{k}={v}" for k, v in TINY.items()), "total_steps=128",
                  "algorithm.n_steps=64", "algorithm.batch_size=64", "--quiet")
    assert trained.returncode == 0, trained.stderr
    evaluated = run("eval", "latest", "--episodes", "2", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["n_episodes"] == 2
    # the run is labelled by its factory, not by the env.name it left unused
    assert [r["env"] for r in json.loads(run("runs", "--json").stdout)] == ["my_factories:make"]
    # from elsewhere the factory does not import: said so, never another env built in its place
    (tmp_path / "elsewhere").mkdir()
    away = run("eval", str(tmp_path / trained.stdout.strip()), cwd=tmp_path / "elsewhere")
    assert away.returncode == 2 and "Traceback" not in away.stderr
    assert (f"the run's env factory 'my_factories:make' cannot be imported from here "
            "(ModuleNotFoundError: No module named 'my_factories'); run from the directory it "
            "trained in") in away.stderr


def test_an_env_whose_spaces_differ_from_the_run_is_one_line(tmp_path):
    RunContext(Experiment().override(TINY, {"algorithm.n_steps": 64, "algorithm.batch_size": 64}),
               run_dir=tmp_path / "r", silent=True).train(total_steps=128)
    other = RunContext.load(tmp_path / "r", env=lambda: gym.make("Acrobot-v1"), silent=True)
    with pytest.raises(EnvError, match=r"the env's observation space Box\(.*\(6,\).*\) differs from "
                                       r"the run's Box\(.*\(4,\).*\) \(spaces.json\)"):
        other.evaluate(1)


# -- the device ----------------------------------------------------------------------------

def test_cpu_device_every_tensor_on_it(tmp_path):
    ctx = RunContext(Experiment().override(TINY, {"runner.device": "cpu", "algorithm.n_steps": 64,
                                                  "algorithm.batch_size": 64}),
                     run_dir=tmp_path / "r", silent=True)
    ctx.train(total_steps=128)
    assert ctx.device == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in ctx.policy.parameters())


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_is_one_line_exit_2(tmp_path):
    with pytest.raises(ConfigError, match=r"runner.device: 'cuda' asked for, but CUDA is not available"):
        RunContext(overrides={"runner.device": "cuda"}, run_dir=tmp_path / "r", silent=True)
    assert not (tmp_path / "r").exists()
    proc = cli("mazedsl", "train", str(ROOT / "experiments" / "cartpole_ppo.py"), "runner.device=cuda:3",
               cwd=tmp_path, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "runner.device" in proc.stderr
    with pytest.raises(ConfigError, match="runner.device: must be 'auto', 'cpu'"):
        Experiment().override("runner.device=gpu")


def test_checkpoints_load_onto_a_given_device(tmp_path):
    RunContext(Experiment().override(TINY, {"algorithm.n_steps": 64, "algorithm.batch_size": 64}),
               run_dir=tmp_path / "r", silent=True).train(total_steps=128)
    from mazedsl.run.directory import RunDirectory

    state = RunDirectory.open(tmp_path / "r").load_checkpoint("last", map_location=torch.device("meta"))
    assert all(t.device.type == "meta" for t in state["policy"].values())
