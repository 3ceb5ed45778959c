"""Command-line edges (issue #14): flags, global options, exit codes, RUN forms, sweeps.

Every test runs the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CARTPOLE = str(ROOT / "experiments" / "cartpole_ppo.py")
TINY = ["total_steps=256", "eval_every_steps=128", "eval_episodes=2", "runner.n_envs=2",
        "algorithm.n_steps=32", "algorithm.batch_size=64", "algorithm.n_epochs=1",
        "log_every_steps=64"]


def run(cmd: list[str], cwd: Path, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=240, **kw)


def mazedsl(*args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return run([str(BIN / "mazedsl"), *args], cwd, **kw)


def hydra_run(*args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return run([str(BIN / "mazedsl-run"), *args], cwd, **kw)


def lines(text: str) -> list[str]:
    return [ln for ln in text.strip().splitlines() if ln.strip()]


# -- flags and global options ------------------------------------------------------------

@pytest.mark.parametrize("args, flag", [
    (["train", CARTPOLE, "--seed", "3"], "--seed"),        # once read as --seeds 3: a sweep
    (["train", CARTPOLE, "--qui"], "--qui"),
    (["eval", "latest", "--episode", "3"], "--episode"),
    (["--deb", "runs"], "--deb"),
])
def test_abbreviated_or_unknown_flags_are_errors(tmp_path, args, flag):
    proc = mazedsl(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert f"unrecognized option {flag}" in proc.stderr
    assert not (tmp_path / "outputs").exists()


def test_global_options_after_the_subcommand(tmp_path):
    root = tmp_path / "elsewhere"
    (root / "exp" / "r1").mkdir(parents=True)
    (root / "exp" / "r1" / "run.json").write_text(json.dumps(
        {"experiment": "exp", "status": "finished", "steps": 7}))
    after = mazedsl("runs", "--runs-root", str(root), "--json", cwd=tmp_path)
    before = mazedsl("--runs-root", str(root), "runs", "--json", cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert [r["steps"] for r in json.loads(after.stdout)] == [7]
    assert after.stdout == before.stdout
    proc = mazedsl("show", CARTPOLE, "algorithm.lr=-1", "--debug", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "error: algorithm.lr: must be > 0" in proc.stderr
    # overrides after an option are still overrides
    shown = mazedsl("show", CARTPOLE, "--explain", "total_steps", "total_steps=300", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("total_steps = 300")


def test_train_writes_its_run_under_the_runs_root(tmp_path):
    """`mazedsl --runs-root DIR train ...` (the command the TUI's launch dialog shows) writes
    where `mazedsl --runs-root DIR runs` looks, not under ./outputs."""
    root = tmp_path / "my runs, 'quoted'"
    proc = mazedsl("--runs-root", str(root), "train", CARTPOLE, *TINY, "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(proc.stdout.strip().splitlines()[-1])
    assert run_dir.parent == root / "cartpole_ppo" and (run_dir / "checkpoints" / "last.pt").is_file()
    assert not (tmp_path / "outputs").exists()
    listed = json.loads(mazedsl("runs", "--runs-root", str(root), "--json", cwd=tmp_path).stdout)
    assert [r["steps"] for r in listed] == [256]


def test_an_output_dir_override_wins_over_the_runs_root():
    import argparse

    from mazedsl.cli.commands import _with_runs_root

    def overrides(given: bool, *extra: str) -> list[str]:
        return _with_runs_root(argparse.Namespace(runs_root="/r/x", runs_root_given=given,
                                                  overrides=list(extra)))

    assert overrides(True, "algorithm.lr=1") == ["output_dir='/r/x'", "algorithm.lr=1"]
    assert overrides(True, "output_dir=/y") == ["output_dir=/y"]
    assert overrides(True, "+output_dir=/y") == ["+output_dir=/y"]
    assert overrides(False, "algorithm.lr=1") == ["algorithm.lr=1"]  # the experiment's own


# -- exit codes --------------------------------------------------------------------------

def _patched_cli(body: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real ``mazedsl`` main with ``cmd_runs`` replaced by ``body`` (to provoke a bug)."""
    code = ("import sys\nimport mazedsl.cli.commands as c\n"
            f"def broken(args):\n    {body}\n"
            "c.cmd_runs = broken\nfrom mazedsl.cli.main import main\nsys.exit(main(sys.argv[1:]))")
    return run([sys.executable, "-c", code, *args], cwd)


def test_internal_error_exits_1_and_writes_the_traceback(tmp_path):
    proc = _patched_cli("return {}['no such key']", "runs", cwd=tmp_path)
    assert proc.returncode == 1
    assert len(lines(proc.stderr)) == 1, proc.stderr
    assert "bug" in proc.stderr and "KeyError" in proc.stderr and "Traceback" not in proc.stderr
    where = Path(proc.stderr.split("traceback written to ")[1].split(")")[0])
    assert "Traceback" in where.read_text() and "no such key" in where.read_text()
    where.unlink()
    debug = _patched_cli("return {}['no such key']", "runs", "--debug", cwd=tmp_path)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    Path(debug.stderr.split("traceback written to ")[1].split(")")[0]).unlink()


def test_user_error_exits_2_and_ctrl_c_exits_130(tmp_path):
    user = _patched_cli("from mazedsl.errors import ConfigError; raise ConfigError('bad', 'x.y')",
                        "runs", cwd=tmp_path)
    assert user.returncode == 2 and lines(user.stderr) == ["error: x.y: bad"]
    interrupted = _patched_cli("raise KeyboardInterrupt", "runs", cwd=tmp_path)
    assert interrupted.returncode == 130 and "interrupted" in interrupted.stderr
    usage = mazedsl("eval", cwd=tmp_path)
    assert usage.returncode == 2 and "usage: mazedsl eval" in usage.stderr


# -- mazedsl-run answers like mazedsl ------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["-cn", "conf_nope"], "available: conf_rollout, conf_train"),
    (["-cn", "conf_train", "+env.kwargs.foo=1"], "foo"),
    (["-cn", "conf_train", "-m", "algorithm.lr=1e-3,-1"], "algorithm.lr: must be > 0"),
    (["-cn", "conf_train", "env.name=LunarLander-v3"], "LunarLander-v3"),
])
def test_mazedsl_run_config_errors_are_one_line_and_leave_no_run(tmp_path, args, expected):
    proc = hydra_run(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(lines(proc.stderr)) == 1 and expected in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []  # no outputs/, no failed run directory, no log


def test_mazedsl_run_internal_error_exits_1(tmp_path):
    code = ("import sys\nimport mazedsl.cli.hydra_app as h\n"
            "def broken(cfg):\n    return {}['no such key']\n"
            "h._train = broken\nsys.argv = ['mazedsl-run', *sys.argv[1:]]\nh.run()")
    proc = run([sys.executable, "-c", code, "-cn", "conf_train", "total_steps=64"], tmp_path)
    assert proc.returncode == 1
    assert len(lines(proc.stderr)) == 1 and "bug" in proc.stderr and "KeyError" in proc.stderr
    Path(proc.stderr.split("traceback written to ")[1].split(")")[0]).unlink()


def test_mazedsl_run_debug_anywhere_prints_the_traceback(tmp_path):
    proc = hydra_run("-cn", "conf_train", "--debug", "algorithm.lr=-1", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "error: algorithm.lr: must be > 0" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_mazedsl_run_is_named_and_leaves_no_log_behind(tmp_path):
    helped = hydra_run("--help", cwd=tmp_path).stdout
    assert "mazedsl-run is powered by Hydra" in helped and "hydra_app" not in helped
    proc = hydra_run("-cn", "conf_rollout", "policy=random", "env=gym_env", "env.name=CartPole-v1",
                     "runner.n_episodes=1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "over 1 episode" in proc.stdout and "over 1 episodes" not in proc.stdout
    assert list(tmp_path.iterdir()) == []


# -- one small run, used by the tests below -------------------------------------------------

@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("edges")
    proc = mazedsl("train", CARTPOLE, *TINY, "seed=3", "--quiet", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd, proc


def test_quiet_prints_the_run_directory_alone(quiet_run):
    cwd, proc = quiet_run
    assert len(lines(proc.stdout)) == 1
    run_dir = cwd / proc.stdout.strip()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"


@pytest.mark.parametrize("ref", ["latest", "cartpole_ppo:latest", "NAME", "PATH"])
def test_show_and_diff_accept_every_run_form(quiet_run, ref):
    cwd, proc = quiet_run
    path = proc.stdout.strip()
    ref = {"NAME": str(Path(path).relative_to("outputs")), "PATH": path}.get(ref, ref)
    shown = mazedsl("show", ref, cwd=cwd)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (cwd / path / "config.yaml").read_text()
    diff = mazedsl("diff", ref, CARTPOLE, "--json", cwd=cwd)
    assert diff.returncode == 0, diff.stderr
    assert {d["path"]: (d["a"], d["b"]) for d in json.loads(diff.stdout)}["seed"] == (3, 0)


def test_explain_on_a_run_names_the_cli_override(quiet_run):
    cwd, _ = quiet_run
    out = mazedsl("show", "latest", "--explain", "seed", "--explain", "total_steps",
                  "--explain", "algorithm.clip_range", cwd=cwd).stdout
    assert "seed = 3  (override 'seed=3' when the run was made)" in out
    assert "total_steps = 256  (override 'total_steps=256' when the run was made)" in out
    assert "set in Python" not in out


def test_eval_json_has_lengths_and_n_episodes_like_eval_json(quiet_run):
    cwd, proc = quiet_run
    out = json.loads(mazedsl("eval", "latest", "--episodes", "3", "--json", cwd=cwd).stdout)
    saved = json.loads((cwd / proc.stdout.strip() / "eval.json").read_text())
    assert out["n_episodes"] == 3 and len(out["lengths"]) == 3
    assert out["lengths"] == saved["lengths"] and out["returns"] == saved["returns"]


def test_render_into_a_pipe_does_not_draw(quiet_run):
    cwd, _ = quiet_run
    proc = mazedsl("rollout", "latest", "--render", "--no-record", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "▀" not in proc.stdout and len(proc.stdout) < 500
    assert "not" in proc.stderr and "terminal" in proc.stderr
    assert "mean return" in proc.stdout


def test_render_to_a_terminal_draws(quiet_run):
    import pty

    cwd, _ = quiet_run
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(BIN / "mazedsl"), "rollout", "latest", "--render", "--no-record"],
                            cwd=cwd, stdout=slave, stderr=subprocess.PIPE, text=True)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=120)
    os.close(master)
    assert proc.returncode == 0
    assert "▀".encode() in out and b"\x1b[H" in out


def test_resume_with_a_larger_budget(quiet_run, tmp_path):
    import shutil

    cwd, proc = quiet_run
    run_dir = tmp_path / "run"
    shutil.copytree(cwd / proc.stdout.strip(), run_dir)
    refused = mazedsl("train", "--resume", str(run_dir), "algorithm.lr=1", cwd=cwd)
    assert refused.returncode == 2 and "only its budget can change" in refused.stderr
    assert "algorithm.lr" in refused.stderr
    smaller = mazedsl("train", "--resume", str(run_dir), "total_steps=128", cwd=cwd)
    assert smaller.returncode == 2 and "already has 256 steps" in smaller.stderr
    more = mazedsl("train", "--resume", str(run_dir), "total_steps=512", "--json", cwd=cwd)
    assert more.returncode == 0, more.stderr
    assert json.loads(more.stdout)["steps"] == 512
    info = json.loads((run_dir / "run.json").read_text())
    assert info["steps"] == 512 and info["total_steps"] == 512 and info["status"] == "finished"
    assert "total_steps: 512" in (run_dir / "config.yaml").read_text()  # the run's budget now
    again = mazedsl("train", "--resume", str(run_dir), cwd=cwd)  # finished: it stays as it is
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(
        "note: the run finished its budget (512 of 512 steps): nothing to train; "
        "--resume RUN total_steps=N with N > 512 trains it further\n")
    assert json.loads((run_dir / "run.json").read_text())["steps"] == 512


def test_final_progress_bar_shows_the_best_eval(tmp_path):
    proc = mazedsl("train", CARTPOLE, *TINY, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    best = proc.stdout.split("best eval ")[1].split(";")[0]
    bar = [ln for ln in proc.stderr.splitlines() if ln.startswith("train ")][-1]
    assert bar.split("best eval")[1].split()[0] == best


@pytest.mark.parametrize("total", [512, 100_096, 10_000_000])
@pytest.mark.parametrize("width", [70, 80, 100, 140])
def test_the_progress_line_fits_the_terminal_uncut(total, width):
    """At 80 columns (and where output is not a terminal, which rich takes as 80) `make run`'s
    last line was cut: "best eval   500.0 0…", with a bar two characters wide."""
    import io

    from rich.console import Console
    from rich.progress import Progress

    from mazedsl.progress import progress_columns

    out = Console(width=width, file=io.StringIO(), force_terminal=False)
    progress = Progress(*progress_columns(total, width), console=out)
    progress.add_task("train", total=total, completed=total, speed="1234567", ret="-1234.5", best="-1234.5")
    out.print(progress.get_renderable())
    line = out.file.getvalue().rstrip("\n")
    assert "\n" not in line and len(line) <= width and "…" not in line, line
    assert line.startswith("train ") and f"{total:,}/{total:,}" in line and line.endswith("-:--:--"), line
    bar = line.count("━")
    assert bar == 0 or 5 <= bar <= 30, line
    if width >= 140:
        assert bar == 30 and "best eval -1234.5" in line, line


# -- runs: damaged, prune, repair on resume ---------------------------------------------------

def _fake_run(root: Path, name: str, status: str, checkpoint: bool = False, age_s: float = 3600,
              **info) -> Path:
    run_dir = root / "cartpole_ppo" / name
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config.yaml").write_text("name: cartpole_ppo\nenv:\n  name: CartPole-v1\n")
    (run_dir / "run.json").write_text(json.dumps({"status": status, "experiment": "cartpole_ppo",
                                                  "steps": 0, **info}))
    if checkpoint:
        (run_dir / "checkpoints" / "last.pt").write_bytes(b"PK")
    old = time.time() - age_s
    for path in [run_dir, *run_dir.rglob("*")]:
        os.utime(path, (old, old))
    return run_dir


def test_prune_removes_created_and_failed_runs_without_checkpoints(tmp_path):
    root = tmp_path / "outputs"
    keep = [_fake_run(root, "20260101-000000_000001", "finished", checkpoint=True),
            _fake_run(root, "20260101-000000_000002", "failed", checkpoint=True, error="NaN"),
            _fake_run(root, "20260101-000000_000003", "created", age_s=0),  # may be starting
            _fake_run(root, "20260101-000000_000004", "running")]
    gone = [_fake_run(root, "20260101-000000_000005", "created"),
            _fake_run(root, "20260101-000000_000006", "failed", error="EnvError: no box2d")]
    dry = mazedsl("runs", "--prune", "--dry-run", "--runs-root", str(root), cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "would remove 2 of 6 runs" in dry.stdout and "EnvError: no box2d" in dry.stdout
    assert all(p.is_dir() for p in keep + gone)
    pruned = mazedsl("runs", "--prune", "--runs-root", str(root), "--json", cwd=tmp_path)
    removed = json.loads(pruned.stdout)["removed"]
    assert sorted(Path(r["path"]).name for r in removed) == [p.name for p in gone]
    assert all(p.is_dir() for p in keep) and not any(p.exists() for p in gone)
    assert mazedsl("runs", "--dry-run", cwd=tmp_path).returncode == 2


def test_damaged_run_json_is_listed_and_rebuilt_on_resume(quiet_run, tmp_path):
    import shutil

    cwd, proc = quiet_run
    root = tmp_path / "outputs"
    run_dir = root / "cartpole_ppo" / Path(proc.stdout.strip()).name
    shutil.copytree(cwd / proc.stdout.strip(), run_dir)
    original = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text('{"status": "fini')  # cut mid-write by a crash elsewhere
    rows = json.loads(mazedsl("runs", "--runs-root", str(root), "--json", cwd=tmp_path).stdout)
    assert [(r["status"], r["experiment"], r["algorithm"], r["env"]) for r in rows] == [
        ("damaged", "cartpole_ppo", "PPO", "CartPole-v1")]
    assert "run.json: unreadable" in rows[0]["error"]
    assert "damaged" in mazedsl("runs", "--runs-root", str(root), cwd=tmp_path).stdout
    resumed = mazedsl("train", "--resume", "latest", "total_steps=384", "--runs-root", str(root),
                      "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    info = json.loads((run_dir / "run.json").read_text())
    assert info["created"].startswith(original["created"][:10]) and "repaired" in info
    for key in ("experiment", "algorithm", "env", "seeds", "versions", "git", "train_episodes"):
        assert info[key] == original[key], key
    assert info["status"] == "finished" and info["steps"] == 384 and info["total_steps"] == 384


def test_mazedsl_run_render_into_a_pipe_does_not_draw(quiet_run):
    cwd, proc = quiet_run
    out = hydra_run("-cn", "conf_rollout", f"input_dir={proc.stdout.strip()}", "runner.render=true",
                    "runner.record=false", cwd=cwd)
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "terminal" in out.stderr and "over 1 episode\n" in out.stdout
