"""RLlib's torch learners with the mazedsl settings RLlib lacks: Adam's epsilon (PPO, DQN,
SAC), and for PPO a linear clip schedule and the clip fraction metric. Imported by Ray
workers by name."""

from __future__ import annotations

from typing import Any, Dict

import torch
from ray.rllib.algorithms.dqn.torch.dqn_torch_learner import DQNTorchLearner
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner
from ray.rllib.core.columns import Columns
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME


class _WithClip:
    """A read-only view of a module's config with another ``clip_param``."""

    def __init__(self, base: Any, clip_param: float) -> None:
        self._base = base
        self.clip_param = clip_param

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


class MazePPOLearner(PPOTorchLearner):
    """``PPOTorchLearner`` + ``learner_config_dict`` keys ``adam_eps``, ``clip_schedule``
    ('constant'/'linear' over ``total_steps`` sampled env steps) and ``clip_param``."""

    def build(self) -> None:
        extra = self.config.learner_config_dict or {}
        self._clip0 = float(extra.get("clip_param", self.config.clip_param))
        self._clip_now = self._clip0
        super().build()

    def configure_optimizers_for_module(self, module_id: Any, config: Any = None) -> None:
        module = self._module[module_id]
        params = self.get_parameters(module)
        eps = float((self.config.learner_config_dict or {}).get("adam_eps", 1e-8))
        self.register_optimizer(module_id=module_id, optimizer=torch.optim.Adam(params, eps=eps),
                                params=params, lr_or_lr_schedule=config.lr)

    def before_gradient_based_update(self, *, timesteps: Dict[str, Any]) -> None:
        super().before_gradient_based_update(timesteps=timesteps)
        extra = self.config.learner_config_dict or {}
        if extra.get("clip_schedule") == "linear":
            steps = float(timesteps.get(NUM_ENV_STEPS_SAMPLED_LIFETIME, 0) or 0)
            total = float(extra.get("total_steps") or 1)
            self._clip_now = self._clip0 * max(0.0, 1.0 - min(steps / total, 1.0))

    def compute_loss_for_module(self, *, module_id: Any, config: Any, batch: Dict[str, Any],
                                fwd_out: Dict[str, Any]) -> Any:
        clip = self._clip_now
        view = config if clip == config.clip_param else _WithClip(config, clip)
        loss = super().compute_loss_for_module(module_id=module_id, config=view, batch=batch,
                                               fwd_out=fwd_out)
        with torch.no_grad():
            module = self.module[module_id].unwrapped()
            dist = module.get_train_action_dist_cls().from_logits(fwd_out[Columns.ACTION_DIST_INPUTS])
            ratio = torch.exp(dist.logp(batch[Columns.ACTIONS]) - batch[Columns.ACTION_LOGP])
            clipped = ((ratio - 1.0).abs() > clip).float()
            if Columns.LOSS_MASK in batch:
                clipped = clipped[batch[Columns.LOSS_MASK]]
            self.metrics.log_value((module_id, "clip_fraction"), clipped.mean().item(), window=1)
            self.metrics.log_value((module_id, "clip_param"), clip, window=1)
        return loss


class _AdamEps:
    """Sets ``learner_config_dict['adam_eps']`` on every Adam optimizer RLlib built for a module."""

    def configure_optimizers_for_module(self, module_id: Any, config: Any = None) -> None:
        super().configure_optimizers_for_module(module_id, config)  # type: ignore[misc]
        eps = (self.config.learner_config_dict or {}).get("adam_eps")  # type: ignore[attr-defined]
        if eps is None:
            return
        for _name, optimizer in self.get_optimizers_for_module(module_id):  # type: ignore[attr-defined]
            for group in optimizer.param_groups:
                group["eps"] = float(eps)


class MazeDQNLearner(_AdamEps, DQNTorchLearner):
    """``DQNTorchLearner`` with ``learner_config_dict['adam_eps']``."""


class MazeSACLearner(_AdamEps, SACTorchLearner):
    """``SACTorchLearner`` with ``learner_config_dict['adam_eps']`` (RLlib fixes it at 1e-7)."""
