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
