"""Drawing environment frames in a plain terminal (half-block pixels), for ``--render``."""

from __future__ import annotations

from typing import Any

import numpy as np


def frame_for(step: Any) -> np.ndarray | None:
    """An RGB picture of a rollout step: the env's own frame, or a built-in drawing."""
    if step.frame is not None:
        return step.frame
    if step.state is not None and "CartPole" in step.env_id and step.state.shape == (4,):
        from mazedsl.rl.pixel import draw_cartpole

        return draw_cartpole(step.state, 40, 80)
    return None


PYGAME_HINT = "Frames need pygame, which is not installed: pip install pygame"


def pygame_missing() -> bool:
    """Whether pygame, which gymnasium draws frames with, cannot be imported (not imported here)."""
    import importlib.util
    import sys

    if "pygame" in sys.modules:
        return sys.modules["pygame"] is None
    return importlib.util.find_spec("pygame") is None


def no_frame_reason() -> str:
    """One line on why a rendered step has no picture."""
    return PYGAME_HINT if pygame_missing() else "No frames: the env rendered none"


def half_blocks(frame: np.ndarray, width: int = 80) -> str:
    """An RGB frame as rows of '▀' with 24-bit colours: two pixel rows per text line."""
    h, w = frame.shape[:2]
    cols = min(width, w)
    rows = max(2, int(h * cols / w) // 2 * 2)
    ys = (np.arange(rows) * h / rows).astype(int)
    xs = (np.arange(cols) * w / cols).astype(int)
    img = frame[ys][:, xs, :3]
    lines = []
    for y in range(0, rows, 2):
        top, bottom = img[y], img[y + 1]
        cells = [f"\x1b[38;2;{a[0]};{a[1]};{a[2]}m\x1b[48;2;{b[0]};{b[1]};{b[2]}m▀"
                 for a, b in zip(top, bottom)]
        lines.append("".join(cells) + "\x1b[0m")
    return "\n".join(lines)


def describe_step(step: Any) -> str:
    action = step.action.tolist() if isinstance(step.action, np.ndarray) else step.action
    return (f"step {step.t:4d}  action {action!s:>8}  reward {step.reward:8.3f}  "
            f"return {step.episode_return:9.3f}")
