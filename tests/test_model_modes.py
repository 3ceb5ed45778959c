"""Your own model's train/eval mode (Dropout, BatchNorm) in every place a policy acts or
learns; DQN's model gets the action space; the default critic beside your model on images;
seeded stochastic evaluations and rollouts; off-policy observation normalisation counts;
the progress bar of a budget below one iteration."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from mazedsl import PPO, Experiment, RunContext, TorchModel
from mazedsl.errors import ConfigError
from mazedsl.rl.algos.a2c import A2C
from mazedsl.rl.algos.bc import BC
from mazedsl.rl.algos.dqn import DQN
from mazedsl.rl.algos.sac import SAC
from mazedsl.rl.trainer import Trainer
from mazedsl.run import iter_metrics
from mazedsl.spec import GymEnv, NormalizeObservation, Runner, StateCritic, VectorObs

NETS = "tests.plugins.mode_nets"
TINY = dict(total_steps=128, eval_every_steps=0, eval_episodes=1, log_every_steps=64,
            checkpoint_every_steps=128, allow_targets=["tests.plugins"])


def exp(model: str | None = None, **changes) -> Experiment:
    """PPO on CartPole, 128 steps in rollouts of 32 x 2 envs, with one of tests/plugins/mode_nets'."""
    base = dict(name="modes", env=GymEnv(name="CartPole-v1"),
                algorithm=PPO(n_steps=32, batch_size=32, n_epochs=1), runner=Runner(n_envs=2),
                **TINY)
    if model is not None:
        base["model"] = TorchModel(f"{NETS}.{model}")
    base.update(changes)
    return Experiment(**base)


OBS = np.random.default_rng(0).uniform(-1, 1, (16, 4)).astype(np.float32)


# -- 1. train/eval mode ------------------------------------------------------------------------
def test_a_dropout_model_acts_in_eval_mode_after_training_as_after_loading(tmp_path: Path) -> None:
    rc = RunContext(exp("DropPolicy"), run_dir=tmp_path / "r", silent=True)
    rc.train()
    policy = rc.policy
    p1, p2 = (rc.compute_action_distribution(OBS)["probs"] for _ in range(2))
    np.testing.assert_array_equal(p1, p2)
    assert not any(m.training for m in policy.modules())  # it rests in eval mode, as loaded
    with torch.no_grad():  # the distribution is the eval-mode forward's (dropout off)
        policy.eval()
        logits = policy.pi_torso(torch.as_tensor(OBS))
    np.testing.assert_allclose(p1, torch.softmax(logits, -1).numpy(), rtol=1e-5, atol=1e-7)
    loaded = RunContext.load(tmp_path / "r", checkpoint="last", silent=True)
    np.testing.assert_allclose(loaded.compute_action_distribution(OBS)["probs"], p1, rtol=1e-6)
    # a policy put in train mode by its user still acts in eval mode, and stays in train mode
    policy.train()
    np.testing.assert_array_equal(rc.compute_action_distribution(OBS)["probs"], p1)
    np.testing.assert_array_equal(rc.compute_action(OBS), rc.compute_action(OBS))
    assert rc.evaluate(2).returns == rc.evaluate(2).returns
    assert all(m.training for m in policy.modules())


def bn_buffers(policy: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in policy.state_dict().items()
            if "running_" in k or "num_batches" in k}


def test_batchnorm_moves_only_in_updates_and_acts_on_one_env(tmp_path: Path) -> None:
    """One env: its acting batches are of one observation, which BatchNorm refuses in train
    mode. The probe at build time, collection, evaluations, rollouts and compute_action
    leave the running statistics alone; each update minibatch moves them once."""
    rc = RunContext(exp("BNPolicy", runner=Runner(n_envs=1)), run_dir=tmp_path / "r", silent=True)
    fresh = bn_buffers(rc.policy)
    (mean,) = [v for k, v in fresh.items() if k.endswith("running_mean")]
    (tracked,) = [v for k, v in fresh.items() if k.endswith("num_batches_tracked")]
    assert torch.equal(mean, torch.zeros(16)) and int(tracked) == 0  # the probe left no trace
    summary = rc.train()
    assert summary.steps == 128 and summary.evaluations == 1
    after = bn_buffers(rc.policy)
    (tracked,) = [v for k, v in after.items() if k.endswith("num_batches_tracked")]
    assert int(tracked) == 4  # 4 rollouts of 32 x 1 epoch x 1 minibatch; no evaluation
    rc.evaluate(1)
    rc.rollout(1, record=False)
    rc.compute_action(OBS[0])
    for key, value in bn_buffers(rc.policy).items():
        assert torch.equal(value, after[key]), key


