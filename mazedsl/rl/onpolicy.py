"""What on-policy learners share: a rollout buffer and the rollout that fills it.

The rollout runs the policy on the run's device (the reference path), or, for the fast
backend of built-in MLPs on CPU, through the policy's numpy forward. Both draw the sampling
noise for the whole rollout in one call (:meth:`ActionDist.noise`), so on the same weights
and seeds they take the same actions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mazedsl.rl.buffer import RolloutBuffer
from mazedsl.rl.envloop import EnvLoop
from mazedsl.rl.models import ActorCritic, NumpyForward
from mazedsl.rl.observations import ObsPipeline

Recorded = tuple[np.ndarray, np.ndarray, tuple[list[np.ndarray], list[np.ndarray] | None]]
"""A rollout's forward pass: policy outputs, values, and the hidden activations of the policy
net and of the value net (None: a shared torso)."""

_NP_DTYPES = {torch.int64: np.int64, torch.int8: np.int8, torch.float32: np.float32}


def make_buffer(policy: ActorCritic, prep: ObsPipeline, n_steps: int, n_envs: int) -> RolloutBuffer:
    """A rollout buffer shaped for ``policy``'s action space and ``prep``'s observations."""
    dist = policy.dist
    return RolloutBuffer(n_steps, n_envs, prep.shape, prep.dtype, dist.action_shape,
                         _NP_DTYPES[dist.action_dtype], dist.out_dim)


class OnPolicyRollout:
    """Fills a :class:`RolloutBuffer` from an :class:`EnvLoop` with a policy's actions."""

    def __init__(self, loop: EnvLoop, policy: ActorCritic, prep: ObsPipeline, n_steps: int,
                 device: torch.device) -> None:
        self.loop, self.policy, self.prep, self.device = loop, policy, prep, device
        self.buffer = make_buffer(policy, prep, n_steps, loop.n_envs)
        self.last_values = np.zeros(loop.n_envs, dtype=np.float32)
        self._layers: list[list[np.ndarray]] | None = None  # each step's layer outputs
        self._np_forward: NumpyForward | None = None

    def collect(self, np_forward: NumpyForward | None = None, keep_hidden: bool = False) -> None:
        """One rollout of ``n_steps`` vector steps; ``np_forward``: the fast numpy forward.
        ``keep_hidden`` (with ``np_forward``) keeps each step's hidden activations for
        :meth:`recorded_forward`."""
        buf, policy, prep, loop = self.buffer, self.policy, self.prep, self.loop
        layers = self._layers = [] if keep_hidden and np_forward is not None else None
        self._np_forward = np_forward
        dist, device = policy.dist, self.device
        reward_norm = loop.reward_norm
        gaussian, discrete = dist.kind == "gaussian", dist.kind == "discrete"
        b_obs, b_out, b_values, b_actions = buf.obs, buf.out, buf.values, buf.actions
        b_valid, b_terminated, b_done, b_rewards = buf.valid, buf.terminated, buf.done, buf.rewards
        with torch.inference_mode():
            noise_t = dist.noise((buf.n_steps, loop.n_envs), device)
            if np_forward is not None:
                noise = (noise_t * policy.log_std.exp() if gaussian else noise_t).numpy()
            for t in range(buf.n_steps):
                obs_in = prep(loop.obs, update=True)
                b_obs[t] = obs_in
                if np_forward is not None:
                    if layers is None:
                        out, values = np_forward(obs_in)
                    else:
                        layers.append([])
                        out, values = np_forward(obs_in, layers[-1])
                    a = (out - noise[t]).argmax(1) if discrete else out + noise[t]
                else:
                    out_t, values_t = policy.reference_forward(torch.as_tensor(obs_in, device=device))
                    a = policy.sample(out_t, noise=noise_t[t]).cpu().numpy()
                    out, values = out_t.cpu().numpy(), values_t.cpu().numpy()
                b_out[t] = out
                b_values[t] = values
                b_actions[t] = a
                step = loop.step(dist.to_env(a))
                done = step.done
                b_valid[t] = step.live
                b_terminated[t] = step.terminated
                b_done[t] = done
                b_rewards[t] = step.rewards if reward_norm is None else reward_norm(step.rewards, done)
            flat_out = torch.from_numpy(buf.out).to(device)
            actions = torch.from_numpy(buf.actions).to(device)
            buf.logp[...] = policy.log_prob(flat_out, actions).cpu().numpy()
            obs_in = prep(loop.obs, update=False)
            if np_forward is not None:
                self.last_values = np_forward(obs_in)[1].copy()
            else:
                self.last_values = policy.reference_forward(
                    torch.as_tensor(obs_in, device=device))[1].cpu().numpy().copy()

    def batch(self, gamma: float, gae_lambda: float) -> dict[str, torch.Tensor]:
        """GAE over the filled buffer, then its valid transitions as tensors on the device."""
        self.buffer.compute_gae(self.last_values, gamma, gae_lambda)
        return {k: v.to(self.device) for k, v in self.buffer.batch().items()}

    def recorded_forward(self) -> Recorded | None:
        """The last rollout's forward pass over its valid transitions, in :meth:`batch`'s
        order: policy outputs, values and the hidden activations of the policy and value nets
        (None for a shared torso), as numpy arrays; None unless it kept them. It is the
        forward pass of the weights that acted, so an update made with those weights (A2C's
        one step per rollout) need not run it again."""
        steps, np_forward = self._layers, self._np_forward
        if steps is None or np_forward is None:
            return None
        buf = self.buffer
        n = buf.n_steps * buf.n_envs
        keep = buf.valid.reshape(-1)
        whole = buf.valid.all(1).tolist()  # steps with every env's transition valid
        layers = [np.concatenate([s[i] if w else s[i][v] for s, w, v in zip(steps, whole, buf.valid)])
                  for i in range(len(steps[0]))]
        return buf.out.reshape(n, -1)[keep], buf.values.reshape(n)[keep], np_forward.split(layers)


