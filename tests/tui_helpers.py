"""What the TUI tests share: running async tests, and waiting for a screen to settle."""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any, Callable


def run_async(test):
    """Run an async test on its own event loop (no pytest async plugin needed)."""
    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


async def wait_for(pilot, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> None:
    """Pause until ``predicate()`` holds (generous: a loaded machine composes configs slowly)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)


def screen_text(app) -> str:
    """The screen as drawn, as plain text: one line per terminal row."""
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


def make_app(demo: Any, **kwargs: Any) -> Any:
    """The app over a demo project (:func:`mazedsl_tui.demo.build_demo`), polling every 0.05 s,
    with the demo library unless ``library`` is given."""
    from mazedsl_tui.app import MazeApp
    from mazedsl_tui.demo import DemoLibrary

    if kwargs.get("library") is None:
        kwargs["library"] = DemoLibrary()
    return MazeApp(demo.experiments, demo.runs, poll_interval=0.05, **kwargs)


def widget_lines(widget: Any, border: bool = False) -> list[str]:
    """The text a widget draws, one string a row: its content, or with ``border`` all it draws
    (border, title and legend included)."""
    from textual.geometry import Region

    width, height = widget.outer_size if border else widget.size
    return ["".join(seg.text for seg in strip) for strip in widget.render_lines(Region(0, 0, width, height))]


def widget_text(widget: Any, border: bool = False) -> str:
    """:func:`widget_lines` as one string."""
    return "\n".join(widget_lines(widget, border))


def type_in_one_burst(app, *keys: str) -> None:
    """Queue ``keys`` as a terminal delivers keys that arrive together (typed while the app is
    busy, a paste, a script): all of them before the app handles the first. (``pilot.press``
    waits for each key to be handled before it sends the next.)"""
    from textual import events

    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else {"tab": "\t", "enter": "\r"}.get(key)))
