"""The TUI at the standard small terminal, 80x24: what a user needs stays on screen (chart
legends name every series; table columns whose values matter are not pushed out of sight)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from textual.widgets import DataTable

from tests.test_tui_new_algos import algo_run, open_curves
from tests.tui_helpers import make_app, run_async, screen_text, wait_for

SMALL = (80, 24)


def bottom_border(widget) -> str:
    """The last line the widget draws (its border, with the legend)."""
    region = widget.region
    lines = screen_text(widget.app).splitlines()
    return lines[region.y + region.height - 1][region.x:region.x + region.width]


# -- the losses legend names every series -------------------------------------------------------------

@pytest.mark.parametrize("algorithm, names", [
    ("SAC", ["policy", "entropy", "Q loss", "α"]),
    ("BC", ["entropy", "BC loss", "BC val loss"]),
])
@run_async
async def test_loss_legend_names_every_series_at_80x24(demo, algorithm, names):
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        loss = (await open_curves(pilot, app, algo_run(demo, algorithm)))["plot-loss"]
        await pilot.pause()
        legend = bottom_border(loss)
        assert "…" not in legend, legend
        for name in names:
            assert name in legend, (name, legend)


# -- Experiments: the provenance table's "Set by" column stays in sight --------------------------------

@run_async
async def test_provenance_set_by_column_fits_at_80x24(demo):
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=SMALL) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: getattr(screen, "experiment", None) is not None
                       and screen.query_one("#exp-provenance").row_count > 0, what="the provenance")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert "Set by" in text, text
        assert "cartpole_a2c.py:" in text, text  # the file and line of the values the file sets
        assert "GymEnv.kwargs" in text, text  # and where the defaults come from


# -- Run detail, Evaluation: the best-checkpoint marker stays in sight ----------------------------------

PENDULUM_EVAL = {"phase": "eval", "step": 600, "time": 5.0, "mean_return": -1700.6, "std_return": 110.6,
                 "min_return": -1913.7, "max_return": -1516.4, "mean_length": 200.0, "n_episodes": 5,
                 "best": True}


@run_async
async def test_best_eval_marker_in_sight_at_80x24(demo):
    """Pendulum's wide returns: the ★ of the best evaluation is on screen, and the empty "Last
    evaluation" table (no eval.json yet) leaves its width to them."""
    path = algo_run(demo, "SAC")
    (path / "eval.json").unlink(missing_ok=True)
    records = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    records = [r for r in records if r.get("phase") != "eval"] + [PENDULUM_EVAL]
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        app.open_run(path, tab="evaluation")
        await wait_for(pilot, lambda: app.screen.query("#eval-history")
                       and app.screen.query_one("#eval-history", DataTable).row_count == 1, what="the history")
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert "★ best" in text, text
        assert "-1,700.6" in text and "Length" in text, text
        assert "Last evaluation" not in text, text
        assert "press e to evaluate" in text, text  # what the hidden table would say


@run_async
async def test_last_evaluation_takes_only_its_width_at_80x24(demo):
    """With an eval.json the "Last evaluation" table is as wide as its columns, so every column
    of the history beside it (Length last) stays on screen."""
    path = demo.run_dirs[0]  # a finished CartPole run with eval.json and four evaluations
    assert (path / "eval.json").is_file()
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        app.open_run(path, tab="evaluation")
        await wait_for(pilot, lambda: app.screen.query("#eval-history")
                       and app.screen.query_one("#eval-history", DataTable).row_count == 4
                       and app.screen.query_one("#eval-episodes", DataTable).row_count > 0,
                       what="both tables")
        await pilot.pause()
        await pilot.pause()
        history = app.screen.query_one("#eval-history", DataTable)
        header = screen_text(app).splitlines()[history.region.y + 1]
        assert "Last evaluation" in screen_text(app)
        assert re.search(r"Step +Mean .* Min +Max +Length", header), header
        assert history.max_scroll_x == 0, history.max_scroll_x  # nothing cut off to the right


