"""The PPO update in plain torch: clipped surrogate, optional value clipping, entropy bonus;
autograd and ``torch.optim`` (the reference the fast backend is tested against)."""

from __future__ import annotations

import torch

from mazedsl.rl.algos.ppo.spec import PPO
from mazedsl.rl.models import ActorCritic
from mazedsl.rl.onpolicy import optimizer_step
from mazedsl.rl.updates import check_finite


def _normalized(adv: torch.Tensor) -> torch.Tensor:
    return (adv - adv.mean()) / (adv.std() + 1e-8)


def ppo_update(policy: ActorCritic, optimizer: torch.optim.Optimizer,
               batch: dict[str, torch.Tensor], algo: PPO, clip_range: float, step: int
               ) -> dict[str, float]:
    """``n_epochs`` passes of shuffled minibatch gradient steps over one rollout.

    One minibatch holding the whole rollout is not shuffled (the same sums, and the same
    random draws as the fast backend)."""
    obs, actions, old_logp = batch["obs"], batch["actions"], batch["logp"]
    old_values, advantages, returns = batch["values"], batch["advantages"], batch["returns"]
    n, bs = obs.shape[0], algo.batch_size
    whole = n <= bs
    if whole and algo.normalize_advantage and n > 1:
        advantages = _normalized(advantages)
    params = [p for p in policy.parameters() if p.requires_grad]
    totals: list[torch.Tensor] = []
    stop = False
    for _ in range(algo.n_epochs):
        order = None if whole else torch.randperm(n).to(obs.device)
        for start in range(0, n, bs):
            idx = slice(None) if order is None else order[start:start + bs]
            adv = advantages[idx]
            if algo.normalize_advantage and not whole and adv.shape[0] > 1:
                adv = _normalized(adv)
            out, values = policy.reference_forward(obs[idx])
            logp = policy.log_prob(out, actions[idx])
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
            entropy = policy.entropy(out).mean()
            loss = policy_loss + algo.vf_coef * value_loss - algo.ent_coef * entropy
            check_finite(loss, policy_loss, value_loss, step)
            optimizer_step(optimizer, loss, params, algo.max_grad_norm)
            with torch.no_grad():
                approx_kl = ((ratio - 1) - log_ratio).mean()
                clip_fraction = ((ratio - 1).abs() > clip_range).float().mean()
                totals.append(torch.stack([policy_loss, value_loss, entropy, approx_kl,
                                           clip_fraction]).detach())
            if algo.target_kl is not None and approx_kl.item() > 1.5 * algo.target_kl:
                stop = True
                break
        if stop:
            break
    means = torch.stack(totals).mean(0).tolist()
    return dict(zip(("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"), means))
