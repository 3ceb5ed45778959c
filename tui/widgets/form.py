"""Form fields whose keys act in the order they were typed (the launch and resume dialogs).

Textual hands each key to the widget focused when the key is read, but runs key bindings
(an Input's backspace, arrows and Enter; the screen's Tab) only after the key has come back
up to the app. Keys that arrive together (a burst typed while the app is busy, a paste, a
script) were handled out of order: "ab", backspace, "c" gave "ab", and text typed right
after a Tab went into the field it left.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input

# A dialog's bindings: move between fields as the key arrives, before the next key is handed on.
FIELD_KEYS = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
]


class FormInput(Input):
    """An :class:`Input` that runs its own editing keys (backspace, arrows, home, end, Enter,
    ...) when it handles the key, in order with the characters around them."""

    _EDIT_ACTIONS = {binding.key: binding.action for binding in Binding.make_bindings(Input.BINDINGS)}

    async def _on_key(self, event: events.Key) -> None:
        action = None if event.is_printable else next(
            (self._EDIT_ACTIONS[key] for key in event.aliases if key in self._EDIT_ACTIONS), None)
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        self._restart_blink()
        await self.run_action(action)
