"""The A2C update: one gradient step on the whole n-step rollout."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from mazedsl.rl.models import ActorCritic
from mazedsl.rl.updates import UpdateStats, check_finite, clip_grad_norm, step_fn, with_grads
from mazedsl.spec import A2C


def a2c_update(policy: ActorCritic, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor],
               algo: A2C, step: int) -> UpdateStats:
    """Policy-gradient plus value regression plus entropy bonus, one optimiser step."""
    out, values = policy(batch["obs"])
    if policy.discrete:
        logp_all = torch.log_softmax(out, dim=-1)
        logp = logp_all.gather(-1, batch["actions"].long().unsqueeze(-1)).squeeze(-1)
    else:
        logp_all = None
        logp = policy.log_prob(out, batch["actions"])
    adv = batch["advantages"]
    if algo.normalize_advantage and adv.numel() > 1:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    policy_loss = -(adv * logp).mean()
    value_loss = F.mse_loss(values, batch["returns"])
    loss = torch.add(policy_loss, value_loss, alpha=algo.vf_coef)
    if algo.ent_coef:
        entropy_mean = policy.entropy(out, logp_all).mean()
        loss = torch.sub(loss, entropy_mean, alpha=algo.ent_coef)
    else:
        with torch.no_grad():  # logged only; before the step (a Gaussian's uses the log std)
            entropy_mean = policy.entropy(out, logp_all).mean()
    check_finite(loss, policy_loss, value_loss, step)
    all_params = optimizer.param_groups[0]["params"]
    for p in all_params:
        p.grad = None
    loss.backward()
    params, grads = with_grads(all_params)
    clip_grad_norm(grads, algo.max_grad_norm)
    step_fn(optimizer)(params, grads)
    stats = UpdateStats()
    with torch.no_grad():
        approx_kl = (batch["logp"] - logp).mean()
        stats.add(policy_loss, value_loss, entropy_mean, approx_kl, torch.zeros(()))
    return stats
