"""From env observations to model input: flattening and optional running normalisation."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from gymnasium import spaces

from mazedsl.rl.normalize import ObsNormalizer
from mazedsl.rl.spaces import flat_dim, flatten_batch, is_image_space
from mazedsl.spec import NormalizeObservation


class ObsPipeline:
    """Turns a batch of raw observations into the float array the model takes."""

    def __init__(self, space: spaces.Space, wrappers: Sequence[Any], image: bool = True) -> None:
        """``image``: keep 2-D and 3-D Box observations as images (for a CNN or your own
        module); with False (an MLP model) they are flattened to float32 vectors as well."""
        self.space = space
        self.image = image and is_image_space(space)
        self.shape: tuple[int, ...] = tuple(space.shape) if self.image else (flat_dim(space),)
        self.dtype = space.dtype if self.image else np.float32
        norm = next((w for w in wrappers if isinstance(w, NormalizeObservation)), None)
        self.normalizer = None if norm is None else ObsNormalizer(self.shape, norm.clip, norm.epsilon)
        if self.normalizer is not None:
            self.dtype = np.float32

    def __call__(self, obs: Any, update: bool = False) -> np.ndarray:
        arr = np.asarray(obs) if self.image else flatten_batch(self.space, obs)
        if self.normalizer is not None:
            arr = self.normalizer(arr, update)
        return arr

    def single(self, obs: Any) -> np.ndarray:
        """One observation (not a batch) as a batch of one."""
        if isinstance(self.space, spaces.Dict):
            batched = {k: np.asarray(v)[None] for k, v in obs.items()}
        elif isinstance(self.space, spaces.Tuple):
            batched = tuple(np.asarray(v)[None] for v in obs)
        else:
            batched = np.asarray(obs)[None]
        return self(batched)

    def is_batch(self, obs: Any) -> bool:
        """Whether ``obs`` is a batch of observations of the space (vs a single one)."""
        if isinstance(self.space, (spaces.Dict, spaces.Tuple)):
            first = next(iter(obs.values())) if isinstance(obs, dict) else obs[0]
            sub = (next(iter(self.space.spaces.values())) if isinstance(self.space, spaces.Dict)
                   else self.space.spaces[0])
            return np.ndim(first) > len(getattr(sub, "shape", None) or ())
        return np.ndim(obs) > len(self.space.shape or ())


class ObservationMisfit(ValueError):
    """An observation given to ``compute_action`` that is not in the observation space (nor a
    batch of such). ``structural``: the shape or nesting is wrong (vs a value: dtype, range)."""

    def __init__(self, message: str, structural: bool = False) -> None:
        super().__init__(message)
        self.structural = structural

    def within(self, where: str) -> "ObservationMisfit":
        return ObservationMisfit(f"{where}: {self}", self.structural)


def describe_space(space: spaces.Space) -> str:
    """The space as a short line (a Box with per-element bounds of many elements by shape)."""
    text = " ".join(str(space).split())
    if isinstance(space, spaces.Box) and len(text) > 120:
        return f"Box(shape={tuple(space.shape)}, dtype={space.dtype})"
    return text if len(text) <= 200 else text[:197] + "..."


def check_observation(space: spaces.Space, obs: Any) -> tuple[Any, bool]:
    """``obs`` checked against ``space`` as one observation or a batch of them: returns it in
    the form :class:`ObsPipeline` takes (arrays of the space's dtype; a Tuple or Dict batch as
    a tuple or dict of per-element batches) and whether it is a batch.

    A batch is an array with one more leading axis, a list of observations, or, for a Tuple
    or Dict space, what a vector env returns: a tuple or dict of per-element batches. Anything
    else raises :class:`ObservationMisfit` naming what is wrong (shape, dtype, non-integer
    values, values out of range). Values of a float Box outside its bounds are accepted (envs
    exceed declared bounds); NaN is not.
    """
    if isinstance(space, (spaces.Tuple, spaces.Dict)):
        return _check_structured(space, obs, None)
    return _check_leaf(space, obs, None)


def _check_leaf(space: spaces.Space, obs: Any, want: bool | None) -> tuple[np.ndarray, bool]:
    """A Box, Discrete, MultiDiscrete or MultiBinary observation (``want``: None = one or a
    batch, False = one, True = a batch)."""
    if isinstance(space, spaces.Discrete):
        shape: tuple[int, ...] = ()
    elif isinstance(space, spaces.MultiBinary):
        shape = tuple(np.atleast_1d(np.asarray(space.n)).tolist())
    elif isinstance(space, (spaces.Box, spaces.MultiDiscrete)):
        shape = tuple(space.shape)
    else:
        raise ObservationMisfit(f"observations of {describe_space(space)} cannot be checked", True)
    if isinstance(obs, (dict, str, bytes)) or obs is None:
        raise ObservationMisfit(f"expected {_expected(space, shape, want)}, got {_given(obs)}", True)
    try:
        arr = np.asarray(obs)
    except (ValueError, TypeError):
        raise ObservationMisfit(f"expected {_expected(space, shape, want)}, got a ragged "
                                f"{type(obs).__name__} (elements of different shapes)", True) from None
    single, batch = arr.shape == shape, arr.ndim == len(shape) + 1 and arr.shape[1:] == shape
    if not ((single and want is not True) or (batch and want is not False)):
        if isinstance(space, spaces.Box) and want is None:
            raise ObservationMisfit(
                f"expected an observation of shape {shape} (or a batch (n, {', '.join(map(str, shape))}"
                f")), got shape {arr.shape}", True)
        raise ObservationMisfit(f"expected {_expected(space, shape, want)}, got {_given(obs, arr)}", True)
    is_batch = not single

    def at(idx: tuple[int, ...]) -> str:  # where in the array a bad value is
        return f" (at index {idx[0] if len(idx) == 1 else idx})" if idx else ""

    if arr.dtype.kind not in "biuf":
        raise ObservationMisfit(f"expected numbers, got {_given(obs, arr)}")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ObservationMisfit(f"contains NaN{at(_first(np.isnan(arr)))}")
    if isinstance(space, spaces.Box):
        if not np.issubdtype(space.dtype, np.integer) and space.dtype != np.bool_:
            return arr.astype(space.dtype, copy=False), is_batch
        low, high = space.low, space.high
    elif isinstance(space, spaces.MultiBinary):
        low, high = np.zeros(shape), np.ones(shape)
    else:
        if arr.dtype.kind == "b":
            raise ObservationMisfit(f"expected integers, got {_given(obs, arr)}")
        start = np.asarray(getattr(space, "start", 0))
        n = np.asarray(space.n if isinstance(space, spaces.Discrete) else space.nvec)
        low, high = start, start + n - 1
    if arr.dtype.kind == "f" and (arr != np.round(arr)).any():
        idx = _first(arr != np.round(arr))
        raise ObservationMisfit(f"expected integers, got {float(arr[idx])}{at(idx)}")
    outside = (arr < low) | (arr > high)
    if outside.any():
        idx = _first(outside)
        lo, hi = (np.broadcast_to(b, arr.shape)[idx] for b in (low, high))
        value = arr[idx].item()
        value = int(value) if float(value).is_integer() else value
        raise ObservationMisfit(f"{value} is out of range {_num(lo)}..{_num(hi)}{at(idx)}")
    dtype = space.dtype if isinstance(space, (spaces.Box, spaces.MultiBinary)) else np.int64
    return arr.astype(dtype, copy=False), is_batch


def _first(mask: np.ndarray) -> tuple[int, ...]:
    """The index of the first True of ``mask`` (``()`` for a 0-d mask)."""
    return tuple(int(i) for i in np.argwhere(mask)[0]) if mask.ndim else ()


def _num(x: Any) -> Any:
    x = np.asarray(x).item()
    return int(x) if isinstance(x, (bool, int)) or float(x).is_integer() else x


def _expected(space: spaces.Space, shape: tuple[int, ...], want: bool | None) -> str:
    one = "one integer" if isinstance(space, spaces.Discrete) else f"an array of shape {shape}"
    many = ("a 1-D batch of integers (n,)" if isinstance(space, spaces.Discrete)
            else f"a batch of shape (n, {', '.join(map(str, shape))})")
    return {None: f"{one} (or {many})", False: one, True: many}[want]


def _given(obs: Any, arr: np.ndarray | None = None) -> str:
    if obs is None:
        return "None"
    if arr is None or arr.dtype.kind in "OSUV":
        text = repr(obs)
        return f"{type(obs).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
    if arr.ndim == 0:
        return f"{arr.item()!r} ({arr.dtype})"
    return f"shape {arr.shape} ({arr.dtype})"


def _check_structured(space: spaces.Space, obs: Any, want: bool | None) -> tuple[Any, bool]:
    """A Tuple or Dict observation, a list of them, or a tuple/dict of per-element batches."""
    is_dict = isinstance(space, spaces.Dict)
    attempts = []
    if want is not True:
        attempts.append(("one", _one_structured))
    if want is not False:
        aos, soa = ("a list of observations", _list_batch), ("per-element batches", _parts_batch)
        # a tuple (dict) of arrays is how vector envs batch; a list is a list of observations
        vector_form = isinstance(obs, dict) if is_dict else isinstance(obs, tuple)
        attempts += [soa, aos] if vector_form else [aos, soa]
    first_value_error = None
    for _, attempt in attempts:
        try:
            return attempt(space, obs)
        except ObservationMisfit as exc:
            if not exc.structural and first_value_error is None:
                first_value_error = exc
    if first_value_error is not None:
        raise first_value_error
    parts = ", ".join(f"{k!r}: {describe_space(s)}" for k, s in space.spaces.items()) if is_dict else \
        ", ".join(describe_space(s) for s in space.spaces)
    one = f"a dict {{{parts}}}" if is_dict else f"a tuple of {len(space.spaces)} ({parts})"
    many = ("a list of such dicts, or a dict of per-key batches" if is_dict
            else "a list of such tuples, or a tuple of per-element batches")
    expected = {None: f"{one} (or a batch: {many})", False: one, True: f"a batch: {many}"}[want]
    given = _given(obs)
    if is_dict and isinstance(obs, dict) and set(obs) != set(space.spaces):
        missing, extra = sorted(set(space.spaces) - set(obs)), sorted(set(obs) - set(space.spaces), key=str)
        given = "; ".join(([f"missing keys {missing}"] if missing else [])
                          + ([f"unexpected keys {extra}"] if extra else []))
    raise ObservationMisfit(f"expected {expected}, got {given}", True)


def _items(space: spaces.Space, obs: Any) -> list[tuple[str, Any, spaces.Space]]:
    """(label, value, subspace) of one structured observation or of per-element batches."""
    if isinstance(space, spaces.Dict):
        if not isinstance(obs, dict) or set(obs) != set(space.spaces):
            raise ObservationMisfit("keys differ", True)
        return [(repr(k), obs[k], s) for k, s in space.spaces.items()]
    if isinstance(obs, (dict, str, bytes)) or not hasattr(obs, "__len__") \
            or len(obs) != len(space.spaces):
        raise ObservationMisfit("length differs", True)
    return [(f"[{i}]", obs[i], s) for i, s in enumerate(space.spaces)]


def _check_sub(space: spaces.Space, obs: Any, want: bool) -> tuple[Any, bool]:
    if isinstance(space, (spaces.Tuple, spaces.Dict)):
        return _check_structured(space, obs, want)
    return _check_leaf(space, obs, want)


def _one_structured(space: spaces.Space, obs: Any) -> tuple[Any, bool]:
    checked = {}
    for label, value, sub in _items(space, obs):
        try:
            checked[label] = _check_sub(sub, value, False)[0]
        except ObservationMisfit as exc:
            raise exc.within(f"element {label}") from None
    return _assemble(space, list(checked.values())), False


def _parts_batch(space: spaces.Space, obs: Any) -> tuple[Any, bool]:
    checked, sizes = [], set()
    for label, value, sub in _items(space, obs):
        try:
            part = _check_sub(sub, value, True)[0]
        except ObservationMisfit as exc:
            raise exc.within(f"element {label}") from None
        checked.append(part)
        sizes.add(_batch_size(part))
    if len(sizes) > 1:
        raise ObservationMisfit(f"the elements' batch sizes differ ({', '.join(map(str, sorted(sizes)))})")
    return _assemble(space, checked), True


def _list_batch(space: spaces.Space, obs: Any) -> tuple[Any, bool]:
    if isinstance(obs, (dict, str, bytes)) or not hasattr(obs, "__len__"):
        raise ObservationMisfit("not a list", True)
    if len(obs) == 0:
        raise ObservationMisfit("an empty batch", True)
    singles = []
    for i in range(len(obs)):
        try:
            singles.append(_check_sub(space, obs[i], False)[0])
        except ObservationMisfit as exc:
            raise exc.within(f"batch item [{i}]") from None
    return _stack(space, singles), True


def _assemble(space: spaces.Space, parts: list[Any]) -> Any:
    if isinstance(space, spaces.Dict):
        return dict(zip(space.spaces, parts))
    return tuple(parts)


def _stack(space: spaces.Space, singles: list[Any]) -> Any:
    """A list of checked observations as per-element batches."""
    if isinstance(space, spaces.Dict):
        return {k: _stack(s, [o[k] for o in singles]) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(_stack(s, [o[i] for o in singles]) for i, s in enumerate(space.spaces))
    return np.stack(singles)


def _batch_size(part: Any) -> int:
    if isinstance(part, dict):
        return _batch_size(next(iter(part.values())))
    if isinstance(part, tuple):
        return _batch_size(part[0])
    return int(np.shape(part)[0])
