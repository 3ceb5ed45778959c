"""The Experiments screen: experiment files and config modules; compiled YAML, provenance, diff."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Select, Static, TabbedContent, TabPane, Tree

from mazedsl_tui.formatting import cwd_path, plain
from mazedsl_tui.library import describe_error, experiment_files, experiment_ref, ref_parts, ref_stem
from mazedsl_tui.messages import ExperimentDiffed, ExperimentLoaded, ExperimentsScanned, ModulesListed
from mazedsl_tui.widgets.experiments.tree import ExperimentEntry, ExperimentTree, ModuleEntry
from mazedsl_tui.widgets.footer import FitFooter

TABS = ("yaml", "provenance", "diff")


def _yaml_view(text: str) -> Syntax:
    return Syntax(text, "yaml", theme="monokai", line_numbers=True, background_color="default")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths of a YAML tree (``a.b``, ``wrappers[0].clip``); lists of scalars are leaves."""
    out: dict[str, Any] = {prefix: value} if prefix else {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        for i, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{i}]"))
    return out


def _fit(want: list[int], room: int, floor: int = 12) -> list[int]:
    """Column widths (the first is the path) no wider than needed that add up to at most
    ``room``: the widest value column gives way first, down to ``floor``, then the path."""
    widths = list(want)
    while sum(widths) > room:
        values = [i for i in range(1, len(widths)) if widths[i] > floor]
        if values:
            widths[max(values, key=lambda i: widths[i])] -= 1
        elif widths[0] > floor:
            widths[0] -= 1
        else:
            break
    return widths


def _cut(value: str, style: str = "") -> Text:
    """A one-line cell that a narrower column cuts with '…'."""
    return Text(value, style=style, overflow="ellipsis", no_wrap=True)


def _cell_width(cell: Any) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(str(cell))


def _value_text(value: Any) -> str:
    if value is None:
        return "null"
    if type(value).__name__ == "_Missing":  # mazedsl.config.MISSING: absent on that side
        return "—"
    return str(value)


