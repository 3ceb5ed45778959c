"""The fast backend of PPO and A2C equals the plain-torch reference: over many updates (every
activation it covers, discrete and continuous, shared and separate critic), the lean optimisers
against torch.optim (bit for bit), and the rollout inference paths against each other."""

from __future__ import annotations

import copy
import io
import itertools

import gymnasium as gym
import pytest
import torch


def _fixed_batch(discrete: bool, n: int = 96) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    return {"obs": torch.randn(n, 5, generator=g),
            "actions": torch.randint(0, 3, (n,), generator=g) if discrete else torch.randn(n, 2, generator=g),
            "logp": torch.randn(n, generator=g) * 0.1 - 1.0, "values": torch.randn(n, generator=g),
            "advantages": torch.randn(n, generator=g), "returns": torch.randn(n, generator=g)}


def _policy(discrete: bool, shared: bool, activation: str, hidden=(16, 8), critic_hidden=None):
    from mazedsl.rl.models import ActorCritic
    from mazedsl.spec import StateCritic, VectorObs

    torch.manual_seed(1)
    action_space = gym.spaces.Discrete(3) if discrete else gym.spaces.Box(-1, 1, (2,))
    critic_hidden = hidden if critic_hidden is None else critic_hidden
    return ActorCritic(gym.spaces.Box(-1, 1, (5,)), action_space,
                       VectorObs(activation=activation, hidden_units=list(hidden)),
                       StateCritic(shared=shared, activation=activation, hidden_units=list(critic_hidden)))


def _run_updates(algo: str, fast: bool, policy, decl, n_updates: int = 6, n: int = 96):
    """``n_updates`` updates (each: all epochs of shuffled minibatches) on fixed batches, by the
    fast backend or the plain-torch reference, from the same weights and random state."""
    from mazedsl.rl.algos.a2c import fast as a2c_fast
    from mazedsl.rl.algos.a2c.update import a2c_update
    from mazedsl.rl.algos.ppo import fast as ppo_fast
    from mazedsl.rl.algos.ppo.update import ppo_update
    from mazedsl.rl.updates import lean_adam, lean_rmsprop, torch_adam

    p = copy.deepcopy(policy)
    params = list(p.parameters())
    if algo == "ppo":
        opt = (lean_adam(params, decl.lr, decl.adam_eps) if fast
               else torch_adam(params, decl.lr, decl.adam_eps))
    else:
        opt = lean_rmsprop(params, decl.lr, decl.rms_alpha, decl.eps) if fast else torch.optim.RMSprop(
            params, lr=decl.lr, alpha=decl.rms_alpha, eps=decl.eps)
    torch.manual_seed(3)
    stats = []
    for i in range(n_updates):
        batch = _fixed_batch(p.discrete, n)
        batch["advantages"] = batch["advantages"] + 0.1 * i
        if algo == "ppo":
            out = (ppo_fast.ppo_update(p, opt, batch, decl, 0.2, 0).as_dict() if fast
                   else ppo_update(p, opt, batch, decl, 0.2, 0))
        else:
            out = (a2c_fast.a2c_update(p, opt, batch, decl, 0).as_dict() if fast
                   else a2c_update(p, opt, batch, decl, 0))
        stats.append(out)
    return p, stats


@pytest.mark.parametrize("discrete,shared,activation,algo",
                         list(itertools.product([True, False], [False, True], ["tanh", "relu"],
                                                ["ppo", "a2c"])))
def test_fast_backend_equals_the_reference_over_many_updates(discrete, shared, activation, algo):
    """6 updates x 3 epochs x 3 shuffled minibatches (PPO) / 6 steps (A2C): the same weights
    and the same logged statistics, to float32 rounding."""
    from mazedsl import A2C, PPO

    decl = (PPO(n_epochs=3, batch_size=32, ent_coef=0.01, lr=1e-3) if algo == "ppo"
            else A2C(ent_coef=0.01, normalize_advantage=True, lr=1e-3))
    policy = _policy(discrete, shared, activation)
    fast, fast_stats = _run_updates(algo, True, policy, decl)
    ref, ref_stats = _run_updates(algo, False, policy, decl)
    with torch.no_grad():
        moved = max(float((a - b).abs().max()) for a, b in zip(policy.parameters(), ref.parameters()))
    assert moved > 1e-3  # the updates did change the weights
    for (name, a), b in zip(fast.named_parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=2e-5, msg=name)
    for f, r in zip(fast_stats, ref_stats):
        for key in ("policy_loss", "value_loss", "entropy", "approx_kl"):
            assert abs(f[key] - r[key]) <= 1e-4 * (1 + abs(r[key])), key


