"""Evaluation results (kept here for imports; the loop is :mod:`mazedsl.rl.episodes`)."""

from mazedsl.rl.episodes import EvalResult, evaluate

__all__ = ["EvalResult", "evaluate"]
