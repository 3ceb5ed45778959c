"""The engine's speed paths stay exact: hand-written gradients against autograd, the lean
optimisers against torch.optim (bit for bit), and the rollout inference paths against each
other."""

from __future__ import annotations

import copy
import io
import itertools

import gymnasium as gym
import pytest
import torch


def _first_step_grads(module, update, manual: bool) -> dict[str, torch.Tensor]:
    """The gradients of the first optimiser step of an update, by parameter name."""
    captured: dict[int, torch.Tensor] = {}
    apply = module.apply_grads

    def spy(optimizer, params, grads):
        if not captured:
            captured.update({id(p): g.detach().clone() for p, g in zip(params, grads)})
        apply(optimizer, params, grads)

    module.apply_grads = spy
    try:
        policy = update(manual)
    finally:
        module.apply_grads = apply
    return {name: captured[id(p)] for name, p in policy.named_parameters()}


@pytest.mark.parametrize("discrete,shared,activation,ent_coef,algo",
                         list(itertools.product([True, False], [False, True], ["tanh", "relu"],
                                                [0.0, 0.01], ["ppo", "a2c"])))
def test_hand_written_gradients_match_autograd(discrete, shared, activation, ent_coef, algo):
    import mazedsl.rl.a2c as a2c_mod
    import mazedsl.rl.ppo as ppo_mod
    from mazedsl.rl.models import ActorCritic
    from mazedsl.rl.updates import make_optimizer
    from mazedsl.spec import A2C, PPO, StateCritic, VectorObs

    torch.manual_seed(1)
    action_space = gym.spaces.Discrete(3) if discrete else gym.spaces.Box(-1, 1, (2,))
    policy = ActorCritic(gym.spaces.Box(-1, 1, (5,)), action_space,
                         VectorObs(activation=activation, hidden_units=[16, 8]),
                         StateCritic(shared=shared, activation=activation, hidden_units=[16, 8]))
    n = 40
    batch = {"obs": torch.randn(n, 5),
             "actions": torch.randint(0, 3, (n,)) if discrete else torch.randn(n, 2),
             "logp": torch.randn(n) * 0.1 - 1.0, "values": torch.randn(n),
             "advantages": torch.randn(n), "returns": torch.randn(n)}
    spec = (PPO(n_epochs=1, batch_size=64, ent_coef=ent_coef, clip_range=0.1) if algo == "ppo"
            else A2C(ent_coef=ent_coef, normalize_advantage=True))
    module = ppo_mod if algo == "ppo" else a2c_mod

    def update(manual: bool) -> ActorCritic:
        p = copy.deepcopy(policy)
        opt = make_optimizer(list(p.parameters()), spec)
        if algo == "ppo":
            ppo_mod.ppo_update(p, opt, batch, spec, 0.1, 0, manual_grad=manual)
        else:
            a2c_mod.a2c_update(p, opt, batch, spec, 0, manual_grad=manual)
        return p

    by_hand = _first_step_grads(module, update, True)
    autograd = _first_step_grads(module, update, False)
    assert by_hand.keys() == autograd.keys()
    for name, g in autograd.items():
        torch.testing.assert_close(by_hand[name], g, rtol=1e-5, atol=1e-6 * float(g.abs().max()) + 1e-12,
                                   msg=name)


@pytest.mark.parametrize("kind", ["adam", "rmsprop"])
def test_lean_optimisers_equal_torch_optim_and_share_its_state_dict(kind):
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
        opt.step()

    theirs_m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    ours_m = copy.deepcopy(theirs_m)
    theirs, ours = make(list(theirs_m.parameters()), False), make(list(ours_m.parameters()), True)
    for i in range(4):
        x = torch.randn(16, 4)
        step(theirs_m, theirs, x, 1e-3 * (1 - i / 8))
        step(ours_m, ours, x, 1e-3 * (1 - i / 8))
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


def test_rollout_inference_paths_agree():
    from mazedsl.rl.models import ActorCritic
    from mazedsl.spec import StateCritic, VectorObs

    for shared, hidden in ((False, [64, 64]), (True, [32]), (False, [])):
        policy = ActorCritic(gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2),
                             VectorObs(hidden_units=hidden), StateCritic(shared=shared, hidden_units=hidden))
        x = torch.randn(8, 4)
        with torch.inference_mode():
            out, values = policy(x)
            out_m, values_m = policy.inference_fn()(x)
            out_n, values_n = policy.numpy_inference_fn()(x.numpy())
        torch.testing.assert_close(out_m, out)
        torch.testing.assert_close(values_m, values)
        torch.testing.assert_close(torch.from_numpy(out_n.copy()), out)
        torch.testing.assert_close(torch.from_numpy(values_n.copy()), values)
