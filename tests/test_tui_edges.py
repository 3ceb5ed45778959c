"""Pilot tests of the TUI items of issue #14 ("no surprises for a new user")."""

from __future__ import annotations

import asyncio
import functools
import shlex
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from mazedsl_tui.app import MazeApp
from mazedsl_tui.demo import DemoLibrary, build_demo
from mazedsl_tui.screens.experiments import ExperimentsScreen
from mazedsl_tui.screens.launch import LaunchScreen
from mazedsl_tui.screens.runs import RunsScreen


def run_async(test):
    """Run an async test on its own event loop (no pytest async plugin needed)."""
    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


@pytest.fixture
def demo(tmp_path):
    return build_demo(tmp_path)


def make_app(demo, **kwargs: Any) -> MazeApp:
    kwargs.setdefault("library", DemoLibrary())
    return MazeApp(demo.experiments, demo.runs, poll_interval=0.05, **kwargs)


async def wait_for(pilot, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)


def shown(widget) -> str:
    """The text a widget draws (every line of it)."""
    from textual.geometry import Region

    width, height = widget.size
    return "\n".join("".join(seg.text for seg in strip)
                     for strip in widget.render_lines(Region(0, 0, width, height)))


# -- first screen ------------------------------------------------------------------------------

@run_async
async def test_with_no_runs_the_app_opens_on_the_experiments(demo, tmp_path):
    app = MazeApp(demo.experiments, tmp_path / "no-runs-yet", library=DemoLibrary(), poll_interval=0.05)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen), what="experiments screen")
        assert app.current_mode == "experiments"


@run_async
async def test_with_runs_the_app_opens_on_the_runs(demo):
    app = make_app(demo)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen) and app.current_mode == "runs"


# -- the Train dialog's command -----------------------------------------------------------------

async def _launch_command(app: MazeApp, pilot, experiment: Path) -> str:
    app.open_launch(experiment)
    await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.is_mounted
                   and not app.screen.validating and app.screen.error is None, what="a valid form")
    preview = str(app.screen.query_one("#launch-preview").render())
    return preview.split("command  ", 1)[1].strip()


@run_async
async def test_train_dialog_shows_a_command_that_works_from_the_working_directory(demo, monkeypatch):
    monkeypatch.chdir(demo.root)
    app = MazeApp(Path("experiments"), Path("outputs"), library=DemoLibrary(), poll_interval=0.05,
                  mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        command = await _launch_command(app, pilot, Path("experiments") / "cartpole_ppo.py")
    assert command == "mazedsl train experiments/cartpole_ppo.py"
    assert (demo.root / shlex.split(command)[2]).is_file()


@run_async
async def test_train_dialog_command_from_elsewhere_names_the_file_and_runs_root(demo, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    app = make_app(demo, mode="experiments")
    async with app.run_test(size=(100, 32)) as pilot:
        command = await _launch_command(app, pilot, demo.experiments / "cartpole_ppo.py")
    assert shlex.split(command) == ["mazedsl", "--runs-root", str(demo.runs), "train",
                                    str(demo.experiments / "cartpole_ppo.py")]
