"""SAC's gradient step with hand-written backward passes: the fast path of the SAC learner.

It computes what the reference step (autograd through :mod:`mazedsl.rl.algos.sac.losses`)
computes, for a plain MLP actor torso and plain MLP critics with ReLU or tanh, on the CPU:

- the critics' loss gradient by the textbook MLP backward (:class:`MLPGrad`);
- the actor's loss through the critics as an input gradient only (the critics' weights get
  no gradient there, so none is computed), each critic on the rows where it is the minimum,
  then through ``tanh``, the Gaussian's
  reparameterisation, the log-density's squashing correction and the log-std clamp;
- the entropy coefficient's gradient ``-mean(log pi + target_entropy)`` in closed form.

The actor's mean and log-std heads run as one matrix product (their weights stacked). It
saves the autograd engine's bookkeeping and the weight gradients that the actor's loss
would otherwise compute for the critics. ``tests/test_algos_offpolicy.py`` checks it
against the reference over many updates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from mazedsl.rl.algos._mlpgrad import MLPGrad
from mazedsl.rl.algos._offpolicy import polyak_update, step
from mazedsl.rl.algos.sac.losses import critic_loss, critic_target, squashed_sample

Tensor = torch.Tensor

_ACTS: dict[type, str] = {nn.ReLU: "relu", nn.Tanh: "tanh"}


def _torso_layers(torso: nn.Module) -> tuple[list[tuple[Tensor, Tensor]], list[str]] | None:
    """(weight, bias) and activation of each Linear+activation pair of a plain torso."""
    mods = list(torso) if isinstance(torso, nn.Sequential) else None
    if mods is None or len(mods) % 2:
        return None
    layers, acts = [], []
    for lin, act in zip(mods[::2], mods[1::2]):
        if not isinstance(lin, nn.Linear) or lin.bias is None or type(act) not in _ACTS:
            return None
        layers.append((lin.weight, lin.bias))
        acts.append(_ACTS[type(act)])
    return layers, acts


class ManualSAC:
    """The hand-written SAC gradient step over a learner's actor and twin critics."""

    def __init__(self, learner: Any, torso: list[tuple[Tensor, Tensor]], acts: list[str]) -> None:
        self.learner = learner
        actor = learner.actor
        self.torso, self.torso_acts = torso, acts
        self.mu, self.log_std = actor.mu, actor.log_std
        self.lo, self.hi = actor.log_std_min, actor.log_std_max
        critic = learner.critic
        act = critic.activation
        self.critics = [MLPGrad(layers, [act] * (len(layers) - 1)) for layers in critic._params]
        self.targets = [MLPGrad(layers, [act] * (len(layers) - 1))
                        for layers in learner.critic_target._params]
        self.obs_dim = int(learner.prep.shape[0])
        # numpy views of the actor's weights (updated in place by the optimiser) for acting
        as_np = lambda t: t.detach().numpy()  # noqa: E731
        self.np_torso = [(as_np(w).T, as_np(b)) for w, b in torso]
        self.np_heads = [(as_np(m.weight).T, as_np(m.bias)) for m in (self.mu, self.log_std)]
        policy = learner.policy
        self.np_center, self.np_scale = as_np(policy.center), as_np(policy.scale)
        self.action_shape = policy.shape

    @classmethod
    def for_learner(cls, learner: Any) -> "ManualSAC | None":
        """The fast path of ``learner``, or None where it does not apply (off the CPU, a
        torso or critic that is not a plain ReLU/tanh MLP)."""
        if learner.device.type != "cpu" or learner.critic.activation not in ("relu", "tanh"):
            return None
        module = getattr(learner.actor, "torso", None)  # (your own module's actor has none)
        found = _torso_layers(module) if module is not None else None
        if found is None:
            return None
        torso, acts = found
        actor = learner.actor
        order = [p for wb in torso for p in wb] + [actor.mu.weight, actor.mu.bias,
                                                   actor.log_std.weight, actor.log_std.bias]
        if [id(p) for p in order] != [id(p) for p in learner.actor_params]:
            return None
        return cls(learner, torso, acts)

    def act(self, obs: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """A squashed sample ``tanh(mean + std * noise)`` in [-1, 1] for prepared
        observations, in numpy (the collection path: one env step at a time)."""
        x = obs
        for (wt, b), act in zip(self.np_torso, self.torso_acts):
            x = x @ wt
            x += b
            if act == "relu":
                np.maximum(x, 0.0, out=x)
            else:
                np.tanh(x, out=x)
        (mu_w, mu_b), (ls_w, ls_b) = self.np_heads
        log_std = np.clip(x @ ls_w + ls_b, self.lo, self.hi)
        return np.tanh(x @ mu_w + mu_b + np.exp(log_std) * noise)

    def to_bounds(self, squashed: np.ndarray) -> np.ndarray:
        """Squashed actions scaled to the action space's bounds, in its shape."""
        return (self.np_center + self.np_scale * squashed).reshape(-1, *self.action_shape)

    def _actor(self) -> MLPGrad:
        head_w = torch.cat([self.mu.weight, self.log_std.weight])
        head_b = torch.cat([self.mu.bias, self.log_std.bias])
        return MLPGrad(self.torso + [(head_w, head_b)], self.torso_acts)

    @torch.no_grad()
    def step(self, obs: Tensor, actions: Tensor, next_obs: Tensor, rewards: Tensor,
             terminated: Tensor, noise_pi: Tensor, noise_next: Tensor, lr: float) -> Tensor:
        """One gradient step of actor, critics and entropy coefficient; returns the critic,
        actor and entropy-coefficient losses, the entropy estimate and the mean Q."""
        L = self.learner
        decl = L.decl
        n, act_dim = obs.shape[0], noise_pi.shape[-1]
        # the policy on the batch and on the next observations, in one pass
        actor = self._actor()
        head, saved_actor = actor.forward(torch.cat([obs, next_obs]))
        saved_actor = [a[:n] for a in saved_actor]
        mean, raw = head[:n, :act_dim], head[:n, act_dim:]
        log_std = raw.clamp(self.lo, self.hi)
        a_pi, logp = squashed_sample(mean, log_std, noise_pi)
        std = log_std.exp()
        u = mean + std * noise_pi
        alpha = L.log_alpha.detach().exp()
        if L.auto_alpha:
            shifted = logp + L.target_entropy
            a_loss = -(L.log_alpha.detach() * shifted).mean()
            step(L.alpha_opt, [L.log_alpha], [-shifted.mean()], lr)
        else:
            a_loss = torch.zeros((), device=obs.device)
        # the soft TD target
        next_a, next_logp = squashed_sample(head[n:, :act_dim],
                                            head[n:, act_dim:].clamp(self.lo, self.hi), noise_next)
        x_next = torch.cat([next_obs, next_a], -1)
        next_q = torch.cat([t.forward(x_next)[0] for t in self.targets], -1).t()
        y = critic_target(rewards, terminated, decl.gamma, next_q, next_logp, alpha)
        # the critics, each back-propagated right after its forward pass (while its
        # activations are still in cache): their gradients do not depend on each other
        x = torch.cat([obs, actions], -1)
        grads: list[Tensor] = []
        qs: list[Tensor] = []
        for c in self.critics:
            qi, saved = c.forward(x)
            qs.append(qi)
            grads += c.backward(saved, (qi - y.unsqueeze(1)).mul_(1.0 / n))
        q = torch.cat(qs, -1).t()
        c_loss = critic_loss(q, y)
        step(L.critic_opt, L.critic_params, grads, lr)
        # the actor, through the updated critics
        x_pi = torch.cat([obs, a_pi], -1)
        outs = [c.forward(x_pi) for c in self.critics]
        q_pi = torch.cat([o for o, _ in outs], -1).t()
        q_min, idx = q_pi.min(0)
        p_loss = (alpha * logp - q_min).mean()
        cols = slice(self.obs_dim, None)
        # d p_loss / d a_pi: each row's gradient flows through the critic giving its min
        # only, so each critic back-propagates just its own rows (one product's worth for
        # the two critics together, where masking the other rows would cost two)
        d_a = torch.empty(n, act_dim, device=obs.device)
        for i, (c, (_, saved)) in enumerate(zip(self.critics, outs)):
            rows = (idx == i).nonzero().squeeze(1)
            if rows.numel():
                mine = [saved[0]] + [s.index_select(0, rows) for s in saved[1:]]
                g_q = torch.full((rows.numel(), 1), -1.0 / n, device=obs.device)
                d_a.index_copy_(0, rows, c.input_grad(mine, g_q, cols))
        g_logp = alpha / n
        d_u = torch.ops.aten.tanh_backward(d_a, a_pi) + g_logp * (2.0 - 4.0 * torch.sigmoid(-2.0 * u))
        d_log_std = (d_u * std * noise_pi - g_logp) * ((raw >= self.lo) & (raw <= self.hi))
        g = actor.backward(saved_actor, torch.cat([d_u, d_log_std], -1))
        head_w, head_b = g[-2], g[-1]
        g = g[:-2] + [head_w[:act_dim], head_b[:act_dim], head_w[act_dim:], head_b[act_dim:]]
        step(L.actor_opt, L.actor_params, g, lr)
        L.updates += 1
        if L.updates % decl.target_update_interval == 0:
            polyak_update(L.critic_params, L.target_params, decl.tau)
        return torch.stack([c_loss, p_loss, a_loss, -logp.mean(), q.mean()])

