"""SAC's networks: a tanh-squashed Gaussian actor and twin Q critics."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from gymnasium import spaces
from torch import nn
from torch.nn import functional as F

from mazedsl.errors import ConfigError
from mazedsl.rl.algos._offpolicy import mlp

Tensor = torch.Tensor

_ACT = {"tanh": torch.tanh, "relu": torch.relu, "elu": F.elu, "gelu": F.gelu, "silu": F.silu}


class SquashedGaussianActor(nn.Module):
    """``obs -> (mean, log_std)`` of a Gaussian whose samples are squashed by tanh into
    [-1, 1] (then scaled to the action bounds by the learner)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int], activation: str,
                 log_std_min: float = -20.0, log_std_max: float = 2.0,
                 torso: nn.Module | None = None, torso_dim: int | None = None) -> None:
        super().__init__()
        if torso is None:
            self.torso = mlp(obs_dim, list(hidden), activation)
            torso_dim = hidden[-1] if hidden else obs_dim
        else:
            self.torso = torso
        assert torso_dim is not None
        self.mu = nn.Linear(torso_dim, act_dim)
        self.log_std = nn.Linear(torso_dim, act_dim)
        self.log_std_min, self.log_std_max = log_std_min, log_std_max

    def forward(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        h = self.torso(obs)
        return self.mu(h), self.log_std(h).clamp(self.log_std_min, self.log_std_max)


class NetGaussianActor(nn.Module):
    """``obs -> (mean, log_std)`` from your own module (``TorchModel``), which returns
    ``(batch, 2 * act_dim)``: the Gaussian's means, then its log stds (clamped here), as
    RLlib's SAC models do."""

    def __init__(self, net: nn.Module, act_dim: int, log_std_min: float = -20.0,
                 log_std_max: float = 2.0) -> None:
        super().__init__()
        self.net = net
        self.act_dim = act_dim
        self.log_std_min, self.log_std_max = log_std_min, log_std_max

    def forward(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        out = self.net(obs)
        mean, log_std = out[:, :self.act_dim], out[:, self.act_dim:]
        return mean, log_std.clamp(self.log_std_min, self.log_std_max)


class TwinQ(nn.Module):
    """``n`` independent Q(s, a) MLPs evaluated together: ``(N, in) -> (n, N)``.

    Each critic is a plain ``nn.Linear`` stack (torch's default init, as SB3). The forward
    calls ``F.linear`` on the layers' parameters directly, so the actor's loss can run the
    critics with detached weights (no weight gradients computed for a loss that does not
    train them). (Stacking the critics into batched ``baddbmm`` products was measured
    slower than separate matrix products on the CPU.)
    """

    def __init__(self, in_dim: int, hidden: Sequence[int], activation: str, n: int = 2) -> None:
        super().__init__()
        self.nets = nn.ModuleList([mlp(in_dim, list(hidden), activation, 1) for _ in range(n)])
        self.activation = activation
        self.act = _ACT[activation]
        self.n = n
        self._params = [[(m.weight, m.bias) for m in net if isinstance(m, nn.Linear)]
                        for net in self.nets]

    def params(self) -> list[Tensor]:
        """Parameters in a fixed order: critic by critic, weight and bias of each layer."""
        return [p for layers in self._params for wb in layers for p in wb]

    def forward(self, x: Tensor, detached: bool = False) -> Tensor:
        """Q-values ``(n, N)`` of inputs ``(N, in)``; ``detached`` uses the weights without
        recording their gradients."""
        act = self.act
        outs = []
        for layers in self._params:
            h = x
            last = len(layers) - 1
            for i, (w, b) in enumerate(layers):
                if detached:
                    w, b = w.detach(), b.detach()
                h = F.linear(h, w, b)
                if i < last:
                    h = act(h)
            outs.append(h)
        return torch.cat(outs, -1).t()


def check_box(action_space: object, where: str = "algorithm") -> int:
    """The flat action dimension of a bounded Box space, or a ConfigError naming the space."""
    if not isinstance(action_space, spaces.Box):
        raise ConfigError(f"SAC needs a bounded Box (continuous) action space, got {action_space}; "
                          "use DQN or PPO for discrete actions", where)
    if not action_space.is_bounded("both"):  # its squashed actions are scaled to the bounds
        raise ConfigError(f"SAC needs a bounded Box (continuous) action space, got {action_space}; "
                          "SAC squashes its actions into the bounds, so give the env finite "
                          "ones (in your env factory, e.g. gymnasium.wrappers.TransformAction("
                          "env, lambda a: a, Box(low, high)) with the range your env takes), "
                          "or use PPO, whose Gaussian actions need no bounds", where)
    return int(math.prod(action_space.shape))
