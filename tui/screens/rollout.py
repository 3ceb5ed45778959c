"""The rollout viewer: a policy playing its env live, drawn in the terminal."""

from __future__ import annotations

from typing import Any, Iterator

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Sparkline, Static

from mazedsl_tui.formatting import fmt_float
from mazedsl_tui.library import describe_error
from mazedsl_tui.messages import EpisodeOpened
from mazedsl_tui.rollout import RolloutSource
from mazedsl_tui.widgets.footer import FitFooter
from mazedsl_tui.widgets.rollout.view import EnvView

SPEEDS = (1, 2, 5, 10, 20, 30, 60)


def fmt_action(action: Any) -> str:
    if action is None:
        return "— (reset)"
    try:
        import numpy as np

        array = np.asarray(action)
        if array.ndim == 0:
            value = array.item()
            return f"{value:.3f}" if isinstance(value, float) else str(value)
        return np.array2string(array, precision=2, separator=", ", max_line_width=30,
                               floatmode="fixed")  # [-0.00], not [-0.]
    except Exception:  # noqa: BLE001 - anything printable
        return str(action)


class RolloutScreen(Screen):
    """Plays episodes from a :class:`RolloutSource`, one step per timer tick."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("space", "toggle_pause", "Pause"),
        Binding("n,full_stop", "step", "Step"),
        Binding("plus,equals_sign", "speed(1)", "Faster"),
        Binding("minus", "speed(-1)", "Slower"),
        Binding("r", "restart", "Restart"),
        Binding("v", "view_mode", "View"),
    ]
    # hints hidden, in this order, on a terminal too narrow for all (r restarts all the same);
    # the keys still work, and ? lists them
    FOOTER_DROP = ("restart",)

    def __init__(self, source: RolloutSource, *, seed: int | None = 0, speed: int = 20,
                 paused: bool = False) -> None:
        super().__init__()
        self.source = source
        self.base_seed = seed
        self.episode_index = 0
        self.speed = min(SPEEDS, key=lambda s: abs(s - speed))
        self.paused = paused
        self.step: Any = None
        self.steps_taken = 0
        self.done = False
        self.opening = True
        self.error: str | None = None
        self.episode_returns: list[float] = []
        self.returns: list[float] = []
        self._iterator: Iterator[Any] | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="rollout-body"):
            yield EnvView(id="env-view")
            with Vertical(id="rollout-side"):
                yield Static("", id="rollout-info")
                yield Static("Return so far", classes="preview-label")
                yield Sparkline([], id="rollout-returns")
                yield Static("", id="rollout-episodes")
        yield FitFooter()

    def on_mount(self) -> None:
        self.sub_title = f"Rollout · {self.source.title}"
        view = self.query_one(EnvView)
        view.border_title = self.source.env_id or "environment"
        view.show_message("Loading the policy…")
        self._render_info()
        self.open_episode(self._seed())

    def _seed(self) -> int | None:
        return None if self.base_seed is None else self.base_seed + self.episode_index

    # -- loading episodes (worker: loading a checkpoint and making an env can be slow) -------------
    @work(thread=True, exclusive=True, group="rollout-open", name="open episode")
    def open_episode(self, seed: int | None) -> None:
        try:
            iterator = self.source.episode(seed)
            first = next(iterator, None)
        except Exception as exc:  # noqa: BLE001 - shown in the viewer
            self.post_message(EpisodeOpened(None, None, seed, describe_error(exc)))
            return
        self.post_message(EpisodeOpened(iterator, first, seed))

    def on_episode_opened(self, message: EpisodeOpened) -> None:
        self.opening = False
        view = self.query_one(EnvView)
        if message.error or message.first is None:
            self.error = message.error or "The episode had no steps."
            view.show_message(f"Cannot play this run:\n{self.error}")
            self._render_info()
            return
        self.error = None
        view.frames_requested = self.source.frames_requested
        view.no_frames = self.source.no_frames_reason()
        self._iterator = message.iterator
        self.done = False
        self.steps_taken = 0
        self.returns = []
        self._show(message.first)
        self._restart_timer()

    # -- playing ---------------------------------------------------------------------------------------
    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(1 / self.speed, self._tick, pause=self.paused or self.done)

    def _tick(self) -> None:
        if self.paused or self.done or self._iterator is None:
            return
        self.advance()

    def advance(self) -> bool:
        """Play one step; False at the end of the episode (or on an error)."""
        if self._iterator is None or self.done:
            return False
        try:
            step = next(self._iterator)
        except StopIteration:
            self._end_episode()
            return False
        except Exception as exc:  # noqa: BLE001 - a failing env pauses the viewer, never the app
            self.error = describe_error(exc)
            self._end_episode()
            self.notify(self.error, title="Rollout stopped", severity="error")
            return False
        self._show(step)
        return True

    def _show(self, step: Any) -> None:
        self.step = step
        self.steps_taken += 1
        self.returns.append(float(getattr(step, "episode_return", 0.0)))
        view = self.query_one(EnvView)
        view.show(step, env_id=getattr(step, "env_id", "") or self.source.env_id)
        if getattr(step, "env_id", ""):
            view.border_title = step.env_id
        if getattr(step, "terminated", False) or getattr(step, "truncated", False):
            self._end_episode()
        self._render_info()

    def _end_episode(self) -> None:
        if self.done:
            return
        self.done = True
        if self._timer is not None:
            self._timer.pause()
        if self.step is not None:
            self.episode_returns.append(float(getattr(self.step, "episode_return", 0.0)))
        self._render_info()

    def _render_info(self) -> None:
        step = self.step
        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim", no_wrap=True)
        table.add_column(no_wrap=True)
        seed = self._seed()
        table.add_row("Episode", f"{self.episode_index + 1}" + (f"  seed {seed}" if seed is not None else ""))
        table.add_row("Step", str(getattr(step, "t", self.steps_taken)) if step is not None else "—")
        table.add_row("Action", fmt_action(step.action) if step is not None else "—")
        table.add_row("Reward", f"{float(step.reward):+.3f}" if step is not None else "—")
        table.add_row("Return", Text(fmt_float(getattr(step, "episode_return", None), 2), style="bold"))
        if self.opening:
            state = Text("loading…", style="#61afef")
        elif self.error:
            state = Text("error", style="bold #e06c75")
        elif self.done:
            end = "truncated" if getattr(step, "truncated", False) else "terminated"
            state = Text(f"■ {end}", style="#c678dd")
        elif self.paused:
            state = Text("❚❚ paused", style="#e5c07b")
        else:
            state = Text("▶ playing", style="#98c379")
        table.add_row("State", state)
        table.add_row("Speed", f"{self.speed} steps/s")
        view = self.query_one(EnvView)
        table.add_row("View", f"{view.mode} ({view.drawn_as()})")
        self.query_one("#rollout-info", Static).update(table)
        spark = self.query_one("#rollout-returns", Sparkline)
        spark.data = self.returns[-200:] or [0.0]
        spark.visible = bool(self.returns)  # (nothing played yet, or nothing can: no full bar)
        episodes = Text()
        if self.done:
            episodes.append("Episode over — r replays, n plays the next one.\n", style="italic")
        for i, ret in enumerate(self.episode_returns[-8:], start=max(1, len(self.episode_returns) - 7)):
            episodes.append(f"ep {i:>3}  return {ret:>9.2f}\n")
        self.query_one("#rollout-episodes", Static).update(episodes)

    # -- actions ----------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self._timer is not None and not self.done:
            (self._timer.pause if self.paused else self._timer.resume)()
        self._render_info()

    def action_step(self) -> None:
        """One step (pauses playback); at the end of an episode, the next episode."""
        if self.opening:
            return
        if self.done:
            self.action_next_episode()
            return
        if not self.paused:
            self.action_toggle_pause()
        self.advance()

    def action_speed(self, delta: int) -> None:
        index = max(0, min(len(SPEEDS) - 1, SPEEDS.index(self.speed) + delta))
        self.speed = SPEEDS[index]
        if self._timer is not None:
            self._restart_timer()
        self._render_info()

    def action_restart(self) -> None:
        """The same episode again (same seed)."""
        self._reopen()

    def action_next_episode(self) -> None:
        self.episode_index += 1
        self._reopen()

    def _reopen(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.opening = True
        self.done = False
        self._iterator = None
        self._render_info()
        self.open_episode(self._seed())

    def action_view_mode(self) -> None:
        mode = self.query_one(EnvView).cycle_mode()
        self._render_info()
        self.notify(f"View: {mode}", timeout=1.5)
