"""The DQN declaration: every hyperparameter documented where declared."""

from __future__ import annotations

import attrs

from mazedsl.spec._fields import ge, gt, is_bool, is_float, is_int, is_str, le, one_of, param

SCHEDULES = ("constant", "linear")


def _grad_steps(value: object) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and (value > 0 or value == -1)
    return None if ok else "must be a positive integer or -1 (as many as env steps collected)"


@attrs.define(frozen=True, kw_only=True)
class DQN:
    """Deep Q-Network (Mnih et al. 2015) for Discrete action spaces, with optional double-DQN
    targets (van Hasselt et al. 2016).

    Defaults are Stable-Baselines3 2.x's DQN defaults. Counts are in env steps of the whole
    vector env (as SB3: ``train_freq`` in vector steps, i.e. ``n_envs`` transitions each).
    The Q-network is the experiment's ``model`` torso with one linear output per action
    (SB3's default MlpPolicy is a 2x64 ReLU MLP without orthogonal init).
    """

    lr: float = param(1e-4, "Adam learning rate (SB3 default 1e-4).", is_float, gt(0))
    lr_schedule: str = param("constant", "'constant' or 'linear' decay to 0 over the budget "
                             "(SB3: a constant learning_rate; rl-zoo: 'lin_<lr>' is linear).",
                             one_of(*SCHEDULES))
    buffer_size: int = param(1_000_000, "Replay buffer capacity in transitions (SB3: 1e6).",
                             is_int, gt(0))
    learning_starts: int = param(100, "Env steps of uniformly random actions before learning "
                                 "starts (SB3 2.x: 100).", is_int, ge(0))
    batch_size: int = param(32, "Minibatch size of each gradient step (SB3: 32).", is_int, gt(0))
    gamma: float = param(0.99, "Discount factor (SB3: 0.99).", is_float, ge(0), le(1))
    tau: float = param(1.0, "Target update coefficient: 1.0 copies the online net (hard update, "
                       "SB3 default), below 1 is a Polyak average.", is_float, gt(0), le(1))
    target_update_interval: int = param(10_000, "Env steps between target-network updates "
                                        "(SB3: 10000).", is_int, gt(0))
    train_freq: int = param(4, "Vector env steps collected between training phases (SB3: 4).",
                            is_int, gt(0))
    gradient_steps: int = param(1, "Gradient steps per training phase; -1: as many as transitions "
                                "collected in the phase (SB3: 1).", _grad_steps)
    exploration_fraction: float = param(0.1, "Fraction of the budget over which epsilon decays "
                                        "linearly (SB3: 0.1).", is_float, ge(0), le(1))
    exploration_initial_eps: float = param(1.0, "Initial epsilon of epsilon-greedy (SB3: 1.0).",
                                           is_float, ge(0), le(1))
    exploration_final_eps: float = param(0.05, "Final epsilon (SB3: 0.05).", is_float, ge(0), le(1))
    max_grad_norm: float = param(10.0, "Global gradient-norm clip (SB3: 10).", is_float, gt(0))
    double_q: bool = param(False, "Double DQN: the online net picks the next action, the target "
                           "net values it (SB3's DQN: off).", is_bool)
    loss: str = param("huber", "'huber' (smooth L1, delta 1, as SB3) or 'mse'.", is_str,
                      one_of("huber", "mse"))
    adam_eps: float = param(1e-8, "Adam epsilon (torch/SB3 default 1e-8).", is_float, gt(0))
    save_replay: bool = param(True, "Save the replay buffer beside last.pt "
                              "(checkpoints/replay.pt) for an exact resume; off: a resume refills "
                              "it from scratch. (SB3 2.x saves it only on request, with "
                              "save_replay_buffer(); RLlib's store_buffer_in_checkpoints is off by "
                              "default.)", is_bool)
