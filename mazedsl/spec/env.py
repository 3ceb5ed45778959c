"""Environment declarations."""

from __future__ import annotations

import re
from typing import Any, Optional

import attrs

from mazedsl.spec._fields import is_int, is_str, optional, param, str_dict, gt, all_checks


@attrs.define(frozen=True, kw_only=True)
class GymEnv:
    """A gymnasium environment made with ``gymnasium.make(name, **kwargs)``, or by ``factory``."""

    name: str = param("CartPole-v1", "gymnasium id of the environment, e.g. 'CartPole-v1'.", is_str)
    kwargs: dict[str, Any] = param(
        {}, "Keyword arguments passed to gymnasium.make (to the factory when `factory` is set).",
        str_dict)
    max_episode_steps: Optional[int] = param(
        None, "Episode step limit; None keeps the env's registered limit (a factory's env is "
        "wrapped in a TimeLimit when set).", optional(all_checks([is_int, gt(0)])))
    factory: Optional[str] = param(
        None, "Set when the env came from a Python factory: its import path and repr (recorded "
        "for the log; 'module:function' paths can be rebuilt).", optional(is_str))

    @property
    def label(self) -> str:
        """What run tables and logs call the env: the factory's ``module:function`` when the
        env comes from one (``name`` may then be a leftover default), else ``name``."""
        return self.factory if is_import_path(self.factory) else self.name


def is_import_path(path: str | None) -> bool:
    """Whether ``path`` names a callable by ``module:qualname`` (not a recorded description
    of an object that cannot be imported, such as ``<lambda> made CartPole-v1``)."""
    return bool(path) and ":" in path and not path.startswith("<")


_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def factory_form(value: str | None) -> str | None:
    """What is wrong with ``value`` as ``env.factory``, or None: it is ``module:function``,
    or the recorded description of a factory that cannot be imported (``<lambda> made
    CartPole-v1``, a repr), never a bare dotted name (a path with its colon missing)."""
    if not value or not _DOTTED.fullmatch(value):
        return None
    module, _, name = value.rpartition(".")
    example = f"{module}:{name}" if module else f"mypkg.envs:{name}"
    return f"must be 'module:function' (e.g. {example!r})"
