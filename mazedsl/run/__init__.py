"""Run directories: atomic files, the metrics stream, run.json, listing and resolving runs."""

from mazedsl.run.files import (MetricsWriter, atomic_write_bytes, atomic_write_json,
                               atomic_write_text, iter_metrics, read_json, read_metrics)
from mazedsl.run.listing import (RunInfo, SweepInfo, is_run_dir, list_entries, list_runs, read_run_info,
                                resolve_run)
from mazedsl.run.lock import CRASHED, is_training, trainer_alive

__all__ = [
    "MetricsWriter", "atomic_write_bytes", "atomic_write_json", "atomic_write_text",
    "iter_metrics", "read_json", "read_metrics", "RunInfo", "SweepInfo", "is_run_dir", "list_runs",
    "list_entries",
    "read_run_info", "resolve_run", "CRASHED", "is_training", "trainer_alive",
]
