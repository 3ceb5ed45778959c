"""``mazedsl``: everyday subcommands (train, eval, rollout, runs, show, diff, tui).

Imports stay inside the commands so ``mazedsl --help`` is fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from mazedsl.cli.argtypes import int_at_least
from mazedsl.cli.output import EXIT_PIPE_CLOSED, EXIT_USER, exit_code_of, quit_on_closed_output
from mazedsl.terminal import output_closed, reader_gone

EPILOG = """examples:
  mazedsl train experiments/cartpole_ppo.py algorithm.lr=1e-3
  mazedsl train experiments/cartpole_ppo.py --sweep "algorithm.lr=1e-3,3e-4" --seeds 3
  mazedsl eval latest --episodes 10
  mazedsl rollout cartpole_ppo:latest --render
  mazedsl runs
  mazedsl show experiments/cartpole_ppo.py --explain algorithm.lr
  mazedsl diff experiments/cartpole_ppo.py experiments/cartpole_a2c.py
  mazedsl compare cartpole_ppo/sweep_<stamp> --plot curves.png
  mazedsl tui

RUN is a run directory, a run name as `mazedsl runs` shows it, 'latest', or
'EXPERIMENT:latest'."""


def _global_options(suppress: bool) -> argparse.ArgumentParser:
    """``--debug`` and ``--runs-root``: accepted before and after the subcommand. On the
    subcommands their default is SUPPRESS, so they only override what was given."""
    options = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    default = {"default": argparse.SUPPRESS} if suppress else {}
    options.add_argument("--debug", action="store_true", help="show tracebacks on errors",
                         **default)
    options.add_argument("--runs-root", metavar="DIR", help="where run directories live "
                         "(default: outputs; train writes its runs there too)",
                         **(default or {"default": None}))
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mazedsl", description="Declare, run, compare and watch RL experiments.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
        parents=[_global_options(suppress=False)])
    common = _global_options(suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                parser_class=_subparser_class(common))

    p = sub.add_parser("train", help="train an experiment file (or resume a run)",
                       description="Train EXPERIMENT (a file like experiments/cartpole_ppo.py, "
                       "'file.py:name', or a bare name found in ./experiments) with Hydra-style "
                       "OVERRIDES such as algorithm.lr=1e-3 or algorithm=a2c.")
    p.add_argument("experiment", nargs="?", help="experiment file, file.py:name, or name")
    p.add_argument("overrides", nargs="*", help="overrides: key=value, group=module, +key=v, ~key")
    p.add_argument("--resume", metavar="RUN", help="continue RUN from its last checkpoint (with "
                   "total_steps=N: a new budget above its steps, which becomes the run's own)")
    p.add_argument("--run-dir", metavar="DIR", help="write the run here (default: "
                   "<output_dir>/<experiment>/<timestamp>_<id>)")
    p.add_argument("--sweep", action="append", default=[], metavar="OVERRIDE",
                   help="sweep override, e.g. 'algorithm.lr=1e-3,3e-4' (repeatable)")
    p.add_argument("--seeds", type=int_at_least(1, "seeds 0..N-1"), metavar="N",
                   help="run each sweep point with seeds 0..N-1")
    p.add_argument("--jobs", type=int_at_least(1, "parallel sweep jobs"), metavar="N",
                   help="parallel sweep jobs (processes; default 1; with --sweep or --seeds)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="machine-readable summary on stdout")

    p = sub.add_parser("eval", help="evaluate a trained run",
                       description="Evaluate RUN's policy with deterministic episodes; writes eval.json.")
    p.add_argument("run", help="run directory, 'latest' or 'EXPERIMENT:latest'")
    p.add_argument("--episodes", type=int_at_least(1, "episodes"), default=10, metavar="N",
                   help="episodes (default 10)")
    p.add_argument("--checkpoint", choices=("best", "last"), default="best")
    p.add_argument("--stochastic", action="store_true", help="sample actions instead of the mode")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("rollout", help="play a trained policy",
                       description="Play RUN's policy for N episodes, save them to RUN/rollouts/.")
    p.add_argument("run", help="run directory, 'latest' or 'EXPERIMENT:latest'")
    p.add_argument("--episodes", type=int_at_least(1, "episodes"), default=1, metavar="N",
                   help="episodes (default 1)")
    p.add_argument("--checkpoint", choices=("best", "last"), default="best")
    p.add_argument("--render", action="store_true", help="draw each step in the terminal")
    p.add_argument("--no-record", action="store_true", help="do not save the episodes")
    p.add_argument("--seed", type=int_at_least(0, "episode i plays with seed S+i"), default=None,
                   metavar="S",
                   help="episode i plays with seed S+i (default: continue after the episodes "
                   "already recorded, so each call records new ones)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("runs", help="table of past runs",
                       description="List runs under --runs-root, newest first. A run whose "
                       "run.json is missing or unreadable is listed as 'damaged'.")
    p.add_argument("experiment", nargs="?", help="only runs of this experiment")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--prune", action="store_true", help="delete runs that were created but never "
                   "trained, and failed runs without a checkpoint")
    p.add_argument("--dry-run", action="store_true", help="with --prune: list them, delete nothing")

    p = sub.add_parser("show", help="print an experiment's compiled YAML",
                       description="Print EXPERIMENT (file, run directory or config name such as "
                       "conf_train) compiled to YAML, after OVERRIDES.")
    p.add_argument("experiment")
    p.add_argument("overrides", nargs="*")
    p.add_argument("--explain", metavar="PATH", action="append", default=[],
                   help="say where the value at PATH (e.g. algorithm.lr) was set")

    p = sub.add_parser("diff", help="differences of two experiments or runs",
                       description="Print the config paths whose values differ between A and B "
                       "(experiment files or run directories).")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--json", action="store_true")

    from mazedsl.cli.compare import add_parser as add_compare_parser

    add_compare_parser(sub)

    p = sub.add_parser("tui", help="open the terminal UI")
    p.add_argument("--experiments", metavar="DIR",
                   help="folder of experiment files (default: experiments, where there is one)")
    return parser


def _subparser_class(common: argparse.ArgumentParser) -> type:
    """Subcommand parsers: no abbreviated flags, and the global options accepted too."""

    class SubParser(argparse.ArgumentParser):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("allow_abbrev", False)
            kwargs["parents"] = [*kwargs.get("parents", []), common]  # type: ignore[list-item]
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    return SubParser


def _parser_of(parser: argparse.ArgumentParser, command: str | None) -> argparse.ArgumentParser:
    """The subcommand's parser (its usage line is the helpful one), else the top one."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]
    return parser


