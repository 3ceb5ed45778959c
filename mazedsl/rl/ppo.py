"""The PPO update (clipped surrogate, optional value clipping, entropy bonus)."""

from __future__ import annotations

import torch
from torch import nn

from mazedsl.rl.models import ActorCritic
from mazedsl.rl.updates import UpdateStats, check_finite
from mazedsl.spec import PPO


def ppo_update(policy: ActorCritic, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor],
               algo: PPO, clip_range: float, step: int) -> UpdateStats:
    """``n_epochs`` passes of minibatch gradient steps over one rollout."""
    obs, actions, old_logp = batch["obs"], batch["actions"], batch["logp"]
    old_values, advantages, returns = batch["values"], batch["advantages"], batch["returns"]
    n = obs.shape[0]
    stats = UpdateStats()
    for _ in range(algo.n_epochs):
        perm = torch.randperm(n)
        for start in range(0, n, algo.batch_size):
            idx = perm[start:start + algo.batch_size]
            logp, entropy, values = policy.evaluate_actions(obs[idx], actions[idx])
            adv = advantages[idx]
            if algo.normalize_advantage and adv.numel() > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            log_ratio = logp - old_logp[idx]
            ratio = log_ratio.exp()
            policy_loss = -torch.min(adv * ratio, adv * ratio.clamp(1 - clip_range, 1 + clip_range)).mean()
            if algo.clip_range_vf is None:
                value_loss = (returns[idx] - values).pow(2).mean()
            else:
                old_v = old_values[idx]
                clipped = old_v + (values - old_v).clamp(-algo.clip_range_vf, algo.clip_range_vf)
                value_loss = torch.max((returns[idx] - values).pow(2),
                                       (returns[idx] - clipped).pow(2)).mean()
            entropy_mean = entropy.mean()
            loss = policy_loss - algo.ent_coef * entropy_mean + algo.vf_coef * value_loss
            check_finite(loss, policy_loss, value_loss, step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), algo.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                approx_kl = ((ratio - 1) - log_ratio).mean()
                clip_frac = ((ratio - 1).abs() > clip_range).float().mean()
            stats.add(policy_loss, value_loss, entropy_mean, approx_kl, clip_frac)
            if algo.target_kl is not None and approx_kl.item() > 1.5 * algo.target_kl:
                return stats
    return stats
