"""``mazedsl-run``: the Hydra application over ``conf/`` (``-cn conf_train`` / ``-cn conf_rollout``).

Training jobs write their run directory into Hydra's output directory; in multirun every
job gets its own, and :class:`mazedsl.cli.hydra_callbacks.SweepSummary` prints the table.
A failed job is recorded as failed (and returns NaN to sweepers), never scored silently.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from mazedsl.cli.output import (EXIT_BUG, EXIT_INTERRUPTED, EXIT_PIPE_CLOSED, EXIT_USER, error,
                                exit_code_of, fmt, print_eval, quit_on_closed_output)
from mazedsl.cli.preflight import check_before_torch, check_creatable, check_learner
from mazedsl.terminal import output_closed

APP_NAME = "mazedsl-run"
BUG_REPORTED = False  # an internal error already reported (exit 1 is then not Hydra's usage error)
DEBUG = False  # `--debug`: print tracebacks (taken out of the arguments before Hydra reads them)


def _register_resolvers() -> None:
    if not OmegaConf.has_resolver("mazedsl.shortid"):
        import secrets

        OmegaConf.register_new_resolver("mazedsl.shortid", lambda: secrets.token_hex(3),
                                        use_cache=True)
    if not OmegaConf.has_resolver("mazedsl.job"):  # sweep job folders: job_000, job_001, ...
        OmegaConf.register_new_resolver("mazedsl.job", lambda num: f"job_{int(num):03d}")


_register_resolvers()


def _register_search_path_plugin() -> None:
    """User config folders (MAZEDSL_CONFIG_PATH) join Hydra's search path in this app."""
    from hydra.core.plugins import Plugins

    from mazedsl.config.searchpath import MazedslSearchPathPlugin

    Plugins.instance().register(MazedslSearchPathPlugin)


_register_search_path_plugin()


def _is_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.get().mode == RunMode.MULTIRUN


def _train(cfg: DictConfig) -> float:
    """One training job in Hydra's output directory. A single run is refused as ``mazedsl
    train`` refuses it: what the build rejects leaves no run (Hydra's own directory for it is
    removed again); a multirun job records its failure there, for the sweep's table."""
    from hydra.core.hydra_config import HydraConfig

    from mazedsl.config import from_config
    from mazedsl.context import RunContext

    hc = HydraConfig.get()
    run_dir = Path(hc.runtime.output_dir)
    plain = OmegaConf.to_container(cfg, resolve=True)
    multirun = _is_multirun()
    began = False

    def start(_path: Any = None) -> None:
        nonlocal began
        began = True
        ctx._run.write_text("overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(
            {"overrides": list(hc.overrides.task)})))
        ctx._run.update_info(command=["mazedsl-run", *sys.argv[1:]])
        print(f"run directory: {run_dir}", flush=True)

    try:
        exp = from_config(plain, source="mazedsl-run")
        if multirun:
            ctx = RunContext(exp, run_dir=run_dir, silent=True)
            start()
            summary = ctx.train()
        else:
            # Hydra's job directory, created once the run is built (refused input leaves none)
            ctx = RunContext(exp, run_dir=run_dir, silent=False, keep_refused=False)
            summary = ctx.train(on_start=start)
    except BaseException as exc:
        if multirun and not began and isinstance(exc, Exception):
            _record_failure(run_dir, exc, plain)
        elif not multirun and not began:
            _discard_job_dir(run_dir)
        raise
    print(f"trained {summary.steps} steps in {summary.wall_time:.1f} s ({summary.stopped}); "
          f"best eval {fmt(summary.best_eval)}", flush=True)
    if summary.stopped == "interrupted":  # Ctrl-C, or the reader of the output went away
        sys.exit(EXIT_PIPE_CLOSED if output_closed() else EXIT_INTERRUPTED)
    return final_eval(run_dir)


def final_eval(run_dir: Path) -> float:
    """The mean return of the run's last evaluation (a sweeper's objective); NaN if none."""
    from mazedsl.run.sweeps import final_eval as last_eval

    value = last_eval(run_dir)
    return math.nan if value is None else value


