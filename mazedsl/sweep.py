"""Sweeps from experiment files (``mazedsl train --sweep/--seeds``, ``RunContext.sweep``):
every combination of sweep overrides (and seeds), each job in its own process and run
directory ``job_000``... under one sweep directory, then the results table and ``sweep.json``
of :mod:`mazedsl.run.sweeps` (the same as ``mazedsl-run -m``).

A job that fails is reported as failed, with its error; it is never scored.

Ctrl-C (SIGINT; SIGTERM and SIGHUP alike) stops the sweep: the running jobs get it (each job
runs in its own process group and receives the signal from the sweep, once per signal the
sweep gets: the first stops a job after its current update, a second at once), jobs not
started yet are recorded as ``not run``, and the partial ``sweep.json`` is written
(atomically) before :class:`SweepInterrupted` is raised (exit status 130 on the command line).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence, Union

from mazedsl.hydra_quoting import hydra_quote
from mazedsl.run.sweeps import (SweepJob, SweepResult, collect_job, job_name, params_of,
                                sort_key)

__all__ = ["SweepJob", "SweepResult", "SweepInterrupted", "NOT_RUN", "expand", "run_sweep",
           "sort_key", "override_strings", "not_run_job"]

NOT_RUN = "not run"  # the status of a job an interrupted sweep never started
Overrides = Union[str, Mapping[str, Any], Sequence[Union[str, Mapping[str, Any]]]]


class SweepInterrupted(KeyboardInterrupt):
    """The sweep was interrupted (Ctrl-C); ``result`` holds what ran, as written to the
    partial ``sweep.json``: the interrupted jobs with their evaluations so far, and the jobs
    never started as ``not run``. A KeyboardInterrupt, so code that does not look for it
    stops as on any Ctrl-C (and ``mazedsl`` exits with status 130)."""

    def __init__(self, result: SweepResult) -> None:
        super().__init__(f"sweep interrupted: {result.sweep_dir}")
        self.result = result


def expand(sweep: Sequence[str], seeds: int | None) -> list[list[str]]:
    """Plain override lists for every combination of the sweep overrides and seeds."""
    from mazedsl.config import split_sweep

    points = split_sweep(list(sweep)) if sweep else [[]]
    if seeds:
        points = [p + [f"seed={s}"] for p in points for s in range(seeds)]
    return points


def not_run_job(index: int, run_dir: str | Path, overrides: Sequence[str],
                params: dict[str, Any] | None = None) -> SweepJob:
    """A job an interrupted sweep never started (no run directory was made)."""
    return SweepJob(job=job_name(index), run_dir=str(run_dir), overrides=list(overrides),
                    params=dict(params if params is not None else params_of(overrides)),
                    status=NOT_RUN, final_eval=None, best_eval=None, steps=0, wall_s=None,
                    error="the sweep was interrupted before this job started")


# -- overrides as command-line strings -------------------------------------------------------------

def _items(overrides: Overrides) -> Iterator[str | Mapping[str, Any]]:
    from mazedsl.config.overrides import _flatten

    yield from _flatten([overrides])


def _hydra_value(value: Any) -> str:
    """A plain value (scalars, lists, dicts) in Hydra's override grammar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)  # inf, -inf, 1e-10 as Hydra reads them
    if isinstance(value, str):
        return hydra_quote(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_hydra_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{_hydra_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value).__name__)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def override_strings(overrides: Overrides) -> list[str]:
    """The overrides as command-line strings for the job processes: strings as given, each
    item of a dict (dotted keys; values plain, config-module names or declarations, as
    ``RunContext(overrides=...)`` and ``Experiment.override`` take them) as ``++key=value``
    (set, adding the key if needed: a dict's meaning). A value the override grammar cannot
    spell (a dict key with a space, an object) is a ConfigError naming it."""
    from mazedsl.config.overrides import _parse, _prepare
    from mazedsl.errors import ConfigError

    out: list[str] = []
    for item in _items(overrides):
        if isinstance(item, str):
            out.append(item)
            continue
        for key, value in item.items():
            if not isinstance(key, str):
                raise ConfigError(f"override keys must be dotted strings, got {key!r}")
            try:
                plain = _prepare(value)
                text = f"++{key}={_hydra_value(plain)}"
                if _json(_parse(text).value()) != _json(plain):  # read back as it was
                    raise ValueError(text)
            except (ConfigError, TypeError, ValueError):
                raise ConfigError(f"override {{{key!r}: {value!r}}}: cannot be passed to the sweep's "
                                  f"job processes; give it as a string ('{key}=...')") from None
            out.append(text)
    return out


