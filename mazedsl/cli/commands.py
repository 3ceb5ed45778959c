"""The bodies of the ``mazedsl`` subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mazedsl.cli.output import (age, eval_summary, fmt, print_eval, print_json, print_table)
from mazedsl.errors import ConfigError

EXIT_INTERRUPTED = 130


def cmd_train(args: argparse.Namespace) -> int:
    from mazedsl.context import RunContext

    if args.resume:
        if args.experiment or args.overrides:
            raise ConfigError("--resume continues a run as it was declared; give no experiment "
                              "or overrides with it")
        ctx = RunContext.load(args.resume, checkpoint="last", silent=args.quiet or args.json,
                              runs_root=args.runs_root)
    else:
        if not args.experiment:
            raise ConfigError("train needs an EXPERIMENT file (or --resume RUN)")
        if args.sweep or args.seeds:
            return _sweep(args)
        ctx = RunContext(args.experiment, overrides=list(args.overrides), run_dir=args.run_dir,
                         silent=args.quiet or args.json)
    if not (args.quiet or args.json):
        print(f"run directory: {ctx.run_dir}")
    summary = ctx.train()
    result: dict[str, Any] = {"run_dir": str(ctx.run_dir), "steps": summary.steps,
                              "wall_time": round(summary.wall_time, 3), "best_eval": summary.best_eval,
                              "stopped": summary.stopped}
    if args.json:
        print_json(result)
    elif not args.quiet:
        print(f"trained {summary.steps} steps in {summary.wall_time:.1f} s ({summary.stopped}); "
              f"best eval {fmt(summary.best_eval)}; run directory: {ctx.run_dir}")
    return EXIT_INTERRUPTED if summary.stopped == "interrupted" else 0


def _sweep(args: argparse.Namespace) -> int:
    from mazedsl.sweep import run_sweep

    result = run_sweep(args.experiment, sweep=args.sweep, seeds=args.seeds, overrides=args.overrides,
                       jobs=args.jobs, quiet=args.quiet or args.json)
    if args.json:
        print_json(result.to_json())
    else:
        result.print_table()
    return 1 if result.failed else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from mazedsl.context import RunContext

    ctx = RunContext.load(args.run, checkpoint=args.checkpoint, silent=True, runs_root=args.runs_root)
    result = ctx.evaluate(args.episodes, deterministic=not args.stochastic)
    summary = {**eval_summary(result), "run_dir": str(ctx.run_dir), "checkpoint": args.checkpoint}
    if args.json:
        print_json(summary)
    else:
        print_eval(f"{ctx.run_dir} ({args.checkpoint})", summary)
    return 0


def cmd_rollout(args: argparse.Namespace) -> int:
    from mazedsl.context import RunContext
    from mazedsl.rl.evaluation import EvalResult

    ctx = RunContext.load(args.run, checkpoint=args.checkpoint, silent=True, runs_root=args.runs_root)
    episodes = ctx.rollout(args.episodes, record=not args.no_record, render=args.render)
    stats = EvalResult(episodes.returns, episodes.lengths)
    summary = {**eval_summary(stats), "lengths": stats.lengths, "run_dir": str(ctx.run_dir),
               "saved_to": None if args.no_record else str(ctx.run_dir / "rollouts")}
    if args.json:
        print_json(summary)
    else:
        print_eval(f"rollout of {ctx.run_dir}", summary)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from mazedsl.run.listing import list_entries

    runs = list_entries(args.runs_root, args.experiment)
    if args.json:
        print_json([{"path": str(r.path), "experiment": r.experiment, "algorithm": r.algorithm,
                     "env": r.env, "steps": r.steps, "best_eval": r.best_eval, "status": r.status,
                     "started": r.started.isoformat() if r.started else None,
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


def _load_any(ref: str, overrides: list[str] | None = None) -> Any:
    """An Experiment from an experiment file, a run directory, or a config name."""
    from mazedsl.config import apply_overrides, compose_experiment, from_config, load_experiment

    path = Path(ref)
    if path.is_dir() and (path / "config.yaml").is_file():
        from omegaconf import OmegaConf

        exp = from_config(OmegaConf.load(path / "config.yaml"), source=str(path / "config.yaml"))
    elif ref.startswith("conf_") and not path.exists():
        return compose_experiment(list(overrides or []), config_name=ref)
    else:
        exp = load_experiment(ref)
    return apply_overrides(exp, list(overrides)) if overrides else exp


def cmd_show(args: argparse.Namespace) -> int:
    from mazedsl.config import explain, to_yaml

    exp = _load_any(args.experiment, args.overrides)
    if args.explain:
        for path in args.explain:
            print(explain(exp, path))
        return 0
    print(to_yaml(exp), end="")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from mazedsl.config import diff

    a, b = _load_any(args.a), _load_any(args.b)
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

    tui_main(["--experiments", args.experiments, "--runs", args.runs_root])
    return 0