# -- the on-policy learner base and its backends ------------------------------------------

FAST_MAX_WIDTH = 512
"""Widest hidden layer 'auto' runs on the fast backend. ``benchmarks/backends.py`` measured it
1.7-2.9x faster than the reference up to 256 wide and 1.6-2.1x at 512, every 95% interval
above 1 (2026-12-03, AVX-512 host, large products on oneDNN: benchmarks/results/backends.txt);
on an AVX2-only host, before oneDNN, 1.1-1.2x at 512. Wider was not measured."""


def fast_backend_problem(policy: ActorCritic, device: torch.device) -> str | None:
    """Why the fast backend cannot run ``policy`` (None: it can)."""
    from mazedsl.rl.manual_grad import ManualGrad

    if device.type != "cpu":
        return f"it runs on the CPU only (device is {device})"
    if policy.kind not in ("discrete", "gaussian"):
        return f"it covers Discrete and 1-D Box actions, not {policy.kind}"
    plan = policy._fast
    if plan is None or ManualGrad.for_policy(policy) is None:
        return "it covers the built-in MLP (tanh or relu) only"
    with torch.inference_mode():
        if policy.numpy_inference_fn() is None:
            return "it covers float32 parameters only"
    widths = [w.shape[0] for w, _, _ in plan[0] + (plan[1] or [])]
    if widths and max(widths) > FAST_MAX_WIDTH:
        return f"it is not faster than the reference for layers wider than {FAST_MAX_WIDTH}"
    return None


def choose_fast(backend: str, policy: ActorCritic, device: torch.device, extra: str | None = None
                ) -> bool:
    """Whether to use the fast backend: 'auto' where it applies, 'fast' or an error, 'torch' never."""
    from mazedsl.errors import ConfigError

    if backend == "torch":
        return False
    problem = extra or fast_backend_problem(policy, device)
    if backend == "fast" and problem:
        raise ConfigError(f"'fast' cannot be used here: {problem}; use 'auto' or 'torch'",
                          "algorithm.backend")
    return problem is None


class OnPolicyLearner:
    """Base of PPO, A2C and similar learners: a rollout of ``n_steps`` per iteration into a
    buffer, then ``update(batch, progress)``. Subclass and implement :meth:`update`."""

    def __init__(self, declaration: Any, built: Any, n_steps: int, fast: bool = False) -> None:
        self.decl = declaration
        self.built = built
        self.policy: ActorCritic = built.policy
        self.rollout = OnPolicyRollout(built.env_loop, self.policy, built.prep, n_steps,
                                       built.device)
        self.iteration_steps = n_steps * built.env_loop.n_envs  # one rollout (budgets round up)
        self.fast = fast

    keep_hidden = False
    """Whether the fast backend's rollouts keep their hidden activations
    (:meth:`OnPolicyRollout.recorded_forward`)."""

    def collect(self) -> None:
        """Fill the buffer (through the numpy forward on the fast backend)."""
        if self.fast:
            with torch.inference_mode():
                np_forward = self.policy.numpy_inference_fn()
            self.rollout.collect(np_forward, self.keep_hidden)
        else:
            self.rollout.collect()

    def state_dict(self) -> dict[str, Any]:
        optimizer = getattr(self, "optimizer", None)
        return {} if optimizer is None else {"optimizer": optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        optimizer = getattr(self, "optimizer", None)
        if optimizer is not None and "optimizer" in state:
            optimizer.load_state_dict(state["optimizer"])

    def close(self) -> None:
        pass


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                   params: list[torch.nn.Parameter], max_grad_norm: float | None) -> None:
    """The plain-torch step: zero the gradients, backward, clip the global norm, step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(params, max_grad_norm, foreach=True)
    optimizer.step()