#: Folders a single run's directory would lie in that did not exist before it (RunFolders).
_NEW_FOLDERS: list[Path] = []
_HYDRA_FILES = {"config.yaml", "hydra.yaml", "overrides.yaml"}


def remember_new_folders(run_dir: Path) -> None:
    """Note which folders above ``run_dir`` do not exist yet (before Hydra makes it), so that
    a run refused inside the job removes them again with the directory Hydra made for it."""
    _NEW_FOLDERS[:] = [p for p in Path(run_dir).absolute().parents if not p.exists()]


def _discard_job_dir(run_dir: Path) -> None:
    """Remove the directory Hydra made for a single run refused before it started, when it
    holds Hydra's own files alone (``.hydra/``), and the empty folders made for it."""
    import shutil

    run_dir = run_dir.absolute()
    try:
        entries = list(run_dir.iterdir())
        hydra = [p.name for p in (run_dir / ".hydra").iterdir()] if (run_dir / ".hydra").is_dir() else []
    except OSError:
        return
    if any(p.name != ".hydra" for p in entries) or not set(hydra) <= _HYDRA_FILES:
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    for folder in _NEW_FOLDERS:
        if folder in run_dir.parents:
            try:
                folder.rmdir()  # only when empty
            except OSError:
                pass


def _record_failure(run_dir: Path, exc: BaseException, plain: Any = None) -> None:
    """A failed job's run.json, naming its experiment, algorithm and env where known."""
    from mazedsl.run.files import atomic_write_json

    cfg = plain if isinstance(plain, dict) else {}
    algorithm = str((cfg.get("algorithm") or {}).get("_target_", "?")).rsplit(".", 1)[-1]
    atomic_write_json(run_dir / "run.json", {
        "status": "failed", "error": f"{type(exc).__name__}: {exc}",
        "experiment": cfg.get("name", run_dir.parent.name), "algorithm": algorithm,
        "env": (cfg.get("env") or {}).get("name", "?"),
        "started": datetime.now().isoformat(timespec="seconds"), "steps": 0, "best_eval": None})


def _rollout(cfg: DictConfig) -> None:
    from mazedsl.config import from_config
    from mazedsl.context import RunContext
    from mazedsl.errors import ConfigError
    from mazedsl.rl.episodes import EvalResult

    rc = from_config(OmegaConf.to_container(cfg, resolve=True), cls=_rollout_cls(), source="mazedsl-run")
    runner = rc.runner
    if rc.policy == "random":
        returns, lengths = _random_rollout(rc)
    else:
        if not rc.input_dir:
            raise ConfigError("give the run to roll out: input_dir=RUN_DIR (or policy=random env=gym_env)",
                              "input_dir")
        ctx = RunContext.load(rc.input_dir, checkpoint=rc.checkpoint, silent=True)
        if rc.env is not None:
            ctx._exp = ctx._exp.override({"env": rc.env})
        render = runner.render and sys.stdout.isatty()
        if runner.render and not render:
            print("note: runner.render draws only to a terminal; stdout is not one, so the "
                  "episodes are played without drawing", file=sys.stderr)
        episodes = ctx.rollout(runner.n_episodes, runner.deterministic, runner.record, render,
                               seed=rc.seed)
        returns, lengths = episodes.returns, episodes.lengths
    print_eval("rollout", EvalResult(returns, lengths).summary())


def _rollout_cls() -> type:
    from mazedsl.spec import RolloutConfig

    return RolloutConfig


