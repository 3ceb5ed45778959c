"""The CNN's CPU layout (channels-last batches, a kernel-covers-its-input layer as F.linear)
against torch's default layout, for the scaling matrix's pixel PPO cell.

    .venv/bin/python benchmarks/cnn_layout.py            # 12 rounds (about 1 minute)
    .venv/bin/python benchmarks/cnn_layout.py --model shipped --rounds 8 --updates 1   # pixel_cartpole_ppo.py's CNN
    .venv/bin/python benchmarks/cnn_layout.py --quick    # 2 rounds, 1-epoch updates: checks it runs

The cell is the scaling matrix's PPO with the Nature CNN on 8 envs of the pixel CartPole
(2 stacked 42x42 grey frames, sync vectorisation; benchmarks/_matrix.py). Two things are timed,
each ``--rounds`` times with the two layouts in turn (the order alternating), in one process:

- a minibatch's forward and backward through the Nature CNN actor-critic (256 frames, the
  cell's minibatch), ``--passes`` times per round;
- whole PPO updates (rollout of 8 x 32 steps, 20 epochs) of two trainers of the same
  experiment, ``--updates`` per round.

The default layout is torch's: contiguous batches and ``nn.Conv2d.forward`` for every layer
(``mazedsl.rl.models`` patched for the duration). Printed: the median milliseconds of each and
the per-round ratio (geometric mean, 95% t-interval). One thread for torch and every BLAS
pool. A full default run writes benchmarks/results/cnn_layout.json and .txt; any other run
writes only where --json says.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from _common import (ArgParser, add_json_option, captured_stdout, evolve, load_note, non_negative_int,
                     positive_int, quick_defaults, results_path, shipped, table, thread_count)
from _matrix import (CNN, Cell, experiment, fmt_ratio, pin_threads, ratio_ci, report_header, run_record,
                     write_results)

CELL = Cell("ppo", 8, CNN)
MINIBATCH = 256


@contextlib.contextmanager
def default_layout() -> Iterator[None]:
    """torch's default layout while inside: contiguous batches, every layer ``nn.Conv2d``'s."""
    from torch import nn

    from mazedsl.rl import models

    saved = models.CHANNELS_LAST_MIN_BATCH, models.Conv2d.forward
    models.CHANNELS_LAST_MIN_BATCH, models.Conv2d.forward = 10 ** 12, nn.Conv2d.forward  # type: ignore[method-assign]
    try:
        yield
    finally:
        models.CHANNELS_LAST_MIN_BATCH, models.Conv2d.forward = saved  # type: ignore[method-assign]


def layout(name: str) -> contextlib.AbstractContextManager[None]:
    return default_layout() if name == "default" else contextlib.nullcontext()


def measure(rounds: int, passes: int, updates: int, seed: int, threads: int,
            epochs: int | None = None, model: str = "nature") -> dict[str, Any]:
    """Seconds per minibatch pass and per update of each layout, round by round (``epochs``:
    the PPO epochs per update, if not the cell's)."""
    import torch

    from mazedsl.rl.trainer import Trainer

    exp = experiment(CELL, "sync", seed, threads, 10 ** 12)
    if model == "shipped":  # experiments/pixel_cartpole_ppo.py's own CNN in place of the Nature CNN
        exp = evolve(exp, model=shipped("pixel_cartpole_ppo").model)
    if epochs is not None:
        exp = evolve(exp, algorithm=evolve(exp.algorithm, n_epochs=epochs))
    trainers = {"mazedsl": Trainer(exp), "default": Trainer(exp)}
    try:
        policy = trainers["mazedsl"].policy
        frames = torch.rand(MINIBATCH, *trainers["mazedsl"].obs_space.shape,
                            generator=torch.Generator().manual_seed(seed))
        params = [p for p in policy.parameters() if p.requires_grad]

        def one_pass() -> None:
            logits, value = policy(frames)  # the policy's outputs and the value, one shared torso
            torch.autograd.grad(logits.sum() + value.sum(), params)

        for name, trainer in trainers.items():  # warm-up
            with layout(name):
                one_pass()
                trainer.train(n_updates=1)
        secs: dict[str, dict[str, list[float]]] = {"pass": {"mazedsl": [], "default": []},
                                                    "update": {"mazedsl": [], "default": []}}
        for r in range(rounds):
            for name in (("mazedsl", "default") if r % 2 else ("default", "mazedsl")):
                with layout(name):
                    t0 = time.perf_counter()
                    for _ in range(passes):
                        one_pass()
                    secs["pass"][name].append((time.perf_counter() - t0) / passes)
                    t0 = time.perf_counter()
                    trainers[name].train(n_updates=updates)
                    secs["update"][name].append((time.perf_counter() - t0) / updates)
    finally:
        for trainer in trainers.values():
            trainer.close()
    out: dict[str, Any] = {"seconds": secs}
    for kind in secs:
        ratios = [d / m for d, m in zip(secs[kind]["default"], secs[kind]["mazedsl"])]
        out[kind] = {"speedup": ratios, "speedup_ci": list(ratio_ci(ratios))}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=positive_int, default=12, help="alternating timed runs of each")
    parser.add_argument("--passes", type=positive_int, default=10, help="minibatch passes per round")
    parser.add_argument("--updates", type=positive_int, default=2, help="PPO updates per round")
    parser.add_argument("--model", choices=("nature", "shipped"), default="nature",
                        help="the cell's Nature CNN, or experiments/pixel_cartpole_ppo.py's smaller one")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--threads", type=thread_count, default=1)
    add_json_option(parser, "cnn_layout")
    parser.add_argument("--quick", action="store_true",
                        help="2 rounds of 1 pass and 1 update of 1 epoch (options given explicitly "
                             "win): checks it runs")
    args = parser.parse_args(argv)
    json_path = results_path(parser, args, "cnn_layout")
    if args.quick:
        quick_defaults(parser, args, argv, rounds=2, passes=1, updates=1)
    with captured_stdout() as report:
        return run(args, json_path, report.text, argv)


def run(args: Any, json_path: Path | None, report_text: Callable[[], str], argv: list[str] | None) -> int:
    pin_threads(args.threads)
    t_start = time.perf_counter()
    report_header("CNN layout on the CPU, mazedsl's vs torch's default", args.threads)
    res = measure(args.rounds, args.passes, args.updates, args.seed, args.threads,
                  epochs=1 if args.quick else None, model=args.model)
    cnn = "Nature CNN" if args.model == "nature" else "pixel_cartpole_ppo.py's CNN"
    labels = {"pass": f"{cnn} forward+backward, {MINIBATCH} frames",
              "update": f"PPO update, pixel CartPole, {CELL.n_envs} envs"}
    rows = []
    for kind, label in labels.items():
        mean, interval = fmt_ratio(tuple(res[kind]["speedup_ci"]))  # type: ignore[arg-type]
        secs = res["seconds"][kind]
        rows.append([label, f"{statistics.median(secs['default']) * 1e3:.2f}",
                     f"{statistics.median(secs['mazedsl']) * 1e3:.2f}", mean, interval])
    print()
    print(f"Milliseconds (median of {args.rounds} rounds); speed-up: default / mazedsl, geometric mean "
          f"of the per-round ratios, 95% t-interval")
    print(table(["what", "default ms", "mazedsl ms", "speed-up", "95% CI"], rows))
    print(f"{load_note()} at end; {time.perf_counter() - t_start:.0f} s in all")
    if json_path is not None:
        write_results(json_path, run_record("cnn_layout.py", argv, threads=args.threads, model=args.model,
                                            rounds=args.rounds, passes=args.passes, updates=args.updates,
                                            **res), report_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
