"""#14's engine-side surprises: shapes named, evaluation that cannot hang, validation gaps,
close-only env suggestions, and one learning-regression check."""

from __future__ import annotations

import signal
import threading
import time

import gymnasium as gym
import numpy as np
import pytest

from mazedsl import PPO, Experiment, RunContext
from mazedsl.errors import ConfigError

TINY = {"total_steps": 256, "eval_every_steps": 0, "eval_episodes": 2, "runner.n_envs": 2,
        "algorithm.n_steps": 64, "algorithm.batch_size": 64}


def test_compute_action_names_the_expected_and_given_shape(tmp_path):
    ctx = RunContext(Experiment().override(TINY), run_dir=tmp_path / "r", silent=True)
    with pytest.raises(ConfigError, match=r"observation: expected an observation of shape \(4,\) "
                                          r"\(or a batch \(n, 4\)\), got shape \(5,\)"):
        ctx.compute_action(np.zeros(5))
    assert ctx.compute_action(np.zeros((3, 4), np.float32)).shape == (3,)


class Endless(gym.Env):
    """An env that never ends an episode (no step limit of its own)."""

    observation_space = gym.spaces.Box(-1, 1, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(4, np.float32), {}

    def step(self, action):
        return np.zeros(4, np.float32), 1.0, False, False, {}


def test_evaluation_of_an_env_that_never_ends_is_capped(tmp_path):
    exp = Experiment().override(TINY, {"runner.episode_step_limit": 50})
    ctx = RunContext(exp, env=Endless, run_dir=tmp_path / "r", silent=True)
    result = ctx.evaluate(3)
    assert result.lengths == [50, 50, 50] and result.returns == [50.0, 50.0, 50.0]


def test_a_signal_stops_evaluation_at_once(tmp_path):
    exp = Experiment().override(TINY, {"runner.episode_step_limit": 10_000_000, "runner.n_eval_envs": 1,
                                       "eval_every_steps": 128, "total_steps": 100_000})
    ctx = RunContext(exp, env=Endless, run_dir=tmp_path / "r", silent=True)
    timer = threading.Timer(2.0, lambda: signal.raise_signal(signal.SIGTERM))
    timer.start()
    started = time.monotonic()
    summary = ctx.train()
    timer.cancel()
    assert summary.stopped == "interrupted"
    assert time.monotonic() - started < 30


def test_integral_floats_null_grad_clip_and_batch_larger_than_a_rollout(tmp_path):
    exp = Experiment().override("total_steps=1e5", "algorithm.max_grad_norm=null")
    assert exp.total_steps == 100_000 and exp.algorithm.max_grad_norm is None
    RunContext(exp.override(TINY), run_dir=tmp_path / "r", silent=True).train(total_steps=128)
    with pytest.raises(ConfigError, match=r"algorithm.batch_size: 512 is larger than one rollout "
                                          r"\(n_steps 64 x runner.n_envs 2 = 128\)"):
        RunContext(Experiment().override(TINY, {"algorithm.batch_size": 512}),
                   run_dir=tmp_path / "b", silent=True).train()


@pytest.mark.parametrize("name, hint", [("Nope-v0", None), ("Foo-v0", None),
                                        ("CartPole-v2", "CartPole-v1")])
def test_env_suggestions_are_close_or_none(name, hint):
    with pytest.raises(ConfigError) as info:
        RunContext(overrides={"env.name": name}, silent=True)
    text = str(info.value)
    assert text.startswith(f"env.name: unknown gymnasium environment {name!r}")
    assert ("did you mean" in text) == (hint is not None)
    if hint:
        assert repr(hint) in text


def test_cartpole_ppo_learns_within_its_budget(tmp_path):
    """The learning regression check: the default experiment reaches 475 in its 100k budget."""
    from mazedsl.config import load_experiment

    exp = load_experiment("experiments/cartpole_ppo.py").override("target_return=475")
    summary = RunContext(exp, run_dir=tmp_path / "r", silent=True).train()
    assert summary.best_eval is not None and summary.best_eval >= 475, summary
