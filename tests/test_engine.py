"""The torch engine: learning updates, spaces, GAE, seeding, exact resume, NaN detection."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from mazedsl.errors import EnvError, TrainingError
from mazedsl.rl.buffer import RolloutBuffer
from mazedsl.rl.spaces import flatten_batch, space_from_json, space_to_json
from mazedsl.rl.trainer import Trainer
from mazedsl.spec import Experiment, FrameStack, Grayscale, GymEnv, NormalizeObservation, NormalizeReward, PixelObs, Resize, Runner, ScaleObservation, StateCritic
from mazedsl import A2C, PPO
from mazedsl.errors import ConfigError

TIMING = {"time", "steps_per_s"}


class ListSink:
    def __init__(self) -> None:
        self.records: list[dict] = []
        self.checkpoints: dict[str, dict] = {}

    def record(self, record: dict) -> None:
        self.records.append(record)

    def checkpoint(self, kind: str, state: dict) -> None:
        self.checkpoints[kind] = state

    def progress(self, steps: int, total: int, info: dict) -> None:
        pass


def small(**kw) -> Experiment:
    base = dict(algorithm=PPO(n_steps=16, batch_size=64, n_epochs=2), runner=Runner(n_envs=4),
                total_steps=640, eval_every_steps=320, eval_episodes=2, log_every_steps=64,
                checkpoint_every_steps=320)
    base.update(kw)
    return Experiment(**base)


def untimed(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in records]


@pytest.mark.parametrize("algo", [PPO(n_steps=16, batch_size=64, n_epochs=2), A2C(n_steps=5)])
@pytest.mark.parametrize("env", ["CartPole-v1", "Pendulum-v1"])
def test_trains_discrete_and_continuous(algo, env):
    sink = ListSink()
    trainer = Trainer(small(env=GymEnv(name=env), algorithm=algo), sink=sink)
    summary = trainer.train()
    assert summary.steps >= 640 and summary.stopped == "budget"
    train = [r for r in sink.records if r["phase"] == "train"]
    evals = [r for r in sink.records if r["phase"] == "eval"]
    assert len(evals) == 2 and all(e["n_episodes"] == 2 for e in evals)
    for rec in train:
        for key in ("policy_loss", "value_loss", "entropy", "approx_kl", "lr"):
            assert np.isfinite(rec[key]), key
    assert {"last", "best"} <= set(sink.checkpoints)
    assert trainer.best_eval == max(e["mean_return"] for e in evals)


def test_same_seed_same_metrics_different_seed_differs():
    runs = []
    for seed in (3, 3, 4):
        sink = ListSink()
        Trainer(small(seed=seed), sink=sink).train()
        runs.append(untimed(sink.records))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


class ProgressSink(ListSink):
    def __init__(self) -> None:
        super().__init__()
        self.progress_steps: list[int] = []

    def progress(self, steps: int, total: int, info: dict) -> None:
        self.progress_steps.append(steps)


def test_progress_is_reported_at_most_each_interval_and_at_the_end(monkeypatch):
    import mazedsl.rl.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "PROGRESS_EVERY_S", 3600.0)
    sink = ProgressSink()
    summary = Trainer(small(), sink=sink).train()
    assert sink.progress_steps == [64, summary.steps] and summary.steps == 640  # first, last
    monkeypatch.setattr(trainer_module, "PROGRESS_EVERY_S", 0.0)
    every = ProgressSink()
    Trainer(small(), sink=every).train()
    assert every.progress_steps == list(range(64, 641, 64)) + [640]  # each update, then the end


@pytest.mark.parametrize("wrappers", [[], [NormalizeObservation(), NormalizeReward()]])
def test_resume_from_state_gives_identical_metrics(wrappers):
    full = ListSink()
    Trainer(small(wrappers=wrappers, total_steps=1280), sink=full).train()

    first = ListSink()
    t1 = Trainer(small(wrappers=wrappers, total_steps=1280), sink=first)
    t1.train(total_steps=640)
    state = t1.state_dict()
    second = ListSink()
    t2 = Trainer(small(wrappers=wrappers, total_steps=1280), sink=second)
    assert t2.load_state_dict(state) is True
    t2.train()
    assert untimed(first.records + second.records) == untimed(full.records)


def test_non_finite_loss_stops_with_step_named():
    class NanReward(gym.Wrapper):
        def step(self, action):
            obs, _, term, trunc, info = self.env.step(action)
            return obs, float("nan"), term, trunc, info

    trainer = Trainer(small(), env_factory=lambda: NanReward(gym.make("CartPole-v1")))
    with pytest.raises(TrainingError, match=r"non-finite loss at step \d+"):
        trainer.train()


def test_pixel_observations_with_cnn():
    exp = small(env=GymEnv(name="mazedsl/PixelCartPole-v1"),
                wrappers=[Grayscale(), Resize(height=24, width=24), FrameStack(n_frames=2),
                          ScaleObservation()],
                model=PixelObs(channels=[8, 8], kernel_sizes=[4, 3], strides=[2, 1], hidden_units=[32]),
                critic=StateCritic(shared=True), runner=Runner(n_envs=2),
                algorithm=PPO(n_steps=16, batch_size=32, n_epochs=2), total_steps=128,
                eval_every_steps=0)
    trainer = Trainer(exp)
    assert trainer.obs_space.shape == (2, 24, 24)
    summary = trainer.train()
    assert summary.steps == 128 and summary.evaluations == 1


@pytest.mark.parametrize("backend", ["fast", "torch"])
def test_an_mlp_takes_image_observations_flattened(backend, tmp_path):
    """VectorObs (an MLP) on 2-D uint8 frames: the frames reach it as float32 vectors."""
    from mazedsl import RunContext

    exp = small(env=GymEnv(name="mazedsl/PixelCartPole-v1"),
                wrappers=[Grayscale(), Resize(height=8, width=8)],
                algorithm=PPO(n_steps=16, batch_size=32, n_epochs=2, backend=backend),
                runner=Runner(n_envs=2), total_steps=64, eval_every_steps=0, eval_episodes=1)
    trainer = Trainer(exp)
    assert trainer.obs_space.shape == (8, 8) and trainer.prep.shape == (64,)
    obs = trainer.prep(np.full((2, 8, 8), 255, np.uint8))
    assert obs.shape == (2, 64) and obs.dtype == np.float32 and obs.max() == 255.0
    assert trainer.train().steps == 64
    ctx = RunContext(exp, run_dir=tmp_path / "r", silent=True)
    ctx.train()
    assert int(ctx.compute_action(np.zeros((8, 8), np.uint8))) in (0, 1)
    assert ctx.evaluate(1).mean_return > 0


def test_pixel_model_rejects_vector_observations():
    with pytest.raises(EnvError, match="PixelObs.*image"):
        Trainer(small(model=PixelObs()))


class _ActionsAs(gym.ActionWrapper):
    """CartPole acting through another action space (the first component decides)."""

    def __init__(self, env, space):
        super().__init__(env)
        self.action_space = space

    def action(self, a):
        return int(np.asarray(a).reshape(-1)[0] > 0) if self.action_space.dtype.kind == "f" \
            else int(np.asarray(a).reshape(-1)[0]) % 2


@pytest.mark.parametrize("space", [gym.spaces.MultiBinary(3), gym.spaces.MultiBinary([2, 2]),
                                   gym.spaces.MultiDiscrete([2, 3]),
                                   gym.spaces.Box(-1, 1, (2, 3), dtype=np.float32),
                                   gym.spaces.Discrete(2, start=1)],
                         ids=["MultiBinary", "MultiBinary2d", "MultiDiscrete", "Box2d", "Discrete-start"])
@pytest.mark.parametrize("algo", ["ppo", "a2c"])
def test_every_action_space_trains_and_acts_in_its_space(space, algo):
    exp = small(runner=Runner(n_envs=2, vectorization="sync"),
                algorithm=PPO(n_steps=16, batch_size=32, n_epochs=2) if algo == "ppo" else A2C())
    trainer = Trainer(exp, env_factory=lambda: _ActionsAs(gym.make("CartPole-v1"), space))
    summary = trainer.train(n_updates=3)
    assert summary.steps > 0
    assert trainer.learner.fast is isinstance(space, gym.spaces.Discrete)  # else the reference
    actions = trainer.built.act_fn(False)(np.zeros((5, 4), dtype=np.float32))
    assert all(space.contains(a) for a in actions)
    trainer.close()


def test_text_action_space_is_refused_by_name():
    class TextActions(gym.ActionWrapper):
        def __init__(self, e):
            super().__init__(e)
            self.action_space = gym.spaces.Text(3)

        def action(self, a):
            return 0

    with pytest.raises(ConfigError, match="algorithm: ppo needs a Discrete or .* action space; "
                                          "this env's is Text"):
        Trainer(small(runner=Runner(n_envs=2, vectorization="sync"),
                      algorithm=PPO(n_steps=16, batch_size=32)),
                env_factory=lambda: TextActions(gym.make("CartPole-v1")))


def test_gae_matches_hand_computation():
    buf = RolloutBuffer(3, 1, (1,), np.float32, (), np.int64)
    buf.rewards[:, 0] = [1.0, 1.0, 1.0]
    buf.values[:, 0] = [0.5, 0.4, 0.3]
    buf.terminated[:, 0] = [False, True, False]
    buf.done[:, 0] = [False, True, False]
    buf.compute_gae(np.array([0.2]), gamma=0.9, lam=0.8)
    d2 = 1.0 + 0.9 * 0.2 - 0.3
    d1 = 1.0 - 0.4  # terminated: no bootstrap
    d0 = 1.0 + 0.9 * 0.4 - 0.5
    expected = [d0 + 0.9 * 0.8 * d1, d1, d2]
    np.testing.assert_allclose(buf.advantages[:, 0], expected, rtol=1e-6)


@pytest.mark.parametrize("n_steps", [1, 5, 32])
def test_gae_equals_the_step_by_step_recursion_bit_for_bit(n_steps):
    """The buffer's GAE (element-wise terms for the whole rollout at once) equals the
    textbook loop over steps exactly, with terminations and truncations in random places."""
    rng = np.random.default_rng(n_steps)
    buf = RolloutBuffer(n_steps, 6, (1,), np.float32, (), np.int64)
    buf.rewards[...] = rng.normal(size=buf.rewards.shape)
    buf.values[...] = rng.normal(size=buf.values.shape)
    buf.terminated[...] = rng.random(buf.terminated.shape) < 0.15
    buf.done[...] = buf.terminated | (rng.random(buf.done.shape) < 0.1)
    last = rng.normal(size=6).astype(np.float32)
    gamma, lam = 0.99, 0.95
    expected = np.zeros((n_steps, 6), np.float32)
    next_adv, next_values = np.zeros(6, np.float32), last
    for t in range(n_steps - 1, -1, -1):
        delta = buf.rewards[t] + gamma * next_values * (1.0 - buf.terminated[t]) - buf.values[t]
        next_adv = delta + gamma * lam * (1.0 - buf.done[t]) * next_adv
        expected[t] = next_adv
        next_values = buf.values[t]
    buf.compute_gae(last, gamma, lam)
    assert np.array_equal(buf.advantages, expected)


def test_truncation_bootstraps_from_final_observation_value():
    buf = RolloutBuffer(2, 1, (1,), np.float32, (), np.int64)
    buf.rewards[:, 0] = [1.0, 0.0]
    buf.values[:, 0] = [0.5, 2.0]  # row 1 is the reset step: its value is V(final obs)
    buf.done[:, 0] = [True, False]
    buf.valid[:, 0] = [True, False]
    buf.compute_gae(np.array([0.0]), gamma=0.5, lam=1.0)
    assert buf.advantages[0, 0] == pytest.approx(1.0 + 0.5 * 2.0 - 0.5)
    assert buf.batch()["obs"].shape[0] == 1  # the reset step is left out


def test_spaces_round_trip_and_flatten():
    space = gym.spaces.Dict({"a": gym.spaces.Box(-1, 1, (2,)), "b": gym.spaces.Discrete(3),
                             "c": gym.spaces.Tuple([gym.spaces.Discrete(2), gym.spaces.Box(0, np.inf, (1,))])})
    back = space_from_json(space_to_json(space))
    assert back == space
    batch = {"a": np.array([[0.5, -0.5]]), "b": np.array([2]),
             "c": (np.array([1]), np.array([[3.0]]))}
    np.testing.assert_allclose(flatten_batch(space, batch), [[0.5, -0.5, 0, 0, 1, 0, 1, 3.0]])


def test_dict_observations_train():
    class DictObs(gym.ObservationWrapper):
        def __init__(self, e):
            super().__init__(e)
            self.observation_space = gym.spaces.Dict({"pos": gym.spaces.Box(-np.inf, np.inf, (2,)),
                                                      "vel": gym.spaces.Box(-np.inf, np.inf, (2,))})

        def observation(self, o):
            return {"pos": o[[0, 2]], "vel": o[[1, 3]]}

    trainer = Trainer(small(total_steps=128, eval_every_steps=0),
                      env_factory=lambda: DictObs(gym.make("CartPole-v1")))
    assert trainer.train().steps == 128
    assert trainer.prep.shape == (4,)


def test_linear_schedule_decays_learning_rate():
    sink = ListSink()
    exp = small(algorithm=PPO(n_steps=16, batch_size=64, n_epochs=1, lr=1e-3, lr_schedule="linear"))
    Trainer(exp, sink=sink).train()
    lrs = [r["lr"] for r in sink.records if r["phase"] == "train"]
    assert lrs[0] == pytest.approx(1e-3) and all(b < a for a, b in zip(lrs, lrs[1:]))


def test_eval_spreads_episodes_and_is_deterministic():
    trainer = Trainer(small())
    a = trainer.evaluate(5, True, seed=1)
    b = trainer.evaluate(5, True, seed=1)
    assert len(a.returns) == 5 and a.returns == b.returns
    assert torch.get_num_threads() == 1
