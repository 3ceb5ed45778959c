"""The environment drawn in the terminal: shapes from ``state``, a frame, or observation bars."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget

from mazedsl_tui.widgets.rollout.canvas import halfblock
from mazedsl_tui.widgets.rollout.scenes import draw_scene, observation_bars, scene_for

VIEW_MODES = ("auto", "shapes", "frame", "observation")


class EnvView(Widget):
    """Draws the latest rollout step; ``mode`` picks how (auto: shapes, else frame, else bars)."""

    DEFAULT_CSS = """
    EnvView { width: 1fr; height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.step: Any = None
        self.env_id = ""
        self.mode = "auto"
        self.message = "Loading…"
        self.frames_requested = False  # the source asked its env for frames
        self.no_frames = ""  # why a step has no frame (shown where one is wanted)

    def show(self, step: Any, env_id: str = "") -> None:
        self.step = step
        if env_id:
            self.env_id = env_id
        self.message = ""
        self.refresh()

    def show_message(self, message: str) -> None:
        self.message = message
        self.refresh()

    def cycle_mode(self) -> str:
        self.mode = VIEW_MODES[(VIEW_MODES.index(self.mode) + 1) % len(VIEW_MODES)]
        self.refresh()
        return self.mode

    def drawn_as(self) -> str:
        """What the current step is drawn as: 'shapes', 'frame', 'observation' or 'nothing'."""
        step = self.step
        if step is None:
            return "nothing"
        state = getattr(step, "state", None)
        frame = getattr(step, "frame", None)
        has_shapes = state is not None and scene_for(self.env_id or getattr(step, "env_id", "")) is not None
        if self.mode == "shapes" and has_shapes:
            return "shapes"
        if self.mode == "frame" and frame is not None:
            return "frame"
        if self.mode == "observation":
            return "observation"
        if has_shapes:
            return "shapes"
        if frame is not None:
            return "frame"
        return "observation"

    def frame_note(self) -> str:
        """Why there is no frame, when one is wanted (the frame view, or auto where frames were
        requested) and the step has none; else ''."""
        if self.step is None or getattr(self.step, "frame", None) is not None:
            return ""
        wanted = self.mode == "frame" or (self.mode == "auto" and self.frames_requested
                                          and self.drawn_as() == "observation")
        return self.no_frames if wanted else ""

    def render(self) -> RenderableType:
        width, height = self.content_size.width, self.content_size.height
        if self.message or self.step is None:
            return Text(self.message or "No step yet.", style="dim", justify="center")
        step = self.step
        kind = self.drawn_as()
        env_id = self.env_id or getattr(step, "env_id", "")
        note = self.frame_note()
        height -= 1 if note else 0
        if kind == "shapes":
            lines = draw_scene(env_id, step.state, width, height) or []
        elif kind == "frame":
            lines = halfblock(step.frame, width, height)
        else:
            lines = observation_bars(getattr(step, "observation", []), width, height)
        return Group(Text(note, style="#e5c07b"), *lines) if note else Group(*lines)
