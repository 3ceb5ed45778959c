"""The behaviour-cloning declaration: every hyperparameter documented where declared."""

from __future__ import annotations

import attrs

from mazedsl.spec._fields import ge, gt, is_float, is_int, one_as_list, param


def str_list(value: object) -> str | None:
    ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) and v for v in value)
    return None if ok else "must be a list of non-empty strings"


def lt_one(value: object) -> str | None:
    return None if isinstance(value, (int, float)) and value < 1 else "must be < 1"


@attrs.define(frozen=True, kw_only=True)
class BC:
    """Behaviour cloning: supervised learning of the policy from recorded episodes.

    ``episodes`` names what ``mazedsl rollout`` / ``RunContext.rollout()`` wrote (a list,
    or one of them as a string): run directories (their ``rollouts/*.npz``), ``rollouts``
    folders, ``.npz`` files, run names (``latest``, ``cartpole_ppo:latest``) or globs of them.
    Whole episodes are held out for validation. The loss is the policy's negative
    log-likelihood of the recorded actions (cross-entropy for discrete actions) minus an
    entropy bonus, plus an L2 penalty:
    the ``imitation`` library's BC (defaults: Adam lr 1e-3, batch 32, ent_weight 1e-3,
    l2_weight 0). ``total_steps`` counts training samples (minibatch rows) seen.
    """

    episodes: list[str] = param([], "Run dirs, rollouts folders, .npz files, run names or globs "
                                "(imitation's BC takes its demonstrations as an argument; none by "
                                "default).",
                                str_list, converter=one_as_list)
    lr: float = param(1e-3, "Adam learning rate (imitation's BC: 1e-3).", is_float, gt(0))
    batch_size: int = param(32, "Minibatch size (imitation's BC: 32).", is_int, gt(0))
    ent_weight: float = param(1e-3, "Entropy bonus weight (imitation's BC: 1e-3).", is_float, ge(0))
    l2_weight: float = param(0.0, "L2 penalty on the policy weights (imitation's BC: 0).",
                             is_float, ge(0))
    validation_fraction: float = param(0.1, "Fraction of the episodes held out for validation "
                                       "(at least one episode when there are two or more; imitation's BC "
                                       "has no validation split: 0.1 is mazedsl's choice).",
                                       is_float, ge(0), lt_one)
    steps_per_iteration: int = param(2_048, "Training samples per iteration (a validation loss "
                                     "is computed after each; mazedsl's choice: imitation's BC "
                                     "logs every log_interval=500 batches).", is_int, gt(0))
    max_grad_norm: float = param(10.0, "Global gradient-norm clip (imitation's BC does not "
                                 "clip; 10 only guards against outliers).", is_float, gt(0))
    adam_eps: float = param(1e-8, "Adam epsilon (torch default 1e-8).", is_float, gt(0))
