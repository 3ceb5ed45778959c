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


def _ctx(tmp_path, env_name, name="r"):
    exp = Experiment(name=name).override(TINY, {"env.name": env_name, "eval_episodes": 1})
    return RunContext(exp, run_dir=tmp_path / name, silent=True)


@pytest.mark.parametrize("observation, problem", [
    (-1, r"-1 is out of range 0\.\.15"),
    (16, r"16 is out of range 0\.\.15"),
    (2.7, r"expected integers, got 2\.7"),
    (True, r"expected integers, got True"),
    ("3", r"expected one integer .*got str '3'"),
    (np.zeros((3, 4)), r"expected one integer \(or a 1-D batch of integers \(n,\)\), got shape \(3, 4\)"),
    (np.array([1, 2, 99]), r"99 is out of range 0\.\.15 \(at index 2\)"),
    ([1.0, 2.5], r"expected integers, got 2\.5 \(at index 1\)"),
])
def test_compute_action_refuses_what_is_not_in_a_discrete_space(tmp_path, observation, problem):
    ctx = _ctx(tmp_path, "FrozenLake-v1")
    with pytest.raises(ConfigError, match=r"^observation: " + problem + r".*\(observation space Discrete\(16\)\)$"):
        ctx.compute_action(observation)
    with pytest.raises(ConfigError, match=problem):
        ctx.compute_action_distribution(observation)


def test_a_loaded_discrete_run_acts_on_valid_observations_and_refuses_the_rest(tmp_path):
    ctx = _ctx(tmp_path, "FrozenLake-v1")
    ctx.train()
    loaded = RunContext.load(ctx.run_dir)
    assert loaded.compute_action(15) in range(4) and loaded.compute_action(np.int8(3)) in range(4)
    assert loaded.compute_action(3.0) == loaded.compute_action(3)  # an integral float is that state
    batch = loaded.compute_action([0, 5, 15])
    assert batch.shape == (3,) and list(batch) == [loaded.compute_action(s) for s in (0, 5, 15)]
    for bad in (-1, 2.7, np.zeros((3, 4))):
        with pytest.raises(ConfigError, match=r"observation space Discrete\(16\)"):
            loaded.compute_action(bad)


def test_compute_action_takes_a_batch_of_tuple_observations_in_either_form(tmp_path):
    ctx = _ctx(tmp_path, "Blackjack-v1")
    singles = [(14, 10, 0), (20, 5, 1), (4, 1, 1)]
    one = [ctx.compute_action_distribution(o)["probs"] for o in singles]
    as_list = ctx.compute_action_distribution(singles)["probs"]          # a list of observations
    as_parts = ctx.compute_action_distribution(tuple(np.array(c) for c in zip(*singles)))["probs"]
    np.testing.assert_allclose(as_list, np.stack(one), rtol=1e-6)
    np.testing.assert_allclose(as_parts, np.stack(one), rtol=1e-6)  # a vector env's tuple of arrays
    assert ctx.compute_action(singles[:2]).shape == (2,)
    assert ctx.compute_action(np.array(singles[0])) in (0, 1)


@pytest.mark.parametrize("observation, problem", [
    (99, r"expected a tuple of 3 \(Discrete\(32\), Discrete\(11\), Discrete\(2\)\) \(or a batch: "
         r"a list of such tuples, or a tuple of per-element batches\), got int 99"),
    ((14, 99, 0), r"element \[1\]: 99 is out of range 0\.\.10"),
    ((14.5, 1, 0), r"element \[0\]: expected integers, got 14\.5"),
    ([(14, 10, 0), (20, 5, 9)], r"batch item \[1\]: element \[2\]: 9 is out of range 0\.\.1"),
    ((np.array([14, 20]), np.array([10, 5]), np.array([0])), r"the elements' batch sizes differ \(1, 2\)"),
    ((1, 2), r"expected a tuple of 3 .* got tuple \(1, 2\)"),
])
def test_compute_action_refuses_what_is_not_in_a_tuple_space(tmp_path, observation, problem):
    ctx = _ctx(tmp_path, "Blackjack-v1")
    with pytest.raises(ConfigError, match=r"^observation: " + problem
                       + r".*\(observation space Tuple\(Discrete\(32\), Discrete\(11\), Discrete\(2\)\)\)$"):
        ctx.compute_action(observation)


def test_compute_action_checks_box_dtype_range_and_nan(tmp_path):
    ctx = _ctx(tmp_path, "CartPole-v1")
    for bad, problem in [([np.nan, 0, 0, 0], r"contains NaN \(at index 0\)"),
                         (["a", "b", "c", "d"], r"expected numbers, got list"),
                         (np.zeros((2, 2)), r"got shape \(2, 2\)")]:
        with pytest.raises(ConfigError, match=r"^observation: .*" + problem
                           + r".*\(observation space Box\(\[-4\.8 -inf -0\.41887903 -inf\], "):
            ctx.compute_action(bad)
    assert ctx.compute_action([0, 0, 0, 0]) in (0, 1)  # a list of ints is a float observation


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


def test_one_eval_env_stuck_at_the_cap_restarts_for_the_next_episode(tmp_path):
    """With one env, each capped episode leaves it out until every env is: then all reset."""
    exp = Experiment().override(TINY, {"runner.episode_step_limit": 20, "runner.n_eval_envs": 1})
    ctx = RunContext(exp, env=Endless, run_dir=tmp_path / "r", silent=True)
    result = ctx.evaluate(3)
    assert result.lengths == [20, 20, 20] and result.returns == [20.0, 20.0, 20.0]


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


def test_readme_reinforce_example_trains_without_warnings(tmp_path):
    """The README's "Open engine" algorithm, pasted as is (registered under another name, so
    the plugin's ``reinforce`` stays), trains without torch's requires_grad warning."""
    import re
    import sys
    import types
    import warnings
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Open engine"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert 'register_algorithm("reinforce"' in code and "class ReinforceLearner" in code
    code = code.replace('register_algorithm("reinforce"', 'register_algorithm("readme_reinforce"')
    module = types.ModuleType("readme_open_engine_example")
    sys.modules[module.__name__] = module
    try:
        exec(compile(code, "README.md", "exec"), module.__dict__)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            ctx = RunContext(Experiment(algorithm=module.Reinforce(n_steps=32)).override(
                {"total_steps": 128, "eval_every_steps": 0, "eval_episodes": 1, "runner.n_envs": 2}),
                run_dir=tmp_path / "r", silent=True)
            summary = ctx.train()
        assert summary.steps >= 128
    finally:
        sys.modules.pop(module.__name__, None)
