"""The base class of every algorithm's live part (its learner)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from gymnasium import spaces
    from torch import nn

    from mazedsl.rl.building import Built
    from mazedsl.spec import Experiment


class Learner:
    """What the trainer drives: one ``iteration`` = collect experience from ``built.env_loop``
    (which counts env steps) and update; returns the statistics to log.

    Subclasses are registered with :func:`mazedsl.register_algorithm`. The policy that
    evaluation, rollouts and ``compute_action`` use is ``built.policy``: by default the
    actor-critic of the experiment's model and critic; :meth:`make_policy` may build another
    module, which must offer ``predict(obs, deterministic) -> actions`` on a float batch of
    prepared observations on the run's device.
    """

    #: The step budget of the trainer's current ``train()`` call (set by the Trainer before
    #: it iterates); a learner that can end an iteration early may stop exactly at it.
    budget: int | None = None

    #: The env steps one ``iteration`` takes when that is fixed (an on-policy rollout, an
    #: off-policy collection phase), else None (e.g. an iteration that stops at ``budget``).
    #: A budget that is not a whole number of iterations rounds up to one (as SB3's ``learn``);
    #: the trainer's progress total and its note say so.
    iteration_steps: int | None = None

    #: Whether training plays env episodes (their returns are logged as ``ep_return_mean``);
    #: False for a learner that learns from recorded data alone. Recorded in run.json as
    #: ``train_episodes``, so viewers say why a run has no training returns.
    plays_episodes: bool = True

    def __init__(self, declaration: Any, built: "Built") -> None:
        self.decl = declaration
        self.built = built

    @classmethod
    def check(cls, declaration: Any, experiment: "Experiment", obs_space: "spaces.Space",
              action_space: "spaces.Space") -> None:
        """Refuse an unworkable combination before anything is written (raise ConfigError)."""

    @classmethod
    def check_training(cls, declaration: Any, experiment: "Experiment", obs_space: "spaces.Space",
                       action_space: "spaces.Space") -> None:
        """Refusals that matter only for training (e.g. missing training data): asked before
        training, not when a trained policy is loaded to evaluate or play."""

    @classmethod
    def for_resume(cls, declaration: Any, run_dir: "Path") -> Any:
        """The declaration to resume the run in ``run_dir`` with (default: ``declaration``);
        e.g. BC pins the episode files the run recorded having trained on."""
        return declaration

    def run_files(self) -> dict[str, Any]:
        """JSON files (name -> content) written into the run directory when training starts."""
        return {}

    def notes(self) -> list[str]:
        """Lines for train.log when training starts; those starting with ``warning:`` or
        ``note:`` are also printed to stderr unless the run is silent."""
        return []

    @classmethod
    def make_policy(cls, declaration: Any, experiment: "Experiment", obs_space: "spaces.Space",
                    action_space: "spaces.Space") -> "nn.Module | None":
        """The acting module, when not the default actor-critic (built on CPU, then moved)."""
        return None

    def iteration(self, progress: float) -> dict[str, float]:
        """Collect and update once; ``progress`` is the fraction of the budget done (schedules)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Everything beyond the policy's weights needed to continue exactly (tensors, plain
        Python), e.g. optimiser states and target networks."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""

    def resume_notes(self) -> list[str]:
        """What the last :meth:`load_state_dict` could not restore exactly, for the user."""
        return []

    def close(self) -> None:
        """Release what the learner holds (files, threads)."""


def unused_field_notes(experiment: "Experiment", unused: tuple[str, ...], algorithm: str) -> list[str]:
    """A note for each field of ``experiment`` its algorithm ignores (its registry entry's
    ``unused``, e.g. DQN's and BC's ``critic``) that is set to other than its default: those
    settings would otherwise be ignored silently."""
    import attrs

    fields = attrs.fields_dict(type(experiment))
    notes = []
    for name in unused:
        default = fields[name].default
        default = default.factory() if isinstance(default, attrs.Factory) else default  # type: ignore[arg-type]
        if getattr(experiment, name) != default:
            notes.append(f"note: {algorithm} does not use `{name}` (it learns through `model` alone): "
                         f"the {name} settings ({name}.*) are ignored")
    return notes
