"""The PPO declaration: every hyperparameter documented where declared."""

from __future__ import annotations

from typing import Optional

import attrs

from mazedsl.spec._fields import ge, gt, is_bool, is_float, is_int, le, one_of, optional, param
from mazedsl.spec.algorithms import SCHEDULES

BACKENDS = ("auto", "torch", "fast")


@attrs.define(frozen=True, kw_only=True)
class PPO:
    """Proximal Policy Optimization (Schulman et al. 2017), clipped objective with GAE.

    Defaults are Stable-Baselines3 2.x's PPO defaults, except ``n_steps`` (128 per env,
    as CleanRL) and ``batch_size`` (256), which suit the 8-env runner.
    """

    lr: float = param(3e-4, "Adam learning rate (SB3 default 3e-4).", is_float, gt(0))
    lr_schedule: str = param("constant", "'constant' or 'linear' decay to 0 over the budget.",
                             one_of(*SCHEDULES))
    n_steps: int = param(128, "Steps collected per env before each update.", is_int, gt(0))
    batch_size: int = param(256, "Minibatch size of each gradient step.", is_int, gt(0))
    n_epochs: int = param(10, "Passes over the rollout per update (SB3: 10).", is_int, gt(0))
    gamma: float = param(0.99, "Discount factor.", is_float, ge(0), le(1))
    gae_lambda: float = param(0.95, "GAE lambda (1.0 = Monte Carlo advantage).", is_float, ge(0), le(1))
    clip_range: float = param(0.2, "PPO ratio clip epsilon.", is_float, gt(0))
    clip_schedule: str = param("constant", "'constant' or 'linear' decay of clip_range to 0.",
                               one_of(*SCHEDULES))
    clip_range_vf: Optional[float] = param(None, "Value clipping epsilon; None disables it.",
                                           optional(is_float), optional(gt(0)))
    normalize_advantage: bool = param(True, "Normalise advantages per minibatch.", is_bool)
    ent_coef: float = param(0.0, "Entropy bonus coefficient.", is_float, ge(0))
    vf_coef: float = param(0.5, "Value loss coefficient.", is_float, ge(0))
    max_grad_norm: Optional[float] = param(0.5, "Global gradient-norm clip (SB3: 0.5); None: no clipping.",
                                           optional(is_float), optional(gt(0)))
    target_kl: Optional[float] = param(None, "Stop the epochs early past this approx. KL; None: never.",
                                       optional(is_float), optional(gt(0)))
    adam_eps: float = param(1e-5, "Adam epsilon (SB3/CleanRL: 1e-5).", is_float, gt(0))
    backend: str = param("auto", "'torch': the plain-torch reference (autograd, torch.optim); 'fast': "
                         "numpy rollouts and hand-written MLP gradients (CPU, built-in MLP, Discrete "
                         "or 1-D Box; proven equal in tests); 'auto': 'fast' where it applies and wins.",
                         one_of(*BACKENDS))
