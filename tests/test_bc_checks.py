"""BC's early check of recorded episodes says what is wrong with a file: too few or too many
observations for its actions, actions out of the action space's range, NaN or inf values;
and a BC loss that is not finite points at the recorded episodes, not at rewards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces

from mazedsl import Experiment, RunContext
from mazedsl.errors import ConfigError, TrainingError
from mazedsl.rl.algos.bc import BC
from mazedsl.rl.algos.bc.data import load_episodes
from mazedsl.spec import GymEnv, Runner

OBS = spaces.Box(-np.inf, np.inf, (4,), np.float32)  # CartPole's observation shape
ROOT = Path(__file__).resolve().parent.parent


def episode(path: Path, observations: np.ndarray | None = None, actions: np.ndarray | None = None,
            **arrays: np.ndarray) -> Path:
    """An episode file as numpy.savez writes it (default: 10 CartPole steps, all action 0)."""
    if actions is None:
        actions = np.zeros(10, dtype=np.int64)
    if observations is None and not arrays:
        observations = np.random.default_rng(0).normal(size=(len(actions) + 1, 4)).astype(np.float32)
    if observations is not None:
        arrays["observations"] = observations
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, actions=actions, rewards=np.ones(len(actions)), **arrays)
    return path


def refusal(path: Path, obs_space: spaces.Space = OBS,
            action_space: spaces.Space = spaces.Discrete(2)) -> str:
    with pytest.raises(ConfigError) as err:
        load_episodes([path], obs_space, action_space)
    return str(err.value)


# -- D4: observations and actions of different lengths -----------------------------------------
def test_observation_count_that_does_not_fit_the_actions_is_named(tmp_path: Path) -> None:
    bad = episode(tmp_path / "bad" / "lenmismatch.npz", np.zeros((5, 4), np.float32))
    assert refusal(bad) == (f"algorithm.episodes: {bad}: 5 observations for 10 actions; a recorded "
                            "episode holds T+1 observations for T actions")
    same = episode(tmp_path / "same.npz", np.zeros((10, 4), np.float32))  # T, not T+1
    assert refusal(same).endswith("same.npz: 10 observations for 10 actions; a recorded "
                                  "episode holds T+1 observations for T actions")
    key = episode(tmp_path / "dict.npz", **{"observations.pos": np.zeros((3, 2), np.float32)})
    assert refusal(key, spaces.Dict({"pos": spaces.Box(-1, 1, (2,))})).endswith(
        "dict.npz: 3 observations.pos for 10 actions; a recorded episode holds T+1 observations "
        "for T actions")
    # a per-step shape that differs keeps the shape message (the row count is not checked first)
    shape = episode(tmp_path / "shape.npz", np.zeros((5, 3), np.float32))
    assert refusal(shape) == (f"algorithm.episodes: {shape}: observations have shape (3,) per "
                              "step, the env's observation space Box(4,) float32 has (4,)")


# -- D5: action values out of range ----------------------------------------------------------
def test_out_of_range_actions_name_the_action_and_its_step(tmp_path: Path) -> None:
    seven = episode(tmp_path / "bad" / "sevens.npz", actions=np.full(10, 7, np.int64))
    assert refusal(seven) == (f"algorithm.episodes: {seven}: action 7 (step 0) is out of range "
                              "for the env's action space Discrete(2)")
    late = episode(tmp_path / "late.npz", actions=np.array([0, 1, 0, 2, 1], np.int64))
    assert refusal(late).endswith("late.npz: action 2 (step 3) is out of range for the env's "
                                  "action space Discrete(2)")
    below = episode(tmp_path / "below.npz", actions=np.array([1, 2, 0], np.int64))
    assert refusal(below, action_space=spaces.Discrete(2, start=1)).endswith(
        "below.npz: action 0 (step 2) is out of range for the env's action space "
        "Discrete(2, start=1)")
    multi = episode(tmp_path / "multi.npz", actions=np.array([[1, 2], [1, 3], [0, 0]], np.int64))
    assert refusal(multi, action_space=spaces.MultiDiscrete([2, 3])).endswith(
        "multi.npz: action [1, 3] (step 1) is out of range for the env's action space "
        "MultiDiscrete([2, 3])")
    # a real dtype or shape problem keeps that message
    floats = episode(tmp_path / "floats.npz", actions=np.zeros(10, np.float32))
    assert refusal(floats) == (f"algorithm.episodes: {floats}: recorded actions (shape () per "
                               "step, dtype float32) do not fit the env's action space Discrete(2)")
    wide = episode(tmp_path / "wide.npz", actions=np.zeros((10, 3), np.float32))
    assert refusal(wide, action_space=spaces.Box(-1, 1, (2,))).endswith(
        "wide.npz: recorded actions (shape (3,) per step, dtype float32) do not fit the env's "
        "action space Box(2,) float32")
    ok = episode(tmp_path / "ok.npz", actions=np.array([[1, 2], [0, 0]], np.int64))
    assert len(load_episodes([ok], OBS, spaces.MultiDiscrete([2, 3]))) == 2


# -- D6: NaN and inf in recorded episodes ------------------------------------------------------
def test_non_finite_observations_and_actions_are_refused_naming_file_and_array(tmp_path: Path) -> None:
    obs = np.zeros((11, 4), np.float32)
    obs[3, 1] = np.nan
    nan = episode(tmp_path / "bad" / "nan.npz", obs)
    assert refusal(nan) == f"algorithm.episodes: {nan}: observations contain NaN (step 3)"
    obs = np.zeros((11, 4), np.float64)
    obs[7, 0], obs[9, 2] = -np.inf, np.nan
    inf = episode(tmp_path / "inf.npz", obs)
    assert refusal(inf) == f"algorithm.episodes: {inf}: observations contain -inf (step 7)"
    box = np.zeros((4, 2), np.float32)
    box[1, 1] = np.inf
    act = episode(tmp_path / "act.npz", np.zeros((5, 4), np.float32), box)
    assert refusal(act, action_space=spaces.Box(-1, 1, (2,))) == (
        f"algorithm.episodes: {act}: actions contain inf (step 1)")
    pos = np.zeros((11, 2), np.float32)
    pos[0, 0] = np.nan
    key = episode(tmp_path / "dict.npz", **{"observations.pos": pos})
    assert refusal(key, spaces.Dict({"pos": spaces.Box(-1, 1, (2,))})) == (
        f"algorithm.episodes: {key}: observations.pos contain NaN (step 0)")


def test_cli_refuses_nan_episodes_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    obs = np.zeros((11, 4), np.float32)
    obs[3, 1] = np.nan
    bad = episode(tmp_path / "rollouts" / "episode_000.npz", obs)
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "mazedsl"), "train", str(ROOT / "experiments" / "cartpole_bc.py"),
         f"algorithm.episodes=[{tmp_path}]", f"output_dir={tmp_path / 'outputs'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"error: algorithm.episodes: {bad}: observations contain NaN (step 3)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rollouts"]  # no outputs/


# -- D6: BC's own message for a loss that is not finite -----------------------------------------
def test_a_nan_bc_loss_points_at_the_recorded_episodes_not_rewards(tmp_path: Path, monkeypatch) -> None:
    import mazedsl.rl.algos.bc.learner as learner

    real = learner.bc_loss

    def nan_loss(*args, **kwargs):
        loss, parts = real(*args, **kwargs)
        return loss * float("nan"), parts

    monkeypatch.setattr(learner, "bc_loss", nan_loss)
    episode(tmp_path / "eps" / "episode_000.npz")
    exp = Experiment(name="bc_nan", env=GymEnv(name="CartPole-v1"),
                     algorithm=BC(episodes=[str(tmp_path / "eps")], batch_size=16, steps_per_iteration=64),
                     runner=Runner(n_envs=1), total_steps=128, eval_every_steps=0, eval_episodes=1,
                     output_dir=str(tmp_path / "outputs"))
    with pytest.raises(TrainingError) as err:
        RunContext(exp, run_dir=tmp_path / "outputs" / "bc_nan" / "run", silent=True).train()
    assert str(err.value) == ("the BC loss is nan at env step 64; stopping (lower the learning rate "
                              "or check the recorded episodes)")
