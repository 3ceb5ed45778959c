"""The PPO update (clipped surrogate, optional value clipping, entropy bonus).

The maths is CleanRL's/SB3's; the loop is arranged for small CPU batches, where each torch
call costs more than its arithmetic: minibatches are slices of a once-per-epoch shuffled
copy (no shuffle, and advantages normalised once, when one minibatch holds the whole
rollout: the same sums in another order), the action indices are prepared once, the
gradients of MLP actor-critics are computed by hand (:mod:`mazedsl.rl.manual_grad`), and
the logged statistics (entropy, approximate KL, clip fraction) are computed for all
gradient steps together at the end of the update.
"""

from __future__ import annotations

import contextlib

import torch
from torch.nn import functional as F

from mazedsl.rl.models import ActorCritic
from mazedsl.rl.manual_grad import ManualGrad, squared_error
from mazedsl.rl.updates import UpdateStats, apply_grads, check_finite, clip_grad_norm, with_grads
from mazedsl.rl.algos.ppo.spec import PPO


def _normalized(adv: torch.Tensor) -> torch.Tensor:
    return (adv - adv.mean()) / (adv.std() + 1e-8)


def ppo_update(policy: ActorCritic, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor],
               algo: PPO, clip_range: float, step: int, manual_grad: bool = True) -> UpdateStats:
    """``n_epochs`` passes of minibatch gradient steps over one rollout.

    ``manual_grad``: use :class:`ManualGrad`'s hand-written backward where it covers the
    network (else, or when False, autograd)."""
    obs, actions, old_logp = batch["obs"], batch["actions"], batch["logp"]
    old_values, advantages, returns = batch["values"], batch["advantages"], batch["returns"]
    if policy.discrete:
        actions = actions.long().unsqueeze(-1)  # gather indices, prepared once
    n = obs.shape[0]
    bs = algo.batch_size
    all_params = optimizer.param_groups[0]["params"]
    norm_adv = algo.normalize_advantage
    whole = n <= bs  # one minibatch per epoch: no shuffling needed, advantages fixed
    if whole and norm_adv and n > 1:
        advantages = _normalized(advantages)
    lo, hi = 1.0 - clip_range, 1.0 + clip_range
    vf_clip, ent_coef, vf_coef = algo.clip_range_vf, algo.ent_coef, algo.vf_coef
    max_grad_norm, target_kl = algo.max_grad_norm, algo.target_kl
    manual = ManualGrad.for_policy(policy) if manual_grad and vf_clip is None else None
    fields = [obs, actions, old_logp, advantages, returns]
    if vf_clip is not None:
        fields.append(old_values)
    # what the statistics need, per gradient step
    outs: list[torch.Tensor] = []
    log_ratios: list[torch.Tensor] = []
    policy_losses: list[torch.Tensor] = []
    value_losses: list[torch.Tensor] = []
    stats = UpdateStats()
    stop = False
    with torch.no_grad() if manual is not None else contextlib.nullcontext():
        for _ in range(algo.n_epochs):
            if whole:
                shuffled = fields
            else:
                perm = torch.randperm(n)
                shuffled = [f[perm] for f in fields]
            for start in range(0, n, bs):
                mb = shuffled if whole else [f[start:start + bs] for f in shuffled]
                mb_obs, mb_act, mb_old_logp, adv, ret = mb[:5]
                nb = mb_obs.shape[0]
                if norm_adv and not whole and nb > 1:
                    adv = _normalized(adv)
                if manual is not None:
                    out, values, cache = manual.forward(mb_obs)
                    logp, aux = manual.log_prob(out, mb_act)
                    logp_all = aux[0] if policy.discrete else None
                else:
                    out, values = policy(mb_obs)
                    logp_all = torch.log_softmax(out, dim=-1) if policy.discrete else None
                    logp = (logp_all.gather(-1, mb_act).squeeze(-1) if logp_all is not None
                            else policy.log_prob(out, mb_act))
                log_ratio = logp - mb_old_logp
                ratio = log_ratio.exp()
                surr1 = adv * ratio
                surr2 = adv * ratio.clamp(lo, hi)
                policy_loss = -torch.min(surr1, surr2).mean()
                if manual is not None:
                    value_loss, v_err = squared_error(values, ret)
                elif vf_clip is None:
                    value_loss = F.mse_loss(values, ret)
                else:
                    old_v = mb[5]
                    clipped = old_v + (values - old_v).clamp(-vf_clip, vf_clip)
                    value_loss = torch.max((ret - values).pow(2), (ret - clipped).pow(2)).mean()
                loss = torch.add(policy_loss, value_loss, alpha=vf_coef)
                if ent_coef and manual is None:
                    loss = torch.sub(loss, policy.entropy(out, logp_all).mean(), alpha=ent_coef)
                check_finite(loss, policy_loss, value_loss, step)
                if manual is not None:
                    # d loss / d logp: -surr1 / nb where the unclipped term is the minimum
                    coef = torch.where(surr1 <= surr2, surr1, 0.0).mul_(-1.0 / nb)
                    g_out, g_log_std = manual.out_grad(aux, coef, ent_coef, nb)
                    g_values = v_err.mul_(2.0 * vf_coef / nb)
                    params, grads = manual.params, manual.backward(cache, g_out, g_values, g_log_std)
                    if max_grad_norm is not None:
                        manual.clip_grad_norm(max_grad_norm)
                else:
                    for p in all_params:
                        p.grad = None
                    loss.backward()
                    params, grads = with_grads(all_params)
                    if max_grad_norm is not None:
                        clip_grad_norm(grads, max_grad_norm)
                outs.append(logp_all.detach() if logp_all is not None
                            else policy.entropy(out[:1]).detach().clone())
                apply_grads(optimizer, params, grads, None if manual is None else manual.flat)
                log_ratios.append(log_ratio)
                policy_losses.append(policy_loss)
                value_losses.append(value_loss)
                if target_kl is not None:
                    with torch.no_grad():
                        approx_kl = ((ratio - 1) - log_ratio).mean()
                    if approx_kl.item() > 1.5 * target_kl:
                        stop = True
                        break
            if stop:
                break
    with torch.no_grad():
        _add_stats(stats, policy, outs, log_ratios, policy_losses, value_losses, clip_range)
    return stats


