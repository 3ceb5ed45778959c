"""SAC's networks: a tanh-squashed Gaussian actor and twin Q critics held as one ensemble.

The two critics (and their targets) are stacked weights ``(2, in, out)``: one batched
matrix product per layer evaluates both, and the actor's loss can run them with detached
weights (no weight gradients computed for a loss that does not train them).
"""

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


class TwinQ(nn.Module):
    """``n`` independent Q(s, a) MLPs evaluated together: ``(N, in) -> (n, N)``.

    Initialised as ``n`` separate ``nn.Linear`` stacks would be (torch's default init).
    """

    def __init__(self, in_dim: int, hidden: Sequence[int], activation: str, n: int = 2) -> None:
        super().__init__()
        dims = [in_dim, *hidden, 1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for d_in, d_out in zip(dims[:-1], dims[1:]):
            w = torch.empty(n, d_in, d_out)
            b = torch.empty(n, 1, d_out)
            bound = 1.0 / math.sqrt(d_in)
            for i in range(n):  # nn.Linear's reset_parameters, per critic
                lin_w = torch.empty(d_out, d_in)
                nn.init.kaiming_uniform_(lin_w, a=math.sqrt(5))
                w[i] = lin_w.t()
                nn.init.uniform_(b[i], -bound, bound)
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))
        self.act = _ACT[activation]
        self.n = n

    def params(self) -> list[Tensor]:
        """Parameters in a fixed order: weight, bias of each layer."""
        out: list[Tensor] = []
        for w, b in zip(self.weights, self.biases):
            out += [w, b]
        return out

    def forward(self, x: Tensor, detached: bool = False) -> Tensor:
        """Q-values ``(n, N)`` of inputs ``(N, in)`` (or ``(n, N, in)``, one batch per critic);
        ``detached`` uses the weights without recording their gradients."""
        return twin_q_forward(self.params(), x, self.act, self.n, detached)


def twin_q_forward(params: list[Tensor], x: Tensor, act: object, n: int, detached: bool = False) -> Tensor:
    """The ensemble forward on a flat ``[w0, b0, w1, b1, ...]`` parameter list."""
    if x.dim() == 2:
        x = x.unsqueeze(0).expand(n, -1, -1)
    last = len(params) // 2 - 1
    for i in range(last + 1):
        w, b = params[2 * i], params[2 * i + 1]
        if detached:
            w, b = w.detach(), b.detach()
        x = torch.baddbmm(b, x, w)
        if i < last:
            x = act(x)  # type: ignore[operator]
    return x.squeeze(-1)


def check_box(action_space: object, where: str = "algorithm") -> int:
    """The flat action dimension of a bounded Box space, or a ConfigError naming the space."""
    if not isinstance(action_space, spaces.Box) or not action_space.is_bounded("both"):
        raise ConfigError(f"SAC needs a bounded Box (continuous) action space, got {action_space}; "
                          "use DQN or PPO for discrete actions", where)
    return int(math.prod(action_space.shape))
