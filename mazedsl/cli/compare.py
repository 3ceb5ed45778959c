"""``mazedsl compare RUN RUN ... | SWEEP``: grouped table, differing keys, JSON and a picture."""

from __future__ import annotations

import argparse
from typing import Any

from mazedsl.cli.output import fmt, print_json, print_table


def add_parser(sub: Any) -> None:
    p = sub.add_parser("compare", help="compare runs or a sweep (table, differing keys, --plot)",
                       allow_abbrev=False, description="Compare RUNs (directories, names as `mazedsl runs` lists them, "
                       "'latest', 'EXPERIMENT:latest'), a SWEEP folder (all its jobs) or an experiment's "
                       "folder such as cartpole_ppo (all its runs and sweep jobs). Runs whose "
                       "configs differ only in seed are grouped: mean ± std of the final and best "
                       "evaluation return over seeds.")
    p.add_argument("runs", nargs="+", metavar="RUN|SWEEP")
    p.add_argument("--json", action="store_true", help="machine-readable output (with the curves)")
    p.add_argument("--plot", metavar="FILE", help="write the overlaid curves to FILE.png or FILE.svg "
                   "(needs the plot extra: pip install 'mazedsl[plot]')")
    p.add_argument("--x", choices=("steps", "time"),
                   help="x axis of the curves (--plot, --json): env steps (default) or wall seconds")
    p.add_argument("--band", choices=("minmax", "std"),
                   help="band around each configuration's mean (--plot): min-max (default) or ±std")


def _pm(mean: float | None, std: float | None, n: int) -> str:
    if mean is None:
        return "-"
    return fmt(mean) if n < 2 or std is None else f"{fmt(mean)} ± {fmt(std)}"


def run_compare(args: argparse.Namespace) -> int:
    from mazedsl.compare import compare
    from mazedsl.errors import ConfigError

    # the curves are only drawn (--plot) or written (--json): never ignore a flag for them
    if args.band is not None and not args.plot:
        raise ConfigError("--band shapes the picture's band; it goes with --plot FILE")
    if args.x is not None and not (args.plot or args.json):
        raise ConfigError("--x sets the curves' x axis; it goes with --plot FILE or --json "
                          "(the table has no curves)")
    args.x, args.band = args.x or "steps", args.band or "minmax"
    comparison = compare(args.runs, args.runs_root)
    if args.plot:
        from mazedsl.plot import plot_comparison

        plot_comparison(comparison, args.plot, x=args.x, band=args.band)
    if args.json:
        out = comparison.to_json(args.x)
        if args.plot:
            out["plot"] = args.plot
        print_json(out)
        return 0
    groups = sorted(comparison.groups, key=lambda g: -(g.final()[0] if g.final()[0] is not None
                                                        else float("-inf")))
    rows = []
    for g in groups:
        evals = [r for r in g.runs if r.returns]
        running = sum(r.status in ("running", "created") for r in g.runs)
        rows.append([g.label, f"{g.n}" + (f" ({g.n_failed} failed)" if g.n_failed else "")
                     + (f" ({running} running)" if running else ""),
                     _pm(*g.final(), len(evals)), _pm(*g.best(), len(evals)),
                     max((r.last_step for r in g.runs), default=0),
                     ", ".join(str(s) for s in g.seeds)])
    n_runs, n_groups = len(comparison.runs), len(comparison.groups)
    print_table(f"{n_runs} run{'s' * (n_runs != 1)} in {n_groups} configuration{'s' * (n_groups != 1)} "
                "(evaluation return, mean ± std over seeds)",
                ["configuration", "runs", "final eval", "best eval", "steps", "seed"], rows)
    diff = comparison.diff_rows()
    if diff and len(diff) > len(comparison.runs):  # many keys, few runs: a row per key
        print_table("differing config keys", ["key", *[run.label for run in comparison.runs]],
                    [[key, *values] for key, values in diff])
    elif diff:
        print_table("differing config keys", ["run", *[key for key, _ in diff]],
                    [[run.label, *[values[i] for _, values in diff]]
                     for i, run in enumerate(comparison.runs)])
    elif sum(run.config is not None for run in comparison.runs) > 1:  # (no config: a note)
        print("no config differences")
    for note in comparison.all_notes():
        print(f"note: {note}")
    if args.plot:
        print(f"wrote {args.plot}")
    return 0
