"""The A2C update in plain torch: one gradient step on the whole n-step rollout."""

from __future__ import annotations

import torch

from mazedsl.rl.algos.a2c.spec import A2C
from mazedsl.rl.models import ActorCritic
from mazedsl.rl.onpolicy import optimizer_step
from mazedsl.rl.updates import check_finite


def a2c_update(policy: ActorCritic, optimizer: torch.optim.Optimizer,
               batch: dict[str, torch.Tensor], algo: A2C, step: int) -> dict[str, float]:
    """Policy gradient plus value regression minus the entropy bonus, one optimiser step."""
    adv, returns = batch["advantages"], batch["returns"]
    if algo.normalize_advantage and adv.shape[0] > 1:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    out, values = policy.reference_forward(batch["obs"])
    logp = policy.log_prob(out, batch["actions"])
    policy_loss = -(adv * logp).mean()
    value_loss = (returns - values).pow(2).mean()
    entropy = policy.entropy(out).mean()
    loss = policy_loss + algo.vf_coef * value_loss - algo.ent_coef * entropy
    check_finite(loss, policy_loss, value_loss, step)
    optimizer_step(optimizer, loss, [p for p in policy.parameters() if p.requires_grad],
                   algo.max_grad_norm)
    with torch.no_grad():
        approx_kl = (batch["logp"] - logp).mean()
        stats = torch.stack([policy_loss, value_loss, entropy, approx_kl]).tolist()
    return {**dict(zip(("policy_loss", "value_loss", "entropy", "approx_kl"), stats)),
            "clip_fraction": 0.0}