@run_async
async def test_log_lines_wrap_to_the_pane_and_again_after_a_resize(demo):
    """A train.log line longer than the terminal is shown whole, wrapped (it was cut at the
    edge); a line still being written waits for its newline; a resize wraps again."""
    from mazedsl_tui.widgets.detail.log import RunLog

    path = demo.run_dirs[3]  # running: its log is tailed
    assert json.loads((path / "run.json").read_text())["status"] == "running"
    long_line = "INFO phase=train, " + ", ".join(f"key_{i}={i * 1.5}" for i in range(14)) + ", END"
    assert len(long_line) > 160  # three rows at 80 columns, two at 170
    (path / "train.log").write_text(f"first line\n{long_line}\nhalf a li", encoding="utf-8")
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        app.open_run(path, tab="log")
        await wait_for(pilot, lambda: app.screen.query("#run-log")
                       and len(app.screen.query_one("#run-log", RunLog).text_lines) == 2, what="the log")
        await pilot.pause()
        log = app.screen.query_one("#run-log", RunLog)
        assert log.text_lines == ["first line", long_line]  # "half a li" waits for the rest

        def shown() -> str:
            return "".join(line.strip() for line in screen_text(app).splitlines())

        assert long_line.replace(" ", "") in shown().replace(" ", ""), screen_text(app)
        rows_80 = len(log.lines)
        assert rows_80 >= 4  # the long line took three rows or more
        with (path / "train.log").open("a", encoding="utf-8") as f:
            f.write("ne\n")
        await wait_for(pilot, lambda: len(log.text_lines) == 3, what="the completed line")
        assert log.text_lines[-1] == "half a line"
        await pilot.resize_terminal(170, 24)
        await wait_for(pilot, lambda: len(log.lines) < rows_80 + 1, what="wrapped again")
        await pilot.pause()
        assert "END" in screen_text(app) and "half a line" in screen_text(app)


# -- Compare, Runs tab: the status and configuration stay in sight -----------------------------------

@run_async
async def test_compare_runs_tab_fits_at_80x24(demo):
    """Timestamped run names (22 columns) pushed the configuration wholly out of sight and cut
    the status: narrow, a run shows by its id and the eval headers are shorter."""
    from mazedsl_tui.screens.compare import CompareScreen

    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        app.open_compare(list(demo.run_dirs))
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None
                       and app.screen.query_one("#compare-runs", DataTable).row_count == len(demo.run_dirs),
                       what="the comparison")
        await pilot.pause()
        await pilot.pause()
        table = app.screen.query_one("#compare-runs", DataTable)
        assert table.virtual_size.width <= table.size.width  # nothing hidden sideways
        text = screen_text(app)
        assert "Configuration" in text and "■ interrupted" in text, text
        assert "9e1d7b" in text and "20260104-170245_9e1d7b" not in text, text
        assert "Final" in text and "Best" in text, text
        await pilot.press("right_square_bracket")  # the config diff names the runs so too
        await pilot.pause()
        diff = app.screen.query_one("#compare-diff", DataTable)
        assert [c.label.plain for c in diff.columns.values()][1:] == \
            [run.path.name.rsplit("_", 1)[1] for run in app.screen.comparison.runs]
        assert "9e1d7b" in screen_text(app)


# -- Runs with a sweep: the Started column stays whole --------------------------------------------------

@run_async
async def test_runs_with_a_sweep_show_started_whole_at_80x24(demo):
    """A sweep's name cut to 12 columns pushed Started out (``01-08 0``): its id is enough,
    the status cell says it is a sweep."""
    from mazedsl_tui.demo import write_demo_sweep
    from mazedsl_tui.widgets.runs.table import RunsTable

    sweep = write_demo_sweep(demo.runs)
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == len(demo.run_dirs) + 1, what="the runs")
        await pilot.pause()
        assert table.cell_text(str(sweep), "run") == sweep.name.rsplit("_", 1)[1]
        text = screen_text(app)
        assert "⧉ sweep ×6" in text, text
        for row in text.splitlines()[2:3 + len(demo.run_dirs)]:
            assert re.search(r"  \d\d-\d\d \d\d:\d\d$", row.rstrip()), row  # MM-DD HH:MM, whole


# -- Footers: the key hints that matter fit; the others' keys still work ------------------------------

def footer_line(app) -> str:
    return screen_text(app).splitlines()[-1]


async def settled_footer_line(pilot, app) -> str:
    """The footer's line once the screen's hints are drawn: Textual composes a screen's footer
    keys after the screen is shown (on a loaded machine the line was still blank after a
    pause), and the palette's hint, docked right, comes with them."""
    await wait_for(pilot, lambda: footer_line(app).rstrip().endswith("^p palette"), what="the footer")
    await pilot.pause()
    return footer_line(app)


