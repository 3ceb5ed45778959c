"""The PPO learner: on-policy rollouts, then the plain-torch update or the fast backend."""

from __future__ import annotations

from typing import Any

from mazedsl.errors import ConfigError
from mazedsl.rl.algos.base import Learner
from mazedsl.rl.algos.ppo import fast
from mazedsl.rl.algos.ppo.spec import PPO
from mazedsl.rl.algos.ppo.update import ppo_update
from mazedsl.rl.models import PolicyModes
from mazedsl.rl.onpolicy import OnPolicyLearner, choose_fast
from mazedsl.rl.updates import lean_adam, torch_adam, set_lr
from mazedsl.spec.algorithms import scheduled


class PPOLearner(OnPolicyLearner, Learner):
    """Proximal Policy Optimization over the experiment's actor-critic."""

    def __init__(self, decl: PPO, built: Any) -> None:
        use_fast = choose_fast(decl.backend, built.policy, built.device,
                               "value clipping is not covered" if decl.clip_range_vf is not None
                               else None)
        super().__init__(decl, built, decl.n_steps, use_fast)
        self.modes = PolicyModes(self.policy)
        params = list(self.policy.parameters())
        self.optimizer = (lean_adam(params, decl.lr, decl.adam_eps) if use_fast
                          else torch_adam(params, decl.lr, decl.adam_eps))

    @classmethod
    def check(cls, decl: PPO, experiment: Any, obs_space: Any, action_space: Any) -> None:
        rollout = decl.n_steps * experiment.runner.n_envs
        if decl.batch_size > rollout:
            raise ConfigError(f"{decl.batch_size} is larger than one rollout (n_steps "
                              f"{decl.n_steps} x runner.n_envs {experiment.runner.n_envs} = "
                              f"{rollout})", "algorithm.batch_size")

    def iteration(self, progress: float) -> dict[str, float]:
        decl = self.decl
        lr = scheduled(decl.lr, decl.lr_schedule, progress)
        set_lr(self.optimizer, lr)
        with self.modes.acting():  # SB3 collects in eval mode, updates in train mode
            self.collect()
        batch = self.rollout.batch(decl.gamma, decl.gae_lambda)
        clip = scheduled(decl.clip_range, decl.clip_schedule, progress)
        step = self.built.env_loop.steps
        with self.modes.updating():
            if self.fast:
                stats = fast.ppo_update(self.policy, self.optimizer, batch, decl, clip,
                                        step).as_dict()
            else:
                stats = ppo_update(self.policy, self.optimizer, batch, decl, clip, step)
        return {**stats, "clip_range": clip, "lr": lr}
