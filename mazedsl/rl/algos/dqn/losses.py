"""DQN's maths as pure torch functions: targets, the TD loss, epsilon-greedy actions."""

from __future__ import annotations

import torch
from torch.nn import functional as F

Tensor = torch.Tensor


def q_targets(next_q_target: Tensor, rewards: Tensor, terminated: Tensor, gamma: float,
              next_q_online: Tensor | None = None) -> Tensor:
    """TD targets ``r + gamma * (1 - terminated) * V(s')``.

    ``V(s') = max_a Q_target(s', a)``; with ``next_q_online`` (double DQN) the online net
    picks the action and the target net values it: ``Q_target(s', argmax_a Q_online(s', a))``.
    Works on any leading batch axes (``(..., n_actions)`` Q-values, ``(...)`` rewards).
    """
    if next_q_online is None:
        next_v = next_q_target.max(-1).values
    else:
        best = next_q_online.argmax(-1, keepdim=True)
        next_v = next_q_target.gather(-1, best).squeeze(-1)
    return rewards + gamma * (1.0 - terminated) * next_v


def td_loss(q_values: Tensor, actions: Tensor, targets: Tensor, kind: str = "huber") -> Tensor:
    """Mean Huber (smooth L1, delta 1, as SB3) or squared error between ``Q(s, a)`` of the
    taken ``actions`` and the (constant) ``targets``."""
    q = q_values.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    targets = targets.detach()
    if kind == "huber":
        return F.smooth_l1_loss(q, targets)
    return F.mse_loss(q, targets)


def epsilon_greedy(q_values: Tensor, epsilon: float, uniform: Tensor, random_actions: Tensor) -> Tensor:
    """Greedy actions of ``q_values`` ``(n, n_actions)``, replaced by ``random_actions`` where
    ``uniform`` (draws in [0, 1)) falls below ``epsilon``."""
    greedy = q_values.argmax(-1)
    return torch.where(uniform < epsilon, random_actions, greedy)