def standing_cartpole(seed: Any, render_mode: Any):
    import numpy as np

    from mazedsl_tui.rollout import Step

    for t in range(50):
        yield Step(t=t, observation=np.zeros(4), action=t % 2, reward=1.0, terminated=False, truncated=False,
                   episode_return=t + 1.0, state=np.zeros(4), env_id="CartPole-v1")


@pytest.mark.parametrize("size, dropped", [(SMALL, True), ((170, 40), False)])
@run_async
async def test_footer_hints_fit(demo, size, dropped):
    """At 80 columns the Runs footer lost "2 Experiments" and "? Help", the rollout viewer's read
    "? Hel": the less important hints give way (only where they do not fit), their keys stay."""
    from mazedsl_tui.rollout import RolloutSource
    from mazedsl_tui.screens.help import HelpScreen
    from mazedsl_tui.screens.rollout import RolloutScreen
    from mazedsl_tui.screens.runs import RunsScreen

    app = make_app(demo)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one("#runs-table").row_count == len(demo.run_dirs),
                       what="the runs")
        line = await settled_footer_line(pilot, app)
        for hint in ("⏎ Open", "space Mark", "c Compare", "n New run", "2 Experiments", "? Help", "^p palette"):
            assert hint in line, line
        for hint in ("s Stop", "o Roll out", "e Evaluate"):
            assert (hint not in line) == dropped, line
        keys = {key for key, *_ in app.screen.active_bindings.items()}
        assert {"s", "o", "e", "n", "2", "space", "c"} <= keys, keys  # the bindings stay
        await pilot.press("question_mark")  # and the help names their keys
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="the runs")

        app.push_rollout(RolloutSource(standing_cartpole, env_id="CartPole-v1", title="demo policy",
                                       render_mode=None), paused=True)
        await wait_for(pilot, lambda: isinstance(app.screen, RolloutScreen)
                       and getattr(app.screen, "step", None) is not None, what="the rollout")
        line = await settled_footer_line(pilot, app)
        for hint in ("esc Back", "space Pause", "n Step", "+ Faster", "- Slower", "v View", "? Help"):
            assert hint in line, line
        assert ("r Restart" not in line) == dropped, line
        assert "r" in app.screen.active_bindings


async def assert_footer_hints_whole(pilot, app) -> None:
    """Each hint the footer shows is whole and left of the palette's, nothing past the palette's."""
    from textual.widgets._footer import FooterKey

    line = await settled_footer_line(pilot, app)
    assert line.endswith("▏^p palette "), line
    keys = [k for k in app.screen.query(FooterKey) if k.display]
    (palette,) = [k for k in keys if k.has_class("-command-palette")]
    hints = [k for k in keys if k is not palette]
    assert len(hints) >= 3, line
    for key in hints:
        assert key.region.right < palette.region.x, (key.key_display, line)
        assert f"{key.key_display} {key.description}" in line, line


@pytest.mark.parametrize("width", [43, 44, 50, 60])
@run_async
async def test_a_narrow_footer_shows_whole_hints_and_nothing_past_the_palette(demo, width):
    """Below 80 columns the hints that still did not fit were cut ("n Ne"), and below 50 the
    letter under the palette's last column showed past it ("^p palettee"), on every screen."""
    from mazedsl_tui.screens.experiments import ExperimentsScreen
    from mazedsl_tui.screens.run_detail import RunDetailScreen

    app = make_app(demo)
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one("#runs-table").row_count == len(demo.run_dirs),
                       what="the runs")
        await assert_footer_hints_whole(pilot, app)
        assert footer_line(app).startswith("⏎ Open space Mark c Compare")  # the first hints stay
        app.open_run(demo.run_dirs[0])
        await wait_for(pilot, lambda: isinstance(app.screen, RunDetailScreen) and app.screen.is_mounted)
        await assert_footer_hints_whole(pilot, app)
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.is_mounted)
        await assert_footer_hints_whole(pilot, app)


def test_help_lists_every_key_the_footers_may_hide():
    from mazedsl_tui.screens.help import SECTIONS
    from mazedsl_tui.screens.rollout import RolloutScreen
    from mazedsl_tui.screens.runs import RunsScreen

    def keys(section: str) -> str:
        return " ".join(key for title, rows in SECTIONS if title == section for key, _ in rows)

    for screen, section in ((RunsScreen, "Runs"), (RolloutScreen, "Rollout viewer")):
        for binding in screen.BINDINGS:
            if binding.action in screen.FOOTER_DROP:
                assert binding.key in keys(section).split(), (binding.key, section)