@pytest.mark.parametrize("discrete,shared,activation,algo", [
    (True, False, "tanh", "ppo"), (False, True, "relu", "ppo"),
    (False, False, "relu", "a2c"), (False, True, "tanh", "a2c")])  # (discrete A2C: numpy)
def test_fast_backend_with_every_product_on_onednn_equals_the_reference(
        discrete, shared, activation, algo, onednn_calls, monkeypatch):
    """What 256-wide networks get (mazedsl.rl.gemm routes their products to oneDNN), forced
    here for every product of a small network: the same weights and statistics."""
    from mazedsl import A2C, PPO
    from mazedsl.rl import gemm

    calls = onednn_calls
    monkeypatch.setattr(gemm, "ONEDNN_MIN_MACS", 0)
    decl = (PPO(n_epochs=3, batch_size=32, ent_coef=0.01, lr=1e-3) if algo == "ppo"
            else A2C(ent_coef=0.01, normalize_advantage=True, lr=1e-3))
    policy = _policy(discrete, shared, activation, hidden=(32, 32))
    fast, fast_stats = _run_updates(algo, True, policy, decl)
    assert len(calls) >= 6 * 4  # forward and backward products of every update
    ref, ref_stats = _run_updates(algo, False, policy, decl)
    for (name, a), b in zip(fast.named_parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=2e-5, msg=name)
    for f, r in zip(fast_stats, ref_stats):
        for key in ("policy_loss", "value_loss", "entropy"):
            assert abs(f[key] - r[key]) <= 1e-4 * (1 + abs(r[key])), key


@pytest.mark.parametrize("discrete,batch_size", [(True, 96), (True, 40), (False, 40)])
def test_fast_ppo_equals_the_reference_for_whole_and_unequal_minibatches(discrete, batch_size):
    """One minibatch holding the whole rollout (no shuffling), and minibatches of unequal size
    (the statistics per gradient step): the same weights and logged statistics."""
    from mazedsl import PPO

    decl = PPO(n_epochs=4, batch_size=batch_size, ent_coef=0.01, lr=1e-3)
    policy = _policy(discrete, False, "tanh")
    fast, fast_stats = _run_updates("ppo", True, policy, decl)
    ref, ref_stats = _run_updates("ppo", False, policy, decl)
    for (name, a), b in zip(fast.named_parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=2e-5, msg=name)
    for f, r in zip(fast_stats, ref_stats):
        for key in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"):
            assert abs(f[key] - r[key]) <= 1e-4 * (1 + abs(r[key])), key


@pytest.mark.parametrize("shared,hidden,critic_hidden,activation,normalize,ent_coef,n",
                         [(False, (16, 8), (16, 8), "tanh", False, 0.0, 40),
                          (True, (16, 8), (16, 8), "relu", True, 0.01, 40),
                          (False, (24,), (20, 10, 6), "tanh", True, 0.01, 17),
                          (False, (), (12,), "relu", False, 0.01, 40),
                          (False, (16, 8), (16, 8), "tanh", True, 0.01, 300)])