def _check_same(base: Any, experiment: str, strings: list[str], given: Overrides) -> None:
    """The jobs' string overrides must make the experiment the given ones made."""
    from mazedsl.config import apply_overrides, diff, load_experiment
    from mazedsl.errors import ConfigError

    differs = diff(base, apply_overrides(load_experiment(experiment), strings))
    if differs:
        path = differs[0][0]
        raise ConfigError(f"the overrides {given!r} cannot be passed to the sweep's job processes "
                          f"as they are (they would set {path!r} differently); give it as a "
                          f"string override", path)


# -- interruption ----------------------------------------------------------------------------------

class _Stop:
    """The sweep's running job processes, and whether the sweep was interrupted.

    In the main thread, SIGINT/SIGTERM/SIGHUP (those not ignored) are caught while the sweep
    runs (the jobs run in their own process groups): each signal is passed on to every running
    job (SIGINT as SIGINT, the others as SIGTERM, which a job takes as a stop request) and no
    job starts after it. Elsewhere (no signal handlers there) the jobs share the terminal's process group
    and get Ctrl-C from it; a job that exits interrupted (130) then stops the sweep."""

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                    if hasattr(signal, name))

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.stopped = False
        self.lock = threading.Lock()
        self.procs: set[subprocess.Popen[str]] = set()
        self.handling = threading.current_thread() is threading.main_thread()
        self._previous: dict[int, Any] = {}

    def popen_kwargs(self) -> dict[str, Any]:
        if not self.handling:
            return {}
        return {"process_group": 0} if sys.version_info >= (3, 11) else {"start_new_session": True}

    def _handler(self, signum: int, frame: Any) -> None:
        first = not self.stopped
        self.stopped = True
        forward = signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM
        with self.lock:
            procs = list(self.procs)
        for proc in procs:
            try:
                proc.send_signal(forward)
            except OSError:
                pass
        if not self.quiet:
            print("interrupted: the running jobs stop after their current update (Ctrl-C again: "
                  "at once); jobs not started are not run" if first else
                  "interrupted again: stopping the running jobs at once", file=sys.stderr, flush=True)

    def __enter__(self) -> "_Stop":
        if self.handling:
            for sig in self.SIGNALS:
                if signal.getsignal(sig) is not signal.SIG_IGN:  # (nohup, a background job)
                    self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old)

    def start(self, cmd: list[str]) -> subprocess.Popen[str] | None:
        """The job's process, or None when the sweep was interrupted before it started."""
        with self.lock:
            if self.stopped:
                return None
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    **self.popen_kwargs())
            self.procs.add(proc)
        return proc

    def finish(self, proc: subprocess.Popen[str]) -> str:
        """Wait for the job's process; its stderr."""
        try:
            _out, err = proc.communicate()
        finally:
            with self.lock:
                self.procs.discard(proc)
        if proc.returncode == 130 and not self.handling:
            self.stopped = True
        return err or ""


# -- the sweep -------------------------------------------------------------------------------------

def _count_at_least_1(value: Any) -> bool:
    """An integer (numpy's too; not a bool) of at least 1."""
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def _make_sweep_dir(root: Path) -> None:
    """Create the sweep directory and check it takes files, before any job starts: one line
    naming it when it cannot (a read-only folder, a path that cannot exist, a file there)."""
    from mazedsl.errors import RunDirError

    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunDirError(f"{root}: cannot create the sweep directory "
                          f"({exc.strerror or exc})") from None


