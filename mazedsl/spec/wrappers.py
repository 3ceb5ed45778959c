"""Wrapper declarations, applied in list order around each environment.

``NormalizeObservation`` and ``NormalizeReward`` act on the whole vector env and keep
running statistics that are saved with the run; the pixel wrappers act per env.
"""

from __future__ import annotations

import attrs

from mazedsl.spec._fields import gt, is_bool, is_float, is_int, le, param


@attrs.define(frozen=True, kw_only=True)
class NormalizeObservation:
    """Running mean/std normalisation of observations (as SB3's VecNormalize)."""

    clip: float = param(10.0, "Normalised observations are clipped to [-clip, clip].", is_float, gt(0))
    epsilon: float = param(1e-8, "Added to the variance before the square root.", is_float, gt(0))


@attrs.define(frozen=True, kw_only=True)
class NormalizeReward:
    """Scales rewards by the running std of the discounted return (as SB3's VecNormalize)."""

    gamma: float = param(0.99, "Discount of the return whose std scales rewards.", is_float, gt(0), le(1))
    clip: float = param(10.0, "Scaled rewards are clipped to [-clip, clip].", is_float, gt(0))
    epsilon: float = param(1e-8, "Added to the variance before the square root.", is_float, gt(0))


@attrs.define(frozen=True, kw_only=True)
class Grayscale:
    """Converts RGB image observations to one grayscale channel."""

    keep_dim: bool = param(False, "Keep a trailing channel axis of size 1.", is_bool)


@attrs.define(frozen=True, kw_only=True)
class Resize:
    """Resizes image observations (area averaging / nearest sampling, numpy only)."""

    height: int = param(84, "Output height in pixels (Atari convention: 84).", is_int, gt(0))
    width: int = param(84, "Output width in pixels (Atari convention: 84).", is_int, gt(0))


@attrs.define(frozen=True, kw_only=True)
class FrameStack:
    """Stacks the last ``n_frames`` observations along a new leading axis."""

    n_frames: int = param(4, "Number of stacked frames (Atari convention: 4).", is_int, gt(0))


@attrs.define(frozen=True, kw_only=True)
class ScaleObservation:
    """Multiplies observations by ``scale`` and casts them to float32."""

    scale: float = param(1.0 / 255.0, "Factor applied to each observation (1/255 for bytes).",
                         is_float, gt(0))


Wrapper = NormalizeObservation | NormalizeReward | Grayscale | Resize | FrameStack | ScaleObservation
WRAPPER_TYPES: tuple[type, ...] = (NormalizeObservation, NormalizeReward, Grayscale, Resize,
                                   FrameStack, ScaleObservation)
