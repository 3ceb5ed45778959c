"""mazedsl's 'sync' vector env (SyncEnvs) steps exactly as gymnasium's SyncVectorEnv: the same
observations, rewards, flags and infos at every step, across episode ends and autoresets."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest


class _InfoEveryThird(gym.Wrapper):
    """Returns an info entry on every third step (a number and a nested dict)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.t = 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        if self.t % 3 == 0:
            info = {**info, "t": self.t, "nested": {"double": 2.0 * self.t}}
        return obs, reward, terminated, truncated, info


def _fns(name: str, n: int, max_steps: int, with_info: bool):
    from mazedsl.rl.envs import make_env_fn
    from mazedsl.spec import GymEnv

    base = make_env_fn(GymEnv(name=name, max_episode_steps=max_steps), [])
    return [(lambda: _InfoEveryThird(base())) if with_info else base for _ in range(n)]


def _same(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name,with_info", [("CartPole-v1", False), ("CartPole-v1", True),
                                            ("Pendulum-v1", True)])
def test_sync_envs_step_as_gymnasiums_sync_vector_env(name, with_info):
    from mazedsl.rl.syncvec import SyncEnvs

    fns = _fns(name, 5, 9, with_info)  # 9-step episodes: many truncations and autoresets
    ours = SyncEnvs(fns)
    theirs = gym.vector.SyncVectorEnv(fns, autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
    _same(ours.reset(seed=3), theirs.reset(seed=3))
    ours.action_space.seed(0)
    ended = infos = 0
    for _ in range(40):
        actions = ours.action_space.sample()
        mine, gyms = ours.step(actions), theirs.step(actions.copy())
        _same(mine, gyms)
        ended += int(np.sum(mine[2] | mine[3]))
        infos += "t" in mine[4]
    assert ended >= 10  # the comparison crossed many episode ends
    assert (infos >= 10) is with_info  # and, with the wrapper, many infos


def test_sync_envs_fall_back_for_actions_that_are_not_one_array():
    from mazedsl.rl.syncvec import SyncEnvs

    ours = SyncEnvs(_fns("CartPole-v1", 2, 9, False))
    ours.reset(seed=0)
    obs, rewards, *_ = ours.step([1, 0])  # a list: gymnasium's own step
    assert obs.shape == (2, 4) and rewards.tolist() == [1.0, 1.0]


def test_sync_vectorization_builds_sync_envs():
    from mazedsl.rl.envs import make_vector_env
    from mazedsl.rl.syncvec import SyncEnvs
    from mazedsl.spec import GymEnv

    venv = make_vector_env(GymEnv(name="CartPole-v1"), [], 3, "sync")
    assert isinstance(venv, SyncEnvs) and isinstance(venv, gym.vector.SyncVectorEnv)
    venv.close()


@pytest.mark.parametrize("vector", ["native", "sync"])
def test_env_loop_counts_real_transitions_apart_from_reset_steps(vector):
    """``EnvLoop.transitions``: env steps less the reset steps of next-step autoreset (what
    SB3 counts as timesteps), the sum of each step's ``live`` rows, also across a snapshot."""
    from mazedsl.rl.envloop import EnvLoop
    from mazedsl.rl.syncvec import SyncEnvs

    n = 4
    if vector == "native":
        venv = gym.make_vec("CartPole-v1", num_envs=n, vectorization_mode="vector_entry_point")
    else:
        venv = SyncEnvs([lambda: gym.make("CartPole-v1") for _ in range(n)])
    loop = EnvLoop(venv, seed=3)
    rng = np.random.default_rng(0)
    live_rows, ended = 0, 0
    for t in range(300):
        step = loop.step(rng.integers(0, 2, n))
        live_rows += int(step.live.sum())
        ended += int(step.done.sum())
        assert loop.transitions == live_rows
        if t == 150:
            state = loop.state_dict()
    assert ended > 20 and loop.steps == 300 * n and loop.transitions < loop.steps - n
    other = EnvLoop(venv, seed=3)
    other.load_state_dict(state)
    assert other.episodes == state["episodes"] and other.steps == 151 * n
    loop.close()
