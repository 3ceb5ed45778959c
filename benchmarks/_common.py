"""Helpers shared by the benchmark scripts: the shipped experiments, timing, tables."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a clone without installing: python benchmarks/x.py
    sys.path.insert(0, str(ROOT))

from mazedsl.cli.argtypes import int_at_least  # noqa: E402 (after ROOT is importable)

EXPERIMENTS = ROOT / "experiments"
RESULTS = ROOT / "benchmarks" / "results"
QUICK_TAG = " (quick budgets: not a real check)"  # ends every target verdict of a --quick run


# -- command lines -----------------------------------------------------------------------------
class ArgParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr ('prog: error: ...'), exit status 2."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (--help for usage)\n")

    def given(self, argv: Sequence[str] | None = None) -> set[str]:
        """The destinations of the options that ``argv`` (default ``sys.argv[1:]``) gives
        explicitly, whatever their values (``--seeds 10`` is given even when 10 is the default)."""
        saved = [(action, action.default) for action in self._actions]
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        try:
            namespace, _ = self.parse_known_args(argv)
        finally:
            for action, default in saved:
                action.default = default
        return set(vars(namespace))


def quick_defaults(parser: ArgParser, args: argparse.Namespace, argv: Sequence[str] | None,
                   moot: dict[str, str] | None = None, **values: Any) -> None:
    """--quick's values for the options the command line did not give: an option given
    explicitly wins over --quick's default for it. ``moot`` maps an option to the one whose
    quick value leaves it without effect (``seconds`` -> ``max_updates``): given without that
    one, a line on stderr says so. Call it after :func:`results_path`."""
    given = parser.given(argv)
    for dest, value in values.items():
        if dest not in given:
            setattr(args, dest, value)
    for dest, by in (moot or {}).items():
        if dest in given and by not in given:
            print(f"note: --quick sets {_flag(by)} {values[by]}, so {_flag(dest)} has no effect "
                  f"(give {_flag(by)} too)", file=sys.stderr, flush=True)


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


positive_int = int_at_least(1, "a positive integer")


def thread_count(text: str) -> int:
    """An argparse type: torch and BLAS threads, 1 up to this machine's CPUs."""
    value = positive_int(text)
    cpus = os.cpu_count() or 1
    if value > cpus:
        raise argparse.ArgumentTypeError(f"at most {cpus} (the CPUs of this machine), got {text!r}")
    return value


non_negative_int = int_at_least(0, "a seed")


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (want one > 0)") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: want a number > 0")
    return value


def finite_float(text: str) -> float:
    """An argparse type: a finite number (not nan or inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: want a finite number")
    return value


def positive_ints(text: str) -> list[int]:
    """An argparse type: comma-separated integers >= 1 (at least one)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"{text!r}: want comma-separated integers >= 1, e.g. 8,128")
    try:
        return [positive_int(p) for p in parts]
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc}{f' in {text!r}' if len(parts) > 1 else ''}") from None


def choices_list(known: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse type: comma-separated names, each one of ``known`` (at least one)."""

    def parse(text: str) -> list[str]:
        names = [p.strip().lower() for p in text.split(",") if p.strip()]
        names = list(dict.fromkeys(names))  # a name given twice counts once
        bad = [n for n in names if n not in known]
        if bad or not names:
            what = f"unknown {', '.join(repr(b) for b in bad)}" if bad else f"{text!r} names none"
            raise argparse.ArgumentTypeError(f"{what}; want comma-separated names of: {', '.join(known)}")
        return names

    parse.__name__ = "names"
    return parse


def report_beside(path: Path) -> Path:
    """Where :func:`write_results` puts the printed report next to the JSON ``path``: the .txt."""
    return path.with_suffix(".txt") if path.suffix != ".txt" else path.with_name(path.name + ".txt")


def writable_json(report: bool = True) -> Callable[[str], str]:
    """An argparse type: a results path that can be written (with the report beside it as
    .txt when ``report``), checked before anything is measured: no folder in its place, and
    a file can be created in its folder, or in the nearest folder above it that exists (the
    missing ones are made when the results are written)."""

    def parse(text: str) -> str:
        path = Path(text)
        if not text.strip():
            raise argparse.ArgumentTypeError("an empty path: want a file path, e.g. /tmp/results.json")
        for p in (path, report_beside(path)) if report else (path,):
            if p.is_dir():
                raise argparse.ArgumentTypeError(f"{str(p)!r} is a folder: want a file path")
        folder = path.parent
        try:
            while not folder.exists():
                folder = folder.parent
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: cannot write under {str(folder)!r} "
                                             f"({exc.strerror})") from None
        if not folder.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r}: {str(folder)!r} is a file, not a folder")
        try:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".bench-check-", suffix=".tmp")
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: cannot write in {str(folder)!r} "
                                             f"({exc.strerror})") from None
        os.close(fd)
        os.unlink(probe)
        return text

    parse.__name__ = "path"
    return parse


def add_json_option(parser: argparse.ArgumentParser, name: str) -> None:
    """The ``--json PATH`` option of a script whose results :func:`results_path` places."""
    parser.add_argument("--json", type=writable_json(), default=None, metavar="PATH",
                        help="write results here, and the printed report next to it as .txt (default "
                             f"benchmarks/results/{name}.json and .txt, written only by a full default run)")


def results_path(parser: argparse.ArgumentParser, args: argparse.Namespace, name: str,
                 free: Sequence[str] = ()) -> Path | None:
    """Where a run writes its results: ``--json PATH`` when given; ``benchmarks/results/<name>.json``
    only for a full default run (every option at its default, but --json and ``free``), so a
    narrowed or quick run never replaces the committed full results; else nowhere (with a note
    on stderr). Call it before any option is changed in place."""
    if getattr(args, "json", None):
        return Path(args.json)
    defaults = vars(parser.parse_args([]))
    changed = [k for k, v in vars(args).items() if k != "json" and k not in free and defaults.get(k) != v]
    if not changed:
        return RESULTS / f"{name}.json"
    opts = ", ".join("--" + k.replace("_", "-") for k in changed)
    print(f"note: not a full default run ({opts}): results are not written to "
          f"{rel(RESULTS)}/ (--json PATH writes them)", file=sys.stderr, flush=True)
    return None


def rel(path: Path | str) -> str:
    """``path`` relative to the repository root when inside it, else as given."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


# -- the printed report ------------------------------------------------------------------------
class Tee(io.TextIOBase):
    """A text stream that writes through to ``stream`` and keeps a copy."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.stream.write(text)
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def text(self) -> str:
        return "".join(self.parts)


@contextlib.contextmanager
def captured_stdout() -> Iterator[Tee]:
    """Everything printed to stdout inside the block, still printed, and kept (``.text()``)."""
    tee = Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        yield tee


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


def cpu_note() -> str:
    """The CPU model and its widest vector units, e.g. ``AMD EPYC (AVX2, no AVX-512)``.

    A shared VM can land on different hosts between runs, and the widest vector unit sets the
    float32 matmul peak and numpy's ``tanh``/``exp`` speed (about 2x apart here between AVX2 and
    AVX-512 hosts), so figures from runs on different hosts do not compare cell by cell."""
    import platform

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:  # not Linux: the model only
        return model
    if not flags:
        return model
    widest = ("AVX-512" if "avx512f" in flags else "AVX2, no AVX-512" if "avx2" in flags
              else "no AVX2")
    return f"{model} ({widest})"


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
    parts.append(f"CPU {cpu_note()}")
    return ", ".join(parts)
