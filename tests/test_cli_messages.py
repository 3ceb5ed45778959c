"""What the CLI says when things go wrong: an exception in the user's own code is not called a
bug in mazedsl, --quiet names only a run that is kept, argument errors name the real mistake."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import mazedsl
from mazedsl.cli import output
from mazedsl.cli.main import _unknown_options, build_parser
from mazedsl.errors import ConfigError
from mazedsl.run.status import TRACEBACK_LOG, TrainingStatus

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CARTPOLE = str(ROOT / "experiments" / "cartpole_ppo.py")
TINY = ["total_steps=256", "eval_every_steps=128", "eval_episodes=1", "runner.n_envs=2",
        "algorithm.n_steps=32", "algorithm.batch_size=64", "algorithm.n_epochs=1"]
PACKAGE = Path(mazedsl.__file__).resolve().parent
SITE = Path(sysconfig.get_paths()["purelib"])
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def mazedsl_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.run([str(BIN / "mazedsl"), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=240)


def raised_through(*files: str) -> BaseException:
    """A RuntimeError whose traceback runs through ``files``, outermost first (each frame a
    function ``f0``, ``f1``... compiled under that file name; the files need not exist)."""
    chain: list = []
    for i, name in reversed(list(enumerate(files))):
        src = (f"def f{i}():\n    raise RuntimeError('boom')\n" if not chain else
               f"def f{i}():\n    inner()\n")
        scope: dict = {"inner": chain[-1] if chain else None}
        exec(compile(src, name, "exec"), scope)  # noqa: S102 - a frame in a named file
        chain.append(scope[f"f{i}"])
    try:
        chain[-1]()
    except RuntimeError as exc:
        return exc.with_traceback(exc.__traceback__.tb_next)  # without this helper's frame
    raise AssertionError("not raised")


# -- whose code raised ---------------------------------------------------------------------

def test_the_innermost_frame_outside_libraries_decides(tmp_path):
    user = str(tmp_path / "myenvs.py")
    own = str(PACKAGE / "rl" / "envloop.py")
    gym = str(SITE / "gymnasium" / "core.py")
    std = str(STDLIB / "functools.py")
    # your env, called by mazedsl through gymnasium: yours
    assert output.user_frame(raised_through(own, gym, user, std)) == (user, 2, "f2")
    # mazedsl's code raising, even through a library it calls, and from your script: a bug
    assert output.user_frame(raised_through(user, own, gym)) is None
    assert output.user_frame(raised_through(own, str(ROOT / "tui" / "app.py"))) is None
    # only library frames, or frames without a file: no one to blame but mazedsl
    assert output.user_frame(raised_through(gym, std, "<frozen runpy>")) is None
    # dist-packages (Debian's site-packages) is a library folder anywhere
    assert output.user_frame(raised_through(user, "/usr/lib/python3/dist-packages/x.py")) == (
        user, 2, "f0")


def test_a_user_exception_names_its_place_and_a_bug_stays_a_bug(tmp_path, capsys):
    user = str(tmp_path / "mynets.py")
    exc = raised_through(str(PACKAGE / "rl" / "trainer.py"), user)
    assert output.exit_code_of(exc) == 1
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"error: RuntimeError: boom (raised in your code at {user}:2, in f1; "
                           "traceback written to ")
    assert "bug" not in line and len(line.splitlines()) == 1
    written = Path(line.split("traceback written to ")[1].rstrip(")"))
    assert "Traceback" in written.read_text() and user in written.read_text()
    written.unlink()

    bug = raised_through(user, str(PACKAGE / "rl" / "trainer.py"))
    setattr(bug, TRACEBACK_LOG, "outputs/x/r1/train.log")  # training logged it: no temp file
    assert output.exit_code_of(bug) == 1
    assert capsys.readouterr().err.strip() == ("error: internal error, this is a bug in mazedsl: "
                                               "RuntimeError: boom (traceback in "
                                               "outputs/x/r1/train.log)")
    assert output.exit_code_of(ConfigError("must be > 0", "algorithm.lr")) == 2  # unchanged
    assert capsys.readouterr().err == "error: algorithm.lr: must be > 0\n"


class _Run:
    def __init__(self, path: Path) -> None:
        self.path, self.info = path, {}

    def run_info(self) -> dict:
        return self.info

    def update_info(self, **fields: object) -> None:
        self.info.update(fields)

    def close(self) -> None:
        pass


@pytest.mark.parametrize("exc, traceback", [(RuntimeError("boom in env"), True),
                                            (ConfigError("bad", "env.kwargs"), False)])
def test_training_logs_the_traceback_of_an_unexpected_failure(tmp_path, exc, traceback):
    run = _Run(tmp_path)
    logger = logging.getLogger(f"test-status-{id(exc)}")
    logger.propagate = False
    handler = logging.FileHandler(tmp_path / "train.log", encoding="utf-8")
    logger.addHandler(handler)
    try:
        with pytest.raises(type(exc)):
            with TrainingStatus(run, logger, lambda: (7, None)):
                raise exc
    finally:
        handler.close()
        logger.removeHandler(handler)
    log = (tmp_path / "train.log").read_text()
    assert f"training failed: {type(exc).__name__}: " in log
    assert ("Traceback (most recent call last)" in log) is traceback
    assert getattr(exc, TRACEBACK_LOG, None) == (str(tmp_path / "train.log") if traceback else None)
    assert run.info["status"] == "failed" and run.info["steps"] == 7


def test_unknown_options_are_named_alone():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    assert _unknown_options(train, ["--seed", "3", "total_steps=512"]) == (
        "unrecognized option --seed (did you mean --seeds?)")
    assert _unknown_options(train, ["--jobz=2", "--colour"]) == (
        "unrecognized options --jobz (did you mean --jobs?), --colour")
    assert _unknown_options(train, ["total_steps=512"]) is None


# -- the CLI as a user runs it ----------------------------------------------------------------

CRASHY = textwrap.dedent('''\
    import gymnasium as gym
    from gymnasium.envs.classic_control import CartPoleEnv


    class Crashy(CartPoleEnv):
        def __init__(self, crash_at=10):
            super().__init__()
            self.crash_at, self.count = crash_at, 0

        def step(self, action):
            self.count += 1
            if self.count > self.crash_at:
                raise RuntimeError("boom in env")
            return super().step(action)


    gym.register("Crashy-v0", entry_point=Crashy)
    ''')


def test_an_error_in_your_env_names_your_code_and_the_runs_log(tmp_path):
    (tmp_path / "myenvs.py").write_text(CRASHY)
    proc = mazedsl_cli("train", CARTPOLE, "env.name=myenvs:Crashy-v0", "+env.kwargs.crash_at=10",
                       *TINY, "--quiet", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    [run_dir] = (tmp_path / "outputs" / "cartpole_ppo").iterdir()
    assert proc.stdout.strip() == str(run_dir.relative_to(tmp_path))  # it was kept: named
    log = run_dir / "train.log"
    assert proc.stderr.strip() == (
        f"error: RuntimeError: boom in env (raised in your code at {tmp_path / 'myenvs.py'}:13, "
        f"in step; traceback in {log.relative_to(tmp_path)})")
    assert "Traceback (most recent call last)" in log.read_text()
    assert 'raise RuntimeError("boom in env")' in log.read_text()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"


def test_quiet_names_no_run_when_the_build_refuses_it(tmp_path):
    (tmp_path / "mynets").mkdir()
    (tmp_path / "mynets" / "__init__.py").write_text("")
    (tmp_path / "mynets" / "nets.py").write_text(textwrap.dedent('''\
        import torch.nn as nn


        class BadNet(nn.Module):
            def __init__(self, obs_dim):
                super().__init__()
                self.net = nn.Linear(obs_dim, 7)

            def forward(self, x):
                return self.net(x)
        '''))
    proc = mazedsl_cli("train", CARTPOLE, "model={_target_: mynets.nets.BadNet}",
                       "allow_targets=[mynets]", *TINY, "--quiet", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: model: mynets.nets.BadNet returned shape (2, 7)")
    assert not (tmp_path / "outputs").exists()


def test_resume_with_an_experiment_file_says_so(tmp_path):
    proc = mazedsl_cli("train", "cartpole_ppo.py", "--resume", "intr2:latest", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: --resume RUN continues a recorded run; give no EXPERIMENT file with it "
        "(only total_steps=N), not 'cartpole_ppo.py'")


def test_an_unknown_option_is_named_without_the_words_after_it(tmp_path):
    proc = mazedsl_cli("train", CARTPOLE, "--seed", "3", "total_steps=512",
                       "eval_every_steps=512", cwd=tmp_path)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last == "mazedsl train: error: unrecognized option --seed (did you mean --seeds?)"
    assert not (tmp_path / "outputs").exists()


def test_rendering_an_env_without_pygame_says_frames_need_it(monkeypatch, capsys):
    """`mazedsl rollout --render` on an env drawn from its frames (FrozenLake) without pygame:
    each drawn step says why there is no picture (it printed the step line alone)."""
    import sys

    import gymnasium as gym
    import numpy as np

    from mazedsl import context
    from mazedsl.rollout import play_episode

    monkeypatch.setitem(sys.modules, "pygame", None)  # `import pygame` fails: as when not installed
    monkeypatch.setattr(context.time, "sleep", lambda _: None)
    steps = list(play_episode(lambda: gym.make("FrozenLake-v1", render_mode="rgb_array"),
                              lambda obs: np.zeros(len(obs), dtype=np.int64), "FrozenLake-v1",
                              seed=0, render=True, step_limit=3))
    assert steps and all(step.frame is None for step in steps)
    context._draw(steps[-1])
    out = capsys.readouterr().out
    assert "Frames need pygame, which is not installed: pip install pygame" in out
    lines = out.replace("\x1b[H\x1b[2J", "").splitlines()
    assert lines[0].startswith("Frames need pygame") and lines[1].startswith("step")
