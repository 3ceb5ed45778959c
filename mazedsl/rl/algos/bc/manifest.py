"""The episodes manifest (``episodes.json`` in a BC run directory): which recorded episode
files a run trained on, so that a resume trains on the same data.

``algorithm.episodes`` may name data that changes (``cartpole_ppo:latest``, a glob, a
folder that gains rollouts); the manifest pins what it resolved to when training started:
``references`` (as declared), ``count``, ``steps``, ``files`` (absolute ``path``, ``bytes``,
``steps`` each) and ``validation`` (the held-out files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mazedsl.errors import ConfigError
from mazedsl.rl.algos.bc.data import WHERE, EpisodeData

MANIFEST = "episodes.json"


def manifest(refs: Sequence[str], data: EpisodeData, val_rows: np.ndarray) -> dict[str, Any]:
    """The manifest of ``data`` (loaded from ``refs``) with its validation rows ``val_rows``."""
    per_file = np.bincount(data.episode, minlength=len(data.files))
    val_eps = set(np.unique(data.episode[val_rows]).tolist()) if len(val_rows) else set()
    files = [{"path": str(f.resolve()), "bytes": f.stat().st_size, "steps": int(n)}
             for f, n in zip(data.files, per_file)]
    return {"references": list(refs), "count": len(files), "steps": len(data), "files": files,
            "validation": [files[i]["path"] for i in sorted(val_eps)]}


def pinned_episodes(run_dir: Path) -> list[str] | None:
    """The episode files ``run_dir`` recorded having trained on (None: no manifest, e.g. a
    run from before manifests); a ConfigError when one is gone or changed size."""
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        files = [(str(f["path"]), int(f["bytes"])) for f in json.loads(path.read_text())["files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: unreadable episodes manifest ({type(exc).__name__}); it lists "
                          "the episodes this run trained on, so it cannot be resumed", WHERE) from None
    gone = [p for p, _ in files if not Path(p).is_file()]
    changed = [p for p, size in files if p not in gone and Path(p).stat().st_size != size]
    if gone or changed:
        bad = gone or changed
        one = len(bad) == 1
        verb = ("is gone" if one else "are gone") if gone else ("has changed" if one else "have changed")
        what = (f"{len(bad)} of the {len(files)} recorded episode files it trained on {verb} "
                f"({bad[0]}{', ...' if len(bad) > 1 else ''})")
        raise ConfigError(f"cannot resume {run_dir} on the same data: {what}; restore "
                          f"{'it' if one else 'them'} (listed in {path}) or train a new run",
                          WHERE)
    return [p for p, _ in files]
