"""What on-policy updates share: optimisers, schedules, loss statistics, NaN checks.

The update loops run thousands of small gradient steps, where Python around the arithmetic
costs more than the arithmetic: the optimisers are :mod:`mazedsl.rl.optim`'s (torch's
fused Adam / foreach RMSprop kernels, called directly), and :func:`clip_grad_norm` is
``nn.utils.clip_grad_norm_``'s foreach maths without its per-call grouping.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from mazedsl.errors import TrainingError
from mazedsl.rl import optim

_FUSED_ADAM: list[bool] = []


def lean_adam(params: list[torch.nn.Parameter], lr: float, eps: float) -> Any:
    """Adam on torch's fused CPU kernel called directly (torch.optim.Adam where that kernel
    is missing or the parameters are not float32 CPU tensors)."""
    plain = all(p.device.type == "cpu" and p.dtype == torch.float32 for p in params)
    if not _FUSED_ADAM:
        _FUSED_ADAM.append(optim.fused_adam_available())
    if plain and _FUSED_ADAM[0]:
        return optim.Adam(params, lr=lr, eps=eps)
    return torch.optim.Adam(params, lr=lr, eps=eps)


def lean_rmsprop(params: list[torch.nn.Parameter], lr: float, alpha: float, eps: float) -> Any:
    """RMSprop on torch's foreach kernels called directly (torch.optim's off CPU float32)."""
    if all(p.device.type == "cpu" and p.dtype == torch.float32 for p in params):
        return optim.RMSprop(params, lr=lr, alpha=alpha, eps=eps)
    return torch.optim.RMSprop(params, lr=lr, alpha=alpha, eps=eps)


def torch_adam(params: list[torch.nn.Parameter], lr: float, eps: float) -> torch.optim.Adam:
    """``torch.optim.Adam``, its fused kernel where this torch has it for the parameters' device
    (one kernel for all parameters instead of a loop over them; the reference path stays
    torch.optim)."""
    device = params[0].device.type if params else "cpu"
    fused = device == "cuda" or (device == "cpu" and optim.fused_adam_available())
    return torch.optim.Adam(params, lr=lr, eps=eps, fused=fused or None)


def set_lr(optimizer: Any, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def apply_grads(optimizer: Any, params: list[torch.Tensor], grads: list[torch.Tensor],
                flat_grad: torch.Tensor | None = None) -> None:
    """One optimiser step with ``grads`` for ``params`` (given, not read from ``.grad``);
    ``flat_grad``: the buffer ``grads`` are consecutive slices of, if they are."""
    if isinstance(optimizer, optim.LeanOptimizer):
        optimizer.step_with(params, grads, flat_grad)
        return
    for p, g in zip(params, grads):
        p.grad = g
    optimizer.step()


def with_grads(all_params: Sequence[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The parameters that have gradients, and those gradients."""
    params = [p for p in all_params if p.grad is not None]
    return params, [p.grad for p in params]  # type: ignore[misc]


def check_finite(loss: Any, policy_loss: Any, value_loss: Any, step: int) -> None:
    """Raise :class:`TrainingError` unless ``loss`` (a scalar tensor or number) is finite."""
    if not math.isfinite(_number(loss)):
        raise TrainingError(
            f"non-finite loss at step {step}: loss={_number(loss)}, "
            f"policy_loss={_number(policy_loss)}, value_loss={_number(value_loss)}; "
            "training stopped, the last checkpoint is kept")


def _number(x: Any) -> float:
    return x.item() if isinstance(x, torch.Tensor) else float(x)


def clip_grad_norm(grads: Sequence[torch.Tensor], max_norm: float) -> None:
    """Scale ``grads`` in place to a global 2-norm of at most ``max_norm`` (the same ops as
    ``torch.nn.utils.clip_grad_norm_`` on CPU, without its per-call grouping)."""
    norms = torch._foreach_norm(grads, 2.0)
    total = torch.linalg.vector_norm(torch.stack(norms), 2.0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch._foreach_mul_(grads, coef)


class UpdateStats:
    """Means of the loss terms over an update's gradient steps."""

    NAMES = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")

    def __init__(self) -> None:
        self._sums: torch.Tensor | None = None
        self._n = 0

    def add(self, *values: torch.Tensor) -> None:
        self._add_row(torch.stack([v.detach().float() for v in values]))

    def add_values(self, *values: float) -> None:
        """One gradient step's values as numbers."""
        self._add_row(torch.tensor(values, dtype=torch.float32))

    def _add_row(self, row: torch.Tensor) -> None:
        self._sums = row if self._sums is None else self._sums + row
        self._n += 1

    def add_many(self, *columns: torch.Tensor) -> None:
        """Per-gradient-step values, one 1-D tensor per statistic."""
        sums = torch.stack([c.detach().float().sum() for c in columns])
        self._sums = sums if self._sums is None else self._sums + sums
        self._n += int(columns[0].numel())

    def as_dict(self) -> dict[str, float]:
        if self._sums is None:
            return {}
        means = (self._sums / self._n).tolist()
        return dict(zip(self.NAMES, means))
