"""Unit tests of the TUI's non-screen parts: drawing, formatting, overrides, files, processes."""

from __future__ import annotations

import math
import re
import signal
import subprocess
import sys
import time
from datetime import datetime

import numpy as np
import pytest

from mazedsl_tui.formatting import fmt_float, fmt_int, fmt_metric, fmt_started, short_path, status_text
from mazedsl_tui.library import Library, experiment_files
from mazedsl_tui.polling import FileTail
from mazedsl_tui.rollout import RolloutSource, Step
from mazedsl_tui.screens.launch import build_overrides
from mazedsl_tui.training import TrainingManager, console_log_path, new_run_dir
from mazedsl_tui.widgets.detail.curves import fmt_steps, nice_ticks
from mazedsl_tui.widgets.rollout.canvas import BrailleCanvas, halfblock
from mazedsl_tui.widgets.rollout.scenes import (BODY, JOINT, POLE, SCENES, draw_scene, observation_bars,
                                                scene_for)


# -- overrides form --------------------------------------------------------------------------------

def test_build_overrides_maps_seed_and_budget():
    assert build_overrides("algorithm.lr=1e-3 'env.kwargs={a: 1}'", "3", "20_000") == (
        ["algorithm.lr=1e-3", "env.kwargs={a: 1}", "seed=3", "total_steps=20000"], None, "")
    assert build_overrides("", "", "1,000")[0] == ["total_steps=1000"]
    assert build_overrides("~wrappers", "", "")[0] == ["~wrappers"]


@pytest.mark.parametrize("text, seed, budget, field, message", [
    ("algorithm.lr", "", "", "overrides", "expected KEY=VALUE"),
    ("name='open", "", "", "overrides", "No closing quotation"),
    ("", "-1", "", "seed", "seed: expected a whole number"),
    ("", "", "0", "budget", "budget: expected a whole number of steps > 0"),
    ("", "", "many", "budget", "got 'many'"),
])
def test_build_overrides_errors_name_the_field(text, seed, budget, field, message):
    _, error, at = build_overrides(text, seed, budget)
    assert at == field and message in error


# -- formatting ---------------------------------------------------------------------------------------

def test_formatting():
    assert fmt_int(50000) == "50,000" and fmt_int(None) == "—"
    assert fmt_float(494.39) == "494.4" and fmt_float(None) == "—" and fmt_float(float("nan")) == "nan"
    assert fmt_metric(0.00001234) == "1.234e-05" and fmt_metric(0.5) == "0.5"
    assert fmt_started(datetime(2026, 1, 5, 9, 30)) == "2026-01-05 09:30"
    assert fmt_started(datetime(2026, 1, 5, 9, 30), long=False) == "01-05 09:30"
    assert status_text("finished").plain == "✔ finished" and status_text("weird").plain == "? weird"
    assert short_path("/a/b/c", "/a") == "b/c" and short_path("/x/y", "/a") == "/x/y"


def test_nice_ticks_and_step_labels():
    assert nice_ticks(2048, 49152, 4) == [10000, 20000, 30000, 40000]
    assert nice_ticks(0, 1, 4) == [0, 0.5, 1.0]
    assert nice_ticks(0, 1, 5) == [0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(5, 5) == [5]
    assert [fmt_steps(v) for v in (500, 25000, 1_500_000)] == ["500", "25k", "1.5M"]


# -- drawing --------------------------------------------------------------------------------------------

def test_braille_canvas_packs_2x4_dots_per_cell():
    canvas = BrailleCanvas(2, 1)
    canvas.dot(0, 0, "red")
    canvas.dot(1, 3, "red")
    canvas.dot(2, 1, "blue")
    canvas.dot(99, 99, "blue")  # outside: ignored
    line = canvas.lines()[0]
    assert line.plain == chr(0x2800 + 0x01 + 0x80) + chr(0x2800 + 0x02)
    assert [span.style for span in line.spans] == ["red", "blue"]
    canvas.label(0, 0, "x", "bold")
    assert canvas.lines()[0].plain[0] == "x"


def centre(cells):
    return (sum(c for c, _ in cells) / len(cells), sum(r for _, r in cells) / len(cells))


def scene(env_id, state, cols=60, rows=24):
    canvas = BrailleCanvas(cols, rows)
    scene_for(env_id)(canvas, np.asarray(state, dtype=float))
    return canvas


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCar-v0",
                                    "MountainCarContinuous-v0"])
