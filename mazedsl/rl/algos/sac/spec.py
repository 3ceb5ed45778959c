"""The SAC declaration: every hyperparameter documented where declared."""

from __future__ import annotations

from typing import Callable, Optional

import attrs

from mazedsl.spec._fields import ge, gt, is_bool, is_float, is_int, le, one_of, optional, param

SCHEDULES = ("constant", "linear")


def _grad_steps(value: object) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and (value > 0 or value == -1)
    return None if ok else "must be a positive integer or -1 (as many as env steps collected)"


def _not_auto(meaning: str, initial_field: str | None = None) -> Callable[[object], str | None]:
    """Refuses SB3's ``'auto'`` (and ``'auto_0.1'``) strings, saying how this declaration
    spells them: null (``meaning``), with ``initial_field`` holding the initial value."""
    def check(value: object) -> str | None:
        if not (isinstance(value, str) and value.lower().startswith("auto")):
            return None
        start = value[5:] if value[4:5] == "_" else ""
        also = f" and {initial_field}={start}" if initial_field and start else ""
        return f"must be a number or null (null{also}: {meaning}, as SB3's {value!r})"
    check.explains_raw = True  # type: ignore[attr-defined] - read before the type's check
    return check


@attrs.define(frozen=True, kw_only=True)
class SAC:
    """Soft Actor-Critic (Haarnoja et al. 2018) for Box action spaces: twin Q critics, a
    tanh-squashed Gaussian policy and automatic entropy tuning.

    Defaults are Stable-Baselines3 2.x's SAC defaults. The actor is the experiment's
    ``model`` torso with mean and log-std heads (SB3: 2x256 ReLU), each critic Q(s, a) an MLP
    of ``critic.hidden_units`` / ``critic.activation`` (SB3: 2x256 ReLU) on the concatenated
    observation and action. Counts are in env steps of the whole vector env.
    """

    lr: float = param(3e-4, "Adam learning rate of actor, critics and entropy coefficient "
                      "(SB3 default 3e-4).", is_float, gt(0))
    lr_schedule: str = param("constant", "'constant' or 'linear' decay to 0 over the budget "
                             "(SB3: a constant learning_rate; rl-zoo: 'lin_<lr>' is linear).",
                             one_of(*SCHEDULES))
    buffer_size: int = param(1_000_000, "Replay buffer capacity in transitions (SB3: 1e6).",
                             is_int, gt(0))
    learning_starts: int = param(100, "Env steps of uniformly random actions before learning "
                                 "starts (SB3 2.x: 100).", is_int, ge(0))
    batch_size: int = param(256, "Minibatch size of each gradient step (SB3: 256).", is_int, gt(0))
    tau: float = param(0.005, "Polyak coefficient of the target critics (SB3: 0.005).",
                       is_float, gt(0), le(1))
    gamma: float = param(0.99, "Discount factor (SB3: 0.99).", is_float, ge(0), le(1))
    train_freq: int = param(1, "Vector env steps collected between training phases (SB3: 1).",
                            is_int, gt(0))
    gradient_steps: int = param(1, "Gradient steps per training phase; -1: as many as transitions "
                                "collected in the phase (SB3: 1).", _grad_steps)
    target_update_interval: int = param(1, "Gradient steps between target-critic updates, "
                                        "counted over the whole run (SB3: 1; SB3 counts them "
                                        "within each training phase, so with gradient_steps=1 "
                                        "it updates every phase whatever this is).", is_int, gt(0))
    ent_coef: Optional[float] = param(None, "Fixed entropy coefficient alpha; None tunes it "
                                      "automatically (SB3's 'auto').", _not_auto("tuned automatically", "ent_coef_init"),
                                      optional(is_float), optional(gt(0)))
    ent_coef_init: float = param(1.0, "Initial alpha when tuned (SB3 'auto': 1.0).", is_float, gt(0))
    target_entropy: Optional[float] = param(None, "Entropy target of the tuning; None: -dim(A) "
                                            "(SB3's 'auto').", _not_auto("-dim(A)"), optional(is_float))
    log_std_min: float = param(-20.0, "Lower clamp of the policy's log std (SB3: -20).", is_float)
    log_std_max: float = param(2.0, "Upper clamp of the policy's log std (SB3: 2).", is_float)
    adam_eps: float = param(1e-8, "Adam epsilon (torch/SB3 default 1e-8).", is_float, gt(0))
    backend: str = param("auto", "'torch': the plain-torch reference step (autograd through the "
                         "losses); 'auto': hand-written gradients where they apply (CPU, ReLU/tanh MLP "
                         "actor and critics; proven equal to the reference in tests), else 'torch'. "
                         "(SB3 has no such choice: it always runs autograd, as 'torch'.)",
                         one_of("auto", "torch"))
    save_replay: bool = param(True, "Save the replay buffer beside last.pt "
                              "(checkpoints/replay.pt) for an exact resume; off: a resume refills "
                              "it from scratch. (SB3 2.x saves it only on request, with "
                              "save_replay_buffer(); RLlib's store_buffer_in_checkpoints is off by "
                              "default.)", is_bool)
