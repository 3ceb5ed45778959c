"""The A2C update: one gradient step on the whole n-step rollout."""

from __future__ import annotations

import torch
from torch import nn

from mazedsl.rl.models import ActorCritic
from mazedsl.rl.updates import UpdateStats, check_finite
from mazedsl.spec import A2C


def a2c_update(policy: ActorCritic, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor],
               algo: A2C, step: int) -> UpdateStats:
    """Policy-gradient plus value regression plus entropy bonus, one optimiser step."""
    logp, entropy, values = policy.evaluate_actions(batch["obs"], batch["actions"])
    adv = batch["advantages"]
    if algo.normalize_advantage and adv.numel() > 1:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    policy_loss = -(adv * logp).mean()
    value_loss = (batch["returns"] - values).pow(2).mean()
    entropy_mean = entropy.mean()
    loss = policy_loss - algo.ent_coef * entropy_mean + algo.vf_coef * value_loss
    check_finite(loss, policy_loss, value_loss, step)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(policy.parameters(), algo.max_grad_norm)
    optimizer.step()
    stats = UpdateStats()
    with torch.no_grad():
        approx_kl = (batch["logp"] - logp).mean()
    stats.add(policy_loss, value_loss, entropy_mean, approx_kl, torch.zeros(()))
    return stats
