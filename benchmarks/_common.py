"""Helpers shared by the benchmark scripts: the shipped experiments, timing, tables."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a clone without installing: python benchmarks/x.py
    sys.path.insert(0, str(ROOT))

EXPERIMENTS = ROOT / "experiments"


def shipped(name: str) -> Any:
    """The Experiment of ``experiments/<name>.py`` (via ``mazedsl.load_experiment``), or the
    same declaration built inline when the loader is not importable."""
    try:
        from mazedsl import load_experiment

        return load_experiment(str(EXPERIMENTS / f"{name}.py"))
    except (ImportError, AttributeError, FileNotFoundError, OSError):
        return _inline(name)


def _inline(name: str) -> Any:
    from mazedsl.spec import Experiment, GymEnv, NormalizeObservation, NormalizeReward, Runner
    from mazedsl import A2C, PPO

    if name == "cartpole_ppo":
        return Experiment(name=name, env=GymEnv(name="CartPole-v1"), algorithm=PPO(
            lr=1e-3, lr_schedule="linear", n_steps=32, batch_size=256, n_epochs=20, gamma=0.98,
            gae_lambda=0.8, clip_range=0.2, clip_schedule="linear", ent_coef=0.0),
            runner=Runner(n_envs=8), total_steps=100_000, eval_every_steps=5_000, eval_episodes=10)
    if name == "cartpole_a2c":
        return Experiment(name=name, env=GymEnv(name="CartPole-v1"), algorithm=A2C(ent_coef=0.0),
                          runner=Runner(n_envs=8), total_steps=500_000, eval_every_steps=10_000)
    if name == "pendulum_ppo":
        return Experiment(name=name, env=GymEnv(name="Pendulum-v1"),
                          wrappers=[NormalizeObservation(), NormalizeReward(gamma=0.9)],
                          algorithm=PPO(lr=1e-3, n_steps=1024, batch_size=64, n_epochs=10, gamma=0.9,
                                        gae_lambda=0.95, ent_coef=0.0),
                          runner=Runner(n_envs=4), total_steps=200_000, eval_every_steps=10_000)
    if name == "acrobot_ppo":
        return Experiment(name=name, env=GymEnv(name="Acrobot-v1"), wrappers=[NormalizeObservation()],
                          algorithm=PPO(n_steps=256, batch_size=256, n_epochs=4, gamma=0.99,
                                        gae_lambda=0.94, ent_coef=0.0),
                          runner=Runner(n_envs=16), total_steps=200_000, eval_every_steps=10_000)
    raise KeyError(name)


def evolve(exp: Any, **changes: Any) -> Any:
    """A copy of an Experiment with some top-level fields changed (validated by attrs)."""
    import attrs

    return attrs.evolve(exp, **changes)


class EvalSink:
    """A Trainer sink that keeps evaluation records, with the wall time each one ended."""

    def __init__(self, t0: float | None = None) -> None:
        self.t0 = time.perf_counter() if t0 is None else t0
        self.evals: list[tuple[int, float, float]] = []  # (step, mean_return, wall seconds)

    def record(self, record: dict[str, Any]) -> None:
        if record.get("phase") == "eval":
            self.evals.append((record["step"], record["mean_return"], time.perf_counter() - self.t0))

    def checkpoint(self, kind: str, state: dict[str, Any]) -> None:
        pass

    def progress(self, steps: int, total: int, info: dict[str, Any]) -> None:
        pass

    def first_reaching(self, target: float) -> tuple[int, float] | None:
        for step, mean, wall in self.evals:
            if mean >= target:
                return step, wall
        return None


def median(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def load_note() -> str:
    """The machine's load average (other processes skew timings on a shared machine)."""
    try:
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"
    except OSError:  # pragma: no cover
        return f"{os.cpu_count()} CPUs"


def fmt(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if digits == 0:
        return f"{value:,.0f}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with ``|`` separators (one header rule), right-aligned numbers."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) if i == 0 or not _numeric(c) else str(c).rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _numeric(cell: Any) -> bool:
    text = str(cell).replace(",", "").rstrip("x%s").lstrip("<>~")
    try:
        float(text)
        return True
    except ValueError:
        return False


def versions() -> str:
    import platform

    import torch

    parts = [f"python {platform.python_version()}", f"torch {torch.__version__}",
             f"{torch.get_num_threads()} torch thread(s)"]
    try:
        import gymnasium

        parts.append(f"gymnasium {gymnasium.__version__}")
    except ImportError:  # pragma: no cover
        pass
    return ", ".join(parts)
