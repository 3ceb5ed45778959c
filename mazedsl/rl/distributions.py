"""Action distributions for every gymnasium action space a policy can act in.

A policy network outputs a flat ``(batch, out_dim)`` tensor; the distribution of the action
space reads it as logits (Discrete, MultiDiscrete, MultiBinary) or Gaussian means (Box of any
shape, with a state-independent log std held by the policy). Sampling can use noise drawn
ahead for a whole rollout (:meth:`ActionDist.noise`), so the reference and fast rollouts
consume the random generator identically.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces

from mazedsl.errors import EnvError

LOG_2PI = math.log(2 * math.pi)
Tensor = torch.Tensor


class ActionDist:
    """Base: ``out_dim`` network outputs per sample, actions of ``action_shape``."""

    kind = ""
    out_dim: int
    action_shape: tuple[int, ...]
    action_dtype: torch.dtype
    needs_log_std = False

    def noise(self, shape: tuple[int, ...], device: torch.device) -> Tensor:
        """Noise for ``shape`` (e.g. ``(n_steps, n_envs)``) samples, drawn in one call."""
        return torch.empty(*shape, self.out_dim, device=device).exponential_().log_()

    def sample(self, out: Tensor, log_std: Tensor | None, deterministic: bool = False,
               noise: Tensor | None = None) -> Tensor:
        raise NotImplementedError

    def log_prob(self, out: Tensor, log_std: Tensor | None, actions: Tensor) -> Tensor:
        raise NotImplementedError

    def entropy(self, out: Tensor, log_std: Tensor | None) -> Tensor:
        raise NotImplementedError

    def params(self, out: Tensor, log_std: Tensor | None) -> dict[str, Tensor]:
        raise NotImplementedError

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Policy actions (a batch) as the env takes them."""
        return actions


class Categorical(ActionDist):
    """Discrete(n): ``n`` logits; sampling by the Gumbel-max trick ``argmax(logits - log E)``."""

    kind = "discrete"

    def __init__(self, space: spaces.Discrete) -> None:
        self.out_dim = int(space.n)
        self.start = int(space.start)
        self.action_shape = ()
        self.action_dtype = torch.int64

    def sample(self, out: Tensor, log_std: Tensor | None, deterministic: bool = False,
               noise: Tensor | None = None) -> Tensor:
        if deterministic:
            return out.argmax(dim=-1)
        if noise is None:
            noise = torch.empty_like(out).exponential_().log_()
        return torch.argmax(out - noise, dim=-1)

    def log_prob(self, out: Tensor, log_std: Tensor | None, actions: Tensor) -> Tensor:
        return torch.log_softmax(out, -1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self, out: Tensor, log_std: Tensor | None) -> Tensor:
        logp = torch.log_softmax(out, -1)
        return -(logp.exp() * logp).sum(-1)

    def params(self, out: Tensor, log_std: Tensor | None) -> dict[str, Tensor]:
        return {"probs": torch.softmax(out, -1), "logits": out}

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        return actions + self.start if self.start else actions


class MultiCategorical(ActionDist):
    """MultiDiscrete(nvec): one categorical per component, logits concatenated."""

    kind = "multidiscrete"

    def __init__(self, space: spaces.MultiDiscrete) -> None:
        self.nvec = [int(n) for n in np.asarray(space.nvec).reshape(-1)]
        self.shape = tuple(space.nvec.shape)
        self.start = np.asarray(getattr(space, "start", np.zeros_like(space.nvec)))
        self.out_dim = sum(self.nvec)
        self.action_shape = self.shape
        self.action_dtype = torch.int64

    def _split(self, out: Tensor) -> tuple[Tensor, ...]:
        return torch.split(out, self.nvec, dim=-1)

    def sample(self, out: Tensor, log_std: Tensor | None, deterministic: bool = False,
               noise: Tensor | None = None) -> Tensor:
        if not deterministic:
            if noise is None:
                noise = torch.empty_like(out).exponential_().log_()
            out = out - noise
        picks = [part.argmax(-1) for part in self._split(out)]
        return torch.stack(picks, -1).reshape(*out.shape[:-1], *self.shape)

    def log_prob(self, out: Tensor, log_std: Tensor | None, actions: Tensor) -> Tensor:
        acts = actions.long().reshape(*out.shape[:-1], len(self.nvec))
        parts = [torch.log_softmax(p, -1).gather(-1, acts[..., i:i + 1]).squeeze(-1)
                 for i, p in enumerate(self._split(out))]
        return torch.stack(parts, -1).sum(-1)

    def entropy(self, out: Tensor, log_std: Tensor | None) -> Tensor:
        total = torch.zeros(out.shape[:-1], device=out.device)
        for part in self._split(out):
            logp = torch.log_softmax(part, -1)
            total = total - (logp.exp() * logp).sum(-1)
        return total

    def params(self, out: Tensor, log_std: Tensor | None) -> dict[str, Tensor]:
        return {"probs": torch.cat([torch.softmax(p, -1) for p in self._split(out)], -1),
                "logits": out}

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        return actions + self.start if self.start.any() else actions


