"""Hydra callbacks of ``mazedsl-run``: the multirun results table and ``sweep.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


SWEEP_FAILED = False


class SweepSummary(Callback):
    """After a multirun: a table of all jobs sorted by evaluation return, and sweep.json.

    Exits with status 1 when any job failed, after printing."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from mazedsl.cli.output import fmt, print_table
        from mazedsl.run.files import atomic_write_json

        sweep_dir = Path(config.hydra.sweep.dir)
        jobs = []
        for run_json in sorted(sweep_dir.glob("*/run.json")):
            try:
                info = json.loads(run_json.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            overrides = []
            ov = run_json.parent / ".hydra" / "overrides.yaml"
            if ov.is_file():
                from omegaconf import OmegaConf

                overrides = list(OmegaConf.load(ov))
            from mazedsl.cli.hydra_app import final_eval

            final = final_eval(run_json.parent)
            jobs.append({"job": run_json.parent.name, "overrides": overrides,
                         "status": info.get("status", "unknown"), "best_eval": info.get("best_eval"),
                         "final_eval": None if final != final else final,
                         "steps": info.get("steps"), "error": info.get("error"),
                         "run_dir": str(run_json.parent)})
        jobs.sort(key=lambda j: (j["status"] != "finished",
                                 -(j["best_eval"] if j["best_eval"] is not None else float("-inf"))))
        if not jobs:
            return
        atomic_write_json(sweep_dir / "sweep.json", {"sweep_dir": str(sweep_dir), "jobs": jobs})
        failed = [j for j in jobs if j["status"] != "finished"]
        print_table(f"sweep {sweep_dir} ({len(jobs)} jobs, {len(failed)} failed)",
                    ["job", "overrides", "status", "best eval", "final eval", "steps", "error"],
                    [[j["job"], " ".join(j["overrides"]), j["status"], fmt(j["best_eval"]),
                      fmt(j["final_eval"]), j["steps"], j["error"] or ""] for j in jobs])
        if failed:
            global SWEEP_FAILED
            SWEEP_FAILED = True
            raise SystemExit(1)