def test_every_classic_control_env_has_a_scene(env_id):
    state = [0.1, 0.0, 0.1, 0.0][: 2 if env_id.startswith(("Pendulum", "Mountain")) else 4]
    lines = draw_scene(env_id, state, 50, 16)
    assert len(lines) == 16 and all(len(line.plain) == 50 for line in lines)
    assert sum(ch != " " for line in lines for ch in line.plain) > 20
    assert set(SCENES) == {"CartPole", "Pendulum", "Acrobot", "MountainCar"}
    assert draw_scene("LunarLander-v3", [0.0], 10, 5) is None


def test_cartpole_pole_leans_with_theta_and_cart_moves_with_x():
    left, right = scene("CartPole-v1", [0, 0, -0.4, 0]), scene("CartPole-v1", [0, 0, 0.4, 0])
    cart = centre(left.cells(BODY))[0]
    assert centre(left.cells(POLE))[0] < cart < centre(right.cells(POLE))[0]
    assert centre(left.cells(POLE))[1] < centre(left.cells(BODY))[1]  # the pole is above the cart
    moved = scene("CartPole-v1", [1.5, 0, 0, 0], cols=120, rows=20)  # the whole track fits: no following
    still = scene("CartPole-v1", [0, 0, 0, 0], cols=120, rows=20)
    assert centre(moved.cells(BODY))[0] > centre(still.cells(BODY))[0] + 10


def test_pendulum_upright_at_zero_and_down_at_pi():
    up, down = scene("Pendulum-v1", [0.0, 0.0]), scene("Pendulum-v1", [math.pi, 0.0])
    pivot_row = centre(up.cells(BODY))[1]
    assert centre(up.cells(JOINT))[1] < pivot_row < centre(down.cells(JOINT))[1]


def test_acrobot_hangs_down_at_rest():
    canvas = scene("Acrobot-v1", [0.0, 0.0, 0.0, 0.0])
    assert centre(canvas.cells(POLE))[1] > centre(canvas.cells(BODY))[1]  # second link below the first


def test_mountain_car_moves_along_the_hill():
    left, right = scene("MountainCar-v0", [-1.0, 0.0]), scene("MountainCar-v0", [0.4, 0.0])
    assert centre(left.cells(BODY))[0] < centre(right.cells(BODY))[0]


def test_halfblock_shows_two_pixels_per_cell():
    image = np.zeros((4, 2, 3), dtype=np.uint8)
    image[0, :] = (255, 0, 0)
    image[1, :] = (0, 0, 255)
    image[2, :] = (0, 255, 0)
    lines = halfblock(image, 2, 2)
    assert [line.plain for line in lines] == ["▀▀", "▀▀"]
    style = lines[0].spans[0].style
    assert style.color.triplet == (255, 0, 0) and style.bgcolor.triplet == (0, 0, 255)
    assert lines[1].spans[0].style.color.triplet == (0, 255, 0)
    wide = halfblock(np.zeros((10, 100, 3), dtype=np.uint8), 20, 10)  # aspect kept: 20 x 1 cells
    assert len(wide) == 1 and len(wide[0].plain) == 20


def test_observation_bars():
    lines = observation_bars([0.5, -1.0, float("nan")], 40, 10)
    assert [line.plain.split()[0] for line in lines] == ["obs[0]", "obs[1]", "obs[2]"]
    assert "-1.000" in lines[1].plain
    assert len(observation_bars(np.arange(20), 40, 5)) == 5


