"""The behaviour-cloning loss as a pure torch function (the ``imitation`` library's BC)."""

from __future__ import annotations

from typing import Sequence

import torch

Tensor = torch.Tensor


def bc_loss(log_prob: Tensor, entropy: Tensor | None, params: Sequence[Tensor],
            ent_weight: float, l2_weight: float) -> tuple[Tensor, dict[str, Tensor]]:
    """``-mean(log pi(a|s)) - ent_weight * mean(entropy) + l2_weight * sum ||w||^2 / 2``.

    Returns the loss and its parts (``neglogp``, ``entropy``, ``l2``), detached.
    """
    neglogp = -log_prob.mean()
    loss = neglogp
    ent = torch.zeros(()) if entropy is None else entropy.mean()
    if entropy is not None and ent_weight:
        loss = loss - ent_weight * ent
    l2 = torch.zeros((), device=log_prob.device)
    if l2_weight:
        l2 = 0.5 * sum(p.square().sum() for p in params)  # type: ignore[assignment]
        loss = loss + l2_weight * l2
    return loss, {"neglogp": neglogp.detach(), "entropy": ent.detach(), "l2": l2.detach()}
