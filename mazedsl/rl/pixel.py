"""Per-env image wrappers (numpy only) and an image-observation CartPole.

``mazedsl/PixelCartPole-v1`` is CartPole-v1 whose observation is a small RGB drawing of
the cart and pole, so pixel policies can be trained and tested without extra packages.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.classic_control.cartpole import CartPoleEnv


def _image_box(shape: tuple[int, ...], dtype: Any, low: float = 0, high: float = 255) -> spaces.Box:
    return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)


class GrayscaleObservation(gym.ObservationWrapper):
    """RGB ``(H, W, 3)`` to grayscale ``(H, W)`` (or ``(H, W, 1)`` with ``keep_dim``)."""

    def __init__(self, env: gym.Env, keep_dim: bool = False) -> None:
        super().__init__(env)
        h, w = env.observation_space.shape[:2]
        self.keep_dim = keep_dim
        dtype = env.observation_space.dtype
        self.observation_space = _image_box((h, w, 1) if keep_dim else (h, w), dtype)

    def observation(self, obs: np.ndarray) -> np.ndarray:
        gray = obs[..., 0] * 0.299 + obs[..., 1] * 0.587 + obs[..., 2] * 0.114
        gray = gray.astype(self.observation_space.dtype)
        return gray[..., None] if self.keep_dim else gray


class ResizeObservation(gym.ObservationWrapper):
    """Resizes ``(H, W[, C])`` images to ``(height, width[, C])`` by nearest sampling."""

    def __init__(self, env: gym.Env, height: int, width: int) -> None:
        super().__init__(env)
        shape = env.observation_space.shape
        self._rows = (np.arange(height) * shape[0] / height).astype(np.int64)
        self._cols = (np.arange(width) * shape[1] / width).astype(np.int64)
        self.observation_space = _image_box((height, width, *shape[2:]), env.observation_space.dtype)

    def observation(self, obs: np.ndarray) -> np.ndarray:
        return obs[self._rows][:, self._cols]


class FrameStackObservation(gym.Wrapper):
    """Stacks the last ``n_frames`` observations on a new leading axis (zeros at reset)."""

    def __init__(self, env: gym.Env, n_frames: int) -> None:
        super().__init__(env)
        space = env.observation_space
        self.n_frames = n_frames
        low = np.repeat(space.low[None], n_frames, axis=0)
        high = np.repeat(space.high[None], n_frames, axis=0)
        self.observation_space = spaces.Box(low=low, high=high, dtype=space.dtype)
        self.frames: deque[np.ndarray] = deque(maxlen=n_frames)

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        for _ in range(self.n_frames - 1):
            self.frames.append(np.zeros_like(obs))
        self.frames.append(obs)
        return np.stack(self.frames), info

    def step(self, action: Any) -> tuple[Any, ...]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.frames.append(obs)
        return np.stack(self.frames), reward, terminated, truncated, info


class ScaleObservation(gym.ObservationWrapper):
    """Multiplies observations by ``scale`` and casts to float32."""

    def __init__(self, env: gym.Env, scale: float) -> None:
        super().__init__(env)
        space = env.observation_space
        self.scale = np.float32(scale)
        self.observation_space = spaces.Box(low=(space.low * scale).astype(np.float32),
                                            high=(space.high * scale).astype(np.float32),
                                            dtype=np.float32)

    def observation(self, obs: np.ndarray) -> np.ndarray:
        return obs.astype(np.float32) * self.scale


def draw_cartpole(state: np.ndarray, height: int = 60, width: int = 90) -> np.ndarray:
    """A small RGB picture of a CartPole state ``(x, x_dot, theta, theta_dot)``."""
    img = np.full((height, width, 3), 255, dtype=np.uint8)
    x, _, theta, _ = (float(v) for v in state)
    scale = width / 4.8
    cart_y = int(height * 0.75)
    img[cart_y + 4:, :] = (200, 200, 200)  # ground
    cx = int(np.clip((x + 2.4) * scale, 0, width - 1))
    img[cart_y - 3:cart_y + 4, max(cx - 6, 0):min(cx + 7, width)] = (0, 0, 0)  # cart
    length = height * 0.55
    t = np.linspace(0.0, 1.0, 40)
    px = np.clip((cx + t * length * np.sin(theta)).astype(int), 0, width - 1)
    py = np.clip((cart_y - 3 - t * length * np.cos(theta)).astype(int), 0, height - 1)
    for dx in (0, 1):
        img[py, np.clip(px + dx, 0, width - 1)] = (202, 152, 101)  # pole
    return img


class PixelCartPoleEnv(CartPoleEnv):
    """CartPole-v1 dynamics with RGB image observations ``(60, 90, 3)``, drawn in numpy."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode=None)
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0, 255, (60, 90, 3), dtype=np.uint8)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):  # type: ignore[override]
        super().reset(seed=seed, options=options)
        return draw_cartpole(self.state), {}

    def step(self, action: Any):  # type: ignore[override]
        state, reward, terminated, truncated, info = super().step(action)
        return draw_cartpole(self.state), reward, terminated, truncated, info

    def render(self) -> np.ndarray:  # type: ignore[override]
        return draw_cartpole(self.state, 120, 180)


def register_envs() -> None:
    """Register mazedsl's own environments with gymnasium (idempotent)."""
    if "mazedsl/PixelCartPole-v1" not in gym.envs.registry:
        gym.register("mazedsl/PixelCartPole-v1", entry_point=PixelCartPoleEnv,
                     max_episode_steps=500, reward_threshold=475.0)
