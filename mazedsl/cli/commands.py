"""The bodies of the ``mazedsl`` subcommands."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from mazedsl.cli.output import (EXIT_INTERRUPTED, age, eval_summary, fmt, print_eval, print_json,
                                print_table)
from mazedsl.cli.preflight import check_runnable
from mazedsl.errors import ConfigError, MazeError, RunDirError
from mazedsl.hydra_quoting import hydra_quote


def cmd_train(args: argparse.Namespace) -> int:
    _check_train_flags(args)
    if args.resume:  # before anything is loaded: `--resume RUN x.py` is not an override error
        for given in (args.experiment, *args.overrides):
            if given and "=" not in given and not given.startswith("~"):
                raise ConfigError(f"--resume RUN continues a recorded run; give no EXPERIMENT "
                                  f"file with it (only total_steps=N), not {given!r}")
        _check_run_name(args.resume)
    elif args.experiment:
        _check_not_a_directory(args.experiment)
    from mazedsl.context import RunContext

    quiet = args.quiet or args.json
    budget = None
    as_it_was = None
    if args.resume:
        ctx = RunContext.load(args.resume, checkpoint="last", silent=quiet, runs_root=args.runs_root)
        ctx._run.lock()  # refused while another process trains it, before anything is saved
        as_it_was = _RunFiles(ctx.run_dir)  # before the new budget is written
        budget = _resume_budget(ctx, [a for a in (args.experiment, *args.overrides) if a])
        if budget == 0:  # a finished run, resumed without a larger budget: nothing to do
            from mazedsl.run.directory import RunDirectory

            info = RunDirectory(ctx.run_dir).run_info()
            if args.json:
                print_json({"run_dir": str(ctx.run_dir), "steps": info.get("steps"),
                            "wall_time": info.get("train_seconds") or 0.0,
                            "best_eval": info.get("best_eval"), "stopped": "budget"})
            elif args.quiet:
                print(ctx.run_dir)
            return 0
    else:
        if not args.experiment:
            raise ConfigError("train needs an EXPERIMENT file (or --resume RUN)")
        args.overrides = _with_runs_root(args)
        if args.sweep or args.seeds is not None:
            return _sweep(args)
        from mazedsl.components import resolve_experiment

        # bad input: one line, before the run directory is named (and, for the commonest
        # mistakes, before torch is imported)
        check_runnable(resolve_experiment(args.experiment, {}, list(args.overrides), None)[0])
        ctx = RunContext(args.experiment, overrides=list(args.overrides), run_dir=args.run_dir,
                         silent=quiet)

    training: list[bool] = []

    def started(run_dir: Any) -> None:  # named once built: a run refused by the build is not kept
        training.append(True)
        if args.quiet and not args.json:
            print(run_dir, flush=True)  # the one line a script needs
        elif not quiet:
            print(f"run directory: {run_dir}", flush=True)

    try:
        summary = ctx.train(total_steps=budget, on_start=started)
    except BaseException:
        if as_it_was is not None and not training:  # a refused resume leaves the run as it was
            as_it_was.restore()
        raise
    result: dict[str, Any] = {"run_dir": str(ctx.run_dir), "steps": summary.steps,
                              "wall_time": round(summary.wall_time, 3), "best_eval": summary.best_eval,
                              "stopped": summary.stopped}
    if args.json:
        print_json(result)
    elif not quiet:
        print(f"trained {summary.steps} steps in {summary.wall_time:.1f} s ({summary.stopped}); "
              f"best eval {fmt(summary.best_eval)}; run directory: {ctx.run_dir}")
    return EXIT_INTERRUPTED if summary.stopped == "interrupted" else 0


def _check_train_flags(args: argparse.Namespace) -> None:
    """Flags that cannot go together, refused before anything is loaded (none is ignored)."""
    sweeping = [flag for flag, given in (("--sweep", args.sweep), ("--seeds", args.seeds is not None))
                if given]
    if args.resume:
        given = [*sweeping, *(["--run-dir"] if args.run_dir else []),
                 *(["--jobs"] if args.jobs is not None else [])]
        if given:
            raise ConfigError(f"--resume RUN continues one recorded run in its own directory; "
                              f"{given[0]} does not go with it")
    if sweeping and args.run_dir:
        raise ConfigError(f"--run-dir names one run's directory, and {sweeping[0]} makes one per "
                          "job (<output_dir>/<experiment>/sweep_<stamp>/job_NNN); choose where "
                          "with output_dir=DIR instead")
    if args.jobs is not None and not sweeping and not args.resume:
        raise ConfigError("--jobs N runs sweep jobs in parallel; it goes with --sweep or --seeds")


class _RunFiles:
    """The files a resume's new budget rewrites (``RunContext.set_total_steps``: config.yaml,
    overrides.yaml, run.json), as they were: ``restore()`` puts them back when the resume is
    refused before training starts (a missing checkpoint, spaces that no longer fit...)."""

    NAMES = ("config.yaml", "overrides.yaml", "run.json")

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.saved: dict[str, bytes | None] = {}
        for name in self.NAMES:
            try:
                self.saved[name] = (self.run_dir / name).read_bytes()
            except FileNotFoundError:
                self.saved[name] = None
            except OSError:  # unreadable: never rewritten by us either
                continue

    def restore(self) -> None:
        import sys

        from mazedsl.run.files import atomic_write_bytes

        for name, data in self.saved.items():
            path = self.run_dir / name
            try:
                now = path.read_bytes() if path.exists() else None
                if now == data:
                    continue
                if data is None:
                    path.unlink()
                else:
                    atomic_write_bytes(path, data)
            except (OSError, MazeError) as exc:
                print(f"note: {path}: could not be put back as it was before this resume ({exc})",
                      file=sys.stderr)


def _check_run_name(ref: str) -> None:
    """``:latest`` names no experiment (it is neither ``latest`` nor ``EXPERIMENT:latest``)."""
    if ref.endswith(":latest") and not ref[: -len(":latest")].strip():
        raise RunDirError(f"{ref!r} names no experiment: give EXPERIMENT:latest (e.g. "
                          "cartpole_ppo:latest) or latest (the newest run of any experiment)")


def _check_not_a_directory(ref: str) -> None:
    """An experiment file name (``x.py``, ``x.py:name``, ``x.yaml``) that is a directory."""
    head, sep, _tail = ref.rpartition(":")
    for text in (ref, head) if sep else (ref,):
        if text.endswith((".py", ".yaml", ".yml")) and Path(text).is_dir():
            raise ConfigError(f"{text}: is a directory, not an experiment file")


def _with_runs_root(args: argparse.Namespace) -> list[str]:
    """The overrides, led by ``output_dir=<--runs-root>`` when ``--runs-root`` was given (so
    ``mazedsl --runs-root DIR runs`` lists what ``mazedsl --runs-root DIR train`` wrote),
    unless the overrides set ``output_dir`` themselves."""
    overrides = list(args.overrides)
    if not getattr(args, "runs_root_given", False) or any(
            o.lstrip("+~").split("=", 1)[0] == "output_dir" for o in overrides):
        return overrides
    return [f"output_dir={hydra_quote(str(args.runs_root), literal=True)}", *overrides]


def _resume_budget(ctx: Any, overrides: list[str]) -> int | None:
    """The budget a resumed run trains to: ``total_steps=N`` (the one override --resume takes;
    it becomes the run's budget, see ``RunContext.set_total_steps``), else the run's budget as
    run.json records it (None: as declared); 0 for a finished run resumed without one (it
    stays as it is; a note says so)."""
    from mazedsl.config import apply_overrides, diff
    from mazedsl.run.directory import RunDirectory

    info = RunDirectory(ctx.run_dir).run_info()
    done = int(info.get("steps") or 0)
    if not overrides:
        recorded = info.get("total_steps")
        budget = recorded if isinstance(recorded, int) else ctx.experiment.total_steps
        if info.get("status") == "finished" and done >= budget:
            if not ctx.silent:
                print(f"note: the run finished its budget ({done} of {budget} steps): nothing to "
                      f"train; --resume RUN total_steps=N with N > {done} trains it further")
            return 0
        return budget if budget != ctx.experiment.total_steps else None
    changed = apply_overrides(ctx.experiment, overrides)
    others = [path for path, _a, _b in diff(ctx.experiment, changed) if path != "total_steps"]
    if others:
        raise ConfigError(f"--resume continues a run as it was declared; only its budget can "
                          f"change (total_steps=N), not {', '.join(others)}")
    if changed.total_steps <= done:
        raise ConfigError(f"the run already has {done} steps; a larger budget continues it",
                          "total_steps", f"override 'total_steps={changed.total_steps}'")
    ctx.set_total_steps(int(changed.total_steps))
    return None


def _sweep(args: argparse.Namespace) -> int:
    from mazedsl.sweep import SweepInterrupted, run_sweep

    try:
        result = run_sweep(args.experiment, sweep=args.sweep, seeds=args.seeds,
                           overrides=args.overrides, jobs=args.jobs or 1,
                           quiet=args.quiet or args.json)
    except SweepInterrupted as stop:  # the partial sweep.json is written: show it, exit 130
        if args.json:
            print_json(stop.result.to_json())
        else:
            stop.result.print_table()
        raise
    if args.json:
        print_json(result.to_json())
    else:
        result.print_table()
    return 1 if result.failed else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from mazedsl.context import RunContext

    _check_run_name(args.run)
    ctx = RunContext.load(args.run, checkpoint=args.checkpoint, silent=True, runs_root=args.runs_root)
    result = ctx.evaluate(args.episodes, deterministic=not args.stochastic)
    summary = {**eval_summary(result), "run_dir": str(ctx.run_dir), "checkpoint": args.checkpoint}
    if args.json:
        print_json(summary)
    else:
        print_eval(f"{ctx.run_dir} ({args.checkpoint})", summary)
    return 0


def cmd_rollout(args: argparse.Namespace) -> int:
    import sys

    from mazedsl.context import RunContext
    from mazedsl.rl.episodes import EvalResult

    _check_run_name(args.run)
    if args.seed is not None and args.seed + args.episodes - 1 >= SEED_LIMIT:
        raise ConfigError(f"--seed {args.seed}: episode i plays with seed S+i, which must stay "
                          f"below 2**64 (with {args.episodes} episode{'s' * (args.episodes > 1)}: "
                          f"S <= {SEED_LIMIT - args.episodes})")
    render = args.render and sys.stdout.isatty()
    if args.render and not render:
        print("note: --render draws only to a terminal; stdout is not one, so the episodes are "
              "played without drawing", file=sys.stderr)
    ctx = RunContext.load(args.run, checkpoint=args.checkpoint, silent=True, runs_root=args.runs_root)
    episodes = ctx.rollout(args.episodes, record=not args.no_record, render=render, seed=args.seed)
    stats = EvalResult(episodes.returns, episodes.lengths)
    summary = {**eval_summary(stats), "run_dir": str(ctx.run_dir),
               "saved_to": None if args.no_record else str(ctx.run_dir / "rollouts")}
    if args.json:
        print_json(summary)
    else:
        print_eval(f"rollout of {ctx.run_dir}", summary)
    return 0


SEED_LIMIT = 2**64  # torch's generators take seeds below it


def cmd_runs(args: argparse.Namespace) -> int:
    from mazedsl.run.listing import list_entries

    if args.dry_run and not args.prune:
        raise ConfigError("--dry-run goes with --prune")
    if args.prune:
        from mazedsl.run.listing import list_runs

        return _prune(args, list_runs(args.runs_root, args.experiment))
    runs = list_entries(args.runs_root, args.experiment)
    if args.json:
        print_json([{"path": str(r.path), "experiment": r.experiment, "algorithm": r.algorithm,
                     "env": r.env, "steps": r.steps, "best_eval": r.best_eval, "status": r.status,
                     "started": r.started.isoformat() if r.started else None,
                     **({"error": r.raw.get("error")} if getattr(r, "status", "") == "damaged" else {}),
                     **({"kind": "sweep", "jobs": [str(j.path) for j in r.jobs], "n_failed": r.n_failed}
                        if r.is_sweep else {})} for r in runs])
        return 0
    if not runs:
        where = f" of '{args.experiment}'" if args.experiment else ""
        print(f"no runs{where} under {args.runs_root}/")
        return 0
    print_table(f"runs under {args.runs_root}/", ["run", "experiment", "algorithm", "env", "steps",
                                                 "best eval", "status", "age"],
                [[_under(r.path, args.runs_root), r.experiment, r.algorithm, r.env, r.steps,
                  fmt(r.best_eval), _status(r), age(r.age_seconds)] for r in runs])
    return 0


def _prune(args: argparse.Namespace, runs: list[Any]) -> int:
    from mazedsl.run.listing import prunable, remove_run

    doomed = prunable(runs)
    if not args.dry_run:
        for run, _why in doomed:
            remove_run(run.path, args.runs_root)
    verb = "would remove" if args.dry_run else "removed"
    if args.json:
        print_json({"dry_run": args.dry_run, verb.replace(" ", "_"): [
            {"path": str(r.path), "status": r.status, "why": why} for r, why in doomed]})
        return 0
    for run, why in doomed:
        print(f"{verb} {_under(run.path, args.runs_root)}  ({why})")
    print(f"{verb} {len(doomed)} of {len(runs)} runs under {args.runs_root}/")
    return 0


def _status(info: Any) -> str:
    """A run's status; a sweep's says how many jobs (``sweep: 4 jobs, 1 failed``)."""
    if not info.is_sweep:
        return info.status
    failed = f", {info.n_failed} failed" if info.n_failed else ""
    return f"sweep: {len(info.jobs)} jobs{failed}"


def _under(path: Path, root: str) -> str:
    """``path`` relative to the runs root (what ``RUN`` arguments accept), else as is."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def _run_ref(ref: str, runs_root: str) -> Path | None:
    """The run directory ``ref`` names in any RUN form (a path, a name as `mazedsl runs`
    lists it, ``latest``, ``EXPERIMENT:latest``), or None when it names no run."""
    from mazedsl.run.listing import resolve_run

    _check_run_name(ref)
    path = Path(ref)
    if path.is_dir() and (path / "config.yaml").is_file():
        return path
    if ref == "latest" or ref.endswith(":latest"):
        return resolve_run(ref, runs_root)
    if not path.exists() and (Path(runs_root) / path / "config.yaml").is_file():
        return resolve_run(ref, runs_root)
    here = path if path.exists() else Path(runs_root) / path
    if here.is_dir() and ((here / "run.json").is_file() or (here / "metrics.jsonl").is_file()
                          or any((here / "checkpoints").glob("*.pt"))):
        raise RunDirError(f"{here}: a run directory without config.yaml (its config is lost): "
                          "nothing to load its config from")
    _check_not_a_directory(ref)
    if ("/" in ref or os.sep in ref) and here.is_dir():  # a folder, not a file: no experiment
        return resolve_run(here, runs_root)  # not a run: refused, naming the runs it holds
    return None


def _load_any(ref: str, overrides: list[str] | None = None, runs_root: str = "outputs") -> Any:
    """An Experiment from an experiment file, a run (any RUN form), or a config name."""
    from mazedsl.config import apply_overrides, compose_experiment, load_experiment

    run = _run_ref(ref, runs_root)
    if run is not None:
        exp = load_run_experiment(run)
    elif ref.startswith("conf_") and not Path(ref).exists():
        return compose_experiment(list(overrides or []), config_name=ref)
    else:
        exp = load_experiment(ref)
    return apply_overrides(exp, list(overrides)) if overrides else exp


def load_run_experiment(run: Path) -> Any:
    """A run's Experiment (from its config.yaml), each value labelled with where it came
    from: an override given when the run was made (overrides.yaml), else the config file."""
    from mazedsl.config import from_config
    from mazedsl.config.provenance import record
    from mazedsl.run.directory import read_run_config

    config = run / "config.yaml"
    exp = from_config(read_run_config(run), source=str(config))  # complete, or refused
    record(exp, {"": str(config), **_override_sources(run / "overrides.yaml")})
    return exp


def _override_sources(path: Path) -> dict[str, str]:
    """``{config path: "override 'seed=3' (run command)"}`` from a run's overrides.yaml."""
    from omegaconf import OmegaConf

    from mazedsl.config import _paths
    from mazedsl.config.overrides import parse_override

    try:
        saved = OmegaConf.to_container(OmegaConf.load(path))
        items = saved.get("overrides") or []
        resumed = [str(item) for item in saved.get("resumed") or []]
    except Exception:  # noqa: BLE001 - no or unreadable overrides.yaml: no labels
        return {}
    table: dict[str, str] = {}
    for item in items:  # in order: a key overridden twice is labelled by its last override
        if isinstance(item, str):
            try:
                key = parse_override(item).key_or_group
            except MazeError:
                continue
            table[_paths.build(_paths.split(key))] = f"override {item!r} when the run was made"
        elif isinstance(item, dict):
            for key, value in (_paths.leaves(item, "") or {}).items():
                table[_paths.build(_paths.split(key))] = (f"override {key}={value!r} "
                                                          "when the run was made")
    for item in resumed:  # a budget given on resume (mazedsl train --resume RUN total_steps=N)
        table[item.partition("=")[0]] = f"override {item!r} given on resume"
    return table


def cmd_show(args: argparse.Namespace) -> int:
    from mazedsl.config import explain, shown_yaml

    exp = _load_any(args.experiment, args.overrides, args.runs_root)
    if args.explain:
        for path in args.explain:
            print(explain(exp, path))
        return 0
    print(shown_yaml(exp), end="")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from mazedsl.config import diff

    a, b = _load_any(args.a, runs_root=args.runs_root), _load_any(args.b, runs_root=args.runs_root)
    rows = diff(a, b)
    if args.json:
        print_json([{"path": p, "a": va, "b": vb} for p, va, vb in rows])
        return 0
    if not rows:
        print("no differences")
        return 0
    print_table(None, ["path", args.a, args.b], [[p, va, vb] for p, va, vb in rows])
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from mazedsl.cli.compare import run_compare

    return run_compare(args)


def cmd_tui(args: argparse.Namespace) -> int:
    from mazedsl_tui.app import main as tui_main

    if args.experiments is not None and not os.path.isdir(args.experiments):  # a typo, not "none yet"
        raise ConfigError(f"{args.experiments!r} is not a folder", "--experiments")
    tui_main(["--experiments", args.experiments or "experiments", "--runs", args.runs_root])
    return 0
