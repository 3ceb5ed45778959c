"""Algorithm packages: one sub-package per algorithm (declaration, learner, defaults), each
registered by name in :mod:`mazedsl.rl.registry`. :class:`Learner` is their common base."""

from __future__ import annotations

from typing import Any

__all__ = ["Learner"]


def __getattr__(name: str) -> Any:
    if name == "Learner":
        from mazedsl.rl.algos.base import Learner

        return Learner
    raise AttributeError(name)
