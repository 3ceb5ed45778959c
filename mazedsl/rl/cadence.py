"""What the native trainer and the RLlib loop share around their updates: when the next
log, evaluation or checkpoint is due, and which evaluation is the best so far."""

from __future__ import annotations

from typing import Any


def next_after(due: int, steps: int, every: int) -> int:
    """The first multiple of ``every`` past ``due`` that is beyond ``steps``."""
    while due <= steps:
        due += every
    return due


class BestEvalSelection:
    """Best-evaluation bookkeeping over ``exp``, ``evaluations``, ``best_eval`` and
    ``evals_since_best`` (attributes of the class it is mixed into)."""

    exp: Any
    evaluations: int
    best_eval: float | None
    evals_since_best: int

    def _select(self, result: Any, step: int, time_s: float) -> tuple[dict[str, Any], bool, str | None]:
        """Count one evaluation: its ``metrics.jsonl`` record, whether it is the best so far,
        and the early-stop reason it triggers ("target_return", "early_stopping" or None)."""
        self.evaluations += 1
        mean = result.mean_return
        is_best = self.best_eval is None or mean > self.best_eval
        if is_best:
            self.best_eval = mean
            self.evals_since_best = 0
        else:
            self.evals_since_best += 1
        record = {"phase": "eval", "step": step, "time": time_s,
                  **{k: v for k, v in result.summary().items() if k not in ("returns", "lengths")},
                  "best": is_best}
        reason = None
        if self.exp.target_return is not None and mean >= self.exp.target_return:
            reason = "target_return"
        elif self.exp.patience is not None and self.evals_since_best >= self.exp.patience:
            reason = "early_stopping"
        return record, is_best, reason
