"""Drawing surfaces for the terminal: a braille canvas and a half-block image.

``BrailleCanvas`` packs 2x4 dots into each cell (U+2800..U+28FF), so one terminal cell
of about 1:2 aspect holds square-ish pixels; each cell takes the colour of the last
shape drawn into it. ``halfblock`` shows an RGB frame with two pixels per cell: the
upper half block ``▀`` in the top pixel's colour on the bottom pixel's colour.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from rich.color import Color
from rich.style import Style
from rich.text import Text

_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row % 4][col % 2]


class BrailleCanvas:
    """A ``cols`` x ``rows`` cell canvas of ``2*cols`` x ``4*rows`` dots; y grows downwards."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols = max(1, cols)
        self.rows = max(1, rows)
        self.width = self.cols * 2
        self.height = self.rows * 4
        self._bits = bytearray(self.cols * self.rows)
        self._colors: list[str | None] = [None] * (self.cols * self.rows)
        self._labels: dict[int, tuple[str, str]] = {}

    # -- dots -------------------------------------------------------------------------------
    def dot(self, x: float, y: float, color: str) -> None:
        xi, yi = int(round(x)), int(round(y))
        if 0 <= xi < self.width and 0 <= yi < self.height:
            cell = (yi >> 2) * self.cols + (xi >> 1)
            self._bits[cell] |= _DOTS[yi & 3][xi & 1]
            self._colors[cell] = color

    def line(self, x0: float, y0: float, x1: float, y1: float, color: str, width: int = 1) -> None:
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for i in range(steps + 1):
            f = i / steps
            x, y = x0 + (x1 - x0) * f, y0 + (y1 - y0) * f
            self.dot(x, y, color)
            if width > 1:  # thicken perpendicular-ish: a small square of dots
                for dx in range(-(width // 2), width - width // 2):
                    for dy in range(-(width // 2), width - width // 2):
                        self.dot(x + dx, y + dy, color)

    def polyline(self, points: Sequence[tuple[float, float]], color: str, width: int = 1) -> None:
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            self.line(x0, y0, x1, y1, color, width)

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: str, fill: bool = True) -> None:
        xa, xb = sorted((int(round(x0)), int(round(x1))))
        ya, yb = sorted((int(round(y0)), int(round(y1))))
        for y in range(ya, yb + 1):
            if fill or y in (ya, yb):
                for x in range(xa, xb + 1):
                    self.dot(x, y, color)
            else:
                self.dot(xa, y, color)
                self.dot(xb, y, color)

    def circle(self, cx: float, cy: float, r: float, color: str, fill: bool = False) -> None:
        if fill:
            for y in range(int(cy - r), int(cy + r) + 1):
                half = math.sqrt(max(r * r - (y - cy) ** 2, 0.0))
                for x in range(int(round(cx - half)), int(round(cx + half)) + 1):
                    self.dot(x, y, color)
            return
        n = max(12, int(2 * math.pi * r))
        for i in range(n):
            a = 2 * math.pi * i / n
            self.dot(cx + r * math.cos(a), cy + r * math.sin(a), color)

    def label(self, col: int, row: int, text: str, style: str = "") -> None:
        """Text written over the cells at (col, row) (cell coordinates)."""
        if not 0 <= row < self.rows:
            return
        for i, ch in enumerate(text):
            if 0 <= col + i < self.cols:
                self._labels[row * self.cols + col + i] = (ch, style)

    def cells(self, color: str | None = None) -> list[tuple[int, int]]:
        """(col, row) of the cells with dots (of ``color``, if given)."""
        return [(i % self.cols, i // self.cols) for i, bits in enumerate(self._bits)
                if bits and (color is None or self._colors[i] == color)]

    # -- output -------------------------------------------------------------------------------
    def lines(self) -> list[Text]:
        out = []
        for row in range(self.rows):
            text = Text()
            run_style: str | None = None
            run_chars: list[str] = []
            for col in range(self.cols):
                cell = row * self.cols + col
                if cell in self._labels:
                    ch, style = self._labels[cell]
                else:
                    bits = self._bits[cell]
                    ch = chr(0x2800 + bits) if bits else " "
                    style = self._colors[cell] or "" if bits else ""
                if style != run_style and run_chars:
                    text.append("".join(run_chars), run_style or None)
                    run_chars = []
                run_style = style
                run_chars.append(ch)
            if run_chars:
                text.append("".join(run_chars), run_style or None)
            out.append(text)
        return out


class Viewport:
    """Maps a world rectangle (y up) onto a canvas, same scale on both axes, centred."""

    def __init__(self, canvas: BrailleCanvas, xmin: float, xmax: float, ymin: float, ymax: float,
                 margin: int = 2) -> None:
        w = max(canvas.width - 2 * margin, 1)
        h = max(canvas.height - 2 * margin, 1)
        self.scale = min(w / (xmax - xmin), h / (ymax - ymin))
        self.x_off = margin + (w - (xmax - xmin) * self.scale) / 2 - xmin * self.scale
        self.y_off = margin + (h - (ymax - ymin) * self.scale) / 2 + ymax * self.scale

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        return self.x_off + x * self.scale, self.y_off - y * self.scale

    def length(self, d: float) -> float:
        return d * self.scale


_STYLE_CACHE: dict[tuple[int, ...], Style] = {}


def _style(top: Sequence[int], bottom: Sequence[int] | None) -> Style:
    key = (*top, *(bottom if bottom is not None else (-1, -1, -1)))
    style = _STYLE_CACHE.get(key)
    if style is None:
        if len(_STYLE_CACHE) > 65536:
            _STYLE_CACHE.clear()
        style = Style(color=Color.from_rgb(*top),
                      bgcolor=None if bottom is None else Color.from_rgb(*bottom))
        _STYLE_CACHE[key] = style
    return style


def halfblock(frame: Any, cols: int, rows: int) -> list[Text]:
    """An HxWx3 uint8 image scaled (nearest pixel, aspect kept) into ``cols`` x ``rows`` cells."""
    import numpy as np

    image = np.asarray(frame)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = image[..., :3].astype(np.uint8)
    height, width = image.shape[:2]
    if height == 0 or width == 0 or cols <= 0 or rows <= 0:
        return []
    scale = min(cols / width, (2 * rows) / height)
    out_w = max(1, int(width * scale))
    out_h = max(2, int(height * scale) // 2 * 2)
    ys = np.minimum((np.arange(out_h) / scale).astype(int), height - 1)
    xs = np.minimum((np.arange(out_w) / scale).astype(int), width - 1)
    small = image[ys][:, xs]
    pad = " " * ((cols - out_w) // 2)
    lines = []
    for r in range(out_h // 2):
        top, bottom = small[2 * r], small[2 * r + 1]
        text = Text(pad)
        for c in range(out_w):
            text.append("▀", _style(top[c].tolist(), bottom[c].tolist()))
        lines.append(text)
    return lines
