"""SAC's maths as pure torch functions: the squashed Gaussian, the critic target and the
three losses (critics, actor, entropy coefficient), as in Stable-Baselines3's SAC.train."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

Tensor = torch.Tensor

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_LOG_2 = math.log(2.0)


def squashed_sample(mean: Tensor, log_std: Tensor, noise: Tensor) -> tuple[Tensor, Tensor]:
    """``a = tanh(mean + std * noise)`` and its log-density (summed over the last axis).

    ``log p(a) = log N(u; mean, std) - sum log(1 - tanh(u)^2)``, with the correction in its
    overflow-free form ``2 (log 2 - u - softplus(-2u))`` (SB3 writes ``log(1 - a^2 + 1e-6)``).
    """
    u = mean + log_std.exp() * noise
    log_normal = (-0.5 * noise.square() - log_std - _HALF_LOG_2PI).sum(-1)
    correction = (2.0 * (_LOG_2 - u - F.softplus(-2.0 * u))).sum(-1)
    return torch.tanh(u), log_normal - correction


def critic_target(rewards: Tensor, terminated: Tensor, gamma: float, next_q: Tensor,
                  next_log_prob: Tensor, alpha: Tensor | float) -> Tensor:
    """Soft TD target ``r + gamma (1 - terminated) (min_i Q'_i(s', a') - alpha log pi(a'|s'))``;
    ``next_q`` is ``(n_critics, N)``."""
    soft_v = next_q.min(0).values - alpha * next_log_prob
    return rewards + gamma * (1.0 - terminated) * soft_v


def critic_loss(q: Tensor, target: Tensor) -> Tensor:
    """``0.5 * sum_i mse(Q_i(s, a), target)`` over the critics (SB3's critic loss); ``q`` is
    ``(n_critics, N)``."""
    return 0.5 * (q - target.detach()).square().mean(-1).sum()


def actor_loss(q_pi: Tensor, log_prob: Tensor, alpha: Tensor | float) -> Tensor:
    """``mean(alpha log pi(a|s) - min_i Q_i(s, a))`` with ``a`` drawn from the policy."""
    return (alpha * log_prob - q_pi.min(0).values).mean()


def entropy_coef_loss(log_alpha: Tensor, log_prob: Tensor, target_entropy: float) -> Tensor:
    """``-mean(log_alpha * (log pi + target_entropy))``: raises alpha while the policy's
    entropy is below the target, lowers it above (SB3's ent_coef_loss)."""
    return -(log_alpha * (log_prob + target_entropy).detach()).mean()
