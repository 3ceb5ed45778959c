""":class:`ManualGrad`'s forward and backward pass in numpy, for small batches.

An A2C update of the CartPole zoo point is one gradient step on 40 samples: each of its ~60
torch calls costs a few microseconds of dispatch for well under a microsecond of arithmetic,
and its code evicts the env's from the caches. numpy's calls cost about a microsecond. This
module runs the same textbook passes as :mod:`mazedsl.rl.manual_grad` on numpy views of the
parameters, writing the gradients into :class:`ManualGrad`'s flat buffer (so the optimiser
and the gradient clipping see them where they always do). It agrees with autograd to float32
rounding (``tests/test_engine_fast_backend.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mazedsl.rl.manual_grad import ManualGrad
from mazedsl.rl.models import ActorCritic

_sum = np.add.reduce  # np.sum without its Python wrapper (a few microseconds a call)

_NpLayer = tuple[np.ndarray, np.ndarray, bool]
"""(weight ``(out, in)``, bias, whether tanh (else ReLU)): numpy views of the parameters."""


def _arr(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def _np_layers(plan: list[tuple[torch.Tensor, torch.Tensor, Any]]) -> list[_NpLayer]:
    return [(_arr(w), _arr(b), fn is torch.tanh) for w, b, fn in plan]


def _chain(layers: list[_NpLayer], x: np.ndarray, acts: list[np.ndarray]) -> np.ndarray:
    """The torso's output, each layer's output appended to ``acts``."""
    for w, b, tanh in layers:
        x = x @ w.T
        x += b
        if tanh:
            np.tanh(x, out=x)
        else:
            np.maximum(x, 0.0, out=x)
        acts.append(x)
    return x


def _torso_backward(layers: list[_NpLayer], acts: list[np.ndarray], grad: np.ndarray,
                    out: list[np.ndarray]) -> None:
    """Weight and bias gradients of a torso into ``out`` (weight, bias, ...), from the gradient
    at its output (``grad``, overwritten)."""
    for i in range(len(layers) - 1, -1, -1):
        w, _, tanh = layers[i]
        a = acts[i + 1]
        if tanh:  # d tanh = 1 - tanh^2
            d = a * a
            np.subtract(1.0, d, out=d)
            grad *= d
        else:
            grad *= a > 0
        np.matmul(grad.T, acts[i], out=out[2 * i])
        _sum(grad, 0, out=out[2 * i + 1])
        if i:
            grad = grad @ w


class NumpyGrad:
    """Forward with saved activations and the backward pass of a discrete-action MLP
    :class:`ActorCritic`, in numpy; gradients land in ``manual.grads`` (``manual.flat``).
    Use :meth:`for_policy`."""

    def __init__(self, manual: ManualGrad, plan: Any) -> None:
        pi, vf, (pw, pb), (vw, vb) = plan
        self.manual = manual
        self.pi = _np_layers(pi)
        self.vf = None if vf is None else _np_layers(vf)
        self.pw, self.pb, self.vw, self.vb = _arr(pw), _arr(pb), _arr(vw), _arr(vb)
        self.grads = [g.numpy() for g in manual.grads]
        self.flat = manual.flat.numpy()

    @classmethod
    def for_policy(cls, policy: ActorCritic) -> "NumpyGrad | None":
        """The policy's NumpyGrad (kept on the policy with its :class:`ManualGrad`), or None
        where ManualGrad does not cover the network or the actions are not discrete."""
        manual = ManualGrad.for_policy(policy)
        if manual is None or not policy.discrete:
            return None
        cached = policy.__dict__.get("_numpy_grad")
        if cached is None or cached[0] is not manual:
            cached = policy.__dict__["_numpy_grad"] = (manual, cls(manual, policy._fast))
        return cached[1]

    def forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
        """Logits, values ``(N,)`` and the saved activations."""
        acts_p = [obs]
        h = _chain(self.pi, obs, acts_p)
        out = h @ self.pw.T
        out += self.pb
        acts_v = None
        if self.vf is not None:
            acts_v = [obs]
            h = _chain(self.vf, obs, acts_v)
        values = h @ self.vw[0]
        values += self.vb
        return out, values, (acts_p, acts_v)

    def backward(self, cache: Any, g_out: np.ndarray, g_values: np.ndarray) -> None:
        """Gradients of all parameters from those of the logits and the values, into
        ``manual.grads``."""
        acts_p, acts_v = cache
        grads = self.grads
        n_pi = 2 * len(self.pi)
        g_v = g_values[:, None]
        np.matmul(g_out.T, acts_p[-1], out=grads[n_pi])
        _sum(g_out, 0, out=grads[n_pi + 1])
        if self.vf is None:  # shared torso: both heads feed it
            np.matmul(g_v.T, acts_p[-1], out=grads[n_pi + 2])
            _sum(g_v, 0, out=grads[n_pi + 3])
            if self.pi:
                grad = g_out @ self.pw
                grad += g_v @ self.vw
                _torso_backward(self.pi, acts_p, grad, grads[:n_pi])
            return
        assert acts_v is not None
        n_vf = 2 * len(self.vf)
        np.matmul(g_v.T, acts_v[-1], out=grads[n_pi + 2 + n_vf])
        _sum(g_v, 0, out=grads[n_pi + 3 + n_vf])
        if self.pi:
            _torso_backward(self.pi, acts_p, g_out @ self.pw, grads[:n_pi])
        if self.vf:
            _torso_backward(self.vf, acts_v, g_v @ self.vw, grads[n_pi + 2:n_pi + 2 + n_vf])

    def clip_grad_norm(self, max_norm: float) -> float:
        """Scale the gradients to a global 2-norm of at most ``max_norm``; the norm before."""
        flat = self.flat
        total = float(np.sqrt(np.dot(flat, flat)))
        coef = max_norm / (total + 1e-6)
        if coef < 1.0:
            flat *= np.float32(coef)
        return total