def _unknown_options(parser: argparse.ArgumentParser, extra: Sequence[str]) -> str | None:
    """``unrecognized option --seed (did you mean --seeds?)``: the options among ``extra``
    (what argparse left over) named alone, without the words after them; None when there
    are none. Flags are never abbreviated: a close one is only suggested."""
    from mazedsl.config.suggest import close_matches

    names = [a.split("=", 1)[0] for a in extra if a.startswith("-") and a != "-"]
    if not names:
        return None
    known = [o for action in parser._actions for o in action.option_strings if o.startswith("--")]
    shown = []
    for name in dict.fromkeys(names):
        close = close_matches(name, known) if name.startswith("--") else []
        shown.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return f"unrecognized option{'s' if len(shown) > 1 else ''} {', '.join(shown)}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status: 0 ok, 2 a mistake of the user (one line),
    1 a bug (one line naming the traceback file), 130 interrupted."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # overrides given after an option (`train x.py --quiet lr=1`) are still overrides
        command_parser = _parser_of(parser, args.command)
        unknown = _unknown_options(command_parser, extra)
        if unknown:
            command_parser.error(unknown)
        if not hasattr(args, "overrides"):
            command_parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = [*args.overrides, *extra]
    args.runs_root_given = args.runs_root is not None  # (train then writes its runs there)
    if args.runs_root is None:
        args.runs_root = "outputs"
    if args.command is None:
        parser.print_help()
        return 0
    from mazedsl.cli import commands

    try:
        code = int(getattr(commands, f"cmd_{args.command}")(args) or 0)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - errors become exit codes here
        code = exit_code_of(exc, args.debug)
    return EXIT_PIPE_CLOSED if output_closed() else code  # (training stopped for it)


def run() -> None:
    try:
        try:
            code: Any = main()
        except SystemExit as exc:  # argparse's help and usage errors
            code = exc.code
        sys.stdout.flush()  # here, not at exit, where a closed pipe's error would be printed
    except BrokenPipeError:  # `mazedsl ... | head`: its reader went away
        if not reader_gone():
            raise
        code = quit_on_closed_output()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
