"""Snapshots of a vector env's state as tensors, so a resumed run continues exactly.

Walks the vector env, its sub-envs and their wrapper chains and keeps every attribute
that is an array, a number, a bool, a deque of arrays or a numpy random generator. That
covers gymnasium's classic-control envs, their native vector versions and mazedsl's own
wrappers; ``snapshot_env`` returns None for envs it cannot capture (subprocess envs).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterator

import gymnasium as gym
import numpy as np
import torch


def _chain(env: Any, key: str) -> Iterator[tuple[str, Any]]:
    depth = 0
    while env is not None:
        yield f"{key}.{depth}", env
        env = getattr(env, "env", None) if isinstance(env, gym.Wrapper) else None
        depth += 1


def _objects(venv: gym.vector.VectorEnv) -> Iterator[tuple[str, Any]]:
    yield "vec", venv
    for i, sub in enumerate(getattr(venv, "envs", []) or []):
        yield from _chain(sub, f"env{i}")


def _encode(value: Any) -> Any:
    if isinstance(value, np.random.Generator):
        return {"__rng__": value.bit_generator.state}
    if isinstance(value, np.ndarray) and value.dtype != object:
        return {"__array__": torch.from_numpy(value.copy()), "shape": list(value.shape)}
    if isinstance(value, (bool, int, float)) or value is None:
        return {"__value__": value}
    if isinstance(value, np.generic):
        return {"__value__": value.item(), "dtype": str(value.dtype)}
    if isinstance(value, deque) and all(isinstance(v, np.ndarray) for v in value):
        return {"__deque__": [torch.from_numpy(v.copy()) for v in value], "maxlen": value.maxlen}
    raise TypeError


def _decode(data: dict[str, Any], current: Any) -> Any:
    if "__rng__" in data:
        current.bit_generator.state = data["__rng__"]
        return current
    if "__array__" in data:
        return data["__array__"].numpy().copy().reshape(data["shape"])
    if "__deque__" in data:
        return deque((t.numpy().copy() for t in data["__deque__"]), maxlen=data["maxlen"])
    if "dtype" in data:
        return np.dtype(data["dtype"]).type(data["__value__"])
    return data["__value__"]


def snapshot_env(venv: gym.vector.VectorEnv) -> dict[str, Any] | None:
    """The env's state as nested dicts of tensors and primitives, or None if not capturable."""
    if isinstance(venv, gym.vector.AsyncVectorEnv):
        return None
    snap: dict[str, Any] = {}
    for key, obj in _objects(venv):
        attrs_: dict[str, Any] = {}
        for name, value in vars(obj).items():
            try:
                attrs_[name] = _encode(value)
            except (TypeError, ValueError):
                continue
        snap[key] = attrs_
    return snap


def restore_env(venv: gym.vector.VectorEnv, snap: dict[str, Any]) -> None:
    """Put a :func:`snapshot_env` state back into an env built the same way."""
    for key, obj in _objects(venv):
        for name, data in snap.get(key, {}).items():
            setattr(obj, name, _decode(data, getattr(obj, name, None)))
