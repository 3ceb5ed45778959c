"""Porting your own envs: a factory's ``env.kwargs`` and ``env.max_episode_steps`` hold as for
``gymnasium.make``, a mistyped ``env.factory`` is refused, wrappers name themselves when an env's
observations do not suit them, and an env that breaks gymnasium's API is named as the culprit
(one line, exit 2, nothing written) rather than reported as a bug in mazedsl.

The envs are in ``tests/plugins/porting_envs.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from mazedsl import Experiment, RunContext
from mazedsl.errors import ConfigError, EnvError
from mazedsl.rl.building import build
from mazedsl.rl.envs import check_env_api, check_env_id, factory_from_decl, make_env_fn
from mazedsl.spec import (FrameStack, Grayscale, GymEnv, NormalizeObservation, Resize,
                          ScaleObservation)
from tests.plugins import porting_envs

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CARTPOLE = str(ROOT / "experiments" / "cartpole_ppo.py")
MOD = "tests.plugins.porting_envs"
TINY = {"total_steps": 128, "eval_every_steps": 0, "eval_episodes": 2, "runner.n_envs": 2,
        "runner.n_eval_envs": 2, "algorithm.n_steps": 32, "algorithm.batch_size": 32}


def mazedsl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(BIN / "mazedsl"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=240)


def refused(proc: subprocess.CompletedProcess, cwd: Path) -> str:
    """The one stderr line of a refusal (exit 2) that wrote nothing."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (cwd / "outputs").exists()
    return proc.stderr.strip()


def context(tmp_path: Path, overrides: dict, **components) -> RunContext:
    """A tiny experiment's RunContext: ``overrides`` apply after ``components``."""
    exp = Experiment(output_dir=str(tmp_path / "outputs")).override(TINY)
    return RunContext(exp, overrides=overrides, silent=True, **components)


# -- 1. a factory's env.max_episode_steps and env.kwargs ------------------------------------

def test_a_factory_env_is_cut_at_the_declared_max_episode_steps(tmp_path):
    """Evaluation of an env that never ends stops at ``env.max_episode_steps`` (it hung)."""
    rc = context(tmp_path, {"env.factory": f"{MOD}:make_endless", "env.max_episode_steps": 6})
    result = rc.evaluate(3)
    assert result.lengths == [6, 6, 6]
    assert result.returns == pytest.approx([-0.06] * 3)


def test_a_lambda_factory_takes_an_overridden_max_episode_steps(tmp_path):
    rc = context(tmp_path, {"env.max_episode_steps": 7}, env=lambda: gym.make("CartPole-v1"))
    assert rc.config.env.max_episode_steps == 7
    assert rc.evaluate(2).lengths == [7, 7]  # CartPole's own 500 steps stay, inside


def test_the_declared_limit_also_caps_the_episode_loop(tmp_path):
    """The build's episode step cap is the env's own limit when one is declared (so an env
    that ignored it could not hang evaluation), else runner.episode_step_limit."""
    declared = Experiment().override(TINY, {"env.factory": f"{MOD}:make_endless",
                                            "env.max_episode_steps": 9,
                                            "runner.episode_step_limit": 50})
    built = build(declared, env_factory=porting_envs.make_endless, training=False)
    assert built.episode_step_limit == 9
    env = built.make_env()
    assert isinstance(env, gym.wrappers.TimeLimit) and env._max_episode_steps == 9
    undeclared = declared.override({"env.max_episode_steps": None})
    assert build(undeclared, env_factory=porting_envs.make_endless,
                 training=False).episode_step_limit == 50


def test_a_factory_takes_env_kwargs_as_keyword_arguments(tmp_path):
    rc = context(tmp_path, {"env.factory": f"{MOD}:make_chain", "env.kwargs": {"horizon": 3}})
    assert rc.evaluate(2).lengths == [3, 3]  # truncated by the horizon given, not the default 20
    env = rc.env_factory()
    assert env.unwrapped.horizon == 3


def test_env_kwargs_a_factory_cannot_take_are_one_error_naming_it(tmp_path):
    rc = context(tmp_path, {"env.factory": f"{MOD}:make_endless", "env.kwargs": {"horizon": 3}})
    with pytest.raises(ConfigError) as err:
        rc.evaluate(1)
    assert str(err.value) == (
        f"env.kwargs: the env factory {MOD}:make_endless cannot take ['horizon'] as keyword "
        "arguments (got an unexpected keyword argument 'horizon')")
    lam = context(tmp_path, {"env.kwargs": {"sutton_barto_reward": True}},
                  env=lambda: gym.make("CartPole-v1"))
    with pytest.raises(ConfigError, match=r"^env.kwargs: the env factory <lambda> made "
                                          r"CartPole-v1 cannot take \['sutton_barto_reward'\]"):
        lam.evaluate(1)


