"""Training runs in a separate process: the library's own CLI, writing its run directory.

The UI never waits on it: the process is started in its own session (Ctrl-C in the
terminal does not reach it), its console output goes to a file beside the run directory
(so the training survives the UI quitting), and its exit is noticed by polling.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


def new_run_dir(runs_root: str | os.PathLike[str], experiment: str, now: datetime | None = None,
                token: str | None = None) -> Path:
    """``<runs_root>/<experiment>/<YYYYmmdd-HHMMSS>_<6 hex>`` (not created)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path(runs_root) / experiment / f"{stamp}_{token or secrets.token_hex(3)}"


def console_log_path(run_dir: Path) -> Path:
    """Where the training process's stdout/stderr go: a hidden file beside its run directory."""
    return run_dir.parent / f".{run_dir.name}.console.log"


def error_line(console_log: Path) -> str | None:
    """The last ``error: ...`` line a process wrote to its console log (the CLI's one line)."""
    try:
        lines = console_log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return next((line[len("error: "):] for line in reversed(lines) if line.startswith("error: ")), None)


@dataclass
class Training:
    """One training process started from the UI."""

    run_dir: Path
    command: list[str]
    process: subprocess.Popen
    console_log: Path
    started: float = field(default_factory=time.monotonic)
    stop_requests: int = 0
    returncode: int | None = None

    @property
    def running(self) -> bool:
        return self.returncode is None and self.process.poll() is None

    def stop(self) -> str:
        """Stop cleanly: SIGINT (the CLI finishes the update, checkpoints, exits 130); a second
        call sends SIGTERM (handled the same way), a third SIGKILL for a training that hangs."""
        if not self.running:
            return "not running"
        signals = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
        sig = signals[min(self.stop_requests, len(signals) - 1)]
        self.stop_requests += 1
        try:
            self.process.send_signal(sig)
        except ProcessLookupError:
            return "not running"
        return {signal.SIGINT: "interrupting", signal.SIGTERM: "terminating"}.get(sig, "killing")


class TrainingManager:
    """The training processes of this UI session, by run directory."""

    def __init__(self) -> None:
        self._trainings: dict[Path, Training] = {}

    def start(self, command: list[str], run_dir: Path, cwd: str | os.PathLike[str] | None = None) -> Training:
        run_dir = Path(run_dir).resolve()
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        log_path = console_log_path(run_dir)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd,
                                       env=env)
        training = Training(run_dir=run_dir, command=command, process=process, console_log=log_path)
        self._trainings[run_dir] = training
        return training

    def get(self, run_dir: str | os.PathLike[str]) -> Training | None:
        return self._trainings.get(Path(run_dir).resolve())

    def running(self) -> list[Training]:
        return [t for t in self._trainings.values() if t.running]

    def exited(self) -> set[Path]:
        """Run directories whose process has ended (take this *before* reading their files)."""
        return {path for path, t in self._trainings.items() if not t.running}

    def poll(self) -> list[Training]:
        """The trainings that ended since the last call (their returncode now set)."""
        ended = []
        for training in self._trainings.values():
            if training.returncode is None:
                code = training.process.poll()
                if code is not None:
                    training.returncode = code
                    ended.append(training)
        return ended
