"""Actor-critic networks built from model and critic declarations.

Distributions are computed directly (log-softmax / diagonal Gaussian) rather than through
``torch.distributions``: the same maths with far fewer Python calls per step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from mazedsl.errors import EnvError
from mazedsl.rl.spaces import check_action_space, flat_dim, is_image_space
from mazedsl.spec import PixelObs, StateCritic, VectorObs

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU, "silu": nn.SiLU}
_LOG_2PI = math.log(2 * math.pi)


def _init(layer: nn.Module, gain: float, ortho: bool) -> nn.Module:
    if ortho and isinstance(layer, (nn.Linear, nn.Conv2d)):
        nn.init.orthogonal_(layer.weight, gain)
        nn.init.zeros_(layer.bias)
    return layer


def _mlp(in_dim: int, hidden: list[int], activation: str, ortho: bool) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [_init(nn.Linear(in_dim, width), math.sqrt(2), ortho), _ACTIVATIONS[activation]()]
        in_dim = width
    return nn.Sequential(*layers), in_dim


class ImageInput(nn.Module):
    """Brings image batches to float ``(N, C, H, W)``: adds a channel axis, moves HWC to CHW,
    and scales uint8 to [0, 1]."""

    def __init__(self, space: spaces.Box) -> None:
        super().__init__()
        shape = space.shape
        self.add_channel = len(shape) == 2
        self.hwc = len(shape) == 3 and shape[-1] in (1, 3, 4) and shape[0] > 4
        self.scale = 1.0 / 255.0 if space.dtype == np.uint8 else 1.0
        if self.add_channel:
            self.out_shape = (1, *shape)
        elif self.hwc:
            self.out_shape = (shape[2], shape[0], shape[1])
        else:
            self.out_shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if self.add_channel:
            x = x.unsqueeze(1)
        elif self.hwc:
            x = x.permute(0, 3, 1, 2)
        return x * self.scale if self.scale != 1.0 else x


def _cnn(space: spaces.Space, decl: PixelObs, hidden: list[int]) -> tuple[nn.Module, int]:
    if not is_image_space(space):
        raise EnvError(f"model 'PixelObs' needs image observations (2-D or 3-D Box), got {space}")
    prep = ImageInput(space)  # type: ignore[arg-type]
    layers: list[nn.Module] = [prep]
    channels = prep.out_shape[0]
    for out, k, s in zip(decl.channels, decl.kernel_sizes, decl.strides):
        layers += [_init(nn.Conv2d(channels, out, k, s), math.sqrt(2), decl.ortho_init),
                   _ACTIVATIONS[decl.activation]()]
        channels = out
    layers.append(nn.Flatten())
    conv = nn.Sequential(*layers)
    with torch.no_grad():
        try:
            n_flat = conv(torch.zeros(1, *space.shape)).shape[1]
        except RuntimeError as exc:
            raise EnvError(f"model: the conv layers do not fit images of shape {space.shape}: {exc}") from None
    dense, out_dim = _mlp(n_flat, hidden, decl.activation, decl.ortho_init)
    return nn.Sequential(conv, dense), out_dim


def _torso(space: spaces.Space, decl: VectorObs | PixelObs, hidden: list[int],
           activation: str) -> tuple[nn.Module, int]:
    if isinstance(decl, PixelObs):
        return _cnn(space, decl, hidden)
    if is_image_space(space) and len(space.shape) == 3:
        pass  # flattened images are allowed for small inputs
    return _mlp(flat_dim(space), hidden, activation, decl.ortho_init)


class ActorCritic(nn.Module):
    """Policy (categorical or diagonal Gaussian) and state-value function."""

    def __init__(self, obs_space: spaces.Space, action_space: spaces.Space,
                 model: VectorObs | PixelObs, critic: StateCritic) -> None:
        super().__init__()
        check_action_space(action_space)
        self.discrete = isinstance(action_space, spaces.Discrete)
        self.pi_torso, pi_dim = _torso(obs_space, model, model.hidden_units, model.activation)
        n_out = int(action_space.n) if self.discrete else int(action_space.shape[0])
        self.pi_head = _init(nn.Linear(pi_dim, n_out), 0.01, model.ortho_init)
        if not self.discrete:
            self.log_std = nn.Parameter(torch.full((n_out,), float(model.log_std_init)))
        self.shared = critic.shared
        if critic.shared:
            self.vf_torso: nn.Module | None = None
            vf_dim = pi_dim
        else:
            self.vf_torso, vf_dim = _torso(obs_space, model, critic.hidden_units, critic.activation)
        self.vf_head = _init(nn.Linear(vf_dim, 1), 1.0, model.ortho_init)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy output (logits, or Gaussian mean) and state values ``(N,)``."""
        pi_features = self.pi_torso(obs)
        vf_features = pi_features if self.vf_torso is None else self.vf_torso(obs)
        return self.pi_head(pi_features), self.vf_head(vf_features).squeeze(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        features = self.pi_torso(obs) if self.vf_torso is None else self.vf_torso(obs)
        return self.vf_head(features).squeeze(-1)

    def act(self, obs: torch.Tensor, deterministic: bool = False
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Actions, their log-probabilities and the state values."""
        out, values = self(obs)
        if self.discrete:
            logp_all = torch.log_softmax(out, dim=-1)
            if deterministic:
                actions = out.argmax(dim=-1)
            else:
                actions = torch.multinomial(logp_all.exp(), 1).squeeze(-1)
            return actions, logp_all.gather(-1, actions.unsqueeze(-1)).squeeze(-1), values
        if deterministic:
            actions = out
        else:
            actions = out + torch.randn_like(out) * self.log_std.exp()
        return actions, self._gauss_logp(out, actions), values

    def evaluate_actions(self, obs: torch.Tensor, actions: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log-probabilities of ``actions``, the policy entropy, and state values."""
        out, values = self(obs)
        if self.discrete:
            logp_all = torch.log_softmax(out, dim=-1)
            logp = logp_all.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
            entropy = -(logp_all.exp() * logp_all).sum(-1)
            return logp, entropy, values
        entropy = (0.5 + 0.5 * _LOG_2PI + self.log_std).sum().expand(out.shape[0])
        return self._gauss_logp(out, actions), entropy, values

    def distribution(self, obs: torch.Tensor) -> dict[str, torch.Tensor]:
        """The action distribution's parameters: ``probs`` (discrete) or ``mean``/``std``."""
        out, _ = self(obs)
        if self.discrete:
            return {"probs": torch.softmax(out, dim=-1), "logits": out}
        return {"mean": out, "std": self.log_std.exp().expand_as(out)}

    def _gauss_logp(self, mean: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        log_std = self.log_std
        z = (actions - mean) * torch.exp(-log_std)
        return (-0.5 * z.pow(2) - log_std - 0.5 * _LOG_2PI).sum(-1)
