"""Classic-control environments drawn as shapes from their ``state`` on a braille canvas.

Each scene follows the geometry of gymnasium's own renderer (same state convention,
same world units), so what you see is what the env computes.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from rich.text import Text

from mazedsl_tui.widgets.rollout.canvas import BrailleCanvas, Viewport

TRACK = "#5c6370"
BODY = "#61afef"
POLE = "#e5c07b"
JOINT = "#e06c75"
GOAL = "#98c379"
TEXT = "#abb2bf"


def _cartpole(canvas: BrailleCanvas, state: Any) -> None:
    x, theta = float(state[0]), float(state[2])
    threshold, edge = 2.4, 2.7
    pole_len, cart_w, cart_h, lift = 1.0, 0.5, 0.2, 0.05  # gymnasium draws a 2 * 0.5 pole
    bottom, top = -0.3, pole_len + cart_h + 0.3
    # Show the whole track when it fits at a scale that keeps the pole large; else follow the cart.
    half = (top - bottom) * canvas.width / canvas.height / 2
    if half >= edge:
        lo, hi = -edge, edge
    else:
        centre = min(max(x, -edge + half), edge - half)
        lo, hi = centre - half, centre + half
    view = Viewport(canvas, lo, hi, bottom, top)
    gx0, gy = view(max(lo, -edge), 0.0)
    gx1, _ = view(min(hi, edge), 0.0)
    canvas.line(gx0, gy, gx1, gy, TRACK)
    tick = -edge
    while tick <= edge + 1e-9:  # a ruler under the track, so motion shows when following
        if lo <= tick <= hi:
            tx, ty = view(tick, 0.0)
            canvas.dot(tx, ty + 2, TRACK)
        tick += 0.3
    for limit in (-threshold, threshold):  # where the episode ends
        if lo <= limit <= hi:
            ex, ey = view(limit, 0.0)
            canvas.line(ex, ey - view.length(0.15), ex, ey + 3, JOINT)
    cx0, cy0 = view(x - cart_w / 2, lift)
    cx1, cy1 = view(x + cart_w / 2, lift + cart_h)
    canvas.rect(cx0, cy0, cx1, cy1, BODY)
    for wheel in (x - cart_w / 3, x + cart_w / 3):
        wx, wy = view(wheel, lift / 2)
        canvas.circle(wx, wy, 1, TRACK, fill=True)
    axle = (x, lift + cart_h)
    tip = (x + pole_len * math.sin(theta), axle[1] + pole_len * math.cos(theta))
    ax, ay = view(*axle)
    tx, ty = view(*tip)
    canvas.line(ax, ay, tx, ty, POLE, width=2)
    canvas.circle(ax, ay, 1.5, JOINT, fill=True)


def _pendulum(canvas: BrailleCanvas, state: Any) -> None:
    theta = float(state[0])  # 0 = upright
    view = Viewport(canvas, -1.25, 1.25, -1.25, 1.25)
    cx, cy = view(0.0, 0.0)
    canvas.circle(cx, cy, view.length(1.0), TRACK)
    ex, ey = view(-math.sin(theta), math.cos(theta))
    canvas.line(cx, cy, ex, ey, POLE, width=3)
    canvas.circle(ex, ey, max(1.5, view.length(0.08)), JOINT, fill=True)
    canvas.circle(cx, cy, 1.5, BODY, fill=True)


def _acrobot(canvas: BrailleCanvas, state: Any) -> None:
    t1, t2 = float(state[0]), float(state[1])  # 0, 0 = hanging down
    view = Viewport(canvas, -2.2, 2.2, -2.2, 2.2)
    gx0, gy = view(-2.2, 1.0)
    gx1, _ = view(2.2, 1.0)
    for x in range(int(gx0), int(gx1) + 1, 3):  # the height the tip must reach
        canvas.dot(x, gy, GOAL)
    p0 = (0.0, 0.0)
    p1 = (math.sin(t1), -math.cos(t1))
    p2 = (p1[0] + math.sin(t1 + t2), p1[1] - math.cos(t1 + t2))
    a, b, c = view(*p0), view(*p1), view(*p2)
    canvas.line(*a, *b, BODY, width=2)
    canvas.line(*b, *c, POLE, width=2)
    canvas.circle(*a, 1.5, TRACK, fill=True)
    canvas.circle(*b, 1.5, JOINT, fill=True)


def _mountain_car(canvas: BrailleCanvas, state: Any) -> None:
    pos = float(state[0])
    lo, hi, goal = -1.2, 0.6, 0.5

    def height(x: float) -> float:
        return math.sin(3 * x) * 0.45 + 0.55

    view = Viewport(canvas, lo, hi, 0.0, 1.15)
    n = max(canvas.width, 2)
    points = [view(lo + (hi - lo) * i / (n - 1), height(lo + (hi - lo) * i / (n - 1))) for i in range(n)]
    canvas.polyline(points, TRACK)
    fx, fy = view(goal, height(goal))
    canvas.line(fx, fy, fx, fy - view.length(0.12), GOAL)
    canvas.rect(fx, fy - view.length(0.12), fx + view.length(0.06), fy - view.length(0.09), GOAL)
    slope = math.cos(3 * pos) * 0.45 * 3
    angle = math.atan(slope)
    car_w, car_h = 0.12, 0.05
    ux, uy = math.cos(angle), math.sin(angle)
    nx, ny = -uy, ux
    base = (pos, height(pos) + 0.015)
    corners = [(base[0] + sx * car_w / 2 * ux + sy * car_h * nx,
                base[1] + sx * car_w / 2 * uy + sy * car_h * ny)
               for sx, sy in ((-1, 0), (1, 0), (1, 1), (-1, 1), (-1, 0))]
    canvas.polyline([view(*p) for p in corners], BODY, width=2)
    for sx in (-0.6, 0.6):
        wx, wy = view(base[0] + sx * car_w / 2 * ux, base[1] + sx * car_w / 2 * uy)
        canvas.circle(wx, wy, 1.2, JOINT, fill=True)


SCENES: dict[str, Callable[[BrailleCanvas, Any], None]] = {
    "CartPole": _cartpole,
    "Pendulum": _pendulum,
    "Acrobot": _acrobot,
    "MountainCar": _mountain_car,  # MountainCar-v0 and MountainCarContinuous-v0
}


def scene_for(env_id: str) -> Callable[[BrailleCanvas, Any], None] | None:
    base = env_id.split("/")[-1]
    for prefix, draw in SCENES.items():
        if base.startswith(prefix):
            return draw
    return None


def draw_scene(env_id: str, state: Any, cols: int, rows: int) -> list[Text] | None:
    """The env drawn from ``state`` into ``cols`` x ``rows`` cells, or None if it has no scene."""
    draw = scene_for(env_id)
    if draw is None or state is None:
        return None
    canvas = BrailleCanvas(cols, rows)
    draw(canvas, state)
    return canvas.lines()


def observation_bars(observation: Any, cols: int, rows: int) -> list[Text]:
    """Fallback view: one bar per observation value (first ``rows`` values)."""
    import numpy as np

    values = np.asarray(observation, dtype=float).ravel()
    if values.size == 0:
        return [Text("(empty observation)", style="dim")]
    scale = max(float(np.max(np.abs(values[np.isfinite(values)]))) if np.isfinite(values).any() else 1.0, 1e-9)
    label_w = len(f"obs[{values.size - 1}]")
    bar_w = max(cols - label_w - 12, 4)
    half = bar_w // 2
    lines = []
    for i, value in enumerate(values[:rows]):
        n = int(round(abs(value) / scale * half)) if math.isfinite(value) else 0
        left = " " * (half - n) + "█" * n if value < 0 else " " * half
        right = "█" * n + " " * (half - n) if value >= 0 else " " * half
        text = Text(f"obs[{i}]".ljust(label_w) + " ", style=TEXT)
        text.append(left, style=JOINT)
        text.append("│", style=TRACK)
        text.append(right, style=BODY)
        text.append(f" {value: .3f}", style=TEXT)
        lines.append(text)
    if values.size > rows:
        lines[-1] = Text(f"… {values.size - rows + 1} more values", style="dim")
    return lines