# -- files, run dirs and processes -------------------------------------------------------------------------

def test_new_run_dir_format(tmp_path):
    path = new_run_dir(tmp_path, "cartpole_ppo", now=datetime(2026, 1, 5, 9, 30, 12))
    assert path.parent == tmp_path / "cartpole_ppo"
    assert re.fullmatch(r"20260105-093012_[0-9a-f]{6}", path.name)
    assert console_log_path(path) == path.parent / f".{path.name}.console.log"


def test_file_tail_returns_whole_new_lines(tmp_path):
    path = tmp_path / "train.log"
    tail = FileTail(path)
    assert tail.read() == ""
    path.write_text("one\ntw")
    assert tail.read() == "one\n"
    with open(path, "a") as fh:
        fh.write("o\nthree\n")
    assert tail.read() == "two\nthree\n"
    path.write_text("new\n")  # replaced by a shorter file: start over
    assert tail.read() == "new\n"


def test_experiment_files_skips_private_files(tmp_path):
    for name in ("b.py", "a.py", "_helpers.py", "sub/c.py", ".hidden/d.py", "notes.txt", "e.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in experiment_files(tmp_path)] == [
        "a.py", "b.py", "e.yaml", "sub/c.py"]
    assert experiment_files(tmp_path / "missing") == []