def test_numpy_a2c_update_equals_the_reference(shared, hidden, critic_hidden, activation, normalize,
                                               ent_coef, n):
    """Discrete A2C batches up to NUMPY_MAX_BATCH update in numpy (NumpyGrad), larger ones by
    the torch passes: either way the same weights and statistics as autograd."""
    from mazedsl import A2C
    from mazedsl.rl.algos.a2c.fast import NUMPY_MAX_BATCH
    from mazedsl.rl.np_grad import NumpyGrad

    decl = A2C(ent_coef=ent_coef, normalize_advantage=normalize, lr=1e-3)
    policy = _policy(True, shared, activation, hidden, critic_hidden)
    assert NumpyGrad.for_policy(policy) is not None
    assert (n <= NUMPY_MAX_BATCH) is (n != 300)
    fast, fast_stats = _run_updates("a2c", True, policy, decl, n=n)
    ref, ref_stats = _run_updates("a2c", False, policy, decl, n=n)
    with torch.no_grad():
        moved = max(float((a - b).abs().max()) for a, b in zip(policy.parameters(), ref.parameters()))
    assert moved > 1e-3
    for (name, a), b in zip(fast.named_parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=2e-5, msg=name)
    for f, r in zip(fast_stats, ref_stats):
        for key in ("policy_loss", "value_loss", "entropy", "approx_kl"):
            assert abs(f[key] - r[key]) <= 1e-4 * (1 + abs(r[key])), key


def test_numpy_a2c_update_stops_on_a_non_finite_loss():
    from mazedsl import A2C
    from mazedsl.errors import TrainingError
    from mazedsl.rl.algos.a2c import fast as a2c_fast
    from mazedsl.rl.updates import lean_rmsprop

    policy = _policy(True, False, "tanh")
    decl = A2C(lr=1e-3)
    batch = _fixed_batch(True, 40)
    batch["returns"][3] = float("nan")
    opt = lean_rmsprop(list(policy.parameters()), decl.lr, decl.rms_alpha, decl.eps)
    before = [p.detach().clone() for p in policy.parameters()]
    with pytest.raises(TrainingError, match="non-finite loss at step 7: .*value_loss=nan"):
        a2c_fast.a2c_update(policy, opt, batch, decl, 7)
    assert all(torch.equal(a, b) for a, b in zip(before, policy.parameters()))  # no step taken


@pytest.mark.parametrize("discrete,hidden,critic_hidden,algo",
                         [(True, (160, 160), (160, 160), "ppo"), (False, (160, 160), (160, 160), "a2c"),
                          (True, (24, 12), (20,), "ppo"), (False, (24,), (20, 10, 6), "a2c")])
def test_fast_backend_equals_the_reference_on_wide_and_unequal_nets(discrete, hidden, critic_hidden,
                                                                      algo):
    """Nets wider than the merge limit (two numpy chains in rollouts) and policy and value nets
    of different depths: the fast backend covers them and equals the reference."""
    from mazedsl import A2C, PPO
    from mazedsl.rl.onpolicy import choose_fast

    decl = (PPO(n_epochs=3, batch_size=32, ent_coef=0.01, lr=1e-3) if algo == "ppo"
            else A2C(ent_coef=0.01, normalize_advantage=True, lr=1e-3))
    policy = _policy(discrete, False, "tanh", hidden, critic_hidden)
    assert choose_fast("auto", policy, torch.device("cpu")) is True
    fast, fast_stats = _run_updates(algo, True, policy, decl)
    ref, ref_stats = _run_updates(algo, False, policy, decl)
    for (name, a), b in zip(fast.named_parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=2e-5, msg=name)
    for f, r in zip(fast_stats, ref_stats):
        for key in ("policy_loss", "value_loss", "entropy", "approx_kl"):
            assert abs(f[key] - r[key]) <= 1e-4 * (1 + abs(r[key])), key


@pytest.mark.parametrize("activation,expected", [("tanh", True), ("relu", True), ("elu", False),
                                                 ("gelu", False), ("silu", False)])
def test_auto_backend_picks_fast_only_where_it_is_proven(activation, expected):
    from mazedsl.rl.onpolicy import choose_fast, fast_backend_problem

    policy = _policy(True, False, activation)
    assert choose_fast("auto", policy, torch.device("cpu")) is expected
    assert (fast_backend_problem(policy, torch.device("cpu")) is None) is expected
    assert choose_fast("torch", policy, torch.device("cpu")) is False