class Bernoulli(ActionDist):
    """MultiBinary(shape): one logit per bit."""

    kind = "multibinary"

    def __init__(self, space: spaces.MultiBinary) -> None:
        self.shape = tuple(np.atleast_1d(np.asarray(space.n)).tolist())
        self.out_dim = int(np.prod(self.shape))
        self.action_shape = self.shape
        self.action_dtype = torch.int8

    def noise(self, shape: tuple[int, ...], device: torch.device) -> Tensor:
        return torch.rand(*shape, self.out_dim, device=device)

    def sample(self, out: Tensor, log_std: Tensor | None, deterministic: bool = False,
               noise: Tensor | None = None) -> Tensor:
        if deterministic:
            bits = out > 0
        else:
            if noise is None:
                noise = torch.rand_like(out)
            bits = noise < torch.sigmoid(out)
        return bits.to(self.action_dtype).reshape(*out.shape[:-1], *self.shape)

    def log_prob(self, out: Tensor, log_std: Tensor | None, actions: Tensor) -> Tensor:
        bits = actions.reshape(*out.shape).to(out.dtype)
        return -torch.nn.functional.binary_cross_entropy_with_logits(
            out, bits, reduction="none").sum(-1)

    def entropy(self, out: Tensor, log_std: Tensor | None) -> Tensor:
        p = torch.sigmoid(out)
        return torch.nn.functional.binary_cross_entropy_with_logits(out, p, reduction="none").sum(-1)

    def params(self, out: Tensor, log_std: Tensor | None) -> dict[str, Tensor]:
        return {"probs": torch.sigmoid(out), "logits": out}


class DiagGaussian(ActionDist):
    """Box(shape): Gaussian means from the network, a learned state-independent log std;
    actions are clipped to the bounds for the env (not for the log-probability)."""

    kind = "gaussian"
    needs_log_std = True

    def __init__(self, space: spaces.Box) -> None:
        self.shape = tuple(space.shape)
        self.out_dim = int(np.prod(self.shape))
        self.action_shape = self.shape
        self.action_dtype = torch.float32
        self.low, self.high, self.dtype = space.low, space.high, space.dtype

    def noise(self, shape: tuple[int, ...], device: torch.device) -> Tensor:
        return torch.randn(*shape, self.out_dim, device=device)

    def sample(self, out: Tensor, log_std: Tensor | None, deterministic: bool = False,
               noise: Tensor | None = None) -> Tensor:
        if deterministic:
            flat = out
        else:
            if noise is None:
                noise = torch.randn_like(out)
            flat = out + noise * log_std.exp()  # type: ignore[union-attr]
        return flat.reshape(*out.shape[:-1], *self.shape)

    def log_prob(self, out: Tensor, log_std: Tensor | None, actions: Tensor) -> Tensor:
        z = (actions.reshape(out.shape) - out) * torch.exp(-log_std)  # type: ignore[operator]
        return (-0.5 * z.pow(2) - log_std - 0.5 * LOG_2PI).sum(-1)

    def entropy(self, out: Tensor, log_std: Tensor | None) -> Tensor:
        return (0.5 + 0.5 * LOG_2PI + log_std).sum().expand(out.shape[0])  # type: ignore[operator]

    def params(self, out: Tensor, log_std: Tensor | None) -> dict[str, Tensor]:
        shape = (*out.shape[:-1], *self.shape)
        return {"mean": out.reshape(shape), "std": log_std.exp().expand_as(out).reshape(shape)}  # type: ignore[union-attr]

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        return np.clip(actions, self.low, self.high).astype(self.dtype)


def make_dist(space: spaces.Space) -> ActionDist:
    """The distribution of an action space (EnvError for spaces no policy can act in)."""
    if isinstance(space, spaces.Discrete):
        return Categorical(space)
    if isinstance(space, spaces.MultiDiscrete):
        return MultiCategorical(space)
    if isinstance(space, spaces.MultiBinary):
        return Bernoulli(space)
    if isinstance(space, spaces.Box) and np.issubdtype(space.dtype, np.floating):
        return DiagGaussian(space)
    raise EnvError(f"action space {space!r} is not supported: use Discrete, MultiDiscrete, "
                   "MultiBinary or a float Box")