def test_a_lambda_factory_s_recorded_kwargs_are_not_passed_back(tmp_path):
    """A factory's env is recorded with its spec's kwargs (to rebuild a lost lambda): those
    are what it made, not arguments for it. Its run trains, loads and evaluates."""
    rc = context(tmp_path, {"total_steps": 64}, env=lambda: gym.make("FrozenLake-v1"))
    assert rc.config.env.kwargs == {"map_name": "4x4"}
    assert rc.config.env.factory == "<lambda> made FrozenLake-v1"
    rc.train()
    loaded = RunContext.load(rc.run_dir, checkpoint="last", silent=True)
    assert len(loaded.evaluate(2).lengths) == 2


def test_the_cli_trains_a_factory_with_a_declared_limit_and_evaluates(tmp_path):
    proc = mazedsl("train", CARTPOLE, f"env.factory={MOD}:make_endless",
                   "env.max_episode_steps=6", "total_steps=256", "eval_every_steps=256",
                   "eval_episodes=2", "runner.n_envs=2", "algorithm.batch_size=64", "--quiet",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run_dir = tmp_path / proc.stdout.strip()
    evals = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
             if json.loads(line)["phase"] == "eval"]
    assert [e["mean_length"] for e in evals] == [6.0]


# -- 2. env.factory must be module:function --------------------------------------------------

def test_a_factory_path_without_its_colon_is_refused_on_the_cli(tmp_path):
    proc = mazedsl("train", CARTPOLE, f"env.factory={MOD}.make_chain", "total_steps=256",
                   cwd=tmp_path)
    assert refused(proc, tmp_path) == (
        f"error: env.factory: must be 'module:function' (e.g. '{MOD}:make_chain'), got "
        f"'{MOD}.make_chain'")


@pytest.mark.parametrize("value, example", [("myenvs.envs.make_chain", "myenvs.envs:make_chain"),
                                            ("make_chain", "mypkg.envs:make_chain")])
def test_a_factory_given_as_a_dotted_name_is_refused(value, example):
    with pytest.raises(ConfigError) as err:
        RunContext(overrides={"env.factory": value})
    assert str(err.value).startswith(
        f"env.factory: must be 'module:function' (e.g. {example!r}), got {value!r}")


@pytest.mark.parametrize("recorded", [
    "<lambda> made CartPole-v1", "make_x made Foo-v0", "<factory> made Foo-v0",
    "functools.partial(<function make_chain at 0x7f0>, horizon=3)"])
def test_recorded_descriptions_of_factories_that_do_not_import_still_run(tmp_path, recorded):
    """What runs record for a factory that cannot be imported (what a lambda made, a repr) is
    no mistyped path: an experiment carrying it makes the recorded gymnasium id."""
    rc = context(tmp_path, {"env.factory": recorded, "env.name": "CartPole-v1",
                            "env.max_episode_steps": 5})
    assert factory_from_decl(GymEnv(factory=recorded)) is None
    assert rc.evaluate(1).lengths == [5]


# -- 3. wrappers name themselves; module:id hints keep the module --------------------------

def test_a_wrapper_on_the_wrong_observations_is_named_on_the_cli(tmp_path):
    proc = mazedsl("train", CARTPOLE, "env.name=FrozenLake-v1",
                   "wrappers=[{_target_: mazedsl.spec.FrameStack, n_frames: 3}]", cwd=tmp_path)
    assert refused(proc, tmp_path) == (
        "error: wrappers[0]: FrameStack needs Box observations, got Discrete(16)")


@pytest.mark.parametrize("name, wrappers, message", [
    ("Blackjack-v1", [FrameStack(n_frames=2)],
     "wrappers[0]: FrameStack needs Box observations, got Tuple(Discrete(32), Discrete(11), "
     "Discrete(2))"),
    (f"{MOD}:DictObs-v0", [NormalizeObservation(), ScaleObservation()],  # counted in the list
     "wrappers[1]: ScaleObservation needs Box observations, got Dict('goal': Discrete(3), "
     "'pos': Box(-1.0, 1.0, (1,), float32))"),
    ("CartPole-v1", [Grayscale()],
     "wrappers[0]: Grayscale needs RGB image observations (height, width, 3), got Box("),
    ("CartPole-v1", [Resize(height=4, width=4)],
     "wrappers[0]: Resize needs image observations (height, width[, channels]), got Box("),
    ("mazedsl/PixelCartPole-v1", [Grayscale(), Grayscale()],  # gray is no longer RGB
     "wrappers[1]: Grayscale needs RGB image observations (height, width, 3), got "
     "Box(0, 255, (60, 90), uint8)"),
])
def test_wrappers_check_the_observations_they_work_on(name, wrappers, message):
    with pytest.raises(ConfigError) as err:
        make_env_fn(GymEnv(name=name), wrappers)()
    assert str(err.value).startswith(message)


def test_wrappers_that_suit_the_env_still_apply():
    env = make_env_fn(GymEnv(name="mazedsl/PixelCartPole-v1"),
                      [Grayscale(), Resize(height=30, width=45), FrameStack(n_frames=2),
                       ScaleObservation()])()
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2, 30, 45) and obs.dtype == np.float32


