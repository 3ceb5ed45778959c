"""Spaces as JSON, and flattening of structured observations into one float vector."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from mazedsl.errors import EnvError


def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """A JSON-able description of a gymnasium space (Box, Discrete, MultiDiscrete,
    MultiBinary, Dict, Tuple)."""
    if isinstance(space, spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype),
                "low": _finite(space.low), "high": _finite(space.high)}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(s) for k, s in space.spaces.items()}}
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_to_json(s) for s in space.spaces]}
    raise EnvError(f"unsupported space {space!r}: supported are Box, Discrete, MultiDiscrete, "
                   "MultiBinary, Dict and Tuple")


def space_from_json(data: dict[str, Any]) -> spaces.Space:
    """The inverse of :func:`space_to_json`."""
    kind = data["type"]
    if kind == "Box":
        dtype = np.dtype(data["dtype"])
        shape = tuple(data["shape"])
        low, high = (_bound(data[k], shape) for k in ("low", "high"))
        return spaces.Box(low=low.astype(dtype), high=high.astype(dtype), shape=shape, dtype=dtype)
    if kind == "Discrete":
        return spaces.Discrete(data["n"], start=data.get("start", 0))
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(data["nvec"])
    if kind == "MultiBinary":
        return spaces.MultiBinary(data["n"])
    if kind == "Dict":
        return spaces.Dict({k: space_from_json(v) for k, v in data["spaces"].items()})
    if kind == "Tuple":
        return spaces.Tuple([space_from_json(v) for v in data["spaces"]])
    raise EnvError(f"unknown space type {kind!r} in spaces.json")


def _finite(arr: np.ndarray) -> Any:
    a = np.asarray(arr, dtype=np.float64)
    if a.size and np.all(a == a.flat[0]):
        return _num(a.flat[0])
    return [_num(x) for x in a.flat]


def _num(x: float) -> Any:
    if np.isposinf(x):
        return "inf"
    if np.isneginf(x):
        return "-inf"
    return float(x)


def _bound(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(_unfinite(value), dtype=np.float64)
    return arr.reshape(shape) if arr.ndim else np.full(shape, float(arr))


def _unfinite(value: Any) -> Any:
    if isinstance(value, list):
        return np.reshape([float(v) for v in value], -1)
    return float(value)


def is_image_space(space: spaces.Space) -> bool:
    """A Box with 2 or 3 dimensions is treated as an image (CNN input)."""
    return isinstance(space, spaces.Box) and len(space.shape) in (2, 3)


def flat_dim(space: spaces.Space) -> int:
    """Length of the flat float vector :func:`flatten_batch` makes of one observation."""
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    if isinstance(space, spaces.MultiBinary):
        return int(np.prod(space.n))
    if isinstance(space, spaces.Dict):
        return sum(flat_dim(s) for s in space.spaces.values())
    if isinstance(space, spaces.Tuple):
        return sum(flat_dim(s) for s in space.spaces)
    raise EnvError(f"observation space {space!r} cannot be flattened")


def flatten_batch(space: spaces.Space, obs: Any) -> np.ndarray:
    """A batch of observations of ``space`` as a float32 array ``(n, flat_dim)``.

    Discrete parts become one-hot vectors; Dict and Tuple parts are concatenated in order.
    """
    if isinstance(space, spaces.Box):
        arr = np.asarray(obs, dtype=np.float32)
        return arr.reshape(arr.shape[0], -1)
    if isinstance(space, spaces.Discrete):
        idx = np.asarray(obs, dtype=np.int64).reshape(-1) - int(space.start)
        out = np.zeros((idx.shape[0], int(space.n)), dtype=np.float32)
        out[np.arange(idx.shape[0]), idx] = 1.0
        return out
    if isinstance(space, spaces.MultiDiscrete):
        arr = np.asarray(obs, dtype=np.int64).reshape(len(obs), -1)
        parts = [flatten_batch(spaces.Discrete(int(n)), arr[:, i]) for i, n in enumerate(space.nvec.flat)]
        return np.concatenate(parts, axis=1)
    if isinstance(space, spaces.MultiBinary):
        arr = np.asarray(obs, dtype=np.float32)
        return arr.reshape(arr.shape[0], -1)
    if isinstance(space, spaces.Dict):
        return np.concatenate([flatten_batch(s, obs[k]) for k, s in space.spaces.items()], axis=1)
    if isinstance(space, spaces.Tuple):
        return np.concatenate([flatten_batch(s, obs[i]) for i, s in enumerate(space.spaces)], axis=1)
    raise EnvError(f"observation space {space!r} cannot be flattened")