def _check_points(base: Any, points: Sequence[Sequence[str]]) -> None:
    """Every job's check before any job starts, as ``mazedsl train`` and ``mazedsl-run -m``
    make it: its overrides apply, its env can be made (once per distinct env), and its
    algorithm takes the experiment on that env's spaces (e.g. SAC on discrete actions, BC
    without recorded episodes are refused here, not as a failed job)."""
    from mazedsl.cli.preflight import check_before_torch, check_learner
    from mazedsl.config import apply_overrides

    checked: dict[str, tuple[Any, Any]] = {}
    runnable = [(exp, check_before_torch(exp, checked))
                for exp in (apply_overrides(base, list(point)) for point in points)]
    for exp, spaces in runnable:  # (imports torch: after every point's quick check)
        check_learner(exp, spaces)


def run_sweep(experiment: str, sweep: Sequence[str] = (), seeds: int | None = None,
              overrides: Overrides = (), jobs: int = 1, quiet: bool = False,
              sweep_dir: str | Path | None = None,
              command: Sequence[str] | None = None) -> SweepResult:
    """Run every sweep point of an experiment file; returns per-job results (best first)
    and writes ``sweep.json``. Every job is validated before any starts.

    ``overrides`` (fixed for every job): strings, a dict of dotted keys, or a list mixing
    them, as ``RunContext(overrides=...)`` takes them. Ctrl-C: see the module doc; raises
    :class:`SweepInterrupted` after writing the partial ``sweep.json``."""
    from mazedsl.config import apply_overrides, load_experiment
    from mazedsl.errors import ConfigError

    if seeds is not None and not _count_at_least_1(seeds):
        raise ConfigError(f"needs a number N >= 1 (seeds 0..N-1) or None, got {seeds!r}", "seeds")
    if not _count_at_least_1(jobs):
        raise ConfigError(f"needs a number N >= 1 of parallel jobs, got {jobs!r}", "jobs")
    base = load_experiment(experiment)
    given = overrides
    if overrides:
        base = apply_overrides(base, list(_items(overrides)))
    strings = override_strings(overrides) if overrides else []
    if any(not isinstance(item, str) for item in _items(overrides)):
        _check_same(base, experiment, strings, given)
    points = expand(sweep, seeds)
    _check_points(base, points)
    created = datetime.now()
    stamp = created.strftime("%Y%m%d-%H%M%S")
    root = Path(sweep_dir) if sweep_dir else Path(base.output_dir) / base.name / f"sweep_{stamp}_{os.getpid()}"

    def job(stop: _Stop, index: int, point: list[str]) -> SweepJob:
        run_dir = root / job_name(index)
        cmd = [sys.executable, "-m", "mazedsl", "train", experiment, *strings, *point,
               "--run-dir", str(run_dir), "--json"]
        t0 = time.perf_counter()
        proc = stop.start(cmd)
        if proc is None:
            result = not_run_job(index, run_dir, point)
        else:
            err = stop.finish(proc)
            wall = time.perf_counter() - t0
            lines = [ln for ln in err.strip().splitlines() if ln.strip()]
            code = proc.returncode
            if stop.stopped and code in (-signal.SIGINT, -signal.SIGTERM):
                code = 130  # stopped by the signal before it could say so
            result = collect_job(index, run_dir, point, params_of(point), wall,
                                 error=lines[-1] if lines and code else None, exit_status=code)
        if not quiet:
            how = {NOT_RUN: "", "interrupted": f", best eval {result.best_eval} at {result.steps} steps"}
            print(f"[{index + 1}/{len(points)}] {' '.join(point) or '(base)'}: {result.status}"
                  f"{how.get(result.status, f', best eval {result.best_eval}')}", flush=True)
        return result

    _make_sweep_dir(root)
    with _Stop(quiet) as stop:  # a signal from here on is passed on; none interrupts this code
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda ip: job(stop, *ip), enumerate(points)))
        results.sort(key=sort_key)
        out = SweepResult(root, results, experiment=base.name,
                          command=list(command) if command is not None else ["mazedsl", *sys.argv[1:]],
                          created=created.isoformat(timespec="seconds"))
        out.write()
        # (a signal after every job had finished changes nothing)
        interrupted = stop.stopped and any(r.status in ("interrupted", NOT_RUN) for r in results)
    if interrupted:
        raise SweepInterrupted(out)
    return out