def test_auto_backend_skips_wide_nets_and_fast_on_them_is_refused():
    from mazedsl.errors import ConfigError
    from mazedsl.rl.models import ActorCritic
    from mazedsl.rl.onpolicy import choose_fast
    from mazedsl.spec import StateCritic, VectorObs

    from mazedsl.rl.onpolicy import FAST_MAX_WIDTH

    at_limit = ActorCritic(gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2),
                           VectorObs(hidden_units=[FAST_MAX_WIDTH] * 2),
                           StateCritic(hidden_units=[FAST_MAX_WIDTH] * 2))
    assert choose_fast("auto", at_limit, torch.device("cpu")) is True
    wide = ActorCritic(gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2),
                       VectorObs(hidden_units=[FAST_MAX_WIDTH + 1]), StateCritic(hidden_units=[32]))
    assert choose_fast("auto", wide, torch.device("cpu")) is False
    with pytest.raises(ConfigError, match="algorithm.backend: 'fast' cannot be used here: .*wider"):
        choose_fast("fast", wide, torch.device("cpu"))


@pytest.mark.parametrize("hidden", [None, "[160,160]"])
def test_training_with_either_backend_gives_the_same_run(hidden):
    """End to end (rollouts through the numpy forward, merged or as two chains for wide nets,
    vs torch; updates by hand vs autograd): the same evaluation returns after 5 PPO updates."""
    from mazedsl import Experiment
    from mazedsl.rl.trainer import Trainer

    results = []
    for backend in ("fast", "torch"):
        nets = [] if hidden is None else [f"model.hidden_units={hidden}", f"critic.hidden_units={hidden}"]
        exp = Experiment(total_steps=5 * 1024, eval_every_steps=0, eval_episodes=4).override(
            f"algorithm.backend={backend}", "algorithm.n_epochs=4", *nets)
        trainer = Trainer(exp)
        trainer.train()
        results.append(trainer.best_eval)
        trainer.close()
    assert results[0] == pytest.approx(results[1], rel=0.02)