def test_an_unknown_module_id_suggests_the_id_with_its_module():
    with pytest.raises(ConfigError) as err:
        check_env_id(f"{MOD}:portchain-v0")
    assert str(err.value) == (f"env.name: unknown gymnasium environment '{MOD}:portchain-v0'; "
                              f"did you mean '{MOD}:PortChain-v0'?")
    check_env_id(f"{MOD}:PortChain-v0")  # the suggestion works as given
    with pytest.raises(ConfigError, match=r"did you mean 'CartPole-v1', 'CartPole-v0'\?$"):
        check_env_id("CartPole-v2")


# -- 4. envs that break gymnasium's API are named -------------------------------------------

@pytest.mark.parametrize("env_id, message", [
    ("OldApi-v0", "env: reset() of '{name}' must return (obs, info) as gymnasium >= 0.26 envs "
                  "do; got a numpy.ndarray of shape (2,)"),
    ("WrongShape-v0", "env: reset() of '{name}' returned an observation of shape (4,) for its "
                      "observation space Box(-1.0, 1.0, (3,), float32)"),
])
def test_an_env_breaking_the_api_is_named_on_the_cli_before_anything_is_written(
        tmp_path, env_id, message):
    name = f"{MOD}:{env_id}"
    proc = mazedsl("train", CARTPOLE, f"env.name={name}", "total_steps=256", cwd=tmp_path)
    assert refused(proc, tmp_path) == "error: " + message.format(name=name)


@pytest.mark.parametrize("env_id, extra, message", [
    ("OldStep-v0", {}, "env: step() of '{name}' must return (obs, reward, terminated, truncated, "
                       "info) as gymnasium >= 0.26 envs do; got 4 values (the old gym API's obs, "
                       "reward, done, info)"),
    # gymnasium's TimeLimit fails to unpack the 4 values first: the bare env is named
    ("OldStep-v0", {"max_episode_steps": 5}, "env: step() of '{name}' must return (obs, reward, "
                                             "terminated, truncated, info)"),
    ("WrongStepShape-v0", {}, "env: step() of '{name}' returned an observation of shape (4,) "
                              "for its observation space Box(-1.0, 1.0, (3,), float32)"),
    ("ArrayReward-v0", {}, "env: step() of '{name}' returned a numpy.ndarray of shape (2,) as "
                           "reward; it must be one number"),
])
def test_each_env_is_probed_with_one_reset_and_one_step(env_id, extra, message):
    name = f"{MOD}:{env_id}"
    with pytest.raises(EnvError) as err:
        make_env_fn(GymEnv(name=name, **extra), [])()
    assert str(err.value).startswith(message.format(name=name))


def test_a_factory_breaking_the_api_is_refused_without_a_run_directory(tmp_path):
    """The same probe for a factory's env, at build: training leaves no run behind."""
    rc = context(tmp_path, {"env.factory": f"{MOD}:OldApi"})
    with pytest.raises(EnvError, match=rf"^env: reset\(\) of '{MOD}:OldApi' must return \(obs, "
                                       r"info\)"):
        rc.train()
    assert not (tmp_path / "outputs").exists()
    asyncs = context(tmp_path, {"env.factory": f"{MOD}:WrongShape",
                                "runner.vectorization": "async"})
    with pytest.raises(EnvError, match=r"returned an observation of shape \(4,\)"):
        asyncs.train()  # probed in this process, not in a subprocess


@pytest.mark.parametrize("name", ["CartPole-v1", "Blackjack-v1", "FrozenLake-v1", "Pendulum-v1",
                                  "mazedsl/PixelCartPole-v1", f"{MOD}:DictObs-v0",
                                  f"{MOD}:Float64Obs-v0"])
def test_envs_that_keep_the_api_pass_the_probe_untouched(name):
    """Fine envs pass (float64 observations of a float32 Box too: gymnasium only warns), and
    the probe leaves the env's action space RNG as it was."""
    env = make_env_fn(GymEnv(name=name), [], check=False)()
    env.action_space.seed(3)
    expected = [env.action_space.sample() for _ in range(3)]
    env.action_space.seed(3)
    check_env_api(env, name)
    assert [np.asarray(a).tolist() for a in (env.action_space.sample() for _ in range(3))] == \
        [np.asarray(a).tolist() for a in expected]


def test_a_float64_env_still_trains(tmp_path):
    rc = context(tmp_path, {"env.name": f"{MOD}:Float64Obs-v0", "total_steps": 64})
    assert rc.train().steps >= 64


def test_a_bug_in_the_env_s_own_code_is_left_to_surface_as_before(tmp_path):
    """The probe looks for API breaks only: an exception of the env's own code surfaces where
    the env runs, named as your code (exit 1, traceback in the run's log), not as mazedsl's."""
    env = make_env_fn(GymEnv(name=f"{MOD}:Crashy-v0"), [])()
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="boom in step"):
        env.step(0)
    proc = mazedsl("train", CARTPOLE, f"env.name={MOD}:Crashy-v0", "total_steps=256", "--quiet",
                   cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("error: RuntimeError: boom in step (raised in your code at "
                                  f"{ROOT / 'tests' / 'plugins' / 'porting_envs.py'}:")