def _random_rollout(rc: Any) -> tuple[list[float], list[int]]:
    """Random actions through the shared episode loop."""
    import gymnasium as gym

    from mazedsl.errors import ConfigError
    from mazedsl.rl.envs import make_env_fn
    from mazedsl.rl.episodes import evaluate

    if rc.env is None:
        raise ConfigError("policy=random needs an env: add env=gym_env env.name=ENV_ID", "env")
    venv = gym.vector.SyncVectorEnv([make_env_fn(rc.env, [])],
                                    autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
    seed = 0 if rc.seed is None else rc.seed
    venv.action_space.seed(seed)
    try:
        result = evaluate(venv, lambda _obs: venv.action_space.sample(), rc.runner.n_episodes, seed)
    finally:
        venv.close()
    return result.returns, result.lengths


@hydra.main(version_base="1.3", config_path="pkg://mazedsl.conf", config_name="conf_train")
def _app(cfg: DictConfig) -> float | None:
    """One job. A mistake of the user: one line, exit 2 (a failed job, NaN, in a multirun).
    Anything else is a bug: one line naming the traceback file, exit 1 (in a multirun the
    job is recorded as failed and the sweep goes on)."""
    global BUG_REPORTED

    try:
        if cfg.get("_target_") == "mazedsl.spec.RolloutConfig":
            _rollout(cfg)
            return None
        return _train(cfg)
    except Exception as exc:  # noqa: BLE001 - errors become exit codes here
        code = exit_code_of(exc, DEBUG)
        if _is_multirun():
            _mark_job_failed(exc)
            return math.nan
        BUG_REPORTED = code == EXIT_BUG
        sys.exit(code)
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(EXIT_INTERRUPTED)


def _mark_job_failed(exc: BaseException) -> None:
    """Mark the current multirun job failed, keeping what its run.json already says."""
    import json

    from hydra.core.hydra_config import HydraConfig

    from mazedsl.run.files import atomic_write_json

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError):
        _record_failure(run_dir, exc)
        return
    if info.get("status") != "failed":
        atomic_write_json(run_dir / "run.json", {**info, "status": "failed",
                                                 "error": f"{type(exc).__name__}: {exc}"})


_VALUE_FLAGS = {"-cn", "--config-name", "-cp", "--config-path", "-cd", "--config-dir", "--cfg", "-c",
                "-p", "--package", "--info", "-i", "-sc", "--shell-completion", "--experimental-rerun"}
_SKIP_PREFLIGHT = {"-h", "--help", "--hydra-help", "--version", "--info", "-i", "-sc",
                   "--shell-completion"}


