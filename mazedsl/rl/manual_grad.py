"""Hand-written gradients of MLP actor-critics, for the PPO and A2C update loops.

On a small CPU network the autograd engine costs more than the arithmetic it schedules
(for the 2x64 tanh actor-critic on a 256-sample minibatch: ~300 us of a ~850 us forward +
backward here). For MLP torsos with tanh or ReLU, this module runs the forward pass saving
the activations and then the textbook backward pass -- per layer ``dW = dz^T a``, ``db =
sum dz``, ``da = dz W``, through ``tanh_backward`` / ``threshold_backward`` -- from the
loss's gradient with respect to the policy output and the value, which the algorithms
supply. Activations are applied in place on the fresh pre-activations (tanh by numpy). It
computes what ``loss.backward()`` computes, in float32, its large products on oneDNN where
that is faster (:mod:`mazedsl.rl.gemm`); the gradients agree with autograd's to rounding
(``tests/test_engine_fast_backend.py``).

Anything else (CNNs, other activations, value clipping) uses autograd.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from mazedsl.rl.gemm import linear, mm
from mazedsl.rl.models import _LOG_2PI, ActorCritic

Tensor = torch.Tensor

# in place: the gradient at a layer's output becomes the gradient at its pre-activation
_BACKWARD: dict[Any, Callable[[Tensor, Tensor], Tensor]] = {
    torch.tanh: lambda grad, out: torch.ops.aten.tanh_backward.grad_input(grad, out, grad_input=grad),
    torch.relu: lambda grad, out: torch.ops.aten.threshold_backward.grad_input(grad, out, 0,
                                                                                grad_input=grad),
}
_MAX_WORKSPACES = 4


def _tanh_(z: Tensor) -> Tensor:
    """tanh in place, by numpy: for 256x64 float32 values it takes ~8 us on an AVX-512 host
    (numpy's SIMD tanh) where torch 2.13's takes ~43 us; on an AVX2-only host the two are
    close (43 us against 53). Both are within 1-2 ulp of the exact value."""
    a = z.numpy()
    np.tanh(a, out=a)
    return z


_FORWARD: dict[Any, Callable[[Tensor], Tensor]] = {torch.tanh: _tanh_, torch.relu: torch.relu_}

def weight_grad(g: Tensor, a: Tensor, out: Tensor | None = None) -> Tensor:
    """``g^T a``, the weight gradient of a linear layer with input ``a`` and output gradient
    ``g`` (into ``out`` if given). For an input of 2-12 columns (an observation layer) and a
    layer of 64 units or more it is computed as ``(a^T g)^T``: MKL runs the product with so few
    output columns several times slower (batch 256 into 256 units, 4 inputs: 76 us against
    about 9; 3 inputs: 162 against 41 on a slower host; 1 column or 16 and more: no gain)."""
    if 1 < a.shape[1] <= 12 and g.shape[1] >= 64:
        flipped = torch.mm(a.t(), g).t()
        return flipped.contiguous() if out is None else out.copy_(flipped)
    return mm(g.t(), a, out)


_Layer = tuple[Tensor, Tensor, Any, Any]
"""(weight, bias, forward activation, its backward)."""
_Workspace = tuple[list[Tensor], list[Tensor], list[Tensor], list[Tensor], list[Tensor], list[Tensor]]


def _layers(plan: list[tuple[Tensor, Tensor, Any]]) -> list[_Layer]:
    return [(w, b, _FORWARD[fn], _BACKWARD[fn]) for w, b, fn in plan]


def _torso_backward(layers: list[_Layer], acts: list[Tensor], grads: list[Tensor],
                    grads_t: list[Tensor], out: list[Tensor]) -> None:
    """Weight and bias gradients of an MLP torso into ``out`` (weight, bias, weight, ...),
    given the gradient at the torso's output in ``grads[-1]``; ``grads[i]`` (the gradient at
    layer i's output; ``grads_t[i]`` its transpose) are workspaces, overwritten."""
    for i in range(len(layers) - 1, -1, -1):
        w, _, _, backward = layers[i]
        grad = backward(grads[i], acts[i + 1])
        if i:
            mm(grads_t[i], acts[i], out[2 * i])
        else:  # the observation layer: few input columns (see weight_grad)
            weight_grad(grad, acts[0], out[0])
        torch.sum(grad, 0, out=out[2 * i + 1])
        if i:
            mm(grad, w, grads[i - 1])


def squared_error(values: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """The mean squared error of ``values`` and ``targets``, and the errors ``values - targets``
    (what the value gradient is made of): one subtraction and a dot product."""
    err = values - targets
    return err.dot(err).div_(err.shape[0]), err


class ManualGrad:
    """Forward with saved activations, and the backward pass, of one :class:`ActorCritic`.

    ``params`` lists the parameters in the order :meth:`backward` returns gradients.
    Use :meth:`for_policy`, which returns None for networks this does not cover.

    The hidden activations and their gradients live in workspaces kept per batch size, reused
    by every call: a forward's activations are valid until the next forward of that size.
    (Fresh tensors of a few hundred KB per layer cost the allocator page faults on every
    minibatch: about 20% of a PPO update at 256 wide.)
    """

    def __init__(self, policy: ActorCritic, plan: Any) -> None:
        pi, vf, (pw, pb), (vw, vb) = plan
        self.discrete = policy.discrete
        self.pi = _layers(pi)
        self.vf = None if vf is None else _layers(vf)
        self.pw, self.pb, self.vw, self.vb = pw, pb, vw, vb
        self.pw_t, self.vw_t = pw.t(), vw.t()
        self.log_std: Tensor | None = None if self.discrete else policy.log_std
        params: list[Tensor] = [t for w, b, _, _ in self.pi for t in (w, b)] + [pw, pb]
        if self.vf is not None:
            params += [t for w, b, _, _ in self.vf for t in (w, b)]
        params += [vw, vb]
        if self.log_std is not None:
            params.append(self.log_std)
        self.params = params
        self.flat = torch.zeros(sum(p.numel() for p in params), dtype=pw.dtype, device=pw.device)
        self._workspaces: dict[int, _Workspace] = {}
        self.grads: list[Tensor] = []
        offset = 0
        for p in params:
            self.grads.append(self.flat[offset:offset + p.numel()].view_as(p))
            offset += p.numel()

    @classmethod
    def for_policy(cls, policy: ActorCritic) -> "ManualGrad | None":
        """The policy's ManualGrad (kept on the policy while its parameters stay the same
        objects), or None for networks it does not cover."""
        plan = policy._fast
        if plan is None:
            return None
        cached = policy.__dict__.get("_manual_grad")
        if cached is not None and cached[0] is plan:
            return cached[1]
        pi, vf, _, _ = plan
        manual = None
        if all(fn in _BACKWARD for _, _, fn in pi + (vf or [])):
            manual = cls(policy, plan)
            if {id(p) for p in policy.parameters()} != {id(p) for p in manual.params}:
                manual = None  # parameters the plan does not know about
        policy.__dict__["_manual_grad"] = (plan, manual)
        return manual

    def _workspace(self, n: int) -> _Workspace:
        """(policy activations, value activations, their gradients, the gradients' transposes)
        for batches of ``n``."""
        ws = self._workspaces.get(n)
        if ws is None:
            if len(self._workspaces) >= _MAX_WORKSPACES:
                self._workspaces.clear()

            def bufs(layers: list[Any] | None) -> list[Tensor]:
                return [torch.empty(n, w.shape[0], dtype=w.dtype, device=w.device)
                        for w, _, _, _ in layers or []]

            g_p, g_v = bufs(self.pi), bufs(self.vf)
            ws = self._workspaces[n] = (bufs(self.pi), bufs(self.vf), g_p, g_v,
                                        [g.t() for g in g_p], [g.t() for g in g_v])
        return ws

    # -- forward -----------------------------------------------------------------------------
    def forward(self, obs: Tensor) -> tuple[Tensor, Tensor, tuple[list[Tensor], list[Tensor] | None]]:
        """Policy output, values ``(N,)`` and the saved activations (call under no_grad)."""
        ws_p, ws_v = self._workspace(obs.shape[0])[:2]
        h = obs
        acts_p = [obs]
        for (w, b, fn, _), buf in zip(self.pi, ws_p):
            h = fn(linear(h, w, b, out=buf))
            acts_p.append(h)
        out = torch.addmm(self.pb, h, self.pw_t)
        acts_v = None
        if self.vf is not None:
            g = obs
            acts_v = [obs]
            for (w, b, fn, _), buf in zip(self.vf, ws_v):
                g = fn(linear(g, w, b, out=buf))
                acts_v.append(g)
            h = g
        values = torch.addmm(self.vb, h, self.vw_t).view(-1)
        return out, values, (acts_p, acts_v)

    def log_prob(self, out: Tensor, actions: Tensor) -> tuple[Tensor, Any]:
        """Log-probabilities of ``actions`` (discrete: indices ``(N, 1)``), and what
        :meth:`out_grad` needs."""
        if self.discrete:
            logp_all = torch.log_softmax(out, dim=-1)
            return logp_all.gather(-1, actions).view(-1), (logp_all, actions)
        log_std = self.log_std
        assert log_std is not None
        inv_std = torch.exp(-log_std)
        z = (actions - out) * inv_std
        logp = (-0.5 * z.pow(2) - log_std - 0.5 * _LOG_2PI).sum(-1)
        return logp, (z, inv_std)

    # -- backward ----------------------------------------------------------------------------
    def out_grad(self, aux: Any, coef: Tensor, ent_coef: float, n: int) -> tuple[Tensor, Tensor | None]:
        """Gradients with respect to the policy output (and log std) of ``sum(coef * logp)
        - ent_coef * mean(entropy)`` over a minibatch of ``n``: ``coef`` is the loss's
        derivative with respect to each sample's log-probability."""
        c = coef.unsqueeze(1)
        if self.discrete:
            logp_all, actions = aux
            p = logp_all.exp()
            g_out = p * c.neg()
            g_out.scatter_add_(1, actions, c)  # (onehot - p) * coef
            if ent_coef:
                entropy = -(p * logp_all).sum(-1, keepdim=True)
                g_out.add_(p * (logp_all + entropy), alpha=ent_coef / n)
            return g_out, None
        z, inv_std = aux
        g_mean = c * z * inv_std
        g_log_std = (c * (z.pow(2) - 1.0)).sum(0)
        if ent_coef:
            g_log_std = g_log_std - ent_coef
        return g_mean, g_log_std

    def backward(self, cache: tuple[list[Tensor], list[Tensor] | None], g_out: Tensor, g_values: Tensor,
                 g_log_std: Tensor | None = None) -> list[Tensor]:
        """Gradients of all :attr:`params`, from those of the policy output and the values,
        written into :attr:`grads` (views of one flat buffer, overwritten by the next call)."""
        acts_p, acts_v = cache
        _, _, g_p, g_vf, g_p_t, g_vf_t = self._workspace(acts_p[0].shape[0])
        g_v = g_values.unsqueeze(1)
        grads = self.grads
        n_pi = 2 * len(self.pi)
        pi_grads, (g_pw, g_pb) = grads[:n_pi], grads[n_pi:n_pi + 2]
        torch.mm(g_out.t(), acts_p[-1], out=g_pw)
        torch.sum(g_out, 0, out=g_pb)
        if self.vf is None:  # shared torso: both heads feed it
            g_vw, g_vb = grads[n_pi + 2:n_pi + 4]
            torch.mm(g_v.t(), acts_p[-1], out=g_vw)
            torch.sum(g_v, 0, out=g_vb)
            if self.pi:
                torch.mm(g_out, self.pw, out=g_p[-1])
                g_p[-1].addmm_(g_v, self.vw)
                _torso_backward(self.pi, acts_p, g_p, g_p_t, pi_grads)
        else:
            assert acts_v is not None
            n_vf = 2 * len(self.vf)
            vf_grads = grads[n_pi + 2:n_pi + 2 + n_vf]
            g_vw, g_vb = grads[n_pi + 2 + n_vf:n_pi + 4 + n_vf]
            torch.mm(g_v.t(), acts_v[-1], out=g_vw)
            torch.sum(g_v, 0, out=g_vb)
            if self.pi:
                torch.mm(g_out, self.pw, out=g_p[-1])
                _torso_backward(self.pi, acts_p, g_p, g_p_t, pi_grads)
            if self.vf:
                torch.mm(g_v, self.vw, out=g_vf[-1])
                _torso_backward(self.vf, acts_v, g_vf, g_vf_t, vf_grads)
        if self.log_std is not None:
            assert g_log_std is not None
            grads[-1].copy_(g_log_std)
        return grads

    def clip_grad_norm(self, max_norm: float) -> float:
        """Scale :attr:`grads` to a global 2-norm of at most ``max_norm`` (as
        ``nn.utils.clip_grad_norm_``); returns the norm before clipping."""
        total = float(torch.linalg.vector_norm(self.flat))
        coef = max_norm / (total + 1e-6)
        if coef < 1.0:
            self.flat.mul_(coef)
        return total
