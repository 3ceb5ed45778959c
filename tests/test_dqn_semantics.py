"""DQN's learner against Stable-Baselines3 2.x's DQN semantics: the exploration rate per env
step, numpy acting on the live weights, and the shipped experiments' evaluation schedules."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from mazedsl import Experiment
from mazedsl.rl.algos._offpolicy import linear_schedule
from mazedsl.rl.algos.dqn import DQN
from mazedsl.rl.building import build
from mazedsl.spec import GymEnv, Runner, VectorObs

ROOT = Path(__file__).resolve().parents[1]


def _learner(**algo):
    # MountainCar: 200-step episodes, so the first 200 steps have no reset step and the
    # replay's rows are the steps in order
    base = dict(lr=1e-3, buffer_size=1_000, learning_starts=0, batch_size=8, train_freq=100,
                gradient_steps=1, exploration_fraction=1.0, exploration_final_eps=0.05)
    base.update(algo)
    exp = Experiment(name="dqn_eps", env=GymEnv(name="MountainCar-v0"),
                     model=VectorObs(hidden_units=[8], activation="relu", ortho_init=False),
                     algorithm=DQN(**base), runner=Runner(n_envs=1), total_steps=200,
                     eval_every_steps=0, log_every_steps=100)
    return build(exp, training=True)


def test_epsilon_follows_the_schedule_every_env_step() -> None:
    """SB3 updates the exploration rate after every env step (``_on_step``): the action taken
    at ``s`` env steps is random with probability eps(s / total), not eps of the phase start."""
    built = _learner()
    learner = built.learner
    try:
        q_head = learner.q[-1]
        with torch.no_grad():  # a constant greedy action: 2
            q_head.weight.zero_()
            q_head.bias.copy_(torch.tensor([0.0, 0.0, 1.0]))
        for phase, progress in enumerate((0.0, 0.5)):
            gen = torch.Generator()
            gen.set_state(learner.act_gen.get_state())
            rand = torch.randint(3, (100, 1), generator=gen).numpy()[:, 0]
            uniform = torch.rand((100, 1), generator=gen).numpy()[:, 0]
            learner.iteration(progress)
            with torch.no_grad():  # the gradient step moved the head: restore the greedy action
                q_head.weight.zero_()
                q_head.bias.copy_(torch.tensor([0.0, 0.0, 1.0]))
            steps = phase * 100 + np.arange(100)
            eps = np.array([linear_schedule(1.0, 0.05, 1.0, s / 200) for s in steps])
            expected = np.where(uniform < eps, rand, 2)
            stored = learner.replay.actions[phase * 100:(phase + 1) * 100].numpy()
            assert len(learner.replay) == (phase + 1) * 100
            assert np.array_equal(stored, expected)
            assert learner.epsilon == pytest.approx(eps[-1])
            # epsilon of the phase's start for all its steps would act randomly more often
            assert (expected != np.where(uniform < eps[0], rand, 2)).sum() > 5
    finally:
        built.close()


def test_numpy_acting_reads_the_weights_being_trained() -> None:
    """The numpy forward used for acting sees every gradient step (no stale copy)."""
    built = _learner(learning_starts=0, train_freq=32, gradient_steps=16, lr=1e-2)
    learner = built.learner
    try:
        assert learner._np_q is not None
        before = [p.detach().clone() for p in learner.q.parameters()]
        learner.iteration(0.0)
        assert learner.updates == 16
        assert any(not torch.equal(a, b) for a, b in zip(before, learner.q.parameters()))
        obs = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
        with torch.no_grad():
            want = learner.q(torch.as_tensor(obs)).numpy()
        assert np.allclose(learner._np_q(obs), want, atol=1e-5)
    finally:
        built.close()


def _shipped(name: str) -> Experiment:
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.experiment


@pytest.mark.parametrize("name", ["cartpole_dqn", "mountaincar_dqn", "acrobot_dqn"])
def test_shipped_dqn_experiments_evaluate_at_the_budget(name: str) -> None:
    """Training phases are ``train_freq * n_envs`` env steps: evaluations fall on phase
    boundaries, one of them the last boundary at or below the budget ("within N steps")."""
    exp = _shipped(name)
    phase = exp.algorithm.train_freq * exp.runner.n_envs
    last = exp.total_steps // phase * phase
    assert exp.eval_every_steps % phase == 0
    assert last % exp.eval_every_steps == 0
    assert exp.eval_every_steps <= 2_500


def test_a_training_phase_equals_sb3s_train_loop() -> None:
    """The vectorised phase (one batch draw, one target forward, hand-written backward, lean
    Adam) gives the weights of SB3's ``DQN.train``: per minibatch, smooth L1 against
    ``r + gamma (1 - terminated) max_a Q_target(s', a)``, ``clip_grad_norm_(10)``, Adam."""
    import copy

    from torch.nn import functional as F

    built = _learner(learning_starts=10**6, train_freq=50, batch_size=16, lr=5e-3,
                     max_grad_norm=0.5)
    learner = built.learner
    try:
        for _ in range(3):  # 150 random transitions, no training
            learner.iteration(0.0)
        assert learner.updates == 0 and len(learner.replay) == 150
        with torch.no_grad():  # a target net that differs from the online one
            for p in learner.target.parameters():
                p.add_(0.1 * torch.randn_like(p))
        ref_q, ref_target = copy.deepcopy(learner.q), copy.deepcopy(learner.target)
        ref_opt = torch.optim.Adam(ref_q.parameters(), lr=5e-3, eps=1e-8)
        gen = torch.Generator()
        gen.set_state(learner.sample_gen.get_state())
        batches = learner.replay.sample(16, 6, generator=gen)
        learner.train(6, 5e-3)
        norms = []
        for g in range(6):
            with torch.no_grad():
                next_v = ref_target(batches.next_obs[g]).max(1).values
                target = batches.rewards[g] + 0.99 * (1 - batches.terminated[g]) * next_v
            q = ref_q(batches.obs[g]).gather(1, batches.actions[g].long().unsqueeze(1)).squeeze(1)
            loss = F.smooth_l1_loss(q, target)
            ref_opt.zero_grad()
            loss.backward()
            norms.append(float(torch.nn.utils.clip_grad_norm_(ref_q.parameters(), 0.5)))
            ref_opt.step()
        assert max(norms) > 0.5  # the clip was active
        for mine, ref in zip(learner.q.parameters(), ref_q.parameters()):
            assert torch.allclose(mine, ref, atol=1e-5), (mine - ref).abs().max()
        for mine, ref in zip(learner.target.parameters(), ref_target.parameters()):
            assert torch.equal(mine, ref)  # no target update inside a training phase
    finally:
        built.close()
