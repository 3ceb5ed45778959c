"""Hydra callbacks of ``mazedsl-run``: after a multirun, the results table and ``sweep.json``
of :mod:`mazedsl.run.sweeps` (the same as ``mazedsl train --sweep``); before a single run, the
folders its run directory will need (:class:`RunFolders`).

Hydra calls no callback when a multirun is interrupted (Ctrl-C ends the job with exit status
130, which ends the multirun), so ``mazedsl-run`` calls :func:`summarize_interrupted` then: the
jobs that ran (the interrupted one with its evaluations so far), the ones never started as
``not run``, the partial ``sweep.json`` (written atomically) and the table."""

from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

SWEEP_FAILED = False
_ACTIVE: "SweepSummary | None" = None  # the multirun under way (started, not yet summarized)

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


class RunFolders(Callback):
    """Before a single run: note the folders above its run directory that do not exist yet,
    so that a run refused inside the job (where no preflight ran, e.g. under a ``pkg://`` config path) leaves
    none of them behind."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        from mazedsl.cli.hydra_app import remember_new_folders

        remember_new_folders(Path(str(config.hydra.run.dir)))


class SweepSummary(Callback):
    """After a multirun: a table of all jobs sorted by evaluation return (and by configuration
    when seeds vary), and sweep.json. Exits with status 1 when any job failed, after printing."""

    def __init__(self) -> None:
        self._created = datetime.now().isoformat(timespec="seconds")
        self._config: DictConfig | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        global _ACTIVE
        self._created = datetime.now().isoformat(timespec="seconds")
        self._config = config
        _ACTIVE = self

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        global _ACTIVE
        _ACTIVE = None
        result = self.summarize(config)
        if result is None:
            return
        result.print_table()
        if result.failed:
            global SWEEP_FAILED
            SWEEP_FAILED = True
            raise SystemExit(1)

    def summarize(self, config: DictConfig, interrupted: bool = False) -> Any:
        """The SweepResult of the sweep folder, written to sweep.json (None: no job there).
        ``interrupted``: the last job that started ran when the multirun was interrupted
        (interrupted, unless its run.json says it finished or failed), and the jobs the basic
        sweeper had still to start are listed as not run."""
        from mazedsl.run.sweeps import (SweepResult, collect_job, job_name, only_swept, params_of,
                                        sort_key, swept_keys)
        from mazedsl.sweep import not_run_job

        sweep_dir = Path(config.hydra.sweep.dir)
        found = []
        for job_dir in sorted(p for p in sweep_dir.iterdir() if p.is_dir()) if sweep_dir.is_dir() else []:
            if not (job_dir / "run.json").is_file() and not (job_dir / ".hydra").is_dir():
                continue
            overrides: list[str] = []
            saved = job_dir / ".hydra" / "overrides.yaml"
            if saved.is_file():
                overrides = [str(o) for o in OmegaConf.load(saved)]
            overrides = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
            try:
                index = int(job_dir.name.rsplit("_", 1)[-1])
            except ValueError:
                continue
            found.append((index, job_dir, overrides))
        pending = _not_started(config, {index for index, _d, _o in found}) if interrupted else []
        if not found and not pending:
            return None
        keys = swept_keys(list(config.hydra.overrides.task),
                          [ov for _i, _d, ov in found] + [ov for _i, ov in pending])
        jobs = []
        for index, job_dir, overrides in found:
            swept = only_swept(overrides, keys)
            # a job neither finished nor failed when the multirun was interrupted was stopped by it
            stopped = interrupted and _status(job_dir) not in ("finished", "failed")
            jobs.append(collect_job(index, job_dir, swept, params_of(swept),
                                    exit_status=130 if stopped else None))
        for index, overrides in pending:
            swept = only_swept(overrides, keys)
            jobs.append(not_run_job(index, sweep_dir / job_name(index), swept, params_of(swept)))
        jobs.sort(key=sort_key)
        result = SweepResult(sweep_dir, jobs, experiment=str(config.get("name", "")),
                             command=["mazedsl-run", *sys.argv[1:]], created=self._created)
        result.write()
        return result


def _status(job_dir: Path) -> str | None:
    try:
        info = json.loads((job_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info.get("status") if isinstance(info, dict) else None


def _not_started(config: DictConfig, started: set[int]) -> list[tuple[int, list[str]]]:
    """``(index, overrides)`` of the jobs the basic sweeper had still to start (none known
    under another sweeper, which chooses its jobs as it goes)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    sweeper = OmegaConf.select(config, "hydra.sweeper")
    if sweeper is None or sweeper.get("_target_") != BASIC_SWEEPER:
        return []
    try:
        params = sweeper.get("params") or {}
        arguments = [f"{k}={v}" for k, v in params.items()] + list(config.hydra.overrides.task)
        batches = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(arguments), None)
    except Exception:  # noqa: BLE001 - what was found is still summarized
        return []
    points = [list(point) for batch in batches for point in batch]
    if max(started, default=-1) >= len(points):  # not the sweep these points describe
        return []
    return [(i, [o for o in point if not o.lstrip("+~").startswith("hydra")])
            for i, point in enumerate(points) if i > max(started, default=-1)]


def summarize_interrupted() -> bool:
    """After an interrupted multirun (``mazedsl-run`` calls it on exit status 130): write the
    partial sweep.json and print the table; False when no multirun was under way. Signals
    are ignored meanwhile (main thread), so a second Ctrl-C cannot cut it short."""
    global _ACTIVE
    active, _ACTIVE = _ACTIVE, None
    if active is None or active._config is None:
        return False
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(sig, signal.SIG_IGN)
    try:
        result = active.summarize(active._config, interrupted=True)
        if result is not None:
            result.print_table()
        return result is not None
    except Exception as exc:  # noqa: BLE001 - the exit status stays 130; say what went wrong
        print(f"error: the sweep's summary could not be written: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return False
    finally:
        for sig, old in handlers.items():
            signal.signal(sig, old)
