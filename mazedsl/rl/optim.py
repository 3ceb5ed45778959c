"""Adam and RMSprop as the update loops use them: torch's own kernels, less Python.

``torch.optim`` optimisers cost a lazy ``import torch._dynamo`` at construction (about
1.5 s on a small machine, each process) and tens of microseconds of hooks, grouping and
per-parameter loops around every step, where the arithmetic of a small policy takes a few.
These two classes run the very kernels ``torch.optim.Adam(fused=True)`` and
``torch.optim.RMSprop(foreach=True)`` run (bit-identical results), and read and write
``state_dict()`` in ``torch.optim``'s format, so checkpoints load both ways.

They support what the algorithms declare: one parameter group, no weight decay, no
momentum, no AMSGrad; the trainer sets ``param_groups[0]["lr"]`` for schedules.

Given gradients that are consecutive slices of one flat buffer (the fast backend's), a step
keeps the state in flat buffers too (:class:`_Packed`; ``state`` holds views of them) and
runs the element-wise maths once on the whole buffer instead of once per parameter.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable

import torch

Tensor = torch.Tensor
_ONE = torch.tensor(1.0)


def fused_adam_available() -> bool:
    """Whether this torch has the fused Adam kernel for CPU tensors."""
    if not hasattr(torch, "_fused_adam_"):
        return False
    try:
        p, g = torch.zeros(1), torch.ones(1)
        m, v, s = torch.zeros(1), torch.zeros(1), torch.ones(())
        torch._fused_adam_([p], [g], [m], [v], [], [s], amsgrad=False, lr=1e-3, beta1=0.9,
                           beta2=0.999, weight_decay=0.0, eps=1e-8, maximize=False,
                           grad_scale=None, found_inf=None)
    except (RuntimeError, TypeError, NotImplementedError):
        return False
    return True


class LeanOptimizer:
    """The part of ``torch.optim.Optimizer``'s interface the engine and checkpoints use."""

    _state_keys: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor], hyper: dict[str, Any]) -> None:
        self.defaults = dict(hyper)
        self.param_groups: list[dict[str, Any]] = [{"params": list(params), **hyper}]
        self.state: dict[Tensor, dict[str, Tensor]] = {}
        self._packed: _Packed | None = None

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.param_groups[0]["params"]:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.detach_().zero_()

    def step(self, closure: Any = None) -> None:
        if closure is not None:
            raise NotImplementedError("closures are not supported")
        params = [p for p in self.param_groups[0]["params"] if p.grad is not None]
        self.step_with(params, [p.grad for p in params])  # type: ignore[misc]

    def step_with(self, params: list[Tensor], grads: list[Tensor], flat_grad: Tensor | None = None
                  ) -> None:
        """One step for ``params`` with gradients ``grads`` (those of ``params``, listed);
        ``flat_grad``: the buffer ``grads`` are consecutive slices of, in order (then the
        maths runs on flat buffers; pass the same ``params`` list object every step)."""
        if not params:
            return
        if flat_grad is not None:
            packed = self._packed
            if packed is None or packed.params is not params:
                packed = self._packed = _Packed(params, self._states(params), self._state_keys)
            with torch.no_grad():
                self._update_flat(packed, grads, flat_grad, self.param_groups[0])
            return
        states = self._states(params)
        with torch.no_grad():
            self._update(params, grads, states, self.param_groups[0])

    def _states(self, params: list[Tensor]) -> list[dict[str, Tensor]]:
        """The state of each of ``params``, created where missing."""
        state = self.state
        states = []
        for p in params:
            s = state.get(p)
            if s is None:
                s = state[p] = self._init_state(p)
            states.append(s)
        return states

    def _init_state(self, p: Tensor) -> dict[str, Tensor]:
        s = {"step": torch.zeros((), dtype=torch.float32)}
        for key in self._state_keys:
            s[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return s

    def _update(self, params: list[Tensor], grads: list[Tensor], states: list[dict[str, Tensor]],
                group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _update_flat(self, packed: "_Packed", grads: list[Tensor], flat_grad: Tensor,
                     group: dict[str, Any]) -> None:
        raise NotImplementedError

    # -- torch.optim's state_dict format ----------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        group = self.param_groups[0]
        index = {id(p): i for i, p in enumerate(group["params"])}
        packed = {k: v for k, v in group.items() if k != "params"}
        packed["params"] = list(range(len(group["params"])))
        return {"state": {index[id(p)]: s for p, s in self.state.items()},
                "param_groups": [packed]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        params = self.param_groups[0]["params"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(params):
            raise ValueError("loaded optimizer state does not match the parameters "
                             f"({sum(len(g['params']) for g in groups)} saved, {len(params)} here)")
        saved = copy.deepcopy({k: v for k, v in groups[0].items() if k != "params"})
        self.param_groups[0].update({k: v for k, v in saved.items() if k in self.defaults})
        by_index = dict(zip(groups[0]["params"], params))
        self.state = {}
        self._packed = None
        for idx, s in state_dict["state"].items():
            p = by_index.get(idx)
            if p is None:
                continue
            self.state[p] = {k: (v.detach().to(dtype=torch.float32, copy=True) if k == "step" else
                                 v.detach().to(dtype=p.dtype, device=p.device, copy=True))
                             for k, v in s.items() if isinstance(v, Tensor)}


class Adam(LeanOptimizer):
    """Adam with ``torch._fused_adam_`` (as ``torch.optim.Adam(fused=True)``)."""

    _state_keys = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": 0,
                                  "amsgrad": False, "maximize": False, "foreach": None,
                                  "capturable": False, "differentiable": False, "fused": True,
                                  "decoupled_weight_decay": False})

    def _update(self, params: list[Tensor], grads: list[Tensor], states: list[dict[str, Tensor]],
                group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        # the fused kernel reads a gradient's memory in order, ignoring its strides
        grads = [g if g.is_contiguous() else g.contiguous() for g in grads]
        steps = [s["step"] for s in states]
        torch._foreach_add_(steps, _ONE, alpha=1.0)  # a tensor 1: foreach's fast path on CPU
        torch._fused_adam_(params, grads, [s["exp_avg"] for s in states],
                           [s["exp_avg_sq"] for s in states], [], steps, amsgrad=False,
                           lr=float(group["lr"]), beta1=beta1, beta2=beta2, weight_decay=0.0,
                           eps=group["eps"], maximize=False, grad_scale=None, found_inf=None)

    def _update_flat(self, packed: "_Packed", grads: list[Tensor], flat_grad: Tensor,
                     group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        packed.steps.add_(1.0)
        torch._fused_adam_(packed.params, grads, packed.lists["exp_avg"],
                           packed.lists["exp_avg_sq"], [], packed.step_views, amsgrad=False,
                           lr=float(group["lr"]), beta1=beta1, beta2=beta2, weight_decay=0.0,
                           eps=group["eps"], maximize=False, grad_scale=None, found_inf=None)


class RMSprop(LeanOptimizer):
    """RMSprop without momentum or centering: ``torch.optim.RMSprop(foreach=True)``'s ops."""

    _state_keys = ("square_avg",)

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": lr, "momentum": 0, "alpha": alpha, "eps": eps,
                                  "centered": False, "weight_decay": 0, "capturable": False,
                                  "foreach": True, "maximize": False, "differentiable": False})

    def _update(self, params: list[Tensor], grads: list[Tensor], states: list[dict[str, Tensor]],
                group: dict[str, Any]) -> None:
        alpha = group["alpha"]
        square_avgs = [s["square_avg"] for s in states]
        torch._foreach_add_([s["step"] for s in states], _ONE, alpha=1.0)
        torch._foreach_mul_(square_avgs, alpha)
        torch._foreach_addcmul_(square_avgs, grads, grads, value=1 - alpha)
        avg = torch._foreach_sqrt(square_avgs)
        torch._foreach_add_(avg, group["eps"])
        torch._foreach_addcdiv_(params, grads, avg, value=-float(group["lr"]))

    def _update_flat(self, packed: "_Packed", grads: list[Tensor], flat_grad: Tensor,
                     group: dict[str, Any]) -> None:
        alpha = group["alpha"]
        square_avg = packed.flat["square_avg"]
        packed.steps.add_(1.0)
        square_avg.mul_(alpha)
        square_avg.addcmul_(flat_grad, flat_grad, value=1 - alpha)
        torch.sqrt(square_avg, out=packed.work).add_(group["eps"])
        torch._foreach_addcdiv_(packed.params, grads, packed.work_views, value=-float(group["lr"]))


class _Packed:
    """The state of a list of parameters as consecutive slices of flat buffers, one per state
    key, and their step counts as elements of one tensor; the optimiser's ``state`` entries
    become views of these (their values copied in)."""

    def __init__(self, params: list[Tensor], states: list[dict[str, Tensor]],
                 keys: tuple[str, ...]) -> None:
        self.params = params
        self.sizes = [p.numel() for p in params]
        n = sum(self.sizes)
        first = params[0]
        self.flat = {k: torch.empty(n, dtype=first.dtype, device=first.device) for k in keys}
        self.steps = torch.stack([s["step"] for s in states]).to(torch.float32)
        self.step_views = list(self.steps.unbind())
        for k in keys:
            for view, s in zip(self.views(self.flat[k]), states):
                view.copy_(s[k])
                s[k] = view
        for view, s in zip(self.step_views, states):
            s["step"] = view
        self.lists = {k: [s[k] for s in states] for k in keys}
        self.work = torch.empty(n, dtype=first.dtype, device=first.device)  # a scratch buffer
        self.work_views = self.views(self.work)

    def views(self, flat: Tensor) -> list[Tensor]:
        """``flat``'s slices shaped as the parameters."""
        return [piece.view_as(p) for piece, p in zip(flat.split(self.sizes), self.params)]
