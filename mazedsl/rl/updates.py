"""What PPO and A2C updates share: optimisers, schedules, loss statistics, NaN checks."""

from __future__ import annotations

import torch

from mazedsl.errors import TrainingError
from mazedsl.spec import A2C, PPO


def make_optimizer(params: list[torch.nn.Parameter], algo: PPO | A2C) -> torch.optim.Optimizer:
    if isinstance(algo, A2C) and algo.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=algo.lr, alpha=algo.rms_alpha, eps=algo.eps)
    eps = algo.adam_eps if isinstance(algo, PPO) else algo.eps
    return torch.optim.Adam(params, lr=algo.lr, eps=eps)


def scheduled(value: float, schedule: str, progress: float) -> float:
    """``value`` at training ``progress`` in [0, 1]: constant, or linear decay to 0."""
    return value * (1.0 - progress) if schedule == "linear" else value


def check_finite(loss: torch.Tensor, policy_loss: torch.Tensor, value_loss: torch.Tensor,
                 step: int) -> None:
    if not torch.isfinite(loss):
        raise TrainingError(
            f"non-finite loss at step {step}: loss={loss.item()}, policy_loss={policy_loss.item()}, "
            f"value_loss={value_loss.item()}; training stopped, the last checkpoint is kept")


class UpdateStats:
    """Means of the loss terms over an update's gradient steps."""

    def __init__(self) -> None:
        self._sums: torch.Tensor | None = None
        self._n = 0

    def add(self, *values: torch.Tensor) -> None:
        stacked = torch.stack([v.detach().float() for v in values])
        self._sums = stacked if self._sums is None else self._sums + stacked
        self._n += 1

    def as_dict(self) -> dict[str, float]:
        names = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")
        if self._sums is None:
            return {}
        means = (self._sums / self._n).tolist()
        return dict(zip(names, means))
