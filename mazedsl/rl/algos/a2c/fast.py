"""The A2C update: one gradient step on the whole n-step rollout."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from mazedsl.rl.manual_grad import ManualGrad, squared_error
from mazedsl.rl.np_grad import NumpyGrad
from mazedsl.rl.models import ActorCritic
from mazedsl.rl.onpolicy import Recorded
from mazedsl.rl.updates import UpdateStats, apply_grads, check_finite, clip_grad_norm, with_grads
from mazedsl.rl.algos.a2c.spec import A2C


def a2c_update(policy: ActorCritic, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor],
               algo: A2C, step: int, manual_grad: bool = True,
               recorded: Recorded | None = None) -> UpdateStats:
    """Policy-gradient plus value regression plus entropy bonus, one optimiser step
    (gradients by :class:`NumpyGrad` for discrete actions and batches of at most
    :data:`NUMPY_MAX_BATCH`, else by :class:`ManualGrad` where it covers the network, else
    autograd). ``recorded``: the forward pass of ``batch`` with the current weights (policy
    outputs, values, hidden activations: :meth:`OnPolicyRollout.recorded_forward`), used by
    the hand-written gradients instead of computing it again."""
    if manual_grad and 0 < batch["advantages"].shape[0] <= NUMPY_MAX_BATCH:
        npg = NumpyGrad.for_policy(policy)
        if npg is not None:
            return _numpy_update(npg, optimizer, batch, algo, step, recorded)
    manual = ManualGrad.for_policy(policy) if manual_grad else None
    actions = batch["actions"]
    if policy.discrete:
        actions = actions.long().unsqueeze(-1)
    adv, returns = batch["advantages"], batch["returns"]
    n = adv.shape[0]
    if algo.normalize_advantage and n > 1:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    with torch.no_grad() if manual is not None else contextlib.nullcontext():
        if manual is not None:
            out, values, cache = (manual.forward(batch["obs"]) if recorded is None
                                  else _with_obs(_tensors(recorded), batch["obs"]))
            logp, aux = manual.log_prob(out, actions)
            logp_all = aux[0] if policy.discrete else None
        else:
            out, values = policy(batch["obs"])
            logp_all = torch.log_softmax(out, dim=-1) if policy.discrete else None
            logp = (logp_all.gather(-1, actions).squeeze(-1) if logp_all is not None
                    else policy.log_prob(out, actions))
        policy_loss = -(adv * logp).mean()
        if manual is not None:
            value_loss, v_err = squared_error(values, returns)
        else:
            value_loss = F.mse_loss(values, returns)
        loss = torch.add(policy_loss, value_loss, alpha=algo.vf_coef)
        with torch.no_grad():  # logged; before the step (a Gaussian's uses the log std)
            entropy_mean = policy.entropy(out, logp_all).mean()
        if algo.ent_coef and manual is None:
            loss = torch.sub(loss, policy.entropy(out, logp_all).mean(), alpha=algo.ent_coef)
        check_finite(loss, policy_loss, value_loss, step)
        if manual is not None:
            g_out, g_log_std = manual.out_grad(aux, adv * (-1.0 / n), algo.ent_coef, n)
            g_values = v_err.mul_(2.0 * algo.vf_coef / n)
            params, grads = manual.params, manual.backward(cache, g_out, g_values, g_log_std)
            if algo.max_grad_norm is not None:
                manual.clip_grad_norm(algo.max_grad_norm)
        else:
            all_params = optimizer.param_groups[0]["params"]
            for p in all_params:
                p.grad = None
            loss.backward()
            params, grads = with_grads(all_params)
            if algo.max_grad_norm is not None:
                clip_grad_norm(grads, algo.max_grad_norm)
        apply_grads(optimizer, params, grads, None if manual is None else manual.flat)
    stats = UpdateStats()
    with torch.no_grad():
        approx_kl = (batch["logp"] - logp).mean()
        stats.add(policy_loss, value_loss, entropy_mean, approx_kl, torch.zeros(()))
    return stats


def _with_obs(recorded: Any, obs: Any) -> Any:
    """A recorded forward pass (:data:`Recorded`, as arrays or tensors) as
    :meth:`NumpyGrad.forward` / :meth:`ManualGrad.forward` return it: the activations start
    with the input."""
    out, values, (pi, vf) = recorded
    return out, values, ([obs, *pi], None if vf is None else [obs, *vf])


def _tensors(recorded: Recorded) -> Any:
    """A recorded forward pass as CPU tensors sharing its arrays."""
    t = torch.from_numpy
    out, values, (pi, vf) = recorded
    return t(out), t(values), ([t(h) for h in pi], None if vf is None else [t(h) for h in vf])


NUMPY_MAX_BATCH = 128
"""Largest A2C batch whose update runs in numpy (:class:`NumpyGrad`). Measured here (2x64
tanh, one thread): 191 vs 311 us at 40 samples, even at 160, slower from 256; at 2x256 even
up to 160 samples."""


def _numpy_update(npg: NumpyGrad, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor],
                  algo: A2C, step: int,
                  recorded: Recorded | None = None) -> UpdateStats:
    """:func:`a2c_update` for a discrete policy, its loss and passes in numpy."""
    adv, returns = batch["advantages"].numpy(), batch["returns"].numpy()
    actions = batch["actions"].numpy()
    n = adv.shape[0]
    if algo.normalize_advantage and n > 1:
        adv = (adv - adv.mean()) / (adv.std(ddof=1) + np.float32(1e-8))
    obs = batch["obs"].numpy()
    out, values, cache = npg.forward(obs) if recorded is None else _with_obs(recorded, obs)
    z = out - np.maximum.reduce(out, 1, keepdims=True)
    p = np.exp(z)
    total = np.add.reduce(p, 1, keepdims=True)
    logp_all = z - np.log(total)
    p /= total
    rows = np.arange(n)
    logp = logp_all[rows, actions]
    entropy = -np.add.reduce(p * logp_all, 1)
    err = values - returns
    policy_loss = -float(np.dot(adv, logp)) / n
    value_loss = float(np.dot(err, err)) / n
    check_finite(policy_loss + algo.vf_coef * value_loss, policy_loss, value_loss, step)
    coef = adv * np.float32(-1.0 / n)  # d loss / d logp
    g_out = p * -coef[:, None]
    g_out[rows, actions] += coef  # (onehot - p) * coef
    if algo.ent_coef:  # d (-ent_coef * mean entropy) / d logits
        g_out += (p * (logp_all + entropy[:, None])) * np.float32(algo.ent_coef / n)
    err *= np.float32(2.0 * algo.vf_coef / n)
    npg.backward(cache, g_out, err)
    if algo.max_grad_norm is not None:
        npg.clip_grad_norm(algo.max_grad_norm)
    manual = npg.manual
    apply_grads(optimizer, manual.params, manual.grads, manual.flat)
    stats = UpdateStats()
    stats.add_values(policy_loss, value_loss, float(np.add.reduce(entropy)) / n,
                     float(np.add.reduce(batch["logp"].numpy() - logp)) / n, 0.0)
    return stats
