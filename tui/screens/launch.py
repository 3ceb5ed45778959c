"""Launch a training run: overrides (checked as you type), seed and budget, then start."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from mazedsl_tui.formatting import budget_unit, cwd_path
from mazedsl_tui.library import describe_error, ref_parts
from mazedsl_tui.messages import BudgetUnitKnown, OverridesValidated
from mazedsl_tui.widgets.form import FIELD_KEYS, FormInput

FIELDS = ("overrides", "seed", "budget")


def budget_label(plays_episodes: bool) -> str:
    """The budget field's label: ``total_steps`` counts env steps, or BC's training samples."""
    return f"Budget ({budget_unit(plays_episodes)})"


def build_overrides(text: str, seed: str, budget: str) -> tuple[list[str], str | None, str]:
    """The override list from the form, or (partial list, error, field at fault)."""
    try:
        overrides = shlex.split(text)
    except ValueError as exc:
        return [], f"overrides: {exc}", "overrides"
    for item in overrides:
        if "=" not in item and not item.startswith("~"):
            return overrides, f"'{item}': expected KEY=VALUE (e.g. algorithm.lr=1e-3)", "overrides"
    seed, budget = seed.strip(), budget.strip().replace(",", "").replace("_", "")
    if seed:
        if not seed.isdigit():
            return overrides, f"seed: expected a whole number >= 0, got {seed!r}", "seed"
        overrides.append(f"seed={int(seed)}")
    if budget:
        if not budget.isdigit() or int(budget) <= 0:
            return overrides, f"budget: expected a whole number of steps > 0, got {budget!r}", "budget"
        overrides.append(f"total_steps={int(budget)}")
    return overrides, None, ""


class LaunchScreen(ModalScreen[Path | None]):
    """A dialog over the current screen; dismissed with the new run directory, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "start", "Start training"),  # not priority: after the keys typed before it
        *FIELD_KEYS,
    ]

    def __init__(self, experiment_file: Path, overrides: str = "", sweep: Any = None) -> None:
        super().__init__()
        self.experiment_file = Path(experiment_file)
        self.sweep = sweep  # a SweepConfig: started as ``mazedsl-run -m``
        self.initial_overrides = overrides
        self.overrides: list[str] = []
        self.error: str | None = None
        self.error_field = ""
        self.experiment_name = ref_parts(self.experiment_file)[0].stem
        self.validating = False
        self._experiment: Any = None
        self._generation = 0
        self._start_when_checked: int | None = None  # the form (generation) Enter was pressed on
        self._checked_form: tuple[str, str, str] | None = None  # the form last sent to be checked
        self.plays_episodes = True  # False: the budget counts training samples (BC), not env steps

    def compose(self) -> ComposeResult:
        with Vertical(id="launch-dialog"):
            yield Static("", id="launch-title")
            yield Label("Overrides", classes="launch-label")
            yield FormInput(self.initial_overrides, placeholder="algorithm.lr=1e-3 runner.n_envs=4",
                            id="launch-overrides")
            with Grid(id="launch-numbers"):
                yield Label("Seed", classes="launch-label")
                yield Label(budget_label(True), classes="launch-label", id="launch-budget-label")
                yield FormInput(placeholder="from the experiment", id="launch-seed", type="integer")
                yield FormInput(placeholder="from the experiment", id="launch-budget")
            yield Static("", id="launch-error")
            yield Static("", id="launch-preview")
            with Horizontal(id="launch-buttons"):
                yield Button("Start training  ^s", variant="success", id="launch-start")
                yield Button("Cancel  esc", id="launch-cancel")

    def on_mount(self) -> None:
        dialog = self.query_one("#launch-dialog")
        dialog.border_title = "Train" if self.sweep is None else "Sweep"
        dialog.border_subtitle = "checked as you type"
        title = Text.assemble(("Experiment  " if self.sweep is None else "Sweep config  ", "dim"),
                              (self.experiment_file.name, "bold"))
        if self.sweep is not None:
            self.experiment_name = self.sweep.name
            self.query_one("#launch-start", Button).label = "Start sweep  ^s"
            title.append(f"  {self.sweep.summary()}", style="dim")
            if self.sweep.params:
                title.append(f"\nsearch space: {', '.join(self.sweep.params)}", style="dim")
        self.query_one("#launch-title", Static).update(title)
        self.query_one("#launch-overrides", Input).focus()
        self.validate_form()

    # -- validation --------------------------------------------------------------------------------
    @on(Input.Changed)
    def _changed(self) -> None:
        if self.form() != self._checked_form:  # keys in a burst: one check for all of them
            self.validate_form()

    def form(self) -> tuple[str, str, str]:
        return (self.query_one("#launch-overrides", Input).value, self.query_one("#launch-seed", Input).value,
                self.query_one("#launch-budget", Input).value)

    def validate_form(self) -> None:
        self._checked_form = self.form()
        overrides, error, field = build_overrides(*self._checked_form)
        self._generation += 1
        if error:
            self._show_result(overrides, error, field, None)
            return
        self.validating = True
        self._update_start()
        self.check_overrides(overrides, self._generation)

    @work(thread=True, exclusive=True, group="launch-validate")
    def check_overrides(self, overrides: list[str], generation: int) -> None:
        lib = self.app.library
        if self.sweep is not None:
            problem = self.sweep.problem() or lib.sweep_problem(self.sweep, overrides)
            note = None if problem else "Each trial's own values are checked by mazedsl-run as it starts."
            self.post_message(OverridesValidated(overrides, problem, self.sweep.name, note=note,
                                                 generation=generation))
            return
        problem = lib.config_problem()
        if problem:
            self.post_message(OverridesValidated(
                overrides, None, None, note=f"{problem} Overrides are checked when training starts.",
                generation=generation))
            return
        experiment = None
        try:
            if self._experiment is None:
                self._experiment = lib.load_experiment(self.experiment_file)
            experiment = lib.apply_overrides(self._experiment, overrides)
            if generation != self._generation:
                return  # the form changed: skip making the env for a stale form
            lib.preflight(experiment)  # what `mazedsl train` refuses before writing anything
            name = lib.experiment_name(experiment, self.experiment_file)
            message = OverridesValidated(overrides, None, name, generation=generation)
        except Exception as exc:  # noqa: BLE001 - every error is shown inline
            message = OverridesValidated(overrides, describe_error(exc), None, generation=generation)
        self.post_message(message)
        if experiment is not None and generation == self._generation:
            # what the budget counts follows the algorithm (overrides may change it): after the
            # verdict, since asking the learner imports torch (seconds, the first time)
            try:
                plays = lib.plays_episodes(experiment)
            except Exception:  # noqa: BLE001 - an algorithm that cannot say: the label stays
                return
            self.post_message(BudgetUnitKnown(plays, generation))

    def on_budget_unit_known(self, message: BudgetUnitKnown) -> None:
        if message.generation != self._generation:
            return  # the form changed since: its own answer follows
        self.plays_episodes = message.plays_episodes
        self.query_one("#launch-budget-label", Label).update(budget_label(message.plays_episodes))

    def on_overrides_validated(self, message: OverridesValidated) -> None:
        if message.generation != self._generation:
            return  # the form changed since
        field = ""
        if message.error and self.sweep is None:
            field = "overrides"
            for name, prefix in (("seed", "seed="), ("budget", "total_steps=")):
                if any(o.startswith(prefix) and f"'{o}'" in message.error for o in message.overrides):
                    field = name
        self._show_result(message.overrides, message.error, field, message.experiment_name,
                          message.note)
        if self._start_when_checked == message.generation:  # Enter came while checking this form
            self._start_when_checked = None
            self.action_start()

    def _show_result(self, overrides: list[str], error: str | None, field: str, name: str | None,
                     note: str | None = None) -> None:
        self.validating = False
        self.overrides = overrides
        self.error = error
        self.error_field = field if error else ""
        if name:
            self.experiment_name = name
        for each in FIELDS:
            self.query_one(f"#launch-{each}", Input).set_class(each == self.error_field, "-invalid-field")
        error_static = self.query_one("#launch-error", Static)
        if error:
            error_static.update(Text(f"✘ {error}", style="bold #e06c75"))
        elif note and self.sweep is not None:
            error_static.update(Text.assemble(("✔ valid", "#98c379"), (f"  {note}", "dim")))
        elif note:
            error_static.update(Text(note, style="#e5c07b"))
        else:
            error_static.update(Text("✔ valid", style="#98c379"))
        preview = Text()
        if self.sweep is not None:
            preview.append("run dirs ", style="dim")
            preview.append(f"{cwd_path(self.app.runs_root)}/{self.experiment_name}/sweep_<YYYYmmdd-HHMMSS>_<id>/job_N")
        else:
            preview.append("run dir  ", style="dim")
            preview.append(f"{cwd_path(self.app.runs_root)}/{self.experiment_name}/<YYYYmmdd-HHMMSS>_<id>")
        preview.append("\ncommand  ", style="dim")
        preview.append(shlex.join(self.command(overrides)))
        self.query_one("#launch-preview", Static).update(preview)
        self._update_start()

    def command(self, overrides: list[str]) -> list[str]:
        """The ``mazedsl train`` (a sweep config: ``mazedsl-run -m``) command that does the same
        from the working directory."""
        if self.sweep is not None:
            return self.sweep.command(overrides, self.app.runs_root)
        runs = cwd_path(self.app.runs_root)
        root = [] if runs == "outputs" else ["--runs-root", runs]
        return ["mazedsl", *root, "train", cwd_path(self.experiment_file), *overrides]

    def _update_start(self) -> None:
        self.query_one("#launch-start", Button).disabled = bool(self.error) or self.validating

    # -- starting ------------------------------------------------------------------------------------
    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#launch-start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#launch-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_start(self) -> None:
        if self.form() != self._checked_form:  # typed just before Start: not checked yet
            self.validate_form()
        if self.validating:  # starts once checked, unless the form changes first
            self._start_when_checked = self._generation
            self.notify("Starting once the overrides are checked…")
            return
        if self.error:
            self.notify(self.error, title="Fix the overrides first", severity="error")
            return
        try:
            if self.sweep is not None:
                run_dir = self.app.start_sweep(self.sweep, self.overrides)
            else:
                run_dir = self.app.start_training(self.experiment_file, self.overrides, self.experiment_name)
        except Exception as exc:  # noqa: BLE001 - e.g. the interpreter cannot be started
            self.notify(describe_error(exc), title="Cannot start training", severity="error")
            return
        self.dismiss(run_dir)
