"""The A2C learner: n-step rollouts, then the plain-torch update or the fast backend."""

from __future__ import annotations

from typing import Any

import torch

from mazedsl.rl.algos.a2c import fast
from mazedsl.rl.algos.a2c.spec import A2C
from mazedsl.rl.algos.a2c.update import a2c_update
from mazedsl.rl.algos.base import Learner
from mazedsl.rl.models import PolicyModes
from mazedsl.rl.onpolicy import OnPolicyLearner, choose_fast
from mazedsl.rl.updates import lean_adam, torch_adam, lean_rmsprop, set_lr
from mazedsl.spec.algorithms import scheduled


REUSE_MIN_MACS = 1_000_000
"""Smallest update (rollout rows x parameters: the forward pass's multiply-adds) for which the
fast backend keeps the rollout's activations for the update. Below it keeping them costs about
what the forward pass they replace does (benchmarks/a2c_reuse.py, CartPole: 8 envs 2x64, 0.36M,
0.93x; 32 envs 2x64, 1.4M, 1.11x; 8 envs 2x256, 5.4M, 1.09x)."""


class A2CLearner(OnPolicyLearner, Learner):
    """Synchronous advantage actor-critic over the experiment's actor-critic."""

    def __init__(self, decl: A2C, built: Any) -> None:
        use_fast = choose_fast(decl.backend, built.policy, built.device)
        super().__init__(decl, built, decl.n_steps, use_fast)
        self.modes = PolicyModes(self.policy)
        # one update per rollout, with the weights that acted: the rollout's forward pass is
        # the update's, so the fast backend keeps its activations where that pays
        params = list(self.policy.parameters())
        rows = decl.n_steps * built.env_loop.n_envs
        self.keep_hidden = use_fast and rows * sum(p.numel() for p in params) >= REUSE_MIN_MACS
        if decl.optimizer == "rmsprop":
            self.optimizer = (lean_rmsprop(params, decl.lr, decl.rms_alpha, decl.eps) if use_fast
                              else torch.optim.RMSprop(params, lr=decl.lr, alpha=decl.rms_alpha,
                                                       eps=decl.eps))
        else:
            self.optimizer = (lean_adam(params, decl.lr, decl.eps) if use_fast
                              else torch_adam(params, decl.lr, decl.eps))

    def iteration(self, progress: float) -> dict[str, float]:
        decl = self.decl
        lr = scheduled(decl.lr, decl.lr_schedule, progress)
        set_lr(self.optimizer, lr)
        with self.modes.acting():  # SB3 collects in eval mode, updates in train mode
            self.collect()
        batch = self.rollout.batch(decl.gamma, decl.gae_lambda)
        step = self.built.env_loop.steps
        with self.modes.updating():
            if self.fast:
                stats = fast.a2c_update(self.policy, self.optimizer, batch, decl, step,
                                        recorded=self.rollout.recorded_forward()).as_dict()
            else:
                stats = a2c_update(self.policy, self.optimizer, batch, decl, step)
        return {**stats, "lr": lr}