class ExperimentsScreen(Screen):
    """Tree on the left; YAML / provenance / diff of the highlighted experiment on the right."""

    BINDINGS = [
        Binding("t", "train", "Train"),
        Binding("d", "diff", "Diff"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False),
        Binding("right_square_bracket", "tab(1)", "Tabs", key_display="[ ]"),
        Binding("f5", "reload", "Reload", show=False),
        Binding("1", "app.go('runs')", "Runs"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.current: Path | None = None
        self.current_module: ModuleEntry | None = None
        self.experiment: Any = None
        self.sweep: Any = None  # the selected file is a sweep config (mazedsl_tui.sweeps.SweepConfig)
        self._cache: dict[Path, tuple[float, Any]] = {}
        self._wanted: tuple[Path, str | None, Path | None] | None = None
        self._ready = False
        self._diffed: ExperimentDiffed | None = None
        self._files: list[Path] = []
        self._sweeps: set[Path] = set()  # sweep configs: shown and launched, not diffed
        self.choices: dict[Path, list[str]] = {}  # files of several experiments -> their names

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="exp-body"):
            yield ExperimentTree(id="exp-tree")
            with Vertical(id="exp-main"):
                yield Static("Select an experiment file or a config module.", id="exp-title")
                with TabbedContent(id="exp-tabs"):
                    with TabPane("Config", id="yaml"):
                        with VerticalScroll(id="exp-yaml-scroll"):
                            yield Static("", id="exp-yaml")
                    with TabPane("Provenance", id="provenance"):
                        yield DataTable(id="exp-provenance", cursor_type="row", zebra_stripes=True)
                        yield Static("", id="exp-explain")
                    with TabPane("Diff", id="diff"):
                        yield Select([], prompt="Compare with…", id="diff-other")
                        yield Static("", id="diff-status")
                        yield DataTable(id="diff-table", cursor_type="row", zebra_stripes=True)
                        yield Static("", id="diff-detail")
        yield FitFooter()

    def on_mount(self) -> None:
        self.sub_title = "Experiments"
        provenance = self.query_one("#exp-provenance", DataTable)
        provenance.add_column("Path", key="path")
        provenance.add_column("Value", key="value")
        provenance.add_column("Set by", key="source")
        self.reload()

    def on_screen_resume(self) -> None:
        """Back on this screen: files added or removed meanwhile show up (no key needed)."""
        if experiment_files(Path(self.app.experiments_dir)) != getattr(self, "_files", None):
            self.reload()

    def reload(self) -> None:
        root = Path(self.app.experiments_dir)
        files = experiment_files(root)
        tree = self.query_one(ExperimentTree)
        self._files = files
        self._sweeps = {p for p in files if self.app.library.sweep_config(p) is not None}
        tree.populate(files, root, self._sweeps)
        self.choices = {}
        self._set_diff_options()
        self.list_modules()
        self.scan_files(files)
        self.call_after_refresh(self._select_initial, files)
        if not files:
            self.query_one("#exp-title", Static).update(Text.from_markup(
                f"No experiment files in [b]{root}[/b]. Copy one from the project's experiments/ folder."))

    def _select_initial(self, files: list[Path]) -> None:
        self._ready = True
        if self._wanted is not None:
            self._apply_wanted()
        elif files:
            self.query_one(ExperimentTree).select_path(files[0])

    def refs(self) -> list[Path]:
        """Every experiment that can be diffed and trained: files (not sweep configs), and each
        experiment of a file that defines several (``file.py:name``)."""
        out: list[Path] = []
        for path in self._files:
            if path in self._sweeps:
                continue
            names = self.choices.get(path)
            out += [experiment_ref(path, name) for name in names] if names else [path]
        return out

    def _set_diff_options(self) -> None:
        root = Path(self.app.experiments_dir)
        select = self.query_one("#diff-other", Select)
        value = select.value
        refs = self.refs()
        select.set_options([(str(p.relative_to(root)) if p.is_relative_to(root) else str(p), str(p))
                            for p in refs])
        if value is not Select.NULL and Path(str(value)) in refs:
            with self.prevent(Select.Changed):
                select.value = value

    # -- files of several experiments (finding them runs the files: a worker) ----------------------
    @work(thread=True, exclusive=True, group="exp-scan")
    def scan_files(self, files: list[Path]) -> None:
        lib = self.app.library
        if lib.config_problem():
            return
        choices = {}
        for path in files:
            if path.suffix != ".py":
                continue
            try:
                names = lib.experiment_names(path)
            except Exception:  # noqa: BLE001 - a broken file says so when selected
                continue
            if len(names) > 1:
                choices[path] = names
        if choices:
            self.post_message(ExperimentsScanned(choices))

    def on_experiments_scanned(self, message: ExperimentsScanned) -> None:
        root = Path(self.app.experiments_dir)
        tree = self.query_one(ExperimentTree)
        for path, names in message.choices.items():
            self.choices[path] = names
            tree.set_choices(path, names, root)
        self._set_diff_options()
        if self._wanted is not None and self._ready:
            self.call_after_refresh(self._apply_wanted)

    def action_reload(self) -> None:
        self._cache.clear()
        self.reload()

    # -- config modules (listing may import Hydra: a worker) --------------------------------------
    @work(thread=True, exclusive=True, group="exp-modules")
    def list_modules(self) -> None:
        lib = self.app.library
        try:
            modules = {group: lib.list_modules(group) for group in lib.groups()}
        except Exception as exc:  # noqa: BLE001 - shown in the tree
            self.post_message(ModulesListed({}, describe_error(exc)))
            return
        self.post_message(ModulesListed(modules))

    def on_modules_listed(self, message: ModulesListed) -> None:
        self.query_one(ExperimentTree).set_modules(message.modules, message.error)

    # -- selecting ------------------------------------------------------------------------------
    @on(Tree.NodeHighlighted, "#exp-tree")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        if isinstance(data, ExperimentEntry) and data.path != self.current:
            self.current = data.path  # a file, or file.py:name
            self.current_module = None
            self.experiment = None
            self.sweep = None
            self.query_one("#exp-title", Static).update(Text.assemble(
                (data.label, "bold"), ("  compiling…", "dim")))
            self.load_experiment(data.path)
        elif isinstance(data, ModuleEntry):
            self.current = None
            self.current_module = data
            self.experiment = None
            self.sweep = None
            self._show_module(data)

    def _load(self, path: Path) -> Any:
        """Load (cached by mtime) an experiment file or ``file.py:name``. Called from worker threads."""
        mtime = ref_parts(path)[0].stat().st_mtime
        cached = self._cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        experiment = self.app.library.load_experiment(path)
        self._cache[path] = (mtime, experiment)
        return experiment

    @work(thread=True, exclusive=True, group="exp-load")
    def load_experiment(self, path: Path) -> None:
        lib = self.app.library
        sweep = lib.sweep_config(path) if path.suffix in (".yaml", ".yml") else None
        if sweep is not None:
            self.post_message(ExperimentLoaded(path, sweep.name, sweep.text, {}, sweep=sweep))
            return
        problem = lib.config_problem()
        if problem:
            self.post_message(ExperimentLoaded(path, path.stem, "", {}, problem))
            return
        try:
            experiment = self._load(path)
            yaml_text = lib.to_yaml(experiment)
            provenance = lib.provenance(experiment)
            name = lib.experiment_name(experiment, path)
        except Exception as exc:  # noqa: BLE001 - a broken experiment file is shown, not raised
            names = self._several(path)
            if names:
                self.post_message(ExperimentsScanned({path: names}))
            self.post_message(ExperimentLoaded(path, ref_stem(path), "", {}, describe_error(exc), choices=names))
            return
        self.post_message(ExperimentLoaded(path, name, yaml_text, provenance, experiment=experiment))

    def _several(self, path: Path) -> list[str] | None:
        """The experiments of ``path`` when it is a file that defines several (else None)."""
        if ref_parts(path)[1] is not None or path.suffix != ".py":
            return None
        try:
            names = self.app.library.experiment_names(path)
        except Exception:  # noqa: BLE001 - the load error is shown instead
            return None
        return names if len(names) > 1 else None

    def on_experiment_loaded(self, message: ExperimentLoaded) -> None:
        if message.path != self.current:
            return
        self.experiment = message.experiment
        root = Path(self.app.experiments_dir)
        rel = str(message.path.relative_to(root)) if message.path.is_relative_to(root) else str(message.path)
        title = Text.assemble((message.name, "bold"), "  ", (rel, "dim"))
        yaml_static = self.query_one("#exp-yaml", Static)
        table = self.query_one("#exp-provenance", DataTable)
        table.clear()
        self.query_one("#exp-explain", Static).update("")
        if message.sweep is not None:
            self._show_sweep(message.sweep, title)
            return
        if message.choices:
            note = (f"{message.path.name} defines {len(message.choices)} experiments: "
                    f"{', '.join(message.choices)}. Pick one below it in the tree to show, diff or train it.")
            title.append(f"\n{note}", style="#e5c07b")
            self.query_one("#exp-title", Static).update(title)
            yaml_static.update(Text(note, style="#e5c07b"))
            self._clear_diff()
            self.query_one("#diff-status", Static).update(Text("Pick one of its experiments first.", style="dim"))
            return
        if message.error:
            title.append(f"\n{message.error}", style="#e06c75")
            self.query_one("#exp-title", Static).update(title)
            yaml_static.update(Text(message.error, style="#e06c75"))
            return
        title.append("   ")  # (alone: SVG viewers drop the spaces that start a styled run)
        title.append("t train · d diff", style="dim")
        self.query_one("#exp-title", Static).update(title)
        yaml_static.update(_yaml_view(message.yaml))
        values = {}
        try:
            import yaml

            values = _flatten(yaml.safe_load(message.yaml))
        except Exception:  # noqa: BLE001 - values are a convenience
            pass
        folder = self.app.experiments_dir
        prefixes = {f"{p.rstrip('/')}/" for p in (folder.as_posix(), cwd_path(folder), os.path.abspath(folder))}
        for path, source in message.provenance.items():
            prefix = next((p for p in prefixes if source.startswith(p)), "")
            source = source[len(prefix):]
            style = ("#e5c07b" if source.startswith("override")
                     else "dim" if source == "default" or source.endswith(" default") else "")
            table.add_row(_cut(path), _cut(_value_text(values.get(path, ""))), _cut(source, style), key=path)
        self._fit_provenance()
        self._refresh_diff()

    def _show_sweep(self, sweep: Any, title: Text) -> None:
        """A Hydra sweep config: its file, search space and fixed values; t launches the sweep."""
        self.sweep = sweep
        problem = sweep.problem()
        title.append(f"\nsweep config for mazedsl-run -m · {sweep.summary()}", style="#e5c07b")
        title.append("  ")  # (alone: SVG viewers drop the spaces that start a styled run)
        title.append(f"✘ {problem}" if problem else "t launch sweep",
                     style="#e06c75" if problem else "dim")
        self.query_one("#exp-title", Static).update(title)
        self.query_one("#exp-yaml", Static).update(_yaml_view(sweep.text))
        table = self.query_one("#exp-provenance", DataTable)
        for path, space in sweep.params.items():
            table.add_row(path, space, Text("search space", style="#e5c07b"),
                          key=f"param:{path}")
        for path, value in sweep.fixed.items():
            table.add_row(path, plain(_value_text(value)), Text(sweep.path.name), key=f"fixed:{path}")
        self._fit_provenance()
        bases = ", ".join(sweep.bases) or "nothing"
        self.query_one("#exp-explain", Static).update(Text(
            f"The search space is hydra.sweeper.params; every other value comes from {bases}. "
            "Each trial is one training job.", style="dim"))
        self.query_one("#diff-status", Static).update("Diff compares experiment files.")
        self._clear_diff()

    def _show_module(self, entry: ModuleEntry) -> None:
        text = self.app.library.module_source(entry.group, entry.name)
        self.query_one("#exp-title", Static).update(Text.assemble(
            (f"{entry.group}/{entry.name}", "bold"), ("  config module · use it with the override ", "dim"),
            (f"{entry.group}={entry.name}", "#e5c07b")))
        self.query_one("#exp-yaml", Static).update(_yaml_view(text))
        self.query_one("#exp-provenance", DataTable).clear()
        self.query_one("#exp-explain", Static).update("Provenance is shown for experiments.")
        self.query_one("#diff-status", Static).update("Diff compares experiment files.")
        self._clear_diff()

    @on(DataTable.RowHighlighted, "#exp-provenance")
    def _explain(self, event: DataTable.RowHighlighted) -> None:
        if self.sweep is not None or self.experiment is None or event.row_key.value is None:
            return
        try:
            text = self.app.library.explain(self.experiment, event.row_key.value)
        except Exception as exc:  # noqa: BLE001 - explanations are best effort
            text = describe_error(exc)
        self.query_one("#exp-explain", Static).update(Text(text))

    # -- diff ----------------------------------------------------------------------------------------
    @on(Select.Changed, "#diff-other")
    def _other_changed(self) -> None:
        self._refresh_diff()

    def _refresh_diff(self) -> None:
        select = self.query_one("#diff-other", Select)
        status = self.query_one("#diff-status", Static)
        if self.current is None:
            return
        if self.sweep is not None:
            status.update("Diff compares experiment files.")
            return
        if select.value is Select.NULL:
            status.update(Text("Pick another experiment to compare with.", style="dim"))
            self._clear_diff()
            return
        other = Path(str(select.value))
        status.update(Text("comparing…", style="dim"))
        self.compute_diff(self.current, other)

    @work(thread=True, exclusive=True, group="exp-diff")
    def compute_diff(self, a: Path, b: Path) -> None:
        lib = self.app.library
        try:
            problem = lib.config_problem()
            if problem:
                raise RuntimeError(problem)
            rows = lib.diff(self._load(a), self._load(b))
        except Exception as exc:  # noqa: BLE001 - shown under the picker
            self.post_message(ExperimentDiffed(a, b, [], describe_error(exc)))
            return
        self.post_message(ExperimentDiffed(a, b, rows, None))

    def on_experiment_diffed(self, message: ExperimentDiffed) -> None:
        if message.a != self.current:
            return
        status = self.query_one("#diff-status", Static)
        self._diffed = message
        self.query_one("#diff-detail", Static).update("")
        if message.error:
            self.query_one("#diff-table", DataTable).clear(columns=True)
            status.update(Text(message.error, style="#e06c75"))
            return
        if message.a == message.b:
            status.update(Text("Same file.", style="dim"))
        else:
            status.update(Text.assemble((f"{len(message.rows)} differences ", "bold"), "between ",
                                        (f"{ref_stem(message.a)} ", "#61afef"), "and ",
                                        (ref_stem(message.b), "#e5c07b")))
        self._fill_diff()

    def _clear_diff(self) -> None:
        self._diffed = None
        self.query_one("#diff-table", DataTable).clear(columns=True)
        self.query_one("#diff-detail", Static).update("")

    def _fill_diff(self) -> None:
        """(Re)build the diff table with columns that fit the pane: no sideways scrolling, long
        values cut with '…' (the highlighted row is shown in full under the table)."""
        message = self._diffed
        table = self.query_one("#diff-table", DataTable)
        table.clear(columns=True)
        if message is None or message.error:
            return
        rows = [(path, _value_text(va), _value_text(vb)) for path, va, vb in message.rows]
        names = (ref_stem(message.a), ref_stem(message.b))
        # the pane's width (the table may be in a hidden tab), less the scrollbar and 2 cells of
        # padding per column
        room = max(self.query_one("#exp-main").size.width - 2 - 6, 24)
        want = [max([len("Path"), *(len(r[0]) for r in rows)]),
                max([len(names[0]), *(len(r[1]) for r in rows)]),
                max([len(names[1]), *(len(r[2]) for r in rows)])]
        widths = _fit(want, room)
        table.add_column("Path", key="path", width=widths[0])
        table.add_column(names[0], key="a", width=widths[1])
        table.add_column(names[1], key="b", width=widths[2])
        for path, va, vb in rows:
            table.add_row(Text(path, overflow="ellipsis", no_wrap=True),
                          Text(va, style="#61afef", overflow="ellipsis", no_wrap=True),
                          Text(vb, style="#e5c07b", overflow="ellipsis", no_wrap=True), key=path)

    def _fit_provenance(self) -> None:
        """Path, value and "Set by" columns that fit the pane, as the diff's do: at 80 columns the
        long paths pushed "Set by" out of sight; a cut cell ends in '…' (the highlighted row is
        explained in full under the table)."""
        table = self.query_one("#exp-provenance", DataTable)
        columns = list(table.columns.values())
        want = [max([c.label.cell_len, *(_cell_width(cell) for cell in table.get_column(c.key))])
                for c in columns]
        room = max(self.query_one("#exp-main").size.width - 2 - 2 * table.cell_padding * len(columns), 24)
        if sum(want) <= room:  # it all fits: the table sizes its columns itself, as it always has
            for column in columns:
                column.auto_width = True
            table.refresh()
            return
        widths = list(want)
        # the value gives way first, then "Set by" and the path in turn (a file and line,
        # acrobot_dqn.py:14, fits in 18), then the value and the path a little more
        for index, floor in ((1, 12), (2, 18), (0, 16), (1, 8), (0, 12), (2, 12)):
            widths[index] = max(min(widths[index], floor), widths[index] - (sum(widths) - room))
        for column, width in zip(columns, widths):
            column.auto_width = False
            column.width = width
        table.refresh()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_provenance)
        if getattr(self, "_diffed", None) is not None:
            self.call_after_refresh(self._refit_diff)

    def _refit_diff(self) -> None:
        table = self.query_one("#diff-table", DataTable)
        row = table.cursor_row
        self._fill_diff()
        if 0 <= row < table.row_count:
            table.move_cursor(row=row)

    @on(DataTable.RowHighlighted, "#diff-table")
    def _diff_row(self, event: DataTable.RowHighlighted) -> None:
        message = self._diffed
        if message is None or event.row_key.value is None:
            return
        for path, va, vb in message.rows:
            if path == event.row_key.value:
                self.query_one("#diff-detail", Static).update(Text.assemble(
                    (f"{path}  ", "bold"), (f"{_value_text(va)}  ", "#61afef"), "→  ",
                    (_value_text(vb), "#e5c07b")))
                return

    # -- actions -------------------------------------------------------------------------------------
    def action_tab(self, delta: int) -> None:
        tabs = self.query_one("#exp-tabs", TabbedContent)
        tabs.active = TABS[(TABS.index(tabs.active) + delta) % len(TABS)]

    def action_diff(self) -> None:
        self.query_one("#exp-tabs", TabbedContent).active = "diff"
        self.query_one("#diff-other", Select).focus()

    def action_train(self) -> None:
        if self.current is None:
            self.notify("Select an experiment file first.", severity="warning")
            return
        if self.current in self.choices:
            self.notify(f"{self.current.name} defines several experiments: pick one below it.",
                        severity="warning")
            return
        self.app.open_launch(self.current, sweep=self.sweep)

    def show_experiment(self, path: Path, tab: str | None = None, other: Path | None = None) -> None:
        """Select ``path`` in the tree, optionally a tab and the experiment to diff against
        (the command palette's diff); waits for the tree if the screen is still being built."""
        self._wanted = (Path(path), tab, None if other is None else Path(other))
        if self._ready:
            self._apply_wanted()

    def _apply_wanted(self) -> None:
        assert self._wanted is not None
        path, tab, other = self._wanted
        refs = self.refs()
        if any(ref_parts(p)[1] is not None and p not in refs for p in (path, other) if p is not None):
            return  # one experiment of a file of several, not listed yet: after the scan
        self._wanted = None
        self.query_one(ExperimentTree).select_path(path)
        if other is not None:
            self.query_one("#diff-other", Select).value = str(other)
        if tab:
            self.query_one("#exp-tabs", TabbedContent).active = tab