def test_dqn_updates_batchnorm_in_train_mode_and_its_target_takes_the_statistics(tmp_path: Path
                                                                                    ) -> None:
    """As SB3: the target net evaluates in eval mode and copies the online net's running
    statistics with its weights; acting (one env: batches of one) is in eval mode."""
    e = exp(algorithm=DQN(buffer_size=300, learning_starts=32, batch_size=16, train_freq=8,
                          gradient_steps=2, target_update_interval=8),
            runner=Runner(n_envs=1)).override({"model": {"_target_": f"{NETS}.BNPolicy"}})
    rc = RunContext(e, run_dir=tmp_path / "r", silent=True)
    assert rc.train().steps == 128
    learner = rc._trainer.learner
    assert not learner.target.training and not rc.policy.training
    q, target = bn_buffers(learner.q), bn_buffers(learner.target)
    tracked = [v for k, v in q.items() if k.endswith("num_batches_tracked")]
    assert [int(t) for t in tracked] == [24]  # 12 phases from step 32, 2 gradient steps each
    # the last target update (before the last phase's 2 gradient steps) copied the statistics
    mean_key = next(k for k in target if k.endswith("running_mean"))
    assert not torch.equal(target[mean_key], torch.zeros_like(target[mean_key]))
    assert not torch.equal(target[mean_key], q[mean_key])  # 2 steps behind the online net


