"""The scaling matrix shared by scaling.py and limits.py: its cells, the experiment of a cell,
the same run built in Stable-Baselines3, thread pinning and the interval statistics."""

from __future__ import annotations

import math
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, Sequence

from _common import evolve, load_note, shipped, versions

NETS = ("64x64", "256x256")
N_ENVS = (8, 32, 128)
CNN = "nature-cnn"


@dataclass(frozen=True)
class Cell:
    """One point of the matrix: algorithm, number of envs, network."""

    algo: str  # "ppo" | "a2c"
    n_envs: int
    net: str  # "64x64", "256x256" or CNN (PPO on mazedsl/PixelCartPole-v1)

    @property
    def key(self) -> str:
        return f"{self.algo}-{self.n_envs}-{self.net}"

    @property
    def label(self) -> str:
        net = "Nature CNN, pixels" if self.net == CNN else self.net
        return f"{self.algo.upper()} {self.n_envs:>3} envs {net}"

    @property
    def pixels(self) -> bool:
        return self.net == CNN


def matrix_cells(quick: bool = False) -> list[Cell]:
    """PPO and A2C x n_envs {8, 32, 128} x MLP {64x64, 256x256}, then PPO with the Nature CNN
    on pixels (8 envs); in quick mode one small cell of each kind."""
    if quick:
        return [Cell("ppo", 8, "64x64"), Cell("a2c", 8, "64x64"), Cell("ppo", 8, CNN)]
    return [Cell(a, n, net) for a in ("ppo", "a2c") for net in NETS for n in N_ENVS] + [Cell("ppo", 8, CNN)]


ALGOS = ("ppo", "a2c")
CELL_FORM = f"want ALGO-N_ENVS-NET with ALGO ppo or a2c, N_ENVS >= 1, NET {', '.join(NETS)} or {CNN} (PPO only), " \
            f"e.g. ppo-8-64x64,a2c-128-256x256,ppo-8-{CNN}"


MAX_ENVS = 1024
"""The most envs a cell may ask for (the matrix uses up to 128)."""


def parse_cells(text: str) -> list[Cell]:
    """Cells from 'ppo-8-64x64,a2c-128-256x256,ppo-8-nature-cnn'; ValueError naming the bad one."""
    cells = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        bits = part.split("-", 2)
        n = bits[1] if len(bits) == 3 else ""
        if (len(bits) != 3 or bits[0] not in ALGOS or not n.isdigit() or int(n) < 1
                or bits[2] not in (*NETS, CNN) or (bits[2] == CNN and bits[0] != "ppo")):
            raise ValueError(f"bad cell {part!r}: {CELL_FORM}")
        if int(n) > MAX_ENVS:
            raise ValueError(f"bad cell {part!r}: at most {MAX_ENVS} envs")
        cell = Cell(bits[0], int(n), bits[2])
        if cell not in cells:  # a cell named twice is measured once
            cells.append(cell)
    if not cells:
        raise ValueError(f"no cell in {text!r}: {CELL_FORM}")
    return cells


