"""DQN, SAC and BC maths against hand-computed cases; target updates, schedules, entropy
tuning, the twin critics and the recorded-episode dataset."""

from __future__ import annotations

import math
from pathlib import Path

import attrs
import numpy as np
import pytest
import torch
from gymnasium import spaces

from mazedsl.errors import ConfigError
from mazedsl.rl.algos._offpolicy import (clip_grad_norm, linear_schedule, make_adam, mlp,
                                         polyak_update)
from mazedsl.rl.algos.bc import BC
from mazedsl.rl.algos.bc.data import find_episode_files, load_episodes, split_episodes
from mazedsl.rl.algos.bc.losses import bc_loss
from mazedsl.rl.algos.dqn import DQN
from mazedsl.rl.algos.dqn.losses import epsilon_greedy, q_targets, td_loss
from mazedsl.rl.algos.dqn.networks import check_discrete
from mazedsl.rl.algos.sac import SAC
from mazedsl.rl.algos.sac.losses import (actor_loss, critic_loss, critic_target,
                                         entropy_coef_loss, squashed_sample)
from mazedsl.rl.algos.sac.networks import NetGaussianActor, SquashedGaussianActor, TwinQ, check_box
from mazedsl.rollout import Episode

T = torch.tensor


# -- declarations ------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [DQN, SAC, BC])
def test_every_field_is_documented(cls: type) -> None:
    for field in attrs.fields(cls):
        assert len(field.metadata.get("doc", "")) > 10, field.name


def test_declarations_keep_reference_defaults() -> None:
    dqn, sac = DQN(), SAC()
    assert (dqn.lr, dqn.buffer_size, dqn.learning_starts, dqn.batch_size, dqn.tau,
            dqn.target_update_interval, dqn.train_freq, dqn.gradient_steps,
            dqn.exploration_fraction, dqn.exploration_final_eps, dqn.max_grad_norm) == (
        1e-4, 1_000_000, 100, 32, 1.0, 10_000, 4, 1, 0.1, 0.05, 10.0)
    assert (sac.lr, sac.batch_size, sac.tau, sac.gamma, sac.learning_starts, sac.ent_coef,
            sac.target_entropy) == (3e-4, 256, 0.005, 0.99, 100, None, None)
    assert (BC().lr, BC().batch_size, BC().ent_weight) == (1e-3, 32, 1e-3)


@pytest.mark.parametrize("bad", [{"gradient_steps": 0}, {"tau": 0.0}, {"tau": 1.5},
                                 {"exploration_final_eps": 2.0}, {"loss": "l1"}])
def test_dqn_refuses_bad_values(bad: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(bad))):
        DQN(**bad)


def test_sac_and_bc_refuse_bad_values() -> None:
    with pytest.raises(ConfigError, match="ent_coef"):
        SAC(ent_coef=-1.0)
    with pytest.raises(ConfigError, match="validation_fraction: must be < 1"):
        BC(validation_fraction=1.0)
    with pytest.raises(ConfigError, match="episodes"):
        BC(episodes=[""])
    assert DQN(gradient_steps=-1).gradient_steps == -1


def test_action_space_checks_name_the_space() -> None:
    assert check_discrete(spaces.Discrete(3)) == 3
    with pytest.raises(ConfigError, match=r"algorithm: DQN needs a Discrete action space, got Box"):
        check_discrete(spaces.Box(-1, 1, (2,)))
    assert check_box(spaces.Box(-1, 1, (2, 3))) == 6
    with pytest.raises(ConfigError, match=r"SAC needs a bounded Box .* got Discrete\(2\)"):
        check_box(spaces.Discrete(2))


# -- DQN -----------------------------------------------------------------------------------
def test_q_targets_hand_computed() -> None:
    next_q = T([[1.0, 3.0], [2.0, -1.0]])
    rewards, term = T([1.0, 0.5]), T([0.0, 1.0])
    # r + 0.9 * max Q' (the second ends: no bootstrap)
    assert torch.allclose(q_targets(next_q, rewards, term, 0.9), T([1.0 + 0.9 * 3.0, 0.5]))
    online = T([[5.0, 0.0], [0.0, 1.0]])  # double DQN: online picks action 0 for the first
    assert torch.allclose(q_targets(next_q, rewards, term, 0.9, online), T([1.0 + 0.9 * 1.0, 0.5]))