@pytest.fixture(scope="module")
def expert(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("expert") / "ppo"
    ctx = RunContext(exp(total_steps=64), run_dir=d, silent=True)
    ctx.train()
    ctx.rollout(n_episodes=3)
    return d


def spy_exp(algo: str, expert: Path) -> Experiment:
    model = TorchModel(f"{NETS}.ModeSpy")
    if algo == "ppo":
        return exp("ModeSpy")
    if algo == "a2c":
        return exp("ModeSpy", algorithm=A2C(n_steps=8))
    if algo == "dqn":
        return exp(model=None, algorithm=DQN(buffer_size=500, learning_starts=32, batch_size=16,
                                             train_freq=8, gradient_steps=2,
                                             target_update_interval=16)).override(
            {"model": {"_target_": f"{NETS}.ModeSpy"}})
    if algo == "sac":
        return Experiment(name="modes", env=GymEnv(name="Pendulum-v1"), model=model,
                          critic=StateCritic(hidden_units=[16], activation="relu"),
                          algorithm=SAC(buffer_size=500, learning_starts=32, batch_size=16,
                                        train_freq=4, gradient_steps=1),
                          runner=Runner(n_envs=1), **{**TINY, "total_steps": 64})
    return exp("ModeSpy", algorithm=BC(episodes=[str(expert)], batch_size=16,
                                       steps_per_iteration=32, validation_fraction=0.4),
               runner=Runner(n_envs=1))


# the mode of the forwards without gradients outside inference mode: DQN's target net and
# BC's validation evaluate (eval mode); SAC's next-action sample is part of its update (SB3)
NO_GRAD_MODE = {"ppo": None, "a2c": None, "dqn": False, "sac": True, "bc": False}


@pytest.mark.parametrize("algo", sorted(NO_GRAD_MODE))
def test_every_learner_acts_in_eval_mode_and_updates_in_train_mode(algo: str, expert: Path,
                                                                   tmp_path: Path) -> None:
    """As SB3 (set_training_mode): collection, evaluations and compute_action in eval mode,
    the gradient steps in train mode."""
    from tests.plugins.mode_nets import ModeSpy

    rc = RunContext(spy_exp(algo, expert), run_dir=tmp_path / "r", silent=True)
    rc.policy  # built (its probe is no acting)
    ModeSpy.calls.clear()
    rc.train()
    calls = list(ModeSpy.calls)
    acting = [training for training, grad, inference in calls if inference]
    updating = [training for training, grad, inference in calls if grad and not inference]
    no_grad = [training for training, grad, inference in calls if not grad and not inference]
    assert len(acting) > 2 and not any(acting)
    assert updating and all(updating)
    if NO_GRAD_MODE[algo] is None:
        assert not no_grad
    else:
        assert no_grad and all(t is NO_GRAD_MODE[algo] for t in no_grad)
    assert not rc.policy.training


# -- 2. DQN's model gets the action space --------------------------------------------------------
def dqn_exp(model: str) -> Experiment:
    return exp(algorithm=DQN(buffer_size=300, learning_starts=32, batch_size=16, train_freq=8,
                             gradient_steps=2)).override({"model": {"_target_": f"{NETS}.{model}"}})


def test_dqn_gives_your_model_the_action_space(tmp_path: Path) -> None:
    rc = RunContext(dqn_exp("SpaceAware"), run_dir=tmp_path / "r", silent=True)
    assert rc.train().steps == 128
    assert rc.policy.q.inner.action_n == 2
    assert rc.compute_action(OBS).shape == (16,)


def test_a_dqn_model_of_the_wrong_width_names_the_action_space(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^model: tests.plugins.my_nets.WrongShape returned "
                       r"shape \(2, 5\) for a batch of 2; DQN on action space Discrete\(2\) "
                       r"\(one Q-value per action\) needs \(batch, 2\)$"):
        RunContext(exp(algorithm=DQN(buffer_size=300)).override(
            {"model": {"_target_": "tests.plugins.my_nets.WrongShape"}}), silent=True).train()


# -- 3. the default critic beside your model on images -------------------------------------------
def test_your_image_model_trains_with_the_default_critic(tmp_path: Path) -> None:
    from mazedsl.rl.models import FlatPixels

    rc = RunContext(exp("ImgNet", env=GymEnv(name="tests.plugins.mode_nets:ModeImg-v0")),
                    run_dir=tmp_path / "r", silent=True)
    assert rc.train().steps == 128
    losses = [r["value_loss"] for r in iter_metrics(tmp_path / "r" / "metrics.jsonl")
              if r["phase"] == "train"]
    assert losses and np.isfinite(losses).all()
    # 24x24 is below the built-in CNN's 36x36: an MLP over the flattened pixels, scaled
    policy = rc.policy
    assert isinstance(policy.vf_torso[0], FlatPixels)
    frames = np.random.default_rng(1).integers(0, 256, (5, 24, 24, 3), dtype=np.uint8)
    with torch.no_grad():
        _, values = policy(torch.as_tensor(frames))
        dense = policy.vf_torso[1]
        by_hand = policy.vf_head(dense(torch.as_tensor(frames).reshape(5, -1).float() / 255.0))
    np.testing.assert_allclose(values.numpy(), by_hand[:, 0].numpy(), rtol=1e-5, atol=1e-6)
    assert rc.evaluate(1).lengths == [10]


def test_on_images_the_cnn_takes_fits_the_default_critic_is_the_builtin_cnn() -> None:
    from mazedsl.config.instantiate import allowed_also
    from mazedsl.rl.models import ActorCritic, Conv2d

    space = gym.spaces.Box(0, 255, (40, 40, 3), np.uint8)
    with allowed_also(["tests.plugins"]):
        policy = ActorCritic(space, gym.spaces.Discrete(2), TorchModel(f"{NETS}.ImgNet"),
                             StateCritic(hidden_units=[32]))
    assert sum(isinstance(m, Conv2d) for m in policy.vf_torso.modules()) == 3
    frames = torch.as_tensor(np.random.default_rng(2).integers(0, 256, (3, 40, 40, 3), dtype=np.uint8))
    out, values = policy(frames)
    assert out.shape == (3, 2) and values.shape == (3,) and torch.isfinite(values).all()


# -- 4. seeds reproduce stochastic evaluations and rollouts --------------------------------------
def test_a_seed_replays_stochastic_evaluations_and_rollouts(tmp_path: Path) -> None:
    rc = RunContext(exp(total_steps=64), run_dir=tmp_path / "r", silent=True)
    rc.train()
    rng = torch.get_rng_state()
    first, second = (rc.evaluate(4, deterministic=False, seed=5) for _ in range(2))
    assert (first.returns, first.lengths) == (second.returns, second.lengths)
    a, b = (rc.rollout(2, deterministic=False, seed=9, record=False) for _ in range(2))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x.actions), np.asarray(y.actions))
    (later,) = rc.rollout(1, deterministic=False, seed=10, record=False)  # episode 1 of seed 9
    np.testing.assert_array_equal(np.asarray(later.actions), np.asarray(a[1].actions))
    steps = [s.action for s in rc.iter_rollout(deterministic=False, seed=9)][1:]
    np.testing.assert_array_equal(np.asarray(steps), np.asarray(a[0].actions))
    assert torch.equal(rng, torch.get_rng_state())  # training's random stream did not move
    loaded = RunContext.load(tmp_path / "r", checkpoint="last", silent=True)
    again = loaded.evaluate(4, deterministic=False, seed=5)
    assert again.returns == first.returns