@pytest.mark.parametrize("kind,flat", list(itertools.product(["adam", "rmsprop"], [False, True])))
def test_lean_optimisers_equal_torch_optim_and_share_its_state_dict(kind, flat):
    """Bit for bit, per parameter or (``flat``) with the gradients as slices of one buffer, as
    the fast backend passes them (the state then lives in flat buffers), across saving and
    loading state_dicts both ways."""
    from mazedsl.rl import optim

    torch.manual_seed(0)

    def make(params, ours: bool):
        if kind == "adam":
            return (optim.Adam(params, lr=1e-3, eps=1e-5) if ours
                    else torch.optim.Adam(params, lr=1e-3, eps=1e-5, fused=True))
        return (optim.RMSprop(params, lr=7e-4, alpha=0.99, eps=1e-5) if ours
                else torch.optim.RMSprop(params, lr=7e-4, alpha=0.99, eps=1e-5))

    def step(model, opt, x, lr):
        for p in model.parameters():
            p.grad = None
        (model(x) ** 2).sum().backward()
        opt.param_groups[0]["lr"] = lr
        if flat and isinstance(opt, optim.LeanOptimizer):
            params = opt.param_groups[0]["params"]
            buffer = torch.cat([p.grad.reshape(-1) for p in params])
            views = [v.view_as(p) for v, p in zip(buffer.split([p.numel() for p in params]), params)]
            opt.step_with(params, views, buffer)
        else:
            opt.step()

    theirs_m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    ours_m = copy.deepcopy(theirs_m)
    theirs, ours = make(list(theirs_m.parameters()), False), make(list(ours_m.parameters()), True)
    for i in range(12):
        x = torch.randn(16, 4)
        step(theirs_m, theirs, x, 1e-3 * (1 - i / 24))
        step(ours_m, ours, x, 1e-3 * (1 - i / 24))
    assert all(torch.equal(a, b) for a, b in zip(theirs_m.parameters(), ours_m.parameters()))
    # each loads the other's (saved, weights-only) state_dict and continues identically
    buf = io.BytesIO()
    torch.save(ours.state_dict(), buf)
    buf.seek(0)
    ours_sd = torch.load(buf, weights_only=True)
    m3, m4 = copy.deepcopy(ours_m), copy.deepcopy(theirs_m)
    o3, o4 = make(list(m3.parameters()), False), make(list(m4.parameters()), True)
    o3.load_state_dict(ours_sd)
    o4.load_state_dict(theirs.state_dict())
    x = torch.randn(16, 4)
    for m, o in ((theirs_m, theirs), (ours_m, ours), (m3, o3), (m4, o4)):
        step(m, o, x, 5e-4)
    assert all(torch.equal(a, b) for a, b in zip(m3.parameters(), ours_m.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(m4.parameters(), theirs_m.parameters()))


def test_lean_adam_reads_a_transposed_gradient_by_its_strides():
    """A gradient handed over as a transposed view steps the parameter as its contiguous
    copy does (torch's fused kernel alone would read the memory in storage order)."""
    from mazedsl.rl import optim

    torch.manual_seed(0)
    p1 = torch.randn(8, 3)
    p2 = p1.clone()
    g = torch.randn(3, 8).t()
    assert not g.is_contiguous()
    o1, o2 = optim.Adam([p1], lr=1e-2), optim.Adam([p2], lr=1e-2)
    for _ in range(3):
        o1.step_with([p1], [g])
        o2.step_with([p2], [g.contiguous()])
    assert torch.equal(p1, p2)
    assert not torch.equal(p1, torch.zeros_like(p1))


def test_rollout_inference_paths_agree():
    from mazedsl.rl.models import ActorCritic
    from mazedsl.spec import StateCritic, VectorObs

    from mazedsl.rl.models import MERGE_MAX_WIDTH

    wide = [MERGE_MAX_WIDTH + 32] * 2
    cases = ((False, [64, 64], None, "tanh", "merged"), (True, [32], None, "tanh", "merged"),
             (False, [], None, "tanh", "merged"), (False, wide, None, "tanh", "separate"),
             (True, wide, None, "relu", "merged"), (False, [64, 64], [32], "relu", "separate"),
             (False, [24], [48, 16], "silu", "separate"))
    for shared, hidden, critic_hidden, act, kind in cases:
        policy = ActorCritic(gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2),
                             VectorObs(hidden_units=hidden, activation=act),
                             StateCritic(shared=shared, activation=act,
                                         hidden_units=hidden if critic_hidden is None else critic_hidden))
        x = torch.randn(8, 4)
        with torch.inference_mode():
            out, values = policy(x)
            out_m, values_m = policy.inference_fn()(x)
            np_forward = policy.numpy_inference_fn()
            out_n, values_n = np_forward(x.numpy())
            recorded: list = []
            out_r, values_r = np_forward(x.numpy(), recorded)
        assert np_forward.layout == kind  # wide separate nets are not zero-padded
        torch.testing.assert_close(out_m, out)
        torch.testing.assert_close(values_m, values)
        torch.testing.assert_close(torch.from_numpy(out_n.copy()), out)
        torch.testing.assert_close(torch.from_numpy(values_n.copy()), values)
        assert (out_r == out_n).all() and (values_r == values_n).all()
        # the recorded layer outputs, split per net, are each net's hidden activations
        pi_plan, vf_plan, _, _ = policy._fast
        hidden_p, hidden_v = np_forward.split(recorded)
        assert (hidden_v is None) == shared
        for plan, got in ((pi_plan, hidden_p), (vf_plan, hidden_v)):
            if plan is None:
                continue
            h, expected = x, []
            for w, b, fn in plan:
                h = fn(torch.nn.functional.linear(h, w.detach(), b.detach()))
                expected.append(h)
            assert [tuple(g.shape) for g in got] == [tuple(e.shape) for e in expected]
            for g, e in zip(got, expected):
                torch.testing.assert_close(torch.from_numpy(g.copy()), e)


def _a2c_experiment(env: str, n_envs: int, hidden: list[int], shared: bool, backend: str):
    from mazedsl import A2C
    from mazedsl.spec import Experiment, GymEnv, Runner, StateCritic, VectorObs

    return Experiment(env=GymEnv(name=env), model=VectorObs(hidden_units=hidden),
                      critic=StateCritic(hidden_units=hidden, shared=shared),
                      algorithm=A2C(backend=backend, ent_coef=0.01),
                      runner=Runner(n_envs=n_envs, vectorization="sync"), seed=3,
                      total_steps=10 ** 6, eval_every_steps=0, eval_episodes=1)