def config_path_from_cwd(argv: list[str]) -> list[str]:
    """``argv`` with a relative ``--config-path`` (``-cp``) folder made absolute from the
    working directory. (Hydra reads it relative to the app's Python file, which for an
    installed ``mazedsl-run`` is inside mazedsl's own package.) ``pkg://`` paths stay."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg in ("-cp", "--config-path") and i + 1 < len(out):
            out[i + 1] = _from_cwd(out[i + 1])
        elif arg.startswith("--config-path="):
            out[i] = "--config-path=" + _from_cwd(arg.split("=", 1)[1])
    return out


def _from_cwd(path: str) -> str:
    return path if path.startswith("pkg://") or os.path.isabs(path) else os.path.abspath(path)


@dataclass
class HydraArgs:
    """What the preflight reads of a ``mazedsl-run`` command line."""

    config_name: str = "conf_train"
    overrides: list[str] = field(default_factory=list)  # without Hydra's own
    multirun: bool = False
    custom_sweeper: bool = False  # hydra/sweeper=... given
    config_dir: Path | None = None  # ``--config-dir``, absolute
    config_path: str | None = None  # ``--config-path``, as given


def _parse_argv(argv: list[str]) -> HydraArgs:
    args, i = HydraArgs(), 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-m", "--multirun"):
            args.multirun = True
        elif arg in ("-cn", "--config-name"):
            args.config_name = argv[i + 1] if i + 1 < len(argv) else args.config_name
            i += 1
        elif arg.startswith("--config-name="):
            args.config_name = arg.split("=", 1)[1]
        elif arg in ("-cd", "--config-dir"):
            args.config_dir = Path(argv[i + 1]).absolute() if i + 1 < len(argv) else None
            i += 1
        elif arg.startswith("--config-dir="):
            args.config_dir = Path(arg.split("=", 1)[1]).absolute()
        elif arg in ("-cp", "--config-path"):
            args.config_path = argv[i + 1] if i + 1 < len(argv) else None
            i += 1
        elif arg.startswith("--config-path="):
            args.config_path = arg.split("=", 1)[1]
        elif arg in _VALUE_FLAGS:
            i += 1
        elif arg.startswith(("hydra/sweeper=", "+hydra/sweeper=")):
            args.custom_sweeper = True
        elif not arg.startswith("-") and not arg.startswith(("hydra.", "hydra/", "+hydra", "~hydra")):
            args.overrides.append(arg)
        i += 1
    return args


def preflight(argv: list[str]) -> None:
    """Validate the command with mazedsl's own compose before Hydra runs (so before Hydra
    creates any run directory): the config name, every override, and (for training) that
    the env can be made with its kwargs and the algorithm takes the experiment on the env's
    spaces. A mistake gets one clear line (path, value,
    expectation, source) instead of Hydra's report. In a multirun every sweep point is
    checked (under a custom sweeper, which gives sweeps its own meaning, the plain values).
    A config of your own (``-cd DIR -cn NAME``) is checked as the built-in one it extends.
    A ``--config-dir`` folder is searched after the built-in ``conf/``, as Hydra searches it,
    a ``--config-path`` folder (absolute: see :func:`config_path_from_cwd`) before it, as the
    primary folder; under a ``pkg://`` config path Hydra checks alone."""
    from mazedsl.errors import ConfigError

    if any(a.split("=")[0] in _SKIP_PREFLIGHT for a in argv):
        return
    args = _parse_argv(argv)
    config_dir, config_path = args.config_dir, args.config_path
    if config_dir is None and config_path is None:
        _preflight(argv, args)
        return
    if config_path is not None and config_path.startswith("pkg://"):
        return
    from mazedsl.config import searchpath
    from mazedsl.config.hydra_session import LOCK

    for folder, flag in ((config_dir, "--config-dir"), (config_path, "--config-path")):
        if folder is not None and not Path(folder).is_dir():
            raise ConfigError(f"{str(folder)!r} is not a folder", flag)
    with LOCK:  # (the TUI checks its forms in threads: none may take the folder away meanwhile)
        added = config_dir is not None and str(config_dir) not in searchpath.search_paths()
        if added:  # as Hydra adds it: after the built-in conf/
            searchpath.add_search_path(config_dir)
        searchpath.set_primary(config_path)
        try:
            _preflight(argv, args)
        finally:
            searchpath.set_primary(None)
            if added:
                searchpath.remove_search_path(config_dir)


def _preflight(argv: list[str], args: HydraArgs) -> None:
    from mazedsl.config import apply_overrides, compose_experiment
    from mazedsl.config.compose import _is_choice
    from mazedsl.config.hydra_session import config_names, session
    from mazedsl.config.overrides import _parse, split_sweep
    from mazedsl.errors import ConfigError
    from mazedsl.spec import Experiment

    config_name, overrides, multirun = args.config_name, args.overrides, args.multirun
    with session() as loader:
        names = config_names(loader)
    if config_name not in names:
        from mazedsl.config.suggest import did_you_mean

        hint = did_you_mean(config_name, names)
        raise ConfigError(f"-cn {config_name}: unknown config{hint} (available: {', '.join(names)})")
    parsed = [_parse(text) for text in overrides]
    if multirun and args.custom_sweeper:
        # the sweeper reads its own sweep syntax (interval(...), ...): the plain values are
        # what every trial starts from, and are checked here
        overrides = [text for text, o in zip(overrides, parsed) if not o.is_sweep_override()]
        multirun = False
    prints_only = any(a in ("--cfg", "-c") or a.startswith("--cfg=") for a in argv)
    points = split_sweep(overrides) if multirun else [overrides]
    checked_envs: dict[str, tuple[Any, Any]] = {}
    composed: dict[tuple[str, ...], Any] = {}
    runnable: list[tuple[Any, Any]] = []
    for point in points:
        # compose once per choice of modules (the slow part); values are then applied to it
        choices = tuple(text for text in point if _is_choice(text)
                        or text.lstrip("+").startswith("allow_targets="))  # modules it may name
        try:
            if choices not in composed:
                composed[choices] = compose_experiment(list(choices), config_name=config_name)
            values = [text for text in point if text not in choices]
            declared = apply_overrides(composed[choices], values) if values else composed[choices]
        except ConfigError as exc:
            if _HYDRA_ONLY in str(exc):  # a ${hydra:...} value: only Hydra's job can resolve it
                return
            raise
        if isinstance(declared, Experiment) and not prints_only:  # --cfg prints; nothing runs
            # every point's, before torch is imported
            runnable.append((declared, check_before_torch(declared, checked_envs)))
            check_creatable(declared.output_dir)
    for declared, spaces in runnable:
        check_learner(declared, spaces)