# -- 5. off-policy observation normalisation counts each observation once ------------------------
@pytest.mark.parametrize("algo", ["ppo", "dqn", "sac"])
def test_observation_statistics_count_each_observation_once(algo: str) -> None:
    wrappers = [NormalizeObservation()]
    if algo == "ppo":
        e = exp(wrappers=wrappers, total_steps=256)
    elif algo == "dqn":
        e = exp(wrappers=wrappers, total_steps=256,
                algorithm=DQN(buffer_size=500, learning_starts=50, batch_size=16, train_freq=4,
                              gradient_steps=1))
    else:
        e = Experiment(name="modes", env=GymEnv(name="Pendulum-v1"), wrappers=wrappers,
                       model=VectorObs(hidden_units=[16]),
                       critic=StateCritic(hidden_units=[16], activation="relu"),
                       algorithm=SAC(buffer_size=500, learning_starts=50, batch_size=16,
                                     train_freq=1, gradient_steps=1),
                       runner=Runner(n_envs=1), **{**TINY, "total_steps": 150})
    trainer = Trainer(e)
    try:
        trainer.train()
        assert trainer.prep.normalizer.rms.count == pytest.approx(trainer.steps, abs=1e-3)
    finally:
        trainer.close()


# -- 6. a budget below one iteration -------------------------------------------------------------
class Bar:
    def __init__(self, total: int, start: int) -> None:
        self.total, self.shown = total, [start]

    def update(self, steps, info) -> None:
        self.shown.append(steps)

    def note_eval(self, step, mean_return) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def test_a_budget_below_one_rollout_says_what_it_runs(tmp_path: Path, monkeypatch, capsys) -> None:
    import mazedsl.context as context

    bars: list[Bar] = []
    monkeypatch.setattr(context, "_progress_bar",
                        lambda total, start, on_closed: bars.append(Bar(total, start)) or bars[-1])
    rc = RunContext(exp(), run_dir=tmp_path / "r")
    assert rc.train(total_steps=40).steps == 64  # one rollout of 32 x 2 envs, as SB3's
    (bar,) = bars
    assert bar.total == 64 and bar.shown[-1] == 64 and max(bar.shown) <= bar.total
    assert ("note: training runs to 64 steps: the budget of 40 rounds up to whole iterations of "
            "64 env steps") in capsys.readouterr().err
    assert "rounds up" in (tmp_path / "r" / "train.log").read_text()
    assert rc.train(total_steps=128).steps == 128  # a whole number of rollouts: no note
    assert bars[-1].total == 128 and "rounds up" not in capsys.readouterr().err


def test_planned_steps_follow_each_learners_iterations() -> None:
    dqn = Trainer(exp(algorithm=DQN(buffer_size=300, train_freq=8)))  # 16 env steps a phase
    try:
        assert [dqn.planned_steps(b) for b in (1, 16, 17, 100)] == [16, 16, 32, 112]
    finally:
        dqn.close()


def test_module_mode_switches_only_modules_whose_mode_matters(monkeypatch):
    """Acting asks for eval mode at every env step: a module whose mode changes nothing (the
    built-in MLPs) is left as it is, without walking its submodules; one with Dropout is
    switched inside the block and put back after."""
    from torch import nn

    from mazedsl.rl.models import module_mode

    plain = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    dropped = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    with module_mode(plain, False):  # (the first call remembers that its mode does not matter)
        pass
    monkeypatch.setattr(nn.Module, "modules", lambda self: (_ for _ in ()).throw(AssertionError("walked")))
    with module_mode(plain, False):
        assert plain.training
    monkeypatch.undo()
    with module_mode(dropped, False):
        assert not dropped.training and not dropped[1].training
    assert dropped.training and dropped[1].training