def test_td_loss_huber_and_mse_hand_computed() -> None:
    q = T([[1.0, 2.0], [0.0, 4.0]], requires_grad=True)
    actions, targets = T([1, 0]), T([2.5, 3.0])
    # errors: 2.0 - 2.5 = -0.5 (quadratic: 0.125), 0.0 - 3.0 = -3 (linear: 2.5)
    loss = td_loss(q, actions, targets, "huber")
    assert loss.item() == pytest.approx((0.125 + 2.5) / 2)
    loss.backward()
    assert torch.allclose(q.grad, T([[0.0, -0.25], [-0.5, 0.0]]))
    assert td_loss(q, actions, targets, "mse").item() == pytest.approx((0.25 + 9.0) / 2)


def test_epsilon_greedy_mixes_greedy_and_random() -> None:
    q = T([[0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    acts = epsilon_greedy(q, 0.5, T([0.9, 0.1, 0.6]), T([0, 1, 0]))
    assert acts.tolist() == [1, 1, 1]


def test_linear_schedule_as_sb3() -> None:
    assert linear_schedule(1.0, 0.05, 0.1, 0.0) == 1.0
    assert linear_schedule(1.0, 0.05, 0.1, 0.05) == pytest.approx(0.525)
    assert linear_schedule(1.0, 0.05, 0.1, 0.5) == 0.05
    assert linear_schedule(1.0, 0.05, 0.0, 0.0) == 0.05


def test_polyak_and_hard_updates() -> None:
    src = [T([1.0, 2.0]), T([[3.0]])]
    dst = [T([0.0, 0.0]), T([[1.0]])]
    polyak_update(src, dst, 0.25)
    assert dst[0].tolist() == [0.25, 0.5] and dst[1].tolist() == [[1.5]]
    polyak_update(src, dst, 1.0)
    assert dst[0].tolist() == [1.0, 2.0] and dst[1].tolist() == [[3.0]]
    assert dst[0] is not src[0]


def test_clip_grad_norm_matches_torch() -> None:
    grads = [T([3.0, 0.0]), T([[4.0]])]
    norm = clip_grad_norm(grads, 1.0)
    assert norm.item() == pytest.approx(5.0)
    assert grads[0][0].item() == pytest.approx(0.6, rel=1e-5)
    small = [T([0.3, 0.4])]
    clip_grad_norm(small, 1.0)
    assert small[0].tolist() == pytest.approx([0.3, 0.4])


def test_lean_adam_matches_torch_adam() -> None:
    torch.manual_seed(0)
    net = mlp(3, [8], "relu", 2)
    ref = mlp(3, [8], "relu", 2)
    ref.load_state_dict(net.state_dict())
    ours, theirs = make_adam(net.parameters(), 1e-2, 1e-8), torch.optim.Adam(ref.parameters(), 1e-2)
    x = torch.randn(16, 3)
    for _ in range(3):
        params = list(net.parameters())
        grads = torch.autograd.grad(net(x).square().mean(), params)
        ours.step_with(params, list(grads))
        theirs.zero_grad()
        ref(x).square().mean().backward()
        theirs.step()
    for a, b in zip(net.parameters(), ref.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


# -- SAC -----------------------------------------------------------------------------------
def test_squashed_sample_matches_torch_distributions() -> None:
    torch.manual_seed(0)
    mean, log_std, noise = torch.randn(5, 2), torch.randn(5, 2) * 0.5, torch.randn(5, 2)
    action, logp = squashed_sample(mean, log_std, noise)
    u = mean + log_std.exp() * noise
    normal = torch.distributions.Normal(mean, log_std.exp())
    expected = normal.log_prob(u).sum(-1) - torch.log(1 - torch.tanh(u) ** 2).sum(-1)
    assert torch.allclose(action, torch.tanh(u))
    assert torch.allclose(logp, expected, atol=1e-4)


def test_squashed_sample_hand_computed_and_stable() -> None:
    # mean 0, std 1, noise 0: u = 0, a = 0; log N(0) = -0.5 log 2 pi; correction log(1) = 0
    a, logp = squashed_sample(T([[0.0]]), T([[0.0]]), T([[0.0]]))
    assert a.item() == 0.0 and logp.item() == pytest.approx(-0.5 * math.log(2 * math.pi))
    _, far = squashed_sample(T([[30.0]]), T([[0.0]]), T([[0.0]]))  # tanh saturates
    assert torch.isfinite(far).all()
    # log(1 - tanh(30)^2) = 2 (log 2 - 30 - softplus(-60)) ~ -58.6137
    assert far.item() == pytest.approx(-0.5 * math.log(2 * math.pi) - 2 * (math.log(2) - 30), rel=1e-5)


def test_critic_target_and_losses_hand_computed() -> None:
    rewards, term = T([1.0, 2.0]), T([0.0, 1.0])
    next_q = T([[4.0, 1.0], [3.0, 5.0]])  # (critics, batch): min = [3, 1]
    target = critic_target(rewards, term, 0.5, next_q, T([-1.0, 7.0]), 0.2)
    # 1 + 0.5 * (3 - 0.2 * -1) = 2.6; the second ends: 2.0
    assert torch.allclose(target, T([2.6, 2.0]))
    q = T([[2.0, 2.0], [3.0, 1.0]], requires_grad=True)
    loss = critic_loss(q, target)
    # critic 1: ((-0.6)^2 + 0^2)/2 = 0.18; critic 2: (0.4^2 + (-1)^2)/2 = 0.58; 0.5 * sum
    assert loss.item() == pytest.approx(0.5 * (0.18 + 0.58))
    q_pi = T([[1.0, 4.0], [2.0, 3.0]])
    assert actor_loss(q_pi, T([0.5, -1.0]), 0.1).item() == pytest.approx(
        ((0.1 * 0.5 - 1.0) + (0.1 * -1.0 - 3.0)) / 2)


def test_entropy_tuning_moves_alpha_towards_the_target() -> None:
    log_alpha = torch.zeros((), requires_grad=True)
    # log pi = 1 (entropy ~ -1) is below a target entropy of -dim(A) = 0? here target -3:
    # entropy -1 > -3, so alpha must fall: gradient = -(logp + target) = -(1 - 3) = 2 > 0
    loss = entropy_coef_loss(log_alpha, T([1.0, 1.0]), -3.0)
    loss.backward()
    assert log_alpha.grad.item() == pytest.approx(2.0)
    log_alpha.grad = None
    entropy_coef_loss(log_alpha, T([5.0]), -3.0).backward()  # entropy -5 < -3: alpha rises
    assert log_alpha.grad.item() == pytest.approx(-2.0)
    # a few Adam steps drive alpha down while the entropy stays above the target
    opt = make_adam([log_alpha], 0.1, 1e-8)
    for _ in range(5):
        g = torch.autograd.grad(entropy_coef_loss(log_alpha, T([1.0]), -3.0), [log_alpha])
        opt.step_with([log_alpha], list(g))
    assert log_alpha.item() == pytest.approx(-0.5, abs=1e-3)


def test_twin_q_equals_two_separate_mlps() -> None:
    torch.manual_seed(0)
    twin = TwinQ(5, [16, 8], "relu")
    x = torch.randn(7, 5)
    out = twin(x)
    assert out.shape == (2, 7)
    for i in range(2):
        assert torch.allclose(out[i], twin.nets[i](x).squeeze(-1), atol=1e-6)
    assert not torch.equal(twin.nets[0][0].weight, twin.nets[1][0].weight)  # independent inits
    bound = 1 / math.sqrt(5)
    assert twin.nets[0][0].weight.abs().max() <= bound
    assert len(twin.params()) == 12 and twin.params()[0] is twin.nets[0][0].weight
    import copy

    target = copy.deepcopy(twin)
    polyak_update(twin.params(), target.params(), 0.5)  # the target's list follows its own weights
    assert target.params()[0] is target.nets[0][0].weight


def test_twin_q_detached_records_no_weight_gradients() -> None:
    twin = TwinQ(3, [4], "relu")
    x = torch.randn(2, 3, requires_grad=True)
    twin(x, detached=True).sum().backward()
    assert x.grad is not None and all(p.grad is None for p in twin.parameters())


def test_actor_clamps_log_std() -> None:
    actor = SquashedGaussianActor(3, 2, [8], "relu", log_std_min=-1.0, log_std_max=0.5)
    with torch.no_grad():
        actor.log_std.bias.fill_(10.0)
    mean, log_std = actor(torch.zeros(4, 3))
    assert mean.shape == (4, 2) and torch.all(log_std == 0.5)


def test_an_actor_from_your_own_module_reads_means_then_clamped_log_stds() -> None:
    net = torch.nn.Linear(3, 4)  # two actions: columns 0-1 the means, 2-3 the log stds
    with torch.no_grad():
        net.weight.zero_()
        net.bias.copy_(T([0.3, -0.2, 10.0, -30.0]))
    mean, log_std = NetGaussianActor(net, 2, log_std_min=-5.0, log_std_max=2.0)(torch.zeros(2, 3))
    assert torch.equal(mean, T([[0.3, -0.2]] * 2))
    assert torch.equal(log_std, T([[2.0, -5.0]] * 2))


# -- BC --------------------------------------------------------------------------------------
def test_bc_loss_hand_computed() -> None:
    w = T([1.0, 2.0], requires_grad=True)
    loss, parts = bc_loss(T([-1.0, -3.0]), T([0.5, 1.5]), [w], 0.1, 0.01)
    # neglogp 2; entropy 1 -> -0.1; l2 = (1 + 4) / 2 = 2.5 -> +0.025
    assert loss.item() == pytest.approx(2.0 - 0.1 + 0.025)
    assert parts["neglogp"].item() == 2.0 and parts["l2"].item() == 2.5


def _record(folder: Path, n_episodes: int, length: int = 5, obs_dim: int = 4,
            action: object = 1) -> None:
    (folder / "rollouts").mkdir(parents=True, exist_ok=True)
    for e in range(n_episodes):
        obs = [np.full(obs_dim, e * 100 + t, dtype=np.float32) for t in range(length + 1)]
        Episode(obs, [action] * length, [1.0] * length, [{}] * length).save(
            folder / "rollouts" / f"episode_{e:03d}.npz")


def test_episodes_from_run_dirs_files_and_globs(tmp_path: Path) -> None:
    _record(tmp_path / "run_a", 3)
    _record(tmp_path / "run_b", 2)
    files = find_episode_files([str(tmp_path / "run_a")])
    assert [f.name for f in files] == ["episode_000.npz", "episode_001.npz", "episode_002.npz"]
    assert len(find_episode_files([str(tmp_path / "run_*")])) == 5
    assert len(find_episode_files([str(tmp_path / "run_b" / "rollouts" / "episode_001.npz"),
                                   str(tmp_path / "run_b")])) == 2  # no duplicates
    data = load_episodes(files, spaces.Box(-1e3, 1e3, (4,)), spaces.Discrete(2))
    assert len(data) == 15 and data.observations.shape == (15, 4)
    # each action pairs with the observation it was taken in (not the last one)
    assert data.observations[:, 0].tolist() == [0, 1, 2, 3, 4, 100, 101, 102, 103, 104,
                                                200, 201, 202, 203, 204]
    assert data.episode.tolist() == [0] * 5 + [1] * 5 + [2] * 5 and data.returns == [5.0] * 3


def test_no_episodes_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"^algorithm.episodes: no recorded episodes \(rollouts/\*\.npz\) found in"):
        find_episode_files([str(tmp_path / "empty")])
    with pytest.raises(ConfigError, match="algorithm.episodes: no recorded episodes given"):
        find_episode_files([])
    with pytest.raises(ConfigError, match="no recorded episodes"):
        find_episode_files([str(tmp_path / "nothing*")])


def test_episodes_of_other_spaces_are_refused(tmp_path: Path) -> None:
    _record(tmp_path / "run", 1, obs_dim=3)
    files = find_episode_files([str(tmp_path / "run")])
    with pytest.raises(ConfigError, match=r"episode_000.npz: observations have shape \(3,\) per step, "
                                          r"the env's observation space .* has \(4,\)"):
        load_episodes(files, spaces.Box(-1, 1, (4,)), spaces.Discrete(2))
    with pytest.raises(ConfigError, match=r"recorded actions .* do not fit the env's action space"):
        load_episodes(files, spaces.Box(-1, 1, (3,)), spaces.Box(-1, 1, (2,)))
    with pytest.raises(ConfigError, match=r"action 1 \(step 0\) is out of range for the env's "
                                          r"action space Discrete\(1\)"):
        load_episodes(files, spaces.Box(-1, 1, (3,)), spaces.Discrete(1))


def test_validation_split_holds_out_whole_episodes(tmp_path: Path) -> None:
    _record(tmp_path / "run", 10, length=4)
    data = load_episodes(find_episode_files([str(tmp_path / "run")]),
                         spaces.Box(-1e4, 1e4, (4,)), spaces.Discrete(2))
    train, val = split_episodes(data, 0.2, seed=0)
    assert len(val) == 8 and len(train) == 32
    assert set(data.episode[val]).isdisjoint(set(data.episode[train]))
    assert np.array_equal(split_episodes(data, 0.2, seed=0)[1], val)  # seeded
    assert len(split_episodes(data, 0.0, seed=0)[1]) == 0
    one = data.subset(np.flatnonzero(data.episode == 0))
    one.files = one.files[:1]
    one.episode = np.zeros_like(one.episode)
    assert len(split_episodes(one, 0.5, seed=0)[1]) == 0  # a single episode trains


# -- TUI curves ------------------------------------------------------------------------------
def test_loss_plot_shows_offpolicy_metrics_and_keeps_the_ppo_legend() -> None:
    from mazedsl_tui.widgets.detail.curves import loss_plot

    ppo = loss_plot()
    assert ppo.legend() == [] and ppo.border_subtitle == ""  # the legend: what the run logs
    ppo.set_records([{"phase": "train", "step": s, "policy_loss": p, "entropy": e, "value_loss": v}
                     for s, p, e, v in ((1, 0.01, 0.69, 40.0), (2, -0.01, 0.6, 2.0))])
    assert ppo.legend() == ["policy", "entropy", "value →"] and ppo.point_count == 2
    assert "Q loss" not in ppo.border_subtitle
    dqn = loss_plot()
    dqn.set_records([{"phase": "train", "step": s, "q_loss": 0.5, "epsilon": 0.1}
                     for s in (1, 2, 3)])
    assert dqn.point_count == 3 and dqn.values("epsilon") == [0.1] * 3
    assert "Q loss" in dqn.border_subtitle and "ε" in dqn.border_subtitle
    assert "α" not in dqn.border_subtitle
    bc = loss_plot()
    bc.set_records([{"phase": "train", "step": 1, "bc_loss": 0.3, "bc_val_loss": 0.4}])
    assert bc.values("bc_val_loss") == [0.4] and "BC val loss" in bc.border_subtitle


# -- the hand-written MLP backward -----------------------------------------------------------
@pytest.mark.parametrize("act, hidden", [("relu", [16, 8]), ("tanh", [16, 8]), ("relu", [64, 8])])
def test_mlp_grad_equals_autograd(act: str, hidden: list[int]) -> None:
    """[64, 8]: the observation layer's weight gradient takes the transposed product."""
    from mazedsl.rl.algos._mlpgrad import MLPGrad

    torch.manual_seed(0)
    net = torch.nn.Sequential(mlp(4, hidden, act), torch.nn.Linear(8, 3))
    mg = MLPGrad.for_module(net)
    assert mg is not None
    x, w = torch.randn(32, 4), torch.randn(32, 3)
    out, saved = mg.forward(x)
    assert torch.allclose(out, net(x), atol=1e-6)
    ours = mg.backward(saved, w)
    theirs = torch.autograd.grad((net(x) * w).sum(), list(net.parameters()))
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, atol=1e-5)
        assert a.is_contiguous()  # what the fused Adam kernel reads
    np_fwd = mg.numpy_forward()
    assert np.allclose(np_fwd(x.numpy()), out.numpy(), atol=1e-5)
    # the input gradient alone (a network used with detached weights), all or some columns
    xg = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad((net(xg) * w).sum(), [xg])
    assert torch.allclose(mg.input_grad(saved, w), expected, atol=1e-6)
    assert torch.allclose(mg.input_grad(saved, w, slice(1, 3)), expected[:, 1:3], atol=1e-6)


def test_mlp_grad_refuses_other_modules() -> None:
    from mazedsl.rl.algos._mlpgrad import MLPGrad

    assert MLPGrad.for_module(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ELU(),
                                                  torch.nn.Linear(2, 1))) is None
    assert MLPGrad.for_module(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())) is None
    assert MLPGrad.for_module(torch.nn.Conv2d(1, 1, 1)) is None


