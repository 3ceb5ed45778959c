"""A small algorithm defined outside mazedsl (REINFORCE with a value baseline), registered by
name: the proof that algorithms are plugins. Importing this module registers ``reinforce``."""

from __future__ import annotations

import attrs
import torch

from mazedsl import register_algorithm
from mazedsl.rl.algos.base import Learner
from mazedsl.rl.onpolicy import OnPolicyLearner, optimizer_step
from mazedsl.spec import param
from mazedsl.spec._fields import gt, is_float, is_int


@attrs.define(frozen=True, kw_only=True)
class Reinforce:
    """REINFORCE (Williams 1992) with a learned baseline, Monte-Carlo-ish n-step returns."""

    lr: float = param(1e-3, "Adam learning rate.", is_float, gt(0))
    n_steps: int = param(64, "Steps per env before each update.", is_int, gt(0))
    gamma: float = param(0.99, "Discount factor.", is_float, gt(0))


class ReinforceLearner(OnPolicyLearner, Learner):
    def __init__(self, decl: Reinforce, built) -> None:
        super().__init__(decl, built, decl.n_steps)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=decl.lr)

    def iteration(self, progress: float) -> dict[str, float]:
        self.collect()
        batch = self.rollout.batch(self.decl.gamma, 1.0)
        out, values = self.policy.reference_forward(batch["obs"])
        logp = self.policy.log_prob(out, batch["actions"])
        loss = -(batch["advantages"] * logp).mean() + 0.5 * (batch["returns"] - values).pow(2).mean()
        optimizer_step(self.optimizer, loss, list(self.policy.parameters()), 0.5)
        return {"loss": loss.item()}


register_algorithm("reinforce", Reinforce, ReinforceLearner, action_spaces=("Discrete", "Box"))
