"""The run's log, its long lines wrapped to the pane's width."""

from __future__ import annotations

import textwrap

from textual.events import Resize
from textual.widgets import Log


def wrap_line(line: str, width: int) -> list[str]:
    """``line`` as rows of at most ``width`` characters, broken at spaces where it can be; the
    rows after the first indented by two spaces, so each line's start stands out."""
    if width <= 0 or len(line) <= width:
        return [line]
    return textwrap.wrap(line, width, subsequent_indent="  ", replace_whitespace=False,
                         drop_whitespace=True, break_on_hyphens=False) or [""]


class RunLog(Log):
    """A log fed whole lines as a file grows (:class:`~mazedsl_tui.polling.FileTail` holds a
    line back until its newline), wrapped at the pane's width (again after a resize). Rows are
    drawn lazily (Textual's ``Log``), so a long log costs only the wrapping."""

    def __init__(self, max_lines: int = 5000, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.keep = max_lines
        self.text_lines: list[str] = []  # the whole lines received: the last ``keep`` and up to a fifth more
        self._wrapped_at = 0  # the width the rows shown were wrapped at (0: none drawn yet)

    def append(self, text: str) -> None:
        """Add ``text``: whole lines, each ended by a newline."""
        lines = text.split("\n")
        complete = lines[:-1] if lines[-1] == "" else lines
        if not complete:
            return
        self.text_lines += complete
        if len(self.text_lines) > self.keep + self.keep // 5:  # in batches: each redraw wraps all
            del self.text_lines[:-self.keep]
            self._redraw()  # the oldest lines go
        elif self._wrapped_at:
            self._write(complete)

    def reset(self) -> None:
        """Forget every line."""
        self.text_lines = []
        self.clear()

    def on_resize(self, event: Resize) -> None:
        if self.scrollable_content_region.width != self._wrapped_at:
            self._redraw()

    def _write(self, lines: list[str]) -> None:
        width = self._wrapped_at
        self.write_lines([row for line in lines for row in wrap_line(line, width)])

    def _redraw(self) -> None:
        self.clear()
        self._wrapped_at = self.scrollable_content_region.width
        if self._wrapped_at and self.text_lines:
            self._write(self.text_lines)