def cells_arg(text: str) -> list[Cell]:
    """An argparse type: :func:`parse_cells`, its error as argparse's one-line message."""
    import argparse

    try:
        return parse_cells(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def experiment(cell: Cell, vectorization: str, seed: int, threads: int, total_steps: int,
               device: str = "cpu") -> Any:
    """The Experiment of a cell: the shipped CartPole PPO (rl-zoo values) or A2C (SB3 defaults)
    with the cell's envs and network; the pixel cell is experiments/pixel_cartpole_ppo.py with
    the Nature CNN (PixelObs defaults: 32/64/64 channels, 8/4/3 kernels, 4/2/1 strides, 512).
    ``runner.device`` is ``device``: the CPU unless asked (SB3's side runs on the CPU too)."""
    if cell.algo not in ALGOS:
        raise ValueError(f"cell {cell.key!r}: unknown algorithm {cell.algo!r}; known: {', '.join(ALGOS)}")
    if cell.pixels:
        from mazedsl.spec import PixelObs

        exp = shipped("pixel_cartpole_ppo")
        exp = evolve(exp, model=PixelObs())
    else:
        exp = shipped("cartpole_ppo" if cell.algo == "ppo" else "cartpole_a2c")
        width = int(cell.net.split("x")[0])
        exp = evolve(exp, model=evolve(exp.model, hidden_units=[width, width]),
                     critic=evolve(exp.critic, hidden_units=[width, width]))
    runner = evolve(exp.runner, n_envs=cell.n_envs, vectorization=vectorization, torch_threads=threads,
                    device=device)
    return evolve(exp, runner=runner, seed=seed, total_steps=total_steps, eval_every_steps=0,
                  eval_episodes=1, log_every_steps=10 ** 12, checkpoint_every_steps=10 ** 12,
                  target_return=None, patience=None)


def is_ppo(algo: Any) -> bool:
    """Whether an algorithm declaration is PPO (its class moved between engine versions)."""
    return type(algo).__name__ == "PPO"


def update_size(exp: Any) -> int:
    """Env steps collected per update."""
    return exp.runner.n_envs * exp.algorithm.n_steps


# -- threads ---------------------------------------------------------------------------------
def pin_threads(n: int) -> None:
    """torch intra-op threads and every BLAS/OpenMP pool numpy or torch loaded, to ``n``.
    The limits hold until the process ends (threadpoolctl restores only on request)."""
    import numpy  # noqa: F401  (numpy's BLAS must be loaded to be limited)
    import torch

    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is in the bench extra
        return None
    threadpool_limits(limits=n)
    return None


def thread_note(n: int) -> str:
    import torch

    try:
        from threadpoolctl import threadpool_info

        pools = ", ".join(sorted({f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info()}))
    except ImportError:  # pragma: no cover
        pools = "threadpoolctl not installed: numpy BLAS threads NOT pinned"
    return f"threads: torch {torch.get_num_threads()} (asked {n}); pools {pools}"


# -- timing: mazedsl -------------------------------------------------------------------------
def time_mazedsl(exp: Any, warm: int, updates: int, transitions: bool = False) -> tuple[int, float]:
    """(env steps, wall seconds) of a ``Trainer.train`` call of ``updates`` iterations after
    ``warm`` ones: rollouts, updates and the trainer's own bookkeeping (as SB3's ``learn`` is
    timed whole). The experiment's ``total_steps`` should exceed ``warm + updates`` updates
    (no end-of-budget evaluation); it logs, evaluates and checkpoints never in between. On
    CUDA the device is synchronised before and after the timed call. ``transitions``: count
    real transitions instead (:attr:`EnvLoop.transitions`: without the reset step that
    next-step autoreset takes after each episode, which SB3's timesteps do not have)."""
    from mazedsl.rl.trainer import Trainer

    trainer = Trainer(exp)
    try:
        if warm:
            trainer.train(n_updates=warm)
        cuda = str(exp.runner.device).startswith("cuda")
        if cuda:
            _cuda_sync()
        loop = trainer.built.env_loop

        def count() -> int:
            return loop.transitions if transitions else trainer.steps

        s0, t0 = count(), time.perf_counter()
        trainer.train(n_updates=updates)
        if cuda:  # the last kernels of the last update finish inside the timed span
            _cuda_sync()
        secs = time.perf_counter() - t0
        return count() - s0, secs
    finally:
        trainer.close()


def _cuda_sync() -> None:
    import torch

    torch.cuda.synchronize()


# -- timing: Stable-Baselines3 ---------------------------------------------------------------
def sb3_available() -> bool:
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        return False
    return True


def _schedule(value: float, kind: str) -> Any:
    if kind == "linear":
        return lambda progress_remaining: value * progress_remaining
    return value


def sb3_model(exp: Any, seed: int, fast: bool = False) -> Any:
    """The experiment as an SB3 PPO/A2C with the same hyperparameters and network, on a
    DummyVecEnv of separate Monitor-wrapped envs (``make_vec_env``). ``fast``: fused Adam
    (PPO) or foreach RMSprop (A2C); the caller turns distribution argument checks off."""
    import torch
    from stable_baselines3 import A2C as SB3A2C
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.env_util import make_vec_env

    from mazedsl.spec import PixelObs

    algo, model, critic = exp.algorithm, exp.model, exp.critic
    if isinstance(model, PixelObs):
        from stable_baselines3.common.torch_layers import NatureCNN

        from mazedsl.rl.envs import make_env_fn

        assert critic.shared and list(model.hidden_units) == [512] and list(model.channels) == [32, 64, 64]
        policy = "CnnPolicy"
        policy_kwargs: dict[str, Any] = {
            "features_extractor_class": NatureCNN, "normalize_images": False, "net_arch": [],
            "features_extractor_kwargs": {"features_dim": 512, "normalized_image": True},
            "ortho_init": model.ortho_init}
        env_id: Any = make_env_fn(exp.env, exp.wrappers)
    else:
        activations = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU,
                       "gelu": torch.nn.GELU, "silu": torch.nn.SiLU}
        policy = "MlpPolicy"
        policy_kwargs = {"net_arch": {"pi": list(model.hidden_units), "vf": list(critic.hidden_units)},
                         "activation_fn": activations[model.activation], "ortho_init": model.ortho_init}
        env_id = exp.env.name
    env = make_vec_env(env_id, n_envs=exp.runner.n_envs, seed=seed)
    common = dict(gamma=algo.gamma, gae_lambda=algo.gae_lambda, ent_coef=algo.ent_coef,
                  vf_coef=algo.vf_coef, max_grad_norm=algo.max_grad_norm, n_steps=algo.n_steps,
                  normalize_advantage=algo.normalize_advantage, seed=seed, device="cpu", verbose=0,
                  learning_rate=_schedule(algo.lr, algo.lr_schedule))
    if is_ppo(algo):
        policy_kwargs["optimizer_kwargs"] = {"eps": algo.adam_eps, **({"fused": True} if fast else {})}
        return SB3PPO(policy, env, batch_size=algo.batch_size, n_epochs=algo.n_epochs,
                      clip_range=_schedule(algo.clip_range, algo.clip_schedule),
                      clip_range_vf=algo.clip_range_vf, target_kl=algo.target_kl,
                      policy_kwargs=policy_kwargs, **common)
    if fast and algo.optimizer == "rmsprop":  # what SB3 passes itself, plus foreach
        policy_kwargs["optimizer_class"] = torch.optim.RMSprop
        policy_kwargs["optimizer_kwargs"] = dict(alpha=algo.rms_alpha, eps=algo.eps, weight_decay=0,
                                                 foreach=True)
    elif fast:
        policy_kwargs["optimizer_kwargs"] = {"eps": algo.eps, "fused": True}
    return SB3A2C(policy, env, use_rms_prop=algo.optimizer == "rmsprop", rms_prop_eps=algo.eps,
                  policy_kwargs=policy_kwargs, **common)