def test_training_manager_runs_processes_in_their_own_session(tmp_path):
    manager = TrainingManager()
    run = tmp_path / "exp" / "run"
    # SIGINT handled as Python's default (a shell's background job would inherit it ignored;
    # `mazedsl train` installs its own handler, so real trainings are not affected)
    script = ("import os, signal, time; signal.signal(signal.SIGINT, signal.default_int_handler); "
              "print(os.getsid(0) == os.getpid(), flush=True); time.sleep(30)")
    training = manager.start([sys.executable, "-c", script], run)
    deadline = time.monotonic() + 60  # generous: python starts slowly on a loaded machine
    while "True" not in training.console_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "True" in training.console_log.read_text()  # it leads its own session
    assert training.running and manager.running() == [training]
    assert training.stop() == "interrupting"  # SIGINT: python raises KeyboardInterrupt
    training.process.wait(60)
    assert training.process.returncode == -signal.SIGINT  # it got SIGINT (KeyboardInterrupt)
    assert [t.run_dir for t in manager.poll()] == [run.resolve()]
    assert training.returncode != 0 and not manager.running() and manager.poll() == []
    assert training.stop() == "not running"
    stubborn = manager.start([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, "
                              "signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                              "print('ready', flush=True); time.sleep(60)"], tmp_path / "exp" / "stubborn")
    while "ready" not in stubborn.console_log.read_text() and time.monotonic() < deadline + 60:
        time.sleep(0.05)
    assert [stubborn.stop() for _ in range(3)] == ["interrupting", "terminating", "killing"]
    assert stubborn.process.wait(10) == -9


def test_library_train_command_uses_the_cli():
    command = Library().train_command("experiments/x.py", ["seed=1"], "outputs/x/run")
    assert command == [sys.executable, "-m", "mazedsl", "train", "experiments/x.py", "seed=1",
                       "--run-dir", "outputs/x/run", "--quiet"]


# -- rollout source ----------------------------------------------------------------------------------------

def test_rollout_source_falls_back_to_no_rendering():
    modes = []

    def factory(seed, render_mode):
        modes.append(render_mode)
        if render_mode == "rgb_array":
            raise RuntimeError("pygame is not installed")
        yield Step(0, [0.0], None, 0.0, False, False, 0.0, env_id="Foo-v0")

    source = RolloutSource(factory)
    steps = list(source.episode(seed=1))
    assert modes == ["rgb_array", None] and source.render_mode is None
    assert len(steps) == 1 and source.env_id == "Foo-v0"


def test_random_policy_source_plays_cartpole_deterministically():
    source = RolloutSource.random_policy("CartPole-v1")
    first = [(s.t, s.action, s.episode_return) for s in source.episode(seed=3)]
    again = [(s.t, s.action, s.episode_return) for s in source.episode(seed=3)]
    assert first == again and first[0] == (0, None, 0.0)
    last = list(source.episode(seed=3))[-1]
    assert last.terminated or last.truncated
    assert last.state.shape == (4,) and last.env_id == "CartPole-v1"


# -- start-up ---------------------------------------------------------------------------------------------

def test_app_import_is_light():
    # what makes the import slow is importing the engine's libraries: check those, not the clock
    # (the time itself is measured by benchmarks/overheads.py)
    code = ("import sys; import mazedsl_tui.app; "
            "print([m for m in ('torch', 'gymnasium', 'hydra', 'textual_plotext') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_metrics_plot_counts_every_point_and_draws_a_thinned_curve():
    from mazedsl_tui.widgets.detail.curves import return_plot, thin

    plot = return_plot()
    records = [{"phase": "train", "step": i, "ep_return_mean": float(i)} for i in range(1, 10001)]
    records.insert(5, {"phase": "eval", "step": 3, "mean_return": 1.0})
    records.append({"phase": "train", "step": 10001, "ep_return_mean": float("nan")})
    plot.set_records(records)
    assert plot.point_count == 10000
    assert plot.values("ep_return_mean")[-1] == 10000.0
    xs, ys = thin(list(range(10000)), list(range(10000)), 800)
    assert len(xs) <= 800 and xs[-1] == 9999 and ys == xs
    assert xs[1] - xs[0] == 13
    assert thin([1, 2], [3, 4], 800) == ([1, 2], [3, 4])


def test_crashed_only_when_the_process_ended_before_run_json_was_read(tmp_path):
    from types import SimpleNamespace

    from mazedsl_tui.app import MazeApp

    app = MazeApp(tmp_path, tmp_path)
    run = tmp_path / "exp" / "run"
    running = SimpleNamespace(path=run, status="running")
    assert app.effective_status(running, exited=set()) == "running"
    assert app.effective_status(running, exited={run.resolve()}) == "crashed"
    assert app.effective_status(SimpleNamespace(path=run, status="finished"), exited={run.resolve()}) == "finished"
    assert app.effective_status(running) == "running"  # not a training of this UI


def test_narrow_run_names_show_the_id_of_a_timestamped_folder_and_other_names_whole():
    """One rule for the runs table and Compare: a timestamped run or sweep folder by its id, any
    other name (a sweep job, a name of your own) as it is (the runs table read 'my_custom_run'
    as 'run')."""
    from pathlib import Path
    from types import SimpleNamespace

    from mazedsl_tui.formatting import run_id
    from mazedsl_tui.screens.compare import run_label
    from mazedsl_tui.widgets.runs.table import run_name

    assert run_id("20260105-093012_3fa9c1") == "3fa9c1"
    assert run_id("sweep_20260108-090000_1a2b3c") == "1a2b3c"
    assert run_id("job_000") is None and run_id("my_custom_run") is None
    narrow = [run_name(SimpleNamespace(path=Path(name)), long=False)
              for name in ("20260105-093012_3fa9c1", "my_custom_run", "baseline", "a_much_longer_name")]
    assert narrow == ["3fa9c1", "my_custom_run"[:11] + "…", "baseline", "a_much_long…"]
    assert run_name(SimpleNamespace(path=Path("my_custom_run")), long=True) == "my_custom_run"
    assert [run_label(n, short=True) for n in ("20260105-093012_3fa9c1", "job_000")] == ["3fa9c1", "job_000"]
    assert run_label("20260105-093012_3fa9c1", short=False) == "20260105-093012_3fa9c1"