@pytest.mark.parametrize("env,n_envs,hidden,shared,by_default", [
    ("CartPole-v1", 8, [64, 64], False, False),    # merged nets, the numpy update (40 rows)
    ("CartPole-v1", 32, [160, 160], False, True),  # two chains (wide), the torch hand-written update
    ("CartPole-v1", 8, [32], True, False),         # a shared torso
    ("Pendulum-v1", 8, [64, 64], False, False),    # Gaussian actions
])
def test_a2c_reuses_the_rollout_forward_and_equals_the_reference(env, n_envs, hidden, shared, by_default):
    """A2C takes one step per rollout with the weights that acted, so the fast backend's update
    can reuse the rollout's forward pass (its valid rows: episodes end inside these rollouts);
    it does by default where the update is large enough to gain (``REUSE_MIN_MACS``). Over 40
    updates, reusing equals computing the forward again (to float32 rounding) and the
    plain-torch reference (autograd) to the tolerance of the other fast-backend tests."""
    from mazedsl.rl.algos.a2c import fast
    from mazedsl.rl.trainer import Trainer

    used, masked = [], []
    real = fast.a2c_update

    def spy(policy, optimizer, batch, algo, step, **kwargs):
        used.append(kwargs.get("recorded") is not None)
        masked.append(batch["advantages"].shape[0] < n_envs * algo.n_steps)  # reset steps left out
        return real(policy, optimizer, batch, algo, step, **kwargs)

    params = {}
    for name, backend, keep in (("reuse", "fast", True), ("again", "fast", False), ("torch", "torch", False)):
        trainer = Trainer(_a2c_experiment(env, n_envs, hidden, shared, backend))
        assert trainer.learner.fast == (backend == "fast")
        assert trainer.learner.keep_hidden == (by_default and backend == "fast")
        trainer.learner.keep_hidden = keep
        fast.a2c_update = spy
        try:
            trainer.train(n_updates=40)
        finally:
            fast.a2c_update = real
        params[name] = [p.detach().clone() for p in trainer.learner.policy.parameters()]
        trainer.close()
    assert used == [True] * 40 + [False] * 40  # the reference path never calls the fast update
    assert any(masked[:40]) == (env == "CartPole-v1")
    for a, b in zip(params["reuse"], params["again"]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    for a, b in zip(params["reuse"], params["torch"]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("discrete,shared", [(True, False), (True, True), (False, False)])
def test_acting_runs_the_policy_net_alone_with_the_forward_passs_numbers(discrete, shared):
    """predict / distribution (evaluation, rollouts, compute_action) compute the policy output
    as forward does, bit for bit, without the value net: a NaN value head changes nothing."""
    policy = _policy(discrete, shared, "tanh")
    obs = _fixed_batch(discrete, 16)["obs"]
    with torch.no_grad():
        out, _ = policy(obs)
        ref, _ = policy.reference_forward(obs)
        policy.vf_head.weight.fill_(float("nan"))
        assert torch.equal(policy.policy_out(obs), out) and torch.equal(out, ref)
        want = out.argmax(-1) if discrete else out
        assert torch.equal(policy.predict(obs, deterministic=True).reshape(want.shape), want)
        assert not any(torch.isnan(v).any() for v in policy.distribution(obs).values())
        assert torch.isnan(policy(obs)[1]).all()  # (the value net is what was poisoned)


@pytest.mark.parametrize("cols,width", [(1, 256), (4, 64), (4, 256), (12, 64), (16, 256), (4, 32)])
def test_weight_grad_equals_g_transposed_times_a_either_way_it_runs(cols, width):
    """``weight_grad`` flips the product for 2-12 input columns into 64 units or more; returned
    (contiguous, as fused optimisers need) or written into ``out``, it is ``g^T a``."""
    from mazedsl.rl.manual_grad import weight_grad

    gen = torch.Generator().manual_seed(cols * width)
    g, a = torch.randn(300, width, generator=gen), torch.randn(300, cols, generator=gen)
    expected = torch.mm(g.t(), a)
    got = weight_grad(g, a)
    assert got.is_contiguous() and got.shape == (width, cols)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    out = torch.full((width, cols), float("nan"))
    assert weight_grad(g, a, out) is out
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
