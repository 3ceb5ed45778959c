"""Small user-facing behaviours (issue #14): integral floats for int fields, close-only
suggestions, short reprs of rollouts."""

from __future__ import annotations

import numpy as np
import pytest

from mazedsl import Experiment, MazeError
from mazedsl.errors import ConfigError
from mazedsl.rollout import Episode, Rollout
from mazedsl import PPO
from mazedsl.spec import Runner


def test_rollout_and_episode_reprs_are_short_summaries():
    obs = [np.arange(84 * 84, dtype=np.float32)] * 501
    episodes = Rollout([Episode(obs, [0] * 500, [1.0] * 500, [{}] * 501),
                        Episode(obs[:201], [1] * 200, [1.0] * 200, [{}] * 201)])
    text = repr(episodes)
    assert len(text) < 200 and str(episodes) == text
    assert text == ("Rollout(2 episodes: return mean 350 (min 200, max 500), "
                    "length mean 350 (min 200, max 500))")
    assert repr(episodes[1]) == "Episode(length=200, return=200)"
    assert repr(Rollout()) == "Rollout(0 episodes)"


@pytest.mark.parametrize("override, path, expected", [
    ("total_steps=1e5", "total_steps", 100_000),
    ("runner.n_envs=4.0", "runner.n_envs", 4),
    ("env.max_episode_steps=2e2", "env.max_episode_steps", 200),
    ("model.hidden_units=[32.0,16]", "model.hidden_units", [32, 16]),
])
def test_integral_floats_are_accepted_for_int_fields(override, path, expected):
    exp = Experiment().override(override)
    node = exp
    for part in path.split("."):
        node = getattr(node, part)
    assert node == expected
    assert all(type(v) is int for v in (node if isinstance(node, list) else [node]))


def test_integral_floats_in_python_and_fractions_refused():
    assert type(Experiment(total_steps=1e5).total_steps) is int
    assert PPO(n_steps=64.0).n_steps == 64 and Runner(n_envs=2.0).n_envs == 2
    with pytest.raises(ConfigError, match=r"total_steps: must be an integer, got 1.5"):
        Experiment().override("total_steps=1.5")
    with pytest.raises(ConfigError, match="must be an integer"):
        Experiment(seed=2.5)


@pytest.mark.parametrize("override, hint", [
    ("algorithm.lrr=1", "did you mean 'lr'?"),
    ("model.hiden_units=[3]", "did you mean 'hidden_units'?"),
    ("algoritm.lr=1", "did you mean 'algorithm'?"),
    ("algorithm=pp0", "did you mean 'ppo'?"),
    ("algorithm.learning_rate=1", None),   # not a typo of any key
    ("algorithm=nope", None),
    ("model.width=3", None),
])
def test_suggestions_name_only_close_matches(override, hint):
    with pytest.raises(MazeError) as info:
        Experiment().override(override)
    if hint is None:
        assert "did you mean" not in str(info.value)
    else:
        assert hint in str(info.value)


def test_close_matches_helper():
    from mazedsl.config.suggest import close_matches

    assert close_matches("conf_trian", ["conf_rollout", "conf_train"]) == ["conf_train"]
    assert close_matches("conf_nope", ["conf_rollout", "conf_train"]) == []
    assert close_matches("cartpole-v1", ["CartPole-v1", "Acrobot-v1"]) == ["CartPole-v1"]
    assert close_matches("Nope-v0", ["Hopper-v5", "Acrobot-v1"]) == []
    assert close_matches("Foo-v0", ["Acrobot-v1", "Hopper-v5"]) == []