@pytest.mark.parametrize("algo, env", [("dqn", "CartPole-v1"), ("sac", "Pendulum-v1")])
def test_a_batch_larger_than_the_replay_buffer_is_refused(algo: str, env: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    from mazedsl import Experiment, RunContext
    from mazedsl.cli.main import main

    decl = {"dqn": DQN, "sac": SAC}[algo]
    line = r"algorithm.batch_size: 100000 is larger than the replay buffer \(algorithm.buffer_size 50\)"
    exp = Experiment(name="big_batch", algorithm=decl(batch_size=100_000, buffer_size=50)).override(
        {"env.name": env, "total_steps": 256, "eval_episodes": 1})
    with pytest.raises(ConfigError, match="^" + line + "$"):
        RunContext(exp, run_dir=tmp_path / "r", silent=True).train()
    # the CLI: one line, exit status 2, no run directory
    root = Path(__file__).resolve().parents[1]
    code = main(["--runs-root", str(tmp_path / "runs"), "train", str(root / "experiments" / "cartpole_ppo.py"),
                 f"algorithm={algo}", f"env.name={env}", "algorithm.batch_size=100000",
                 "algorithm.buffer_size=50", "total_steps=256"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == ("error: " + line.replace("\\", "")
                                         + " (from override 'algorithm.batch_size=100000')")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*"))
    # equal sizes are fine: the buffer holds exactly one batch
    small = exp.override({"algorithm.batch_size": 32, "algorithm.buffer_size": 32, "total_steps": 64,
                          "eval_every_steps": 0, "algorithm.learning_starts": 32})
    assert RunContext(small, run_dir=tmp_path / "ok", silent=True).train().steps >= 64