#: OmegaConf's error for a ``${hydra:...}`` interpolation resolved outside a Hydra job.
_HYDRA_ONLY = "HydraConfig was not set"


def replacing_nodes(argv: list[str]) -> list[str]:
    """``model={_target_: mypkg.Net, ...}`` as ``~model +model={...}``: a group's node given
    whole, naming a ``_target_``, replaces the node (as ``mazedsl train`` and ``RunContext``
    apply it) where Hydra would merge it into the module's node, keeping that declaration's
    fields or refusing keys it lacks."""
    from hydra.core.override_parser.types import OverrideType

    from mazedsl.config.groups import GROUPS
    from mazedsl.config.overrides import _parse

    out: list[str] = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and key in GROUPS and not arg.startswith(("-", "+", "~")):
            override = _parse(arg)
            if (override.type == OverrideType.CHANGE and not override.is_sweep_override()
                    and isinstance(override.value(), dict) and "_target_" in override.value()):
                out += [f"~{key}", f"+{key}={value}"]
                continue
        out.append(arg)
    return out


def _print_hydra_text() -> int:
    """Hydra's help or info, printed by us: a reader that stops early (``| head``) ends it
    quietly, where Hydra would print a BrokenPipeError's traceback."""
    import contextlib
    import io

    text = io.StringIO()
    code: Any = 0
    with contextlib.redirect_stdout(text):
        try:
            _app()
        except SystemExit as exc:
            code = exc.code
    try:
        sys.stdout.write(text.getvalue())
        sys.stdout.flush()
    except BrokenPipeError:
        return quit_on_closed_output()
    return code if isinstance(code, int) else EXIT_USER


def run() -> None:
    """Console entry point of ``mazedsl-run``: 0 ok, 2 a mistake of the user (one line),
    1 a bug (one line naming the traceback file) or a failed sweep job, 130 interrupted."""
    from mazedsl.cli import hydra_callbacks

    global DEBUG

    DEBUG = "--debug" in sys.argv
    if not sys.stdout.isatty():  # a log file (the TUI's sweeps): Ray's job lines without colour codes
        os.environ.setdefault("RAY_COLOR_PREFIX", "0")
    while "--debug" in sys.argv:
        sys.argv.remove("--debug")  # ours, not Hydra's
    try:
        sys.argv[1:] = config_path_from_cwd(sys.argv[1:])
        preflight(sys.argv[1:])
        sys.argv[1:] = replacing_nodes(sys.argv[1:])
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - errors become exit codes here
        sys.exit(exit_code_of(exc, DEBUG))
    if any(arg in ("--help", "-h", "--hydra-help", "--info", "-i") for arg in sys.argv[1:]):
        sys.exit(_print_hydra_text())
    try:
        _app()
    except SystemExit as exc:
        if exc.code == 1 and not hydra_callbacks.SWEEP_FAILED and not BUG_REPORTED:
            sys.exit(EXIT_USER)  # Hydra's own report of a usage error
        if exc.code == EXIT_INTERRUPTED:  # a multirun's partial sweep.json and table
            hydra_callbacks.summarize_interrupted()
        raise
    except KeyboardInterrupt:
        error("interrupted")
        hydra_callbacks.summarize_interrupted()
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":  # `python -m mazedsl.cli.hydra_app`: how the TUI starts a sweep
    run()