def time_sb3(exp: Any, seed: int, warm: int, updates: int, fast: bool = False) -> tuple[int, float]:
    """(env steps, seconds) of ``updates`` SB3 iterations (rollout + train) after ``warm``
    ones: from the start of rollout ``warm`` to the end of ``learn``."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback

    class Clock(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.starts: list[tuple[int, float]] = []
            self.end: tuple[int, float] = (0, 0.0)

        def _on_rollout_start(self) -> None:
            self.starts.append((self.num_timesteps, time.perf_counter()))

        def _on_step(self) -> bool:
            return True

        def _on_training_end(self) -> None:
            self.end = (self.num_timesteps, time.perf_counter())

    validate = torch.distributions.Distribution._validate_args
    if fast:
        torch.distributions.Distribution.set_default_validate_args(False)
    try:
        model = sb3_model(exp, seed, fast)
        clock = Clock()
        model.learn(total_timesteps=(warm + updates) * update_size(exp), callback=clock)
        model.get_env().close()
    finally:
        torch.distributions.Distribution.set_default_validate_args(validate)
    s0, t0 = clock.starts[warm]
    return clock.end[0] - s0, clock.end[1] - t0


# -- statistics ------------------------------------------------------------------------------
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        return math.inf
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964  # Cornish-Fisher expansion, accurate to ~1e-3 beyond 30
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and its 95% t-interval (an infinite interval with one value)."""
    n = len(values)
    m = statistics.fmean(values)
    if n < 2:
        return m, -math.inf, math.inf
    half = t975(n - 1) * statistics.stdev(values) / math.sqrt(n)
    return m, m - half, m + half


def ratio_ci(ratios: Sequence[float]) -> tuple[float, float, float]:
    """Geometric mean of per-seed ratios and its 95% t-interval (on the logs, back-transformed)."""
    m, lo, hi = mean_ci([math.log(r) for r in ratios])
    if not (math.isfinite(lo) and math.isfinite(hi)):  # one seed: no interval (null in JSON)
        return math.exp(m), math.nan, math.nan
    return math.exp(m), math.exp(lo), math.exp(hi)


def fmt_interval(lo: float, hi: float | None) -> str:
    """'1.10-1.37', or 'n/a (1 seed)' where there is no interval (one seed)."""
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "n/a (1 seed)"
    return f"{lo:.2f}-{hi:.2f}"


def fmt_ratio(ci: tuple[float, float, float] | None) -> tuple[str, str]:
    """('1.23x', '1.10-1.37') for a table."""
    if ci is None:
        return "n/a", ""
    m, lo, hi = ci
    return f"{m:.2f}x", fmt_interval(lo, hi)


def finite(value: Any) -> Any:
    """JSON-safe copy: non-finite floats (the open interval of one seed) become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def report_header(title: str, threads: int, note: str = "") -> None:
    """A speed report's first lines: what it measures and the versions, the thread pools (and
    ``note``), the load at the start."""
    print(f"{title}; {versions()}", flush=True)
    print(thread_note(threads) + note, flush=True)
    print(f"{load_note()} at start", flush=True)


def run_record(script: str, argv: Sequence[str] | None, **fields: Any) -> dict[str, Any]:
    """A results document: the command as run, the UTC date and the versions, ``fields``, and
    the load at the end."""
    return {"command": " ".join([f"benchmarks/{script}", *(argv if argv is not None else sys.argv[1:])]),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "versions": versions(),
            **fields, "load_at_end": load_note()}


def write_results(json_path: Any, doc: dict, text: str | None = None) -> None:
    """Write a benchmark's results atomically: the JSON (non-finite floats as null) and, when
    ``text`` (the printed report) is given, next to it with the suffix .txt that text followed by
    the line printed here. Paths are printed relative to the repository root."""
    import json
    from pathlib import Path

    from _common import rel, report_beside

    from mazedsl.run.files import atomic_write_text

    path = Path(json_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is None:
        line = f"results written to {rel(path)}"
    else:
        txt = report_beside(path)
        line = f"results written to {rel(path)} and {rel(txt)}"
        atomic_write_text(txt, text + ("\n" if text and not text.endswith("\n") else "") + line + "\n")
    atomic_write_text(path, json.dumps(finite(doc), indent=1))
    print(line, flush=True)
