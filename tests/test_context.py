"""RunContext: every constructor form, every method, load, the run directory, isolation."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml

from mazedsl import A2C, PPO, ConfigError, Experiment, GymEnv, RunContext, VectorObs
from mazedsl.run import iter_metrics
from mazedsl.spec import Runner

ROOT = Path(__file__).resolve().parents[1]

TINY = {"total_steps": 256, "eval_every_steps": 128, "eval_episodes": 2, "log_every_steps": 64,
        "runner.n_envs": 2, "algorithm.n_steps": 16, "algorithm.batch_size": 32}


def tiny_exp(**kw) -> Experiment:
    base = dict(name="tiny", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=2),
                runner=Runner(n_envs=2), total_steps=256, eval_every_steps=128, eval_episodes=2,
                log_every_steps=64)
    base.update(kw)
    return Experiment(**base)


def make_cartpole():
    return gym.make("CartPole-v1")


def test_names_compose_like_the_cli(tmp_path):
    ctx = RunContext(algorithm="a2c", model="vector_obs", critic="template_state",
                     overrides={"env.name": "Acrobot-v1", "algorithm.lr": 1e-3}, run_dir=tmp_path / "r",
                     silent=True)
    exp = ctx.experiment
    assert isinstance(exp.algorithm, A2C) and exp.algorithm.lr == 1e-3
    assert exp.env.name == "Acrobot-v1"
    assert ctx.config.algorithm._target_ == "mazedsl.rl.algos.a2c.A2C"
    assert not (tmp_path / "r").exists()  # the run directory is made when work starts
    ctx.evaluate(1)
    written = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    assert written["algorithm"]["lr"] == 1e-3 and written["env"]["name"] == "Acrobot-v1"


def test_dicts_declarations_and_module_names_in_overrides(tmp_path):
    ctx = RunContext(algorithm={"_target_": "mazedsl.rl.algos.a2c.A2C", "lr": 5e-4},
                     model=VectorObs(hidden_units=[32]),
                     overrides={"runner": "dev", "critic": {"hidden_units": [16]}},
                     run_dir=tmp_path / "r", silent=True)
    exp = ctx.experiment
    assert exp.algorithm == A2C(lr=5e-4)
    assert exp.model.hidden_units == [32] and exp.critic.hidden_units == [16]
    assert exp.runner.n_envs == 2 and exp.runner.vectorization == "sync"


def test_experiment_as_object_file_and_name(tmp_path):
    a = RunContext(tiny_exp(), run_dir=tmp_path / "a", silent=True)
    assert a.experiment.name == "tiny"
    b = RunContext("experiments/cartpole_a2c.py", run_dir=tmp_path / "b", silent=True)
    assert isinstance(b.experiment.algorithm, A2C)
    c = RunContext("cartpole_ppo", overrides={"seed": 7}, run_dir=tmp_path / "c", silent=True)
    assert c.experiment.seed == 7 and c.experiment.name == "cartpole_ppo"


def test_bad_value_names_path_and_source(tmp_path):
    with pytest.raises(ConfigError, match=r"algorithm\.lr: must be > 0, got -1"):
        RunContext(overrides={"algorithm.lr": -1}, run_dir=tmp_path / "r", silent=True)


def test_env_factory_is_recorded_and_instance_is_refused(tmp_path):
    ctx = RunContext(tiny_exp(), env=make_cartpole, run_dir=tmp_path / "r", silent=True)
    ctx.train()
    cfg = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    assert cfg["env"]["name"] == "CartPole-v1"
    assert cfg["env"]["factory"] == "tests.test_context:make_cartpole" or cfg["env"]["factory"].endswith(
        ":make_cartpole")
    lam = RunContext(tiny_exp(), env=lambda: gym.make("CartPole-v1"), run_dir=tmp_path / "l", silent=True)
    assert lam.config.env.factory == "<lambda> made CartPole-v1"  # what it made, no address
    assert lam.config.env.max_episode_steps == 500
    with pytest.raises(ConfigError, match="pass a factory"):
        RunContext(env=gym.make("CartPole-v1"), run_dir=tmp_path / "x", silent=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "trained"
    ctx = RunContext(tiny_exp(), run_dir=run_dir, silent=True)
    summary = ctx.train()
    return ctx, summary


def test_train_writes_the_run_directory(trained):
    ctx, summary = trained
    d = ctx.run_dir
    assert summary.steps >= 256 and summary.best_eval is not None
    for name in ("config.yaml", "overrides.yaml", "run.json", "metrics.jsonl", "spaces.json",
                 "checkpoints/last.pt", "checkpoints/best.pt", "train.log"):
        assert (d / name).is_file(), name
    info = json.loads((d / "run.json").read_text())
    assert info["status"] == "finished" and info["steps"] == summary.steps
    assert set(info["seeds"]) == {"master", "env", "eval", "torch"}
    assert "torch" in info["versions"] and info["started"] and info["ended"]
    train = list(iter_metrics(d / "metrics.jsonl", "train"))
    evals = list(iter_metrics(d / "metrics.jsonl", "eval"))
    assert train and len(evals) == 2
    for key in ("step", "time", "steps_per_s", "policy_loss", "value_loss", "entropy", "approx_kl", "lr"):
        assert key in train[-1], key
    assert max(e["mean_return"] for e in evals) == pytest.approx(info["best_eval"])


def test_evaluate_and_rollout(trained):
    ctx, _ = trained
    result = ctx.evaluate(n_episodes=3)
    assert len(result.returns) == 3
    assert result.min_return <= result.mean_return <= result.max_return
    saved = json.loads((ctx.run_dir / "eval.json").read_text())
    assert saved["mean_return"] == pytest.approx(result.mean_return) and saved["returns"] == result.returns
    episodes = ctx.rollout(n_episodes=2)
    assert len(episodes) == 2
    assert episodes.returns == [sum(ep.rewards) for ep in episodes]
    assert episodes.lengths == [len(ep.actions) for ep in episodes]
    assert len(episodes[0].observations) == len(episodes[0].actions) + 1
    files = sorted((ctx.run_dir / "rollouts").glob("episode_*.npz"))
    assert len(files) == 2
    data = np.load(files[0])
    assert data["rewards"].sum() == pytest.approx(episodes[0].episode_return)


def test_compute_action_single_batch_and_distribution(trained):
    ctx, _ = trained
    obs = np.zeros(4, dtype=np.float32)
    action = ctx.compute_action(obs)
    assert action in (0, 1)
    batch = ctx.compute_action(np.zeros((5, 4), dtype=np.float32))
    assert batch.shape == (5,)
    dist = ctx.compute_action_distribution(obs)
    assert dist["probs"].shape == (2,) and dist["probs"].sum() == pytest.approx(1.0, abs=1e-5)
    assert action == int(np.argmax(dist["probs"]))


def test_load_rebuilds_the_policy_without_redeclaring(trained):
    ctx, _ = trained
    loaded = RunContext.load(ctx.run_dir, checkpoint="last")
    obs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.compute_action(obs), ctx.compute_action(obs))
    best = RunContext.load(ctx.run_dir)
    assert len(best.evaluate(2).returns) == 2


def test_compute_action_before_train_works(tmp_path):
    ctx = RunContext(tiny_exp(env=GymEnv(name="Pendulum-v1")), run_dir=tmp_path / "r", silent=True)
    action = ctx.compute_action(np.zeros(3, dtype=np.float32))
    assert action.shape == (1,) and -2.0 <= action[0] <= 2.0
    dist = ctx.compute_action_distribution(np.zeros(3, dtype=np.float32))
    assert set(dist) == {"mean", "std"}


def test_two_contexts_are_independent_and_global_state_untouched(tmp_path):
    cwd, argv, root_handlers = os.getcwd(), list(sys.argv), list(logging.getLogger().handlers)
    a = RunContext(tiny_exp(seed=1), run_dir=tmp_path / "a", silent=True)
    b = RunContext(tiny_exp(seed=1, algorithm=A2C(n_steps=8)), run_dir=tmp_path / "b", silent=True)
    a.train()
    b.train()
    assert os.getcwd() == cwd and sys.argv == argv and logging.getLogger().handlers == root_handlers
    assert isinstance(a.experiment.algorithm, PPO) and isinstance(b.experiment.algorithm, A2C)
    assert (tmp_path / "a" / "train.log").read_text().count("training") >= 1
    assert "A2C" not in (tmp_path / "a" / "train.log").read_text()


def test_same_seed_same_metrics(tmp_path):
    def metrics(name):
        RunContext(tiny_exp(seed=5), run_dir=tmp_path / name, silent=True).train()
        return [{k: v for k, v in r.items() if k not in ("time", "steps_per_s")}
                for r in iter_metrics(tmp_path / name / "metrics.jsonl")]

    assert metrics("x") == metrics("y")


def test_default_run_dir_layout(tmp_path):
    ctx = RunContext(tiny_exp(output_dir=str(tmp_path / "out")), silent=True)
    rel = ctx.run_dir.relative_to(tmp_path / "out")
    assert rel.parts[0] == "tiny" and len(rel.parts[1].split("_")) == 2


def test_train_arguments(tmp_path):
    ctx = RunContext(tiny_exp(), run_dir=tmp_path / "r", silent=True)
    summary = ctx.train(n_epochs=2)
    assert summary.steps == 2 * 16 * 2 and summary.stopped == "epochs"
    with pytest.raises(ConfigError, match="unknown train"):
        ctx.train(bogus=1)


class FixedLength(gym.Env):
    """Five steps, reward 1 each, whatever the policy does: every evaluation returns 5."""

    observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(2, np.float32), 1.0, self.t >= 5, False, {}


def test_early_stopping_after_patience(tmp_path):
    exp = tiny_exp(total_steps=10_000, eval_every_steps=64, patience=2)
    ctx = RunContext(exp, env=FixedLength, run_dir=tmp_path / "r", silent=True)
    summary = ctx.train()
    evals = list(iter_metrics(tmp_path / "r" / "metrics.jsonl", "eval"))
    assert summary.stopped == "early_stopping" and len(evals) == 3
    assert [e["best"] for e in evals] == [True, False, False]
    assert all(e["mean_return"] == 5.0 for e in evals)


def test_target_return_stops_training(tmp_path):
    ctx = RunContext(tiny_exp(total_steps=10_000, eval_every_steps=64, target_return=5.0), env=FixedLength,
                     run_dir=tmp_path / "r", silent=True)
    summary = ctx.train()
    assert summary.stopped == "target_return" and summary.steps < 200


def test_async_vectorization_trains(tmp_path):
    ctx = RunContext(tiny_exp(runner=Runner(n_envs=2, vectorization="async"), total_steps=64,
                              eval_every_steps=0), run_dir=tmp_path / "r", silent=True)
    assert ctx.train().steps == 64
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "finished"


def test_tensorboard_events_when_installed(tmp_path):
    pytest.importorskip("tensorboard")
    RunContext(tiny_exp(), run_dir=tmp_path / "r", silent=True).train()
    assert list((tmp_path / "r" / "tensorboard").glob("events.out.tfevents.*"))


def test_observation_normalisation_statistics_are_saved_and_reloaded(tmp_path):
    from mazedsl.spec import NormalizeObservation

    ctx = RunContext(tiny_exp(wrappers=[NormalizeObservation()]), run_dir=tmp_path / "r", silent=True)
    ctx.train()
    loaded = RunContext.load(tmp_path / "r", checkpoint="last")
    mean = loaded._get_agent().prep.normalizer.rms.mean
    np.testing.assert_allclose(mean, ctx._trainer.prep.normalizer.rms.mean)
    assert np.abs(mean).sum() > 0


def test_pixel_experiment_file_trains_and_acts_on_images(tmp_path):
    ctx = RunContext("experiments/pixel_cartpole_ppo.py",
                     overrides={"total_steps": 256, "eval_every_steps": 0, "eval_episodes": 1,
                                "runner.n_envs": 2, "algorithm.n_steps": 16, "algorithm.batch_size": 32,
                                "algorithm.n_epochs": 1},
                     run_dir=tmp_path / "r", silent=True)
    assert ctx.train().steps == 256
    spaces = json.loads((tmp_path / "r" / "spaces.json").read_text())
    assert spaces["observation"]["shape"] == [2, 42, 42]
    frames = np.zeros((2, 42, 42), dtype=np.float32)
    assert RunContext.load(tmp_path / "r").compute_action(frames) in (0, 1)


def test_sweep_from_python_returns_per_job_results(tmp_path, monkeypatch):
    """Overrides as RunContext takes them: a list mixing strings and dicts (a dict alone was
    refused as "malformed override 'total_steps'": its keys were read as strings)."""
    monkeypatch.chdir(tmp_path)
    result = RunContext.sweep(str(ROOT / "experiments" / "cartpole_a2c.py"), ["algorithm.lr=1e-3,7e-4"],
                              seeds=1, overrides=[{"total_steps": 200, "eval_every_steps": 100},
                                                  "eval_episodes=1", {"runner.n_envs": 2}], jobs=2)
    assert len(result.jobs) == 2 and not result.failed
    assert {tuple(j.overrides) for j in result.jobs} == {("algorithm.lr=0.001", "seed=0"),
                                                         ("algorithm.lr=0.0007", "seed=0")}
    assert all(j.best_eval is not None and j.steps == 200 for j in result.jobs)
    assert (result.sweep_dir / "sweep.json").is_file()
    for job in result.jobs:
        config = yaml.safe_load((Path(job.run_dir) / "config.yaml").read_text())
        assert (config["total_steps"], config["eval_every_steps"], config["eval_episodes"],
                config["runner"]["n_envs"]) == (200, 100, 1, 2)
    with pytest.raises(ConfigError, match="total_stepz"):  # a dict's mistake, before any job runs
        RunContext.sweep(str(ROOT / "experiments" / "cartpole_a2c.py"), ["algorithm.lr=1e-3,7e-4"],
                         overrides={"total_stepz": 200})
    assert len(list(tmp_path.glob("outputs/*/sweep_*"))) == 1


def test_loaded_run_of_a_lambda_factory_acts_but_needs_the_factory_for_envs(tmp_path):
    from mazedsl.errors import EnvError

    RunContext(tiny_exp(), env=lambda: gym.make("CartPole-v1"), run_dir=tmp_path / "r", silent=True).train()
    loaded = RunContext.load(tmp_path / "r", silent=True)  # a registered env: rebuilt from its id
    assert loaded.compute_action(np.zeros(4, dtype=np.float32)) in (0, 1)
    assert len(loaded.evaluate(2).returns) == 2

    from gymnasium.envs.classic_control import CartPoleEnv

    unregistered = lambda: gym.wrappers.TimeLimit(CartPoleEnv(), 200)  # noqa: E731
    RunContext(tiny_exp(), env=unregistered, run_dir=tmp_path / "u", silent=True).train()
    lost = RunContext.load(tmp_path / "u", silent=True)
    assert lost.compute_action(np.zeros(4, dtype=np.float32)) in (0, 1)
    with pytest.raises(EnvError, match=r"pass it again: RunContext.load\(run, env=factory\)"):
        lost.evaluate(1)
    again = RunContext.load(tmp_path / "r", env=lambda: gym.make("CartPole-v1"))
    assert len(again.evaluate(2).returns) == 2



@pytest.mark.parametrize("keep_refused, kept", [(None, True), (False, False), (True, True)])
def test_keep_refused_decides_whether_a_refused_build_leaves_the_named_run_directory(
        tmp_path: Path, keep_refused: bool | None, kept: bool) -> None:
    from mazedsl.errors import ConfigError

    run = tmp_path / "named"
    ctx = RunContext(str(ROOT / "experiments" / "cartpole_dqn.py"), env={"name": "Pendulum-v1"},
                     run_dir=run, silent=True, keep_refused=keep_refused)
    with pytest.raises(ConfigError, match="Discrete"):
        ctx.train()
    assert run.is_dir() is kept  # default: kept, as the run directory was asked for
    if kept:
        info = json.loads((run / "run.json").read_text())
        assert info["status"] == "failed" and "Discrete" in info["error"]
