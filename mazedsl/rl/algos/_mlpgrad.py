"""Hand-written forward/backward of a plain MLP, for the off-policy update loops.

A DQN phase runs thousands of small gradient steps; on a CPU the autograd engine's
bookkeeping costs a large share of each (see docs/architecture.md). For an MLP of
``nn.Linear`` layers with ReLU or tanh between them, :class:`MLPGrad` runs the forward pass
keeping the activations and then the textbook backward pass from the gradient at the
output: per layer ``dW = dz^T a``, ``db = sum dz``, ``da = dz W`` through
``threshold_backward`` / ``tanh_backward``. It computes what ``loss.backward()`` computes,
in float32, its large products on oneDNN where that is faster (:mod:`mazedsl.rl.gemm`;
checked against autograd in tests/test_algos_offpolicy.py and tests/test_sac_fast_path.py).
Anything else (CNNs, other activations, user modules) keeps autograd.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from mazedsl.rl.gemm import linear, mm
from mazedsl.rl.manual_grad import weight_grad

Tensor = torch.Tensor

_ACTS: dict[type, str] = {nn.ReLU: "relu", nn.Tanh: "tanh"}


def _flatten(module: nn.Module) -> list[nn.Module] | None:
    if isinstance(module, nn.Sequential):
        out: list[nn.Module] = []
        for m in module:
            sub = _flatten(m)
            if sub is None:
                return None
            out += sub
        return out
    if isinstance(module, nn.Linear) or type(module) in _ACTS:
        return [module]
    return None


class MLPGrad:
    """Forward with saved activations, and the backward pass, of a Linear/act/.../Linear MLP.

    Gradients come back in ``module.parameters()`` order (weight, bias per layer).
    """

    def __init__(self, layers: list[tuple[Tensor, Tensor]], acts: list[str]) -> None:
        self.layers = layers
        self.acts = acts

    @classmethod
    def for_module(cls, module: nn.Module) -> "MLPGrad | None":
        """The hand-written path of ``module``, or None when it is not a plain MLP."""
        mods = _flatten(module)
        if not mods or not isinstance(mods[-1], nn.Linear):
            return None
        layers: list[tuple[Tensor, Tensor]] = []
        acts: list[str] = []
        expect_linear = True
        for m in mods:
            if expect_linear != isinstance(m, nn.Linear):
                return None
            if isinstance(m, nn.Linear):
                if m.bias is None:
                    return None
                layers.append((m.weight, m.bias))
            else:
                acts.append(_ACTS[type(m)])
            expect_linear = not expect_linear
        if [id(p) for w, b in layers for p in (w, b)] != [id(p) for p in module.parameters()]:
            return None
        return cls(layers, acts)

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """The output and the saved inputs/activations of each layer."""
        if torch.is_grad_enabled():  # (a check, not a decorator: these run thousands of times)
            with torch.no_grad():
                return self.forward(x)
        saved = [x]
        last = len(self.layers) - 1
        for i, (w, b) in enumerate(self.layers):
            x = linear(x, w, b)
            if i < last:
                if self.acts[i] == "relu":
                    x.relu_()
                else:
                    x.tanh_()
                saved.append(x)
        return x, saved

    def backward(self, saved: list[Tensor], grad_out: Tensor) -> list[Tensor]:
        """Parameter gradients given ``d loss / d output``."""
        if torch.is_grad_enabled():
            with torch.no_grad():
                return self.backward(saved, grad_out)
        grads: list[Tensor] = [torch.empty(0)] * (2 * len(self.layers))
        g = grad_out
        for i in range(len(self.layers) - 1, -1, -1):
            grads[2 * i] = weight_grad(g, saved[i])
            grads[2 * i + 1] = g.sum(0)
            if i:
                g = self._below(g, saved, i)
        return grads

    def _below(self, g: Tensor, saved: list[Tensor], i: int) -> Tensor:
        """``d loss / d (pre-activation of layer i-1)`` from ``d loss / d (output of layer i)``."""
        g = mm(g, self.layers[i][0])
        if self.acts[i - 1] == "relu":
            return torch.ops.aten.threshold_backward(g, saved[i], 0)
        return torch.ops.aten.tanh_backward(g, saved[i])

    def input_grad(self, saved: list[Tensor], grad_out: Tensor,
                   columns: slice | None = None) -> Tensor:
        """``d loss / d input`` (only ``columns`` of it when given), computing no parameter
        gradients: what autograd computes through a network used with detached weights."""
        if torch.is_grad_enabled():
            with torch.no_grad():
                return self.input_grad(saved, grad_out, columns)
        g = grad_out
        for i in range(len(self.layers) - 1, 0, -1):
            g = self._below(g, saved, i)
        w = self.layers[0][0]
        return mm(g, w if columns is None else w[:, columns])

    def numpy_forward(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """A numpy forward reading the (CPU, float32) weights in place: valid while the
        optimiser updates them in place. None off the CPU."""
        if any(w.device.type != "cpu" or w.dtype != torch.float32 for w, _ in self.layers):
            return None
        mats: list[tuple[Any, Any]] = [(w.detach().numpy().T, b.detach().numpy())
                                       for w, b in self.layers]
        acts = self.acts
        last = len(mats) - 1

        def forward(x: np.ndarray) -> np.ndarray:
            for i, (wt, b) in enumerate(mats):
                x = x @ wt
                x += b
                if i < last:
                    if acts[i] == "relu":
                        np.maximum(x, 0.0, out=x)
                    else:
                        np.tanh(x, out=x)
            return x

        return forward
