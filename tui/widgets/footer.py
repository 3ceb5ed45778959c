"""A compact footer whose key hints fit its width: the hints of a screen's less important
bindings give way first (the bindings stay, and the help screen lists every key)."""

from __future__ import annotations

from rich.text import Text
from textual.dom import NoScreen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


def hint_width(key: FooterKey) -> int:
    """The columns a compact hint takes: ``key description`` and the one-column gap after it."""
    width = Text(key.key_display).cell_len
    if key.description:
        width += 1 + Text(key.description).cell_len
    return width + 1


class FitFooter(Footer):
    """``Footer(compact=True)`` that hides the hints of the screen's ``FOOTER_DROP`` actions, in
    that order, while the hints would not fit (at 80 columns "2 Experiments" and "? Help" were
    cut off), then the last hints, so that no hint is cut or lies under the palette's (below
    50 columns its last letter showed past it); on a wide terminal it shows every hint, as
    Footer does."""

    def __init__(self) -> None:
        super().__init__(compact=True)

    async def recompose(self) -> None:  # the hints are composed anew when the bindings change
        await super().recompose()
        self.fit()

    def on_resize(self) -> None:
        self.fit()

    def fit(self) -> None:
        try:
            drop = getattr(self.screen, "FOOTER_DROP", ())
        except NoScreen:  # recomposed as its screen closes
            return
        keys = list(self.query(FooterKey))
        hints = [k for k in keys if not k.has_class("-command-palette")]
        palette = sum(hint_width(k) + 1 for k in keys if k.has_class("-command-palette"))  # + its border
        room = self.size.width - palette
        needed = sum(hint_width(k) for k in hints)
        for key in hints:
            key.display = True
        # the screen's FOOTER_DROP hints first, in that order, then any, from the end: whole hints
        for key in [k for action in drop for k in hints if k.action == action] + hints[::-1]:
            if needed <= room:
                break
            if key.display:
                key.display = False
                needed -= hint_width(key)
