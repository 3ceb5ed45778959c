"""Algorithm declarations: PPO and A2C, every hyperparameter documented where declared."""

from __future__ import annotations

from typing import Optional

import attrs

from mazedsl.spec._fields import (ge, gt, is_bool, is_float, is_int, is_str, le, one_of,
                                  optional, param)

SCHEDULES = ("constant", "linear")


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
    max_grad_norm: float = param(0.5, "Global gradient-norm clip.", is_float, gt(0))
    target_kl: Optional[float] = param(None, "Stop the epochs early past this approx. KL; None: never.",
                                       optional(is_float), optional(gt(0)))
    adam_eps: float = param(1e-5, "Adam epsilon (SB3/CleanRL: 1e-5).", is_float, gt(0))


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
    max_grad_norm: float = param(0.5, "Global gradient-norm clip.", is_float, gt(0))
    optimizer: str = param("rmsprop", "'rmsprop' (alpha 0.99, eps 1e-5, as SB3) or 'adam'.",
                           is_str, one_of("rmsprop", "adam"))
    rms_alpha: float = param(0.99, "RMSprop smoothing constant.", is_float, gt(0), le(1))
    eps: float = param(1e-5, "Optimizer epsilon.", is_float, gt(0))


Algorithm = PPO | A2C