@pytest.mark.parametrize("size", [SMALL, (100, 40)])
@run_async
async def test_compare_with_many_notes_keeps_its_plot_and_tables_on_screen(demo, size):
    """At 80x24 a failed run's note (three lines wrapped) and three more pushed the tables below
    the screen; on a short screen the summary shows one note on one line and counts the rest."""
    from textual.widgets import Footer

    from mazedsl_tui.screens.compare import CompareScreen

    failed = next(p for p in demo.run_dirs if p.name.endswith("b27e04"))
    gone = [demo.runs / "cartpole_ppo" / f"20260101-00000{i}_{'gone' * 6}{i}" for i in range(3)]
    app = make_app(demo)
    async with app.run_test(size=size) as pilot:
        app.open_compare([failed, *gone])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None)
        await pilot.pause()
        screen = app.screen
        notes = screen.comparison.all_notes()
        assert len(notes) == 4 and "non-finite loss" in notes[0], notes
        summary = screen.query_one("#compare-summary")
        text = screen_text(app)
        if size == SMALL:
            assert summary.region.height == 3, text  # the counts, one note, "and 3 more"
            assert "⚠ cartpole_a2c/20260106-141500_b27e04: TrainingError: non-finite loss at step…" in text
            assert "⚠ and 3 more (mazedsl compare lists them all)" in text, text
        else:
            assert "training stopped, the last checkpoint is kept" in text, text  # wrapped, whole
            assert "⚠ and 1 more" in text, text
        assert screen.query_one("#compare-plot").region.height >= 10, text
        runs = screen.query_one("#compare-runs")
        assert runs.region.bottom <= screen.query_one(Footer).region.y == size[1] - 1, text
        assert runs.region.height >= 4 + 1 and screen.max_scroll_y == 0, text  # header and the 4 rows


@run_async
async def test_sweep_configurations_fit_80_columns(demo):
    """The configurations' headers, "Final eval (mean ± std)" and "Best eval (mean ± std)", made
    the table scroll sideways at 80 columns, hiding the best eval; the title says mean ± std."""
    from mazedsl_tui.demo import write_demo_sweep
    from mazedsl_tui.screens.sweep import SweepScreen

    sweep = write_demo_sweep(demo.runs)
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        app.open_sweep(sweep)
        await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.comparison is not None)
        await pilot.pause()
        groups = app.screen.query_one("#sweep-groups", DataTable)
        assert groups.virtual_size.width <= groups.scrollable_content_region.width, groups.virtual_size
        text = screen_text(app)
        assert "Configurations · eval mean ± std over seeds" in text, text
        assert re.search(r"algorithm\.lr=0\.001 +3 +1 +451\.8 ± 58\.2 +451\.8 ± 58\.2", text), text


# -- Compare: the title counts its runs in good English -------------------------------------------------

@pytest.mark.parametrize("count, title", [(1, "Compare 1 run"), (2, "Compare 2 runs")])
@run_async
async def test_compare_title_counts_the_runs(demo, count, title):
    from mazedsl_tui.screens.compare import CompareScreen

    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        app.open_compare(list(demo.run_dirs)[:count])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.comparison is not None,
                       what="the comparison")
        await pilot.pause()
        assert app.screen.sub_title == title
        assert f"mazedsl — {title} " in screen_text(app).splitlines()[0] + " "


@run_async
async def test_a_long_log_keeps_its_last_lines_and_rewraps_them_in_batches():
    """Past ``max_lines`` the oldest lines go, a fifth of them at a time: each trim wraps the
    whole log again, so it must not happen on every new line of a long run."""
    from textual.app import App

    from mazedsl_tui.widgets.detail.log import RunLog

    class Host(App):
        def compose(self):
            yield RunLog(max_lines=100)

    app = Host()
    async with app.run_test(size=SMALL) as pilot:
        log = app.query_one(RunLog)
        redraws = []
        draw = log._redraw
        log._redraw = lambda: (redraws.append(len(log.text_lines)), draw())[1]
        for i in range(250):
            log.append(f"line {i}\n")
        await pilot.pause()
        assert log.text_lines[-1] == "line 249" and 100 <= len(log.text_lines) <= 120
        assert redraws == [100] * 7, redraws  # at lines 121, 142, ..., 247: once every 21 lines
        assert [row for row in log.lines if row.strip()][-1] == "line 249"
