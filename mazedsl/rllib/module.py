"""mazedsl's own actor-critic as an RLlib RLModule: how a model or critic of your own
(``TorchModel``, any ``torch.nn.Module``) and the image model (``PixelObs``) train on RLlib.

RLlib's default RLModule builds its own MLP from ``fcnet_hiddens``; a user's module cannot be
described that way, so it goes through an ``RLModuleSpec`` naming this class, whose network is
exactly the native engine's :class:`~mazedsl.rl.models.ActorCritic` (same layers, same
initialisation). :class:`MazeSACModule` is RLlib's SAC module with mazedsl's log-std bounds.
Imported by Ray workers by name.
"""

from __future__ import annotations

from typing import Any, Dict

import torch
from gymnasium import spaces
from ray.rllib.core.columns import Columns
from ray.rllib.algorithms.sac.torch.default_sac_torch_rl_module import DefaultSACTorchRLModule
from ray.rllib.core.distribution.torch.torch_distribution import (TorchCategorical,
                                                                  TorchDeterministic,
                                                                  TorchDiagGaussian,
                                                                  TorchSquashedGaussian)
from ray.rllib.core.rl_module.apis.value_function_api import ValueFunctionAPI
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule


class _OneDistribution:
    """The same action distribution class (``_dist_cls()``) for inference, exploration and
    training."""

    def _dist_cls(self) -> Any:
        raise NotImplementedError

    def get_inference_action_dist_cls(self) -> Any:
        return self._dist_cls()

    def get_exploration_action_dist_cls(self) -> Any:
        return self._dist_cls()

    def get_train_action_dist_cls(self) -> Any:
        return self._dist_cls()


class MazeActorCriticModule(_OneDistribution, TorchRLModule, ValueFunctionAPI):
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


class MazeSquashedGaussian(TorchSquashedGaussian):
    """RLlib's tanh-squashed Gaussian with the log std clamped by the module (mazedsl's
    ``log_std_min``/``log_std_max``, not RLlib's fixed [-5, 2]) and the deterministic action
    squashed like the samples (``tanh(mean)``, as natively; RLlib's is the raw mean)."""

    @classmethod
    def from_logits(cls, logits: torch.Tensor, low: float = -1.0, high: float = 1.0,
                    **kwargs: Any) -> "MazeSquashedGaussian":
        loc, log_std = logits.chunk(2, dim=-1)
        return cls(loc=loc, scale=log_std.exp(), low=low, high=high, **kwargs)

    def to_deterministic(self) -> Any:
        return TorchDeterministic(loc=self._squash(self.loc))


class _ClampLogStd(torch.nn.Module):
    """The policy head's ``[mean, log_std]`` with the log std clamped to ``[low, high]``."""

    def __init__(self, head: torch.nn.Module, low: float, high: float) -> None:
        super().__init__()
        self.head, self.low, self.high = head, float(low), float(high)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean, log_std = self.head(x).chunk(2, dim=-1)
        return torch.cat([mean, log_std.clamp(self.low, self.high)], dim=-1)


class MazeSACModule(_OneDistribution, DefaultSACTorchRLModule):
    """RLlib's SAC RLModule whose policy clamps its log std to ``model_config``'s
    ``log_std_min``/``log_std_max`` (SB3's [-20, 2] by default) and acts with
    :class:`MazeSquashedGaussian`."""

    def setup(self) -> None:
        super().setup()
        if isinstance(self.action_space, spaces.Box):
            cfg = self.model_config
            self.pi = _ClampLogStd(self.pi, cfg.get("log_std_min", -20.0),
                                   cfg.get("log_std_max", 2.0))

    def _dist_cls(self) -> Any:
        return MazeSquashedGaussian if isinstance(self.action_space, spaces.Box) \
            else TorchCategorical
