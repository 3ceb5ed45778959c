"""mazedsl's own actor-critic as an RLlib RLModule: how a model or critic of your own
(``TorchModel``, any ``torch.nn.Module``) and the image model (``PixelObs``) train on RLlib.

RLlib's default RLModule builds its own MLP from ``fcnet_hiddens``; a user's module cannot be
described that way, so it goes through an ``RLModuleSpec`` naming this class, whose network is
exactly the native engine's :class:`~mazedsl.rl.models.ActorCritic` (same layers, same
initialisation). Imported by Ray workers by name.
"""

from __future__ import annotations

from typing import Any, Dict

import torch
from gymnasium import spaces
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import (TorchCategorical,
                                                                  TorchDiagGaussian)
from ray.rllib.core.rl_module.apis.value_function_api import ValueFunctionAPI
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule


class MazeActorCriticModule(TorchRLModule, ValueFunctionAPI):
    """``model_config``: ``{"model": <declaration>, "critic": <declaration>, "allow_targets":
    [modules]}``; Discrete or
    1-D Box actions (a Gaussian with a state-independent log-std, as natively)."""

    def setup(self) -> None:
        from mazedsl.config.instantiate import allowed_also
        from mazedsl.rl.models import ActorCritic

        cfg = self.model_config
        with allowed_also(cfg.get("allow_targets", [])):  # the experiment's own modules
            self.net = ActorCritic(self.observation_space, self.action_space, cfg["model"],
                                   cfg["critic"])
        self.gaussian = isinstance(self.action_space, spaces.Box)

    def _dist_inputs(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, values = self.net.reference_forward(obs)
        if self.gaussian:
            out = torch.cat([out, self.net.log_std.expand_as(out)], dim=-1)
        return out, values

    def _forward(self, batch: Dict[str, Any], **kwargs: Any) -> Dict[str, Any]:
        out, _ = self._dist_inputs(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: out}

    def _forward_train(self, batch: Dict[str, Any], **kwargs: Any) -> Dict[str, Any]:
        out, values = self._dist_inputs(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: out, Columns.EMBEDDINGS: values}

    def compute_values(self, batch: Dict[str, Any], embeddings: Any = None) -> torch.Tensor:
        if embeddings is not None:
            return embeddings
        return self.net.reference_forward(batch[Columns.OBS])[1]

    def _dist_cls(self) -> Any:
        return TorchDiagGaussian if self.gaussian else TorchCategorical

    def get_inference_action_dist_cls(self) -> Any:
        return self._dist_cls()

    def get_exploration_action_dist_cls(self) -> Any:
        return self._dist_cls()

    def get_train_action_dist_cls(self) -> Any:
        return self._dist_cls()
