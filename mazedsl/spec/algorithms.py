"""What every algorithm declaration shares. The declarations themselves live in the algorithm
packages (``mazedsl.rl.algos.<name>``) and are found through :mod:`mazedsl.rl.registry`."""

from __future__ import annotations

from typing import Any

SCHEDULES = ("constant", "linear")


class AlgorithmSpec:
    """The type of ``Experiment.algorithm``: any registered algorithm declaration."""


def algorithm_types() -> tuple[type, ...]:
    """The registered algorithm declaration classes."""
    from mazedsl.rl.registry import declarations

    return declarations()


def default_algorithm() -> Any:
    """A fresh declaration of the registry's default algorithm."""
    from mazedsl.rl.registry import default_algorithm as default

    return default()


def scheduled(value: float, schedule: str, progress: float) -> float:
    """``value`` at training ``progress`` in [0, 1]: constant, or linear decay to 0."""
    return value * (1.0 - progress) if schedule == "linear" else value
