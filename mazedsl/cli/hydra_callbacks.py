"""Hydra callbacks of ``mazedsl-run``: after a multirun, the results table and ``sweep.json``
of :mod:`mazedsl.run.sweeps` (the same as ``mazedsl train --sweep``)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

SWEEP_FAILED = False


class SweepSummary(Callback):
    """After a multirun: a table of all jobs sorted by evaluation return (and by configuration
    when seeds vary), and sweep.json. Exits with status 1 when any job failed, after printing."""

    def __init__(self) -> None:
        self._created = datetime.now().isoformat(timespec="seconds")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._created = datetime.now().isoformat(timespec="seconds")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from mazedsl.run.sweeps import (SweepResult, collect_job, only_swept, params_of, sort_key,
                                        swept_keys)

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
        if not found:
            return
        keys = swept_keys(list(config.hydra.overrides.task), [ov for _i, _d, ov in found])
        jobs = []
        for index, job_dir, overrides in found:
            swept = only_swept(overrides, keys)
            jobs.append(collect_job(index, job_dir, swept, params_of(swept)))
        jobs.sort(key=sort_key)
        result = SweepResult(sweep_dir, jobs, experiment=str(config.get("name", "")),
                             command=["mazedsl-run", *sys.argv[1:]], created=self._created)
        result.write()
        result.print_table()
        if result.failed:
            global SWEEP_FAILED
            SWEEP_FAILED = True
            raise SystemExit(1)
