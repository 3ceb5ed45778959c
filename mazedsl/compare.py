"""Comparing runs: loading several runs, grouping seeds of one configuration, curve statistics
and the config keys that differ.

A *group* is the set of runs whose configs are equal once ``seed`` is removed. Its curve is
the mean, std, min and max over its runs of the evaluation return, on the union of their x
values (env steps or wall seconds); a run contributes at x only inside its own range (linear
interpolation between its points), so runs of different lengths are fine. Every std here is
the sample standard deviation (n - 1; 0.0 for one run), as in a sweep's table and sweep.json.

Nothing here imports textual or matplotlib; ``mazedsl compare`` and the TUI's Compare screen
both sit on top of it.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import re
import statistics
from pathlib import Path
from typing import Any, Iterable, Sequence

import attrs

from mazedsl.errors import MazeError, RunDirError
from mazedsl.values import same_value

GROUP_IGNORED = ("seed",)
NOT_RUN = "not run"  # the status of a job an interrupted sweep never started (sweep.json)
_JOB_NAME = re.compile(r"^(job_?\d+|\d+)$")


class CompareError(MazeError):
    """Runs that cannot be compared (none given, not found)."""


# -- one run -------------------------------------------------------------------------------------

@attrs.define
class RunData:
    """One run as Compare sees it: run.json, flat config, and its evaluation curve.

    ``refresh()`` reads only what was appended to ``metrics.jsonl`` (stat first), so polling a
    live run is cheap.
    """

    path: Path
    label: str
    info: dict[str, Any] = attrs.field(factory=dict)
    config: dict[str, Any] | None = None
    steps: list[float] = attrs.field(factory=list)
    times: list[float] = attrs.field(factory=list)
    returns: list[float] = attrs.field(factory=list)
    bad_lines: list[int] = attrs.field(factory=list)
    problem: str | None = None
    config_problem: str | None = None  # config.yaml missing or unreadable (a note says so)
    _offset: int = 0
    _lines: int = 0
    _stamp: tuple[int, int] | None = None
    _info_stamp: tuple[int, int] | None = None

    @property
    def status(self) -> str:
        return str(self.info.get("status", "unknown"))

    @property
    def experiment(self) -> str:
        return str(self.info.get("experiment", self.path.parent.name))

    @property
    def final_eval(self) -> float | None:
        return self.returns[-1] if self.returns else None

    @property
    def best_eval(self) -> float | None:
        return max(self.returns) if self.returns else None

    @property
    def last_step(self) -> int:
        return int(self.info.get("steps") or (self.steps[-1] if self.steps else 0))

    def xs(self, x: str = "steps") -> list[float]:
        return self.steps if x == "steps" else self.times

    def notes(self) -> list[str]:
        """What is wrong or missing, one short line each."""
        out = []
        if self.problem:
            out.append(self.problem)
        if self.config_problem:
            out.append(f"{self.label}: {self.config_problem}; shown as a configuration of its "
                       "own, its config keys not compared")
        if self.bad_lines:
            lines = ", ".join(str(n) for n in self.bad_lines[:3]) + ("…" if len(self.bad_lines) > 3 else "")
            out.append(f"{self.label}: metrics.jsonl line {lines} damaged (skipped)")
        if not self.returns and not self.problem:
            out.append(f"{self.label}: no evaluation yet")
        if self.info.get("error"):
            out.append(f"{self.label}: {self.info['error']}")
        return out

    def refresh(self) -> bool:
        """Read what changed on disk; True when anything did."""
        changed = self._refresh_info()
        path = self.path / "metrics.jsonl"
        try:
            st = os.stat(path)
        except OSError:
            return changed
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return changed
        if st.st_size < self._offset:  # replaced or truncated: start over
            self._offset, self._lines = 0, 0
            self.steps, self.times, self.returns, self.bad_lines = [], [], [], []
        self._stamp = stamp
        try:
            with open(path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except OSError:
            return changed
        end = data.rfind(b"\n") + 1
        self._offset += end
        for line in data[:end].split(b"\n")[:-1]:
            self._lines += 1
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise ValueError("not an object")
                if rec.get("phase") != "eval":
                    continue
                value, step = float(rec["mean_return"]), float(rec["step"])
            except (ValueError, KeyError, TypeError):
                self.bad_lines.append(self._lines)
                continue
            if not math.isfinite(value):
                continue
            self.steps.append(step)
            self.times.append(float(rec.get("time") or 0.0))
            self.returns.append(value)
        return True

    def _refresh_info(self) -> bool:
        path = self.path / "run.json"
        try:
            st = os.stat(path)
        except OSError:
            if self.problem is None:
                self.problem = f"{self.label}: no run.json"
                return True
            return False
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._info_stamp:
            return False
        self._info_stamp = stamp
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(info, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            self.problem = f"{self.label}: run.json unreadable ({exc})"
            return True
        self.info, self.problem = info, None
        if self.config is None:
            self.config, self.config_problem = _config_of(self.path)
        return True


def _config_of(run_dir: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(the run's config.yaml as flat {dotted path: value}, None)``, or ``(None, why)`` when
    it is missing or unreadable. Plain YAML (the C loader when there is one): no OmegaConf or
    Hydra import, so opening Compare on many runs stays fast."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        tree = yaml.load((run_dir / "config.yaml").read_text(encoding="utf-8"), Loader=loader)
    except FileNotFoundError:
        return None, "no config.yaml"
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        mark = getattr(exc, "problem_mark", None)
        if getattr(exc, "problem", None) and mark is not None:  # YAML's own words and place
            first = f"{exc.problem} at line {mark.line + 1}"
        return None, f"config.yaml unreadable ({first})"
    if not isinstance(tree, dict):
        what = "empty" if tree is None else f"a {type(tree).__name__}, not a mapping"
        return None, f"config.yaml unreadable ({what})"
    return _leaves(tree), None


def _leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    """``{path: value}`` of a plain tree, paths as ``mazedsl.config`` spells them (``a.b``,
    ``wrappers[0].n``); lists of scalars are one leaf (as in ``mazedsl.config.diff``)."""
    out: dict[str, Any] = {}
    if isinstance(tree, dict) and tree:
        for key, value in tree.items():
            out.update(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(tree, list) and tree and any(isinstance(v, (dict, list)) for v in tree):
        for i, value in enumerate(tree):
            out.update(_leaves(value, f"{prefix}[{i}]"))
    elif prefix:
        out[prefix] = tree
    return out


def load_run(path: str | os.PathLike[str], label: str | None = None) -> RunData:
    """One run directory read for comparing (never raises for damaged files: see ``notes()``)."""
    path = Path(path)
    run = RunData(path=path, label=label or f"{path.parent.name}/{path.name}")
    run.refresh()
    return run


# -- sweeps --------------------------------------------------------------------------------------

@attrs.define
class SweepJob:
    """A job of a sweep: its run directory (None when the job never made one), params, error."""

    name: str
    run_dir: Path | None
    params: dict[str, Any]
    status: str
    error: str | None = None


def is_sweep_dir(path: str | os.PathLike[str]) -> bool:
    """A folder holding ``sweep.json``, or job subfolders (``job_000``, ``0``) with run.json."""
    path = Path(path)
    if not path.is_dir() or (path / "run.json").is_file():
        return False
    if (path / "sweep.json").is_file():
        return True
    return any(_JOB_NAME.match(p.parent.name) for p in path.glob("*/run.json"))


def is_sweep_job(run_dir: str | os.PathLike[str]) -> bool:
    """Whether a run directory is a job of a sweep (its parent is a sweep folder)."""
    run_dir = Path(run_dir)
    parent = run_dir.parent
    return (parent / "sweep.json").is_file() or bool(_JOB_NAME.match(run_dir.name)) \
        or parent.name.startswith(("sweep_", "multirun"))


def read_sweep_json(sweep_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((sweep_dir / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _override_params(overrides: Iterable[Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in overrides or []:
        if isinstance(item, str) and "=" in item:
            key, value = item.split("=", 1)
            params[key.lstrip("+~")] = value
    return params


def sweep_jobs(sweep_dir: str | os.PathLike[str]) -> list[SweepJob]:
    """The jobs of a sweep folder: every ``*/run.json`` below it, plus jobs that sweep.json lists
    without a run directory (failed before starting). Old and new sweep.json schemas both read."""
    sweep_dir = Path(sweep_dir)
    listed: dict[str, dict[str, Any]] = {}
    for job in read_sweep_json(sweep_dir).get("jobs") or []:
        if not isinstance(job, dict):
            continue
        run_dir = job.get("run_dir")
        name = Path(run_dir).name if run_dir else str(job.get("job") or job.get("index", ""))
        if name:
            listed[name] = job
    jobs = []
    seen = set()
    for run_json in sorted(sweep_dir.glob("*/run.json"), key=lambda p: _natural(p.parent.name)):
        run_dir = run_json.parent
        meta = listed.get(run_dir.name, {})
        try:
            info = json.loads(run_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        status = str(info.get("status") or meta.get("status") or "unknown")
        if meta.get("status") in ("failed", "interrupted") and status in ("running", "created", "unknown"):
            status = str(meta["status"])
        params = meta.get("params") or _override_params(meta.get("overrides") or _overrides_of(run_dir))
        jobs.append(SweepJob(run_dir.name, run_dir, dict(params), status,
                             info.get("error") or meta.get("error")))
        seen.add(run_dir.name)
    for name, meta in listed.items():
        if name not in seen:
            jobs.append(SweepJob(name, None, dict(meta.get("params") or _override_params(meta.get("overrides"))),
                                 str(meta.get("status") or "failed"), meta.get("error") or "no run directory"))
    return jobs


def _overrides_of(run_dir: Path) -> list[str]:
    """A job's overrides from overrides.yaml or Hydra's .hydra/overrides.yaml."""
    import yaml

    for candidate in (run_dir / "overrides.yaml", run_dir / ".hydra" / "overrides.yaml"):
        try:
            data = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, list):
            return [str(x) for x in data]
        if isinstance(data, dict):
            return [f"{k}={v}" for k, v in data.items()]
    return []


def _natural(name: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


# -- resolving what to compare --------------------------------------------------------------------

def resolve_refs(refs: Sequence[str | os.PathLike[str]], root: str | os.PathLike[str] = "outputs"
                 ) -> tuple[list[tuple[Path, str]], list[SweepJob], list[str]]:
    """``(runs as (path, label), failed jobs without a run dir, notes)`` for RUN and SWEEP references.

    A reference is anything ``resolve_run`` accepts (a path, a name under ``root``, ``latest``,
    ``EXP:latest``), a sweep folder (then every job of it) or a folder of runs such as an
    experiment's (then every run in it, and every job of the sweeps in it). The same run given
    twice is kept once.
    """
    from mazedsl.run.listing import is_run_dir, resolve_run

    if not refs:
        raise CompareError("compare needs at least one RUN or SWEEP")
    out: list[tuple[Path, str]] = []
    missing: list[SweepJob] = []
    notes: list[str] = []
    seen: dict[Path, str] = {}
    root = Path(root)

    def add(path: Path, ref: str) -> None:
        key = path.resolve()
        if key in seen:
            notes.append(f"{ref}: the same run as {seen[key]}; shown once")
            return
        seen[key] = ref
        out.append((path, _label(path, root)))

    for ref in refs:
        text = str(ref)
        if text.endswith(":latest") and not text[: -len(":latest")].strip():
            raise CompareError(f"{text!r} names no experiment: give EXPERIMENT:latest (e.g. "
                               "cartpole_ppo:latest) or latest (the newest run of any experiment)")
        candidate = Path(text)
        if not candidate.exists() and (root / candidate).exists():
            candidate = root / candidate
        if is_sweep_dir(candidate):
            jobs = sweep_jobs(candidate)
            if not jobs:
                raise CompareError(f"{candidate}: a sweep folder without jobs")
        elif candidate.is_dir() and not is_run_dir(candidate):
            jobs = _runs_in_folder(candidate)
        else:
            jobs = []
        if not jobs:
            add(resolve_run(text, root), text)  # a run, or resolve_run's error naming what is wrong
        for job in jobs:
            if job.run_dir is None:
                missing.append(job)
            else:
                add(job.run_dir, text)
    return out, missing, notes


def _runs_in_folder(folder: Path) -> list[SweepJob]:
    """The runs of a folder that holds runs (an experiment's): each run in it, in name order
    (oldest first for timestamped names), then the jobs of each sweep folder in it."""
    from mazedsl.run.listing import is_run_dir

    try:
        children = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: _natural(p.name))
    except OSError:
        return []
    runs = [SweepJob(p.name, p, {}, "") for p in children if is_run_dir(p)]
    for sweep in (p for p in children if is_sweep_dir(p)):
        runs += sweep_jobs(sweep)
    return runs


def _label(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except (ValueError, OSError):
        return f"{path.parent.name}/{path.name}"


# -- statistics -----------------------------------------------------------------------------------

@attrs.define
class Curve:
    """Per-x statistics of a group's evaluation returns (``n``: runs present at each x)."""

    x: list[float]
    mean: list[float]
    std: list[float]
    lo: list[float]
    hi: list[float]
    n: list[int]


def aggregate(series: Sequence[tuple[Sequence[float], Sequence[float]]]) -> Curve:
    """Mean/std/min/max of several ``(xs, ys)`` curves on the union of their xs; a curve counts
    at x only within its own x range (linear interpolation between its points)."""
    curves = []
    for xs, ys in series:
        if len(xs):
            pairs = sorted(zip(xs, ys), key=lambda p: p[0])
            curves.append(([float(x) for x, _ in pairs], [float(y) for _, y in pairs]))
    grid = sorted({x for xs, _ in curves for x in xs})
    out = Curve([], [], [], [], [], [])
    for x in grid:
        values = [_interp(x, xs, ys) for xs, ys in curves if xs[0] <= x <= xs[-1]]
        mean, std = mean_std(values)
        out.x.append(x)
        out.mean.append(mean)
        out.std.append(std)
        out.lo.append(min(values))
        out.hi.append(max(values))
        out.n.append(len(values))
    return out


def _interp(x: float, xs: list[float], ys: list[float]) -> float:
    i = bisect.bisect_left(xs, x)
    if xs[i] == x:
        return ys[i]
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n - 1, ``statistics.stdev``; 0.0 for one value) of
    the given values (None ignored); (None, None) for none. The convention of
    :mod:`mazedsl.run.sweeps` (a sweep's table and sweep.json), so both report the same ± std."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None, None
    return statistics.fmean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0


@attrs.define
class Group:
    """Runs with one configuration (seeds apart)."""

    label: str
    params: dict[str, Any]
    runs: list[RunData]
    failed_jobs: list[SweepJob] = attrs.field(factory=list)

    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def n_failed(self) -> int:
        """Failed runs, and jobs that failed before making a run directory (a job an
        interrupted sweep never started is not run, not failed)."""
        return sum(r.status in ("failed", "crashed") for r in self.runs) + sum(
            j.status != NOT_RUN for j in self.failed_jobs)

    def final(self) -> tuple[float | None, float | None]:
        return mean_std([r.final_eval for r in self.runs])

    def best(self) -> tuple[float | None, float | None]:
        return mean_std([r.best_eval for r in self.runs])

    def curve(self, x: str = "steps") -> Curve:
        return aggregate([(r.xs(x), r.returns) for r in self.runs])

    @property
    def seeds(self) -> list[Any]:
        return [(r.config or {}).get("seed") for r in self.runs]


def group_key(config: dict[str, Any] | None, path: Path) -> Any:
    if config is None:
        return ("run", str(path))
    return tuple(sorted((k, json.dumps(v, sort_keys=True, default=str)) for k, v in config.items()
                        if k not in GROUP_IGNORED))


def group_runs(runs: Sequence[RunData]) -> list[Group]:
    """Runs grouped by configuration (config without ``seed``), in first-seen order, labelled by
    the keys that tell groups apart (``algorithm.lr=0.001``)."""
    buckets: dict[Any, list[RunData]] = {}
    for run in runs:
        buckets.setdefault(group_key(run.config, run.path), []).append(run)
    configs = [members[0].config or {} for members in buckets.values()]
    # (a run without a config is a group of its own: it makes no key differ for the others)
    keys = differing_keys([members[0].config for members in buckets.values()], ignore=GROUP_IGNORED)
    # a key with one value wherever it is present (another algorithm's or runner's field) tells
    # no group apart: its absence follows from a key that differs (``algorithm._target_``), so
    # labels leave it out, unless two labels would then be the same
    told = [k for k in keys if len({_canonical(c[k]) for c in configs if k in c}) > 1]
    labels = [_group_label(members, config, told) for members, config in zip(buckets.values(), configs)]
    if len(set(labels)) < len(labels):
        labels = [_group_label(members, config, keys) for members, config in zip(buckets.values(), configs)]
    return [Group(label, {k: config.get(k, MISSING_VALUE) for k in keys}, list(members))
            for label, members, config in zip(labels, buckets.values(), configs)]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _group_label(members: Sequence[RunData], config: dict[str, Any], keys: Sequence[str]) -> str:
    """``algorithm.lr=0.001 ...`` for the keys given (those this config has: a key only the
    other groups have says nothing here); the run's label for a run without a config."""
    if members[0].config is None:
        return members[0].label
    shown = " ".join(f"{k}={_short(config[k])}" for k in keys if k in config)
    return shown or members[0].experiment


MISSING_VALUE = "<missing>"


def _same_value(a: Any, b: Any) -> bool:
    """Equal, or equal as numbers (``"1e-3"`` from an override and ``0.001`` from a config)."""
    if a == b or str(a) == str(b):
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ",".join(_short(v) for v in value) + "]"
    return str(value)


def differing_keys(configs: Sequence[dict[str, Any] | None], ignore: Iterable[str] = ()) -> list[str]:
    """The dotted keys whose values are not the same in every config (missing counts as a value),
    in config order."""
    ignore = set(ignore)
    present = [c for c in configs if c is not None]
    order: dict[str, None] = {}
    for config in present:
        for key in config:
            order.setdefault(key, None)
    out = []
    for key in order:
        if key in ignore:
            continue
        values = [c.get(key, MISSING_VALUE) for c in present]
        if any(not same_value(values[0], v) for v in values[1:]):
            out.append(key)
    return out


# -- the comparison ------------------------------------------------------------------------------

@attrs.define
class Comparison:
    """Runs, their groups, the differing config keys, and notes on anything odd."""

    runs: list[RunData]
    groups: list[Group]
    diff_keys: list[str]
    notes: list[str]
    failed_jobs: list[SweepJob] = attrs.field(factory=list)
    sweep_dir: Path | None = None  # set: refresh() also picks up jobs that appear later
    label_root: Path | None = None

    def diff_rows(self) -> list[tuple[str, list[Any]]]:
        """``[(key, [value per run])]`` for the keys that differ between runs."""
        return [(key, [(r.config or {}).get(key, MISSING_VALUE) for r in self.runs]) for key in self.diff_keys]

    def all_notes(self) -> list[str]:
        out = list(self.notes)
        for run in self.runs:
            out.extend(run.notes())
        for job in self.failed_jobs:
            out.append(f"{job.name}: {job.status} ({job.error})")
        return out

    def refresh(self) -> bool:
        """Re-read the runs that changed on disk; True when anything did (groups are rebuilt)."""
        changed = False
        for run in self.runs:
            changed |= run.refresh()
        if self.sweep_dir is not None:
            changed |= self._new_jobs()
        if changed:
            self._regroup()
        return changed

    def _regroup(self) -> None:
        self.groups = group_runs(self.runs)
        self.diff_keys = differing_keys([r.config for r in self.runs])
        for job in self.failed_jobs:
            target = next((g for g in self.groups if g.params and all(
                _same_value(job.params.get(k), v) for k, v in g.params.items())), None)
            if target is None:
                params = {k: v for k, v in job.params.items() if k not in GROUP_IGNORED}
                label = " ".join(f"{k}={v}" for k, v in params.items()) or job.name
                target = next((g for g in self.groups if not g.runs and g.label == label), None)
                if target is None:
                    target = Group(label, params, [])
                    self.groups.append(target)
            target.failed_jobs.append(job)

    def _new_jobs(self) -> bool:
        """Jobs of the sweep that made their run directory since the last look."""
        known = {r.path.resolve() for r in self.runs}
        added = False
        for job in sweep_jobs(self.sweep_dir):
            if job.run_dir is not None and job.run_dir.resolve() not in known:
                self.runs.append(load_run(job.run_dir, _label(job.run_dir, self.label_root or job.run_dir.parent)))
                added = True
            elif job.run_dir is None and all(j.name != job.name for j in self.failed_jobs):
                self.failed_jobs.append(job)
                added = True
        return added

    @property
    def live(self) -> bool:
        """A run still training, or a sweep that has not written its ``sweep.json`` yet."""
        if self.sweep_dir is not None and not (self.sweep_dir / "sweep.json").is_file():
            return True
        return any(r.status in ("running", "created") for r in self.runs)

    def to_json(self, x: str = "steps") -> dict[str, Any]:
        groups = []
        for g in self.groups:
            final_mean, final_std = g.final()
            best_mean, best_std = g.best()
            curve = g.curve(x)
            groups.append({"label": g.label, "params": g.params, "n": g.n, "n_failed": g.n_failed,
                           "runs": [r.label for r in g.runs], "seeds": g.seeds,
                           "final_eval_mean": final_mean, "final_eval_std": final_std,
                           "best_eval_mean": best_mean, "best_eval_std": best_std,
                           "curve": {"x": x, **attrs.asdict(curve)}})
        return {
            "runs": [{"run": r.label, "path": str(r.path), "experiment": r.experiment, "status": r.status,
                      "steps": r.last_step, "evals": len(r.returns), "final_eval": r.final_eval,
                      "best_eval": r.best_eval, "seed": (r.config or {}).get("seed"),
                      "damaged_lines": r.bad_lines} for r in self.runs],
            "groups": groups,
            "diff": {key: values for key, values in self.diff_rows()},
            "failed_jobs": [{"job": j.name, "status": j.status, "error": j.error, "params": j.params}
                            for j in self.failed_jobs],
            "notes": self.all_notes(),
        }


def compare_paths(paths: Sequence[tuple[Path, str]], failed_jobs: Sequence[SweepJob] = (),
                  notes: Sequence[str] = (), sweep_dir: Path | None = None,
                  label_root: Path | None = None) -> Comparison:
    """A :class:`Comparison` of run directories given as ``(path, label)`` (one given twice is
    kept once, with a note)."""
    notes = list(notes)
    seen: dict[Path, str] = {}
    runs = []
    for path, label in paths:
        key = Path(path).resolve()
        if key in seen:
            notes.append(f"{label}: given twice; shown once")
            continue
        seen[key] = label
        runs.append(load_run(path, label))
    comparison = Comparison(runs, [], [], notes, list(failed_jobs), sweep_dir=sweep_dir, label_root=label_root)
    comparison._regroup()
    return comparison


def compare(refs: Sequence[str | os.PathLike[str]], root: str | os.PathLike[str] = "outputs") -> Comparison:
    """Compare RUN and SWEEP references (see :func:`resolve_refs`)."""
    paths, failed, notes = resolve_refs(refs, root)
    if not paths and not failed:
        raise RunDirError("nothing to compare")
    return compare_paths(paths, failed, notes)
