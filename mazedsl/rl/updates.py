"""What PPO and A2C updates share: optimisers, schedules, loss statistics, NaN checks.

The update loops run thousands of small gradient steps, where torch's Python-level
optimiser machinery (hooks, grouping by device, per-parameter loops) costs more than the
arithmetic. :class:`LeanStep` calls the very kernels ``optimizer.step()`` would (fused Adam,
foreach RMSprop) directly, on the optimiser's own state, so ``state_dict()`` and exact resume
are unchanged; :func:`clip_grad_norm` is ``nn.utils.clip_grad_norm_``'s foreach maths.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from mazedsl.errors import TrainingError
from mazedsl.spec import A2C, PPO


def make_optimizer(params: list[torch.nn.Parameter], algo: PPO | A2C) -> torch.optim.Optimizer:
    """RMSprop (foreach) or Adam (fused where this torch supports it on the params' device)."""
    if isinstance(algo, A2C) and algo.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=algo.lr, alpha=algo.rms_alpha, eps=algo.eps,
                                   foreach=True)
    eps = algo.adam_eps if isinstance(algo, PPO) else algo.eps
    try:
        return torch.optim.Adam(params, lr=algo.lr, eps=eps, fused=True)
    except (RuntimeError, ValueError, TypeError):  # older torch: no fused Adam on CPU
        return torch.optim.Adam(params, lr=algo.lr, eps=eps, foreach=True)


def scheduled(value: float, schedule: str, progress: float) -> float:
    """``value`` at training ``progress`` in [0, 1]: constant, or linear decay to 0."""
    return value * (1.0 - progress) if schedule == "linear" else value


def check_finite(loss: torch.Tensor, policy_loss: torch.Tensor, value_loss: torch.Tensor,
                 step: int) -> None:
    if not math.isfinite(loss.item()):
        raise TrainingError(
            f"non-finite loss at step {step}: loss={loss.item()}, policy_loss={policy_loss.item()}, "
            f"value_loss={value_loss.item()}; training stopped, the last checkpoint is kept")


def clip_grad_norm(grads: Sequence[torch.Tensor], max_norm: float) -> None:
    """Scale ``grads`` in place to a global 2-norm of at most ``max_norm`` (the same ops as
    ``torch.nn.utils.clip_grad_norm_`` on CPU, without its per-call grouping)."""
    norms = torch._foreach_norm(grads, 2.0)
    total = torch.linalg.vector_norm(torch.stack(norms), 2.0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch._foreach_mul_(grads, coef)


class LeanStep:
    """``optimizer.step()`` with less Python around the same kernels.

    Covers single-group fused Adam and foreach RMSprop without momentum, centering, weight
    decay or maximisation, once the optimiser's state exists (the first step, or any other
    configuration, goes through ``optimizer.step()`` itself).
    """

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self.kind = self._kind(optimizer)

    @staticmethod
    def _kind(opt: torch.optim.Optimizer) -> str | None:
        if len(opt.param_groups) != 1:
            return None
        g = opt.param_groups[0]
        if not isinstance(g["lr"], float) or g.get("differentiable") or g.get("capturable") \
                or g.get("maximize") or g.get("weight_decay", 0) != 0:
            return None
        if any(p.device.type != "cpu" or p.dtype != torch.float32 or p.is_complex()
               for p in g["params"]):
            return None
        if type(opt) is torch.optim.Adam and g.get("fused") and not g.get("amsgrad") \
                and not g.get("decoupled_weight_decay", False) and hasattr(torch, "_fused_adam_"):
            return "adam"
        if type(opt) is torch.optim.RMSprop and g.get("foreach") and not g.get("centered") \
                and g.get("momentum", 0) == 0:
            return "rmsprop"
        return None

    def grads(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        params = [p for p in self.optimizer.param_groups[0]["params"] if p.grad is not None]
        return params, [p.grad for p in params]  # type: ignore[misc]

    def __call__(self, params: list[torch.Tensor] | None = None,
                 grads: list[torch.Tensor] | None = None) -> None:
        opt = self.optimizer
        kind = self.kind
        if kind is None:
            opt.step()
            return
        if params is None or grads is None:
            params, grads = self.grads()
        if not params:
            return
        state = opt.state
        try:
            states = [state[p] for p in params] if state else None
        except KeyError:
            states = None
        if not states or not states[0] or not states[-1]:
            opt.step()  # creates the state
            return
        g: dict[str, Any] = opt.param_groups[0]
        steps = [s["step"] for s in states]
        with torch.no_grad():
            if kind == "adam":
                beta1, beta2 = g["betas"]
                torch._foreach_add_(steps, 1)
                torch._fused_adam_(params, grads, [s["exp_avg"] for s in states],
                                   [s["exp_avg_sq"] for s in states], [], steps, amsgrad=False,
                                   lr=g["lr"], beta1=beta1, beta2=beta2, weight_decay=0.0,
                                   eps=g["eps"], maximize=False, grad_scale=None, found_inf=None)
                return
            alpha = g["alpha"]
            square_avgs = [s["square_avg"] for s in states]
            torch._foreach_add_(steps, 1.0)
            torch._foreach_mul_(square_avgs, alpha)
            torch._foreach_addcmul_(square_avgs, grads, grads, value=1 - alpha)
            avg = torch._foreach_sqrt(square_avgs)
            torch._foreach_add_(avg, g["eps"])
            torch._foreach_addcdiv_(params, grads, avg, value=-g["lr"])


class UpdateStats:
    """Means of the loss terms over an update's gradient steps."""

    NAMES = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")

    def __init__(self) -> None:
        self._sums: torch.Tensor | None = None
        self._n = 0

    def add(self, *values: torch.Tensor) -> None:
        stacked = torch.stack([v.detach().float() for v in values])
        self._sums = stacked if self._sums is None else self._sums + stacked
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