def _add_stats(stats: UpdateStats, policy: ActorCritic, outs: list[torch.Tensor],
               log_ratios: list[torch.Tensor], policy_losses: list[torch.Tensor],
               value_losses: list[torch.Tensor], clip_range: float) -> None:
    """Per-gradient-step means of the loss terms, entropy, approximate KL and clip fraction.

    ``outs``: each step's log-softmax (discrete), or its entropy (Gaussian: it depends only on
    the log std of that step)."""
    if len({lr.shape[0] for lr in log_ratios}) == 1:  # equal minibatches: all steps at once
        log_ratio = torch.stack(log_ratios)
        if policy.discrete:
            entropy = _entropy(torch.stack(outs)).mean(1)
        else:
            entropy = torch.cat(outs)
        ratio = log_ratio.exp()
        approx_kl = ((ratio - 1) - log_ratio).mean(1)
        clip_frac = ((ratio - 1).abs() > clip_range).float().mean(1)
    else:
        entropy = torch.stack([_entropy(o).mean() if policy.discrete else o[0] for o in outs])
        ratios = [lr.exp() for lr in log_ratios]
        approx_kl = torch.stack([((r - 1) - lr).mean() for r, lr in zip(ratios, log_ratios)])
        clip_frac = torch.stack([((r - 1).abs() > clip_range).float().mean() for r in ratios])
    stats.add_many(torch.stack(policy_losses), torch.stack(value_losses), entropy, approx_kl,
                   clip_frac)


def _entropy(logp_all: torch.Tensor) -> torch.Tensor:
    """Categorical entropy from log-probabilities (over the last dimension)."""
    return -(logp_all.exp() * logp_all).sum(-1)
