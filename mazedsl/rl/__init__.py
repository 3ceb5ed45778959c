"""The torch engine. ``mazedsl.rl.build(experiment, device=...)`` is the build stage (see
:mod:`mazedsl.rl.building`); importing this package stays cheap (torch loads on first use)."""

from __future__ import annotations

from typing import Any

__all__ = ["build", "Built", "register_algorithm"]


def __getattr__(name: str) -> Any:
    if name in ("build", "Built"):
        from mazedsl.rl import building

        return getattr(building, name)
    if name == "register_algorithm":
        from mazedsl.rl.registry import register_algorithm

        return register_algorithm
    raise AttributeError(f"module 'mazedsl.rl' has no attribute {name!r}")
