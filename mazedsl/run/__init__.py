"""Run directories: atomic files, the metrics stream, run.json, listing and resolving runs."""

from mazedsl.run.files import (MetricsWriter, atomic_write_bytes, atomic_write_json,
                               atomic_write_text, iter_metrics, read_json, read_metrics)
from mazedsl.run.listing import RunInfo, is_run_dir, list_runs, read_run_info, resolve_run

__all__ = [
    "MetricsWriter", "atomic_write_bytes", "atomic_write_json", "atomic_write_text",
    "iter_metrics", "read_json", "read_metrics", "RunInfo", "is_run_dir", "list_runs",
    "read_run_info", "resolve_run",
]
