"""``mazedsl-run``: the Hydra application over ``conf/`` (``-cn conf_train`` / ``-cn conf_rollout``).

Training jobs write their run directory into Hydra's output directory; in multirun every
job gets its own, and :class:`mazedsl.cli.hydra_callbacks.SweepSummary` prints the table.
A failed job is recorded as failed (and returns NaN to sweepers), never scored silently.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from mazedsl.cli.output import error, print_eval


def _register_resolvers() -> None:
    if not OmegaConf.has_resolver("mazedsl.shortid"):
        import secrets

        OmegaConf.register_new_resolver("mazedsl.shortid", lambda: secrets.token_hex(3),
                                        use_cache=True)


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
    from hydra.core.hydra_config import HydraConfig

    from mazedsl.config import from_config
    from mazedsl.context import RunContext

    hc = HydraConfig.get()
    run_dir = Path(hc.runtime.output_dir)
    plain = OmegaConf.to_container(cfg, resolve=True)
    try:
        exp = from_config(plain, source="mazedsl-run")
        ctx = RunContext(exp, run_dir=run_dir, silent=_is_multirun())
    except Exception as exc:
        _record_failure(run_dir, exc)
        raise
    ctx._run.write_text("overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(
        {"overrides": list(hc.overrides.task)})))
    ctx._run.update_info(command=["mazedsl-run", *sys.argv[1:]])
    print(f"run directory: {run_dir}", flush=True)
    summary = ctx.train()
    print(f"trained {summary.steps} steps in {summary.wall_time:.1f} s ({summary.stopped}); "
          f"best eval {summary.best_eval}", flush=True)
    if summary.stopped == "interrupted":
        sys.exit(130)
    return final_eval(run_dir)


def final_eval(run_dir: Path) -> float:
    """The mean return of the run's last evaluation (a sweeper's objective); NaN if none."""
    from mazedsl.run.files import iter_metrics

    evals = list(iter_metrics(run_dir / "metrics.jsonl", "eval"))
    return float(evals[-1]["mean_return"]) if evals else math.nan


def _record_failure(run_dir: Path, exc: BaseException) -> None:
    from mazedsl.run.files import atomic_write_json

    atomic_write_json(run_dir / "run.json", {
        "status": "failed", "error": f"{type(exc).__name__}: {exc}",
        "started": datetime.now().isoformat(timespec="seconds"), "steps": 0, "best_eval": None})


def _rollout(cfg: DictConfig) -> None:
    from mazedsl.config import from_config
    from mazedsl.context import RunContext
    from mazedsl.errors import ConfigError
    from mazedsl.rl.evaluation import EvalResult

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
        episodes = ctx.rollout(runner.n_episodes, runner.deterministic, runner.record, runner.render,
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
    venv.action_space.seed(rc.seed)
    try:
        result = evaluate(venv, lambda _obs: venv.action_space.sample(), rc.runner.n_episodes, rc.seed)
    finally:
        venv.close()
    return result.returns, result.lengths


@hydra.main(version_base="1.3", config_path="pkg://mazedsl.conf", config_name="conf_train")
def _app(cfg: DictConfig) -> float | None:
    from mazedsl.errors import MazeError

    try:
        if cfg.get("_target_") == "mazedsl.spec.RolloutConfig":
            _rollout(cfg)
            return None
        return _train(cfg)
    except MazeError as exc:
        if _is_multirun():
            error(str(exc))
            return math.nan
        error(str(exc))
        sys.exit(2)


_VALUE_FLAGS = {"-cn", "--config-name", "-cp", "--config-path", "-cd", "--config-dir", "--cfg", "-c",
                "-p", "--package", "--info", "-i", "-sc", "--shell-completion", "--experimental-rerun"}
_SKIP_PREFLIGHT = {"-h", "--help", "--hydra-help", "--version", "--info", "-i", "-sc",
                   "--shell-completion", "-cp", "--config-path", "-cd", "--config-dir"}


def preflight(argv: list[str]) -> None:
    """Validate the overrides with mazedsl's own compose before Hydra runs, so a mistake gets
    one clear line (path, value, expectation, source) instead of Hydra's report. Sweeps are
    checked for grammar only: a bad sweep point fails as its own job."""
    from mazedsl.config import compose_experiment
    from mazedsl.config.overrides import _parse

    if any(a.split("=")[0] in _SKIP_PREFLIGHT for a in argv):
        return
    config_name, overrides, multirun, i = "conf_train", [], False, 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-m", "--multirun"):
            multirun = True
        elif arg in ("-cn", "--config-name"):
            config_name = argv[i + 1] if i + 1 < len(argv) else config_name
            i += 1
        elif arg.startswith("--config-name="):
            config_name = arg.split("=", 1)[1]
        elif arg in _VALUE_FLAGS:
            i += 1
        elif not arg.startswith("-") and not arg.startswith(("hydra.", "hydra/", "+hydra", "~hydra")):
            overrides.append(arg)
        i += 1
    if config_name not in ("conf_train",):
        return
    if multirun:
        for text in overrides:  # grammar only: sweepers give sweeps their own meaning
            _parse(text)
    else:
        compose_experiment(overrides, config_name=config_name)


def run() -> None:
    """Console entry point of ``mazedsl-run``: exit 2 with one line on bad input."""
    from mazedsl.cli import hydra_callbacks
    from mazedsl.errors import MazeError

    try:
        preflight(sys.argv[1:])
    except MazeError as exc:
        if "--debug" in sys.argv:
            raise
        error(str(exc))
        sys.exit(2)
    try:
        _app()
    except SystemExit as exc:
        if exc.code == 1 and not hydra_callbacks.SWEEP_FAILED:
            sys.exit(2)  # Hydra's own report of a usage error
        raise


if __name__ == "__main__":  # pragma: no cover
    run()
