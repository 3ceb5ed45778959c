"""The hooks :class:`mazedsl.RunContext` calls for a run whose runner is an ``RLlibRunner``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable


def train(ctx: Any, total_steps: int | None, n_epochs: int | None,
          on_start: Callable[[Path], Any] | None = None) -> Any:
    """Train (or resume, for a loaded run) on RLlib; afterwards the context acts with the
    run's last checkpoint."""
    from mazedsl.rllib.runner import train_run
    from mazedsl.rllib.translate import check

    resuming = ctx._checkpoint_kind is not None
    if not resuming and ctx._run_obj is None and not ctx._keep_refused:
        check(ctx._exp)  # refused input leaves no run directory behind (as a native build's)
    if resuming and total_steps is not None:  # a larger N is the run's budget (set_total_steps)
        ctx._take_budget(total_steps, steps=resume_steps(ctx.run_dir))
    if on_start is not None:
        on_start(ctx.run_dir)
    ctx._agent = None
    summary = train_run(ctx._exp, ctx._run, ctx._env_factory(), resume=resuming,
                        total_steps=total_steps, n_epochs=n_epochs, silent=ctx.silent)
    ctx._checkpoint_kind = "last"
    return summary


def agent(ctx: Any) -> Any:
    """The policy of an RLlib run: from ``checkpoints/<kind>/`` of a loaded or trained run."""
    from mazedsl.errors import CheckpointError
    from mazedsl.rllib.policy import load_built

    if ctx._checkpoint_kind is None:
        raise CheckpointError(f"{ctx.run_dir}: an RLlib run acts after train() (or "
                              "RunContext.load of a trained run); it has no policy yet")
    return load_built(ctx._exp, ctx._run, ctx._checkpoint_kind, ctx._env_factory())


def resume_steps(run_dir: Path) -> int:
    """The env steps an RLlib run resumes from (its ``last`` checkpoint's), or a
    CheckpointError naming what is missing."""
    import json

    from mazedsl.errors import CheckpointError
    from mazedsl.rllib.policy import STATE_FILE, checkpoint_dir

    path = checkpoint_dir(run_dir, "last") / STATE_FILE
    try:
        return int(json.loads(path.read_text(encoding="utf-8"))["steps"])
    except (OSError, ValueError, KeyError, TypeError):
        raise CheckpointError(f"{path}: not a mazedsl RLlib checkpoint's state") from None
