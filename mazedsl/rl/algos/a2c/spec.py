"""The A2C declaration: every hyperparameter documented where declared."""

from __future__ import annotations

from typing import Optional

import attrs

from mazedsl.rl.algos.ppo.spec import BACKENDS
from mazedsl.spec._fields import ge, gt, is_bool, is_float, is_int, is_str, le, one_of, optional, param
from mazedsl.spec.algorithms import SCHEDULES


@attrs.define(frozen=True, kw_only=True)
class A2C:
    """Advantage Actor-Critic (Mnih et al. 2016), synchronous n-step with optional GAE.

    Defaults are Stable-Baselines3 2.x's A2C defaults (RMSprop, lr 7e-4, 5 steps).
    """

    lr: float = param(7e-4, "Learning rate (SB3 default 7e-4).", is_float, gt(0))
    lr_schedule: str = param("constant", "'constant' or 'linear' decay to 0 over the budget.",
                             one_of(*SCHEDULES))
    n_steps: int = param(5, "Steps collected per env before each update (n-step return).",
                         is_int, gt(0))
    gamma: float = param(0.99, "Discount factor.", is_float, ge(0), le(1))
    gae_lambda: float = param(1.0, "GAE lambda; 1.0 gives the classic n-step advantage.",
                              is_float, ge(0), le(1))
    normalize_advantage: bool = param(False, "Normalise advantages per update.", is_bool)
    ent_coef: float = param(0.0, "Entropy bonus coefficient.", is_float, ge(0))
    vf_coef: float = param(0.5, "Value loss coefficient.", is_float, ge(0))
    max_grad_norm: Optional[float] = param(0.5, "Global gradient-norm clip (SB3: 0.5); None: no clipping.",
                                           optional(is_float), optional(gt(0)))
    optimizer: str = param("rmsprop", "'rmsprop' (alpha 0.99, eps 1e-5, as SB3) or 'adam'.",
                           is_str, one_of("rmsprop", "adam"))
    rms_alpha: float = param(0.99, "RMSprop smoothing constant.", is_float, gt(0), le(1))
    eps: float = param(1e-5, "Optimizer epsilon.", is_float, gt(0))
    backend: str = param("auto", "'torch' (plain-torch reference), 'fast' (hand-written gradients "
                         "and numpy rollouts where they apply) or 'auto'.", one_of(*BACKENDS))
