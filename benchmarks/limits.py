"""mazedsl's training time against a physical floor and a plain-torch reference, per cell.

    .venv/bin/python benchmarks/limits.py            # every cell of the scaling matrix (about 1 minute)
    .venv/bin/python benchmarks/limits.py --profile ppo-128-256x256   # + where the time goes
    .venv/bin/python benchmarks/limits.py --cells ppo-8-64x64,a2c-8-64x64 --json /tmp/l.json  # zoo points
    .venv/bin/python benchmarks/limits.py --quick    # the two zoo points, tiny budgets

For each cell of benchmarks/scaling.py's matrix, mazedsl trains with its fastest vectorisation
('native' CartPole; 'sync' for the pixel env) for a fixed number of updates after one warm-up
update (the wall time of its ``Trainer.train`` call), and is compared with, for the same env steps and updates:

- the physical floor  T = T_env + sum over phases of max(W / P, M / B):
  T_env  the fastest vectorised env of this machine stepped with actions drawn beforehand;
  W      the arithmetic the algorithm cannot skip, counted layer by layer (2 FLOPs per
         multiply-add): rollout forwards of policy and value net for every sample and the
         bootstrap; the update's forward + backward (backward = weight gradients + input
         gradients, none for the observation layer): PPO epochs x samples (less the first
         minibatch's forward, which the rollout could supply), A2C samples x backward only
         (its forward is the rollout's); the optimiser ~ 12 (Adam) / 6 (RMSprop) FLOPs per
         parameter per step plus the gradient norm of max_grad_norm;
  P      this machine's measured single-thread float32 matmul peak (best of 100 512^3 products
         on each GEMM library at hand: torch's MKL, oneDNN, numpy's OpenBLAS with the kernel it
         picks and the one OPENBLAS_CORETYPE names; benchmarks/gemm.py; measured before and
         after the cells, the faster of the two);
  M, B   the bytes each phase must move (weights read per forward, weights and gradients per
         backward, parameters, gradients and optimiser state per optimiser step) over the
         single-thread copy bandwidth measured at the model's working-set size.
  Every term is a lower bound of the work, so no implementation of the same algorithm on
  this env and one core can run faster than T (up to timing noise in T_env and P).
- the plain-torch reference (what this script called a "floor" before): the run's own vector
  env stepped with random actions, policy + value nets as plain ``nn.Sequential`` called once
  per vector step under inference mode, and the algorithm's loss, ``backward()`` and fused
  Adam / foreach RMSprop step for the same samples, minibatches and epochs. mazedsl can beat
  it (numpy rollouts, fused passes); it is a yardstick, not a limit.

Printed per cell: mazedsl's time, the floor's parts, mazedsl as a multiple of the floor and of
the reference (each the best of --repeat interleaved repetitions, as P is a best), and the issue's targets for the
CartPole zoo points (PPO <= 4x the floor, A2C <= 3x). One thread for torch and every BLAS pool;
mazedsl runs on the CPU (``runner.device=cpu``). The per-cell lines on stderr use P as measured
before the cells (provisional); the table uses the faster of that and the measurement after.

A full default run (--profile and --top aside) writes benchmarks/results/limits.json and
limits.txt (the printed report); any other run writes only where --json says.
"""

from __future__ import annotations

import cProfile
import math
import pstats
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from _common import (QUICK_TAG, ROOT, ArgParser, add_json_option, captured_stdout, load_note, non_negative_int,
                     positive_float, positive_int, quick_defaults, results_path, table, thread_count)
from _matrix import (Cell, cells_arg, experiment, is_ppo, matrix_cells, parse_cells, pin_threads,
                     report_header, run_record, time_mazedsl, update_size, write_results)
from gemm import peak_flops


def fastest_vectorization(cell: Cell) -> str:
    return "sync" if cell.pixels else "native"


# -- machine constants -----------------------------------------------------------------------
def copy_bandwidth(n_bytes: int, min_seconds: float = 0.05) -> float:
    """Single-thread bytes/s of a float32 copy with ``n_bytes`` read and written (best of 20)."""
    import torch

    n = max(n_bytes // 8, 1024)
    a, b = torch.randn(n), torch.empty(n)
    b.copy_(a)
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            b.copy_(a)
        if time.perf_counter() - t0 >= min_seconds / 20:
            break
        reps *= 2
    best = math.inf
    for _ in range(20):
        t0 = time.perf_counter()
        for _ in range(reps):
            b.copy_(a)
        best = min(best, (time.perf_counter() - t0) / reps)
    return 8 * n / best


# -- the model as plain torch, and its arithmetic ---------------------------------------------
def plain_model(exp: Any, obs_shape: tuple[int, ...], n_out: int) -> Any:
    """Policy and value net of the experiment as plain modules: (pi torso, pi head, vf torso
    or None when shared, vf head)."""
    from torch import nn

    from mazedsl.spec import PixelObs

    acts = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU, "silu": nn.SiLU}

    def mlp(d: int, hidden: list[int], act: str) -> tuple[nn.Module, int]:
        layers: list[nn.Module] = []
        for h in hidden:
            layers += [nn.Linear(d, h), acts[act]()]
            d = h
        return nn.Sequential(*layers), d

    model, critic = exp.model, exp.critic
    if isinstance(model, PixelObs):
        layers: list[nn.Module] = []
        c = obs_shape[0]
        for out, k, s in zip(model.channels, model.kernel_sizes, model.strides):
            layers += [nn.Conv2d(c, out, k, s), acts[model.activation]()]
            c = out
        conv = nn.Sequential(*layers, nn.Flatten())
        import torch

        with torch.no_grad():
            n_flat = conv(torch.zeros(1, *obs_shape)).shape[1]
        dense, d = mlp(n_flat, list(model.hidden_units), model.activation)
        pi_torso: nn.Module = nn.Sequential(conv, dense)
    else:
        pi_torso, d = mlp(int(np.prod(obs_shape)), list(model.hidden_units), model.activation)
    pi_head = nn.Linear(d, n_out)
    if critic.shared:
        return pi_torso, pi_head, None, nn.Linear(d, 1)
    vf_torso, dv = mlp(int(np.prod(obs_shape)), list(critic.hidden_units), critic.activation)
    return pi_torso, pi_head, vf_torso, nn.Linear(dv, 1)


def layer_flops(modules: tuple[Any, Any, Any, Any], obs_shape: tuple[int, ...]) -> tuple[float, float]:
    """(forward FLOPs per sample of all Linear/Conv2d layers of policy and value net, a shared
    torso counted once; the FLOPs of the layers that read the observation)."""
    import torch
    from torch import nn

    pi_torso, pi_head, vf_torso, vf_head = modules
    flops: dict[nn.Module, float] = {}

    def hook(mod: nn.Module, inp: Any, out: torch.Tensor) -> None:
        if isinstance(mod, nn.Linear):
            flops[mod] = 2.0 * mod.in_features * mod.out_features
        else:
            k = mod.kernel_size[0] * mod.kernel_size[1]
            flops[mod] = 2.0 * mod.in_channels * k * mod.out_channels * out.shape[-1] * out.shape[-2]

    layers = [x for m in modules if m is not None for x in m.modules()
              if isinstance(x, (nn.Linear, nn.Conv2d))]
    handles = [x.register_forward_hook(hook) for x in layers]
    with torch.no_grad():
        x = torch.zeros(1, *obs_shape)
        h = pi_torso(x)
        pi_head(h)
        vf_head(vf_torso(x) if vf_torso is not None else h)
    for hd in handles:
        hd.remove()
    firsts = [next(x for x in t.modules() if isinstance(x, (nn.Linear, nn.Conv2d)))
              for t in (pi_torso, vf_torso) if t is not None]
    return sum(flops.values()), sum(flops[f] for f in firsts)


def spaces_of(exp: Any) -> tuple[tuple[int, ...], int, bool]:
    from mazedsl.rl.envs import make_vector_env
    from mazedsl.rl.observations import ObsPipeline

    venv = make_vector_env(exp.env, exp.wrappers, 1, "sync")
    obs_shape = tuple(ObsPipeline(venv.single_observation_space, exp.wrappers).shape)
    space = venv.single_action_space
    venv.close()
    discrete = hasattr(space, "n") and not hasattr(space, "low")
    return obs_shape, int(space.n) if discrete else int(space.shape[0]), discrete


def work(exp: Any, updates: int) -> dict[str, float]:
    """FLOPs and compulsory bytes of ``updates`` updates, per phase (see the module doc)."""
    algo = exp.algorithm
    obs_shape, n_out, _ = spaces_of(exp)
    modules = plain_model(exp, obs_shape, n_out)
    fwd, first = layer_flops(modules, obs_shape)
    n_params = sum(p.numel() for m in modules if m is not None for p in m.parameters())
    n = update_size(exp)
    n_envs = exp.runner.n_envs
    w_rollout = (n + n_envs) * fwd  # every sample + the bootstrap values
    bwd = 2 * fwd - first  # weight gradients + input gradients (none for the observation layer)
    if is_ppo(algo):
        minibatches = math.ceil(n / algo.batch_size)
        steps = algo.n_epochs * minibatches
        w_update = algo.n_epochs * n * (fwd + bwd) - min(algo.batch_size, n) * fwd
        opt_flops, opt_bytes = 12, 7 * 4  # Adam: read p, g, m, v; write p, m, v
    else:
        steps, minibatches = 1, 1
        w_update = n * bwd
        opt_flops, opt_bytes = (6, 5 * 4) if algo.optimizer == "rmsprop" else (12, 7 * 4)
    norm = algo.max_grad_norm is not None
    w_opt = steps * n_params * (opt_flops + (2 if norm else 0))
    m_opt = steps * n_params * (opt_bytes + (4 if norm else 0))
    weight_bytes = 4 * n_params
    m_rollout = algo.n_steps * weight_bytes  # the weights, read once per vector step
    m_update = steps * 3 * weight_bytes  # weights read in forward and backward, gradients written
    return {"flops_rollout": updates * w_rollout, "flops_update": updates * w_update,
            "flops_opt": updates * w_opt, "bytes_rollout": updates * m_rollout,
            "bytes_update": updates * m_update, "bytes_opt": updates * m_opt,
            "params": n_params, "fwd_flops_per_sample": fwd, "optimizer_steps": updates * steps,
            "working_set_bytes": 4 * n_params * 4}


def floor_env(exp: Any, vec_steps: int, vectorization: str) -> float:
    """Seconds to step the vector env ``vec_steps`` times with actions drawn beforehand."""
    from mazedsl.rl.envs import make_vector_env

    venv = make_vector_env(exp.env, exp.wrappers, exp.runner.n_envs, vectorization)
    venv.reset(seed=exp.seed)
    rng = np.random.default_rng(exp.seed)
    space = venv.action_space
    if hasattr(space, "nvec"):
        actions = rng.integers(0, space.nvec, size=(vec_steps, *space.shape))
    elif hasattr(space, "n") and not hasattr(space, "low"):
        actions = rng.integers(0, space.n, size=(vec_steps, *space.shape))
    else:
        actions = rng.uniform(space.low, space.high, size=(vec_steps, *space.shape)).astype(space.dtype)
    step = venv.step
    t0 = time.perf_counter()
    for a in actions:
        step(a)
    elapsed = time.perf_counter() - t0
    venv.close()
    return elapsed


def floor(w: dict[str, float], t_env: float, peak: float, bandwidth: float) -> dict[str, float]:
    parts = {p: max(w[f"flops_{p}"] / peak, w[f"bytes_{p}"] / bandwidth) for p in ("rollout", "update", "opt")}
    return {"env": t_env, **parts, "total": t_env + sum(parts.values())}


# -- the plain-torch reference -----------------------------------------------------------------
def reference(exp: Any, updates: int, vectorization: str) -> float:
    """Seconds of the plain-torch reference for ``updates`` updates (env + forwards + updates)."""
    import torch
    from torch.nn import functional as F

    algo = exp.algorithm
    obs_shape, n_out, discrete = spaces_of(exp)
    pi_torso, pi_head, vf_torso, vf_head = plain_model(exp, obs_shape, n_out)
    def nets(o: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = pi_torso(o)
        v = vf_head(vf_torso(o) if vf_torso is not None else h).squeeze(-1)
        return pi_head(h), v

    vec_steps = updates * algo.n_steps
    t_env = floor_env(exp, vec_steps, vectorization)
    n_envs = exp.runner.n_envs
    x = torch.randn(n_envs, *obs_shape)
    with torch.inference_mode():
        t0 = time.perf_counter()
        for _ in range(vec_steps):
            nets(x)
        t_fwd = time.perf_counter() - t0

    params = [p for m in (pi_torso, pi_head, vf_torso, vf_head) if m is not None for p in m.parameters()]
    log_std = torch.zeros(n_out, requires_grad=True)
    if not discrete:
        params.append(log_std)
    if is_ppo(algo) or algo.optimizer == "adam":
        eps = algo.adam_eps if is_ppo(algo) else algo.eps
        opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=algo.lr, eps=eps, fused=True)
    else:
        opt = torch.optim.RMSprop(params, lr=algo.lr, alpha=algo.rms_alpha, eps=algo.eps, foreach=True)
    n = update_size(exp)
    obs = torch.randn(n, *obs_shape)
    actions = torch.randint(0, n_out, (n,)) if discrete else torch.randn(n, n_out)
    old_logp = torch.full((n,), -0.7)
    adv, ret = torch.randn(n), torch.randn(n)

    def logp_of(out: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        if discrete:
            return torch.log_softmax(out, -1).gather(-1, act.unsqueeze(-1)).squeeze(-1)
        z = (act - out) * torch.exp(-log_std)
        return (-0.5 * z.pow(2) - log_std).sum(-1)

    def step(o: torch.Tensor, a: torch.Tensor, lp: torch.Tensor, ad: torch.Tensor, r: torch.Tensor) -> None:
        out, v = nets(o)
        logp = logp_of(out, a)
        if is_ppo(algo):
            ratio = (logp - lp).exp()
            c = algo.clip_range
            policy_loss = -torch.min(ad * ratio, ad * ratio.clamp(1 - c, 1 + c)).mean()
        else:
            policy_loss = -(ad * logp).mean()
        loss = policy_loss + algo.vf_coef * F.mse_loss(v, r)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if algo.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, algo.max_grad_norm, foreach=True)
        opt.step()

    t0 = time.perf_counter()
    for _ in range(updates):
        if not is_ppo(algo):
            step(obs, actions, old_logp, adv, ret)
            continue
        for _ in range(algo.n_epochs):
            perm = torch.randperm(n)
            for s in range(0, n, algo.batch_size):
                idx = perm[s:s + algo.batch_size]
                step(obs[idx], actions[idx], old_logp[idx], adv[idx], ret[idx])
    return t_env + t_fwd + time.perf_counter() - t0


# -- profile -----------------------------------------------------------------------------------
def profile(exp: Any, updates: int, top: int) -> list[str]:
    """The top functions by own time of a cProfile'd training (after one warm-up update)."""
    from mazedsl.rl.trainer import Trainer

    trainer = Trainer(exp)
    trainer.train(n_updates=1)
    prof = cProfile.Profile()
    s0, t0 = trainer.steps, trainer.train_time
    prof.enable()
    trainer.train(n_updates=updates)
    prof.disable()
    n_updates = updates
    trainer.close()
    stats = pstats.Stats(prof)
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    rows = []
    for (file, line, name), (cc, nc, tt, ct, _) in raw.items():
        where = file.split("site-packages/")[-1].replace(str(ROOT) + "/", "") if file != "~" else ""
        rows.append((f"{name} ({where}:{line})" if where else name, tt, ct, nc))
    rows.sort(key=lambda r: -r[1])
    lines = [f"  cProfile of {trainer.steps - s0:,} env steps in {n_updates} update(s) "
             f"({trainer.train_time - t0:.2f} s under the profiler, {total:.2f} s own time in all); "
             f"per update: own ms, cumulative ms, calls"]
    for label, tt, ct, nc in rows[:top]:
        lines.append(f"    {1e3 * tt / n_updates:8.2f} {1e3 * ct / n_updates:8.2f} {nc / n_updates:8.0f}  "
                     f"{tt / total:5.1%}  {label[:100]}")
    return lines


# -- driver ------------------------------------------------------------------------------------
def measure(cell: Cell, seconds: float, repeat: int, seed: int, threads: int, peak: float,
            max_updates: int) -> dict[str, Any]:
    vec = fastest_vectorization(cell)
    probe = experiment(cell, vec, seed, threads, 1)
    steps, secs = time_mazedsl(experiment(cell, vec, seed, threads, 3 * update_size(probe)), 1, 1)
    updates = max(1, min(max_updates, round(seconds * steps / secs / update_size(probe))))
    exp = experiment(cell, vec, seed, threads, (updates + 2) * update_size(probe))
    w = work(exp, updates)
    bandwidth = copy_bandwidth(int(w["working_set_bytes"]))
    engine, env_t, ref = [], [], []
    for _ in range(repeat):  # interleaved, so load changes hit all parts alike
        engine.append(time_mazedsl(exp, 1, updates)[1])
        env_t.append(floor_env(exp, updates * exp.algorithm.n_steps, vec))
        ref.append(reference(exp, updates, vec))
    e, r = min(engine), min(ref)  # best of: the peak P is a best too
    n_steps = updates * update_size(exp)
    return with_floor({"key": cell.key, "label": cell.label.strip(), "vectorization": vec,
                       "updates": updates, "env_steps": n_steps, "mazedsl_s": e,
                       "mazedsl_steps_per_s": n_steps / e, "reference_s": r, "x_reference": e / r,
                       "work": w, "bandwidth_bytes_per_s": bandwidth,
                       "runs": {"mazedsl": engine, "env": env_t, "reference": ref}}, peak)


def with_floor(res: dict[str, Any], peak: float) -> dict[str, Any]:
    """``res`` with its floor (and mazedsl's multiple of it) at matmul peak ``peak``."""
    fl = floor(res["work"], min(res["runs"]["env"]), peak, res["bandwidth_bytes_per_s"])
    return {**res, "floor_s": fl, "floor_steps_per_s": res["env_steps"] / fl["total"],
            "x_floor": res["mazedsl_s"] / fl["total"]}


def _sig(value: float) -> str:
    """Three significant digits (quick runs' floors are fractions of a millisecond)."""
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=cells_arg, default=None, help="comma-separated ALGO-N_ENVS-NET "
                        "(as benchmarks/scaling.py); default the whole matrix")
    parser.add_argument("--seconds", type=positive_float, default=0.5,
                        help="target length of one timed mazedsl run, which sets the updates per "
                             "cell (default 0.5)")
    parser.add_argument("--max-updates", type=positive_int, default=200,
                        help="cap on the timed updates per cell (default 200)")
    parser.add_argument("--repeat", type=positive_int, default=3,
                        help="interleaved repetitions per cell; each time is the best (minimum) of them")
    parser.add_argument("--profile", type=cells_arg, default=None, help="comma-separated cells to cProfile too")
    parser.add_argument("--top", type=positive_int, default=25, help="profile lines per profiled cell")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="the runs' seed (default 0)")
    parser.add_argument("--threads", type=thread_count, default=1,
                        help="torch and BLAS threads (default 1; P is then measured on as many)")
    add_json_option(parser, "limits")
    parser.add_argument("--quick", action="store_true",
                        help="the zoo points, 1 repetition of 1 update (options given explicitly win): "
                             "checks it runs")
    args = parser.parse_args(argv)
    json_path = results_path(parser, args, "limits", free=("profile", "top"))
    if args.quick:
        cells = args.cells or parse_cells("ppo-8-64x64,a2c-8-64x64")
        quick_defaults(parser, args, argv, moot={"seconds": "max_updates"}, repeat=1, max_updates=1, top=8)
    else:
        cells = args.cells or matrix_cells()
    with captured_stdout() as report:
        return run(args, cells, json_path, report.text, argv)


def run(args: Any, cells: list[Cell], json_path: Path | None, report_text: Callable[[], str],
        argv: list[str] | None) -> int:
    """Every cell against its floor and the reference, the table, the profiles (and the files)."""
    pin_threads(args.threads)
    t_start = time.perf_counter()
    report_header("mazedsl training vs the physical floor and the plain-torch reference", args.threads)
    peak, library = peak_flops(args.threads, 256 if args.quick else 512)
    print(f"P = {peak / 1e9:.1f} GFLOP/s (float32 GEMM, {args.threads} thread, {library})", flush=True)
    results = []
    for cell in cells:
        res = measure(cell, args.seconds, args.repeat, args.seed, args.threads, peak, args.max_updates)
        results.append(res)
        print(f"  {cell.label}: {res['x_floor']:.2f}x floor (provisional: P measured before the cells), "
              f"{res['x_reference']:.2f}x reference", file=sys.stderr, flush=True)
    # P is a best: the faster of the measurements before and after the cells sets every floor
    # (this machine's sgemm rate drifts by 20% and more under its neighbours' load)
    peak_start, (peak_end, _) = peak, peak_flops(args.threads, 256 if args.quick else 512)
    peak = max(peak_start, peak_end)
    results = [with_floor(r, peak) for r in results]
    print(f"P measured again after the cells: {peak_end / 1e9:.1f} GFLOP/s; the floors use the "
          f"faster, {peak / 1e9:.1f}", flush=True)
    rows = []
    for r in results:
        f, w = r["floor_s"], r["work"]
        gflop = (w["flops_rollout"] + w["flops_update"] + w["flops_opt"]) / 1e9
        rows.append([f"{r['label']} ({r['vectorization']})", f"{r['env_steps']:,}", _sig(r['mazedsl_s']),
                     f"{r['mazedsl_steps_per_s']:,.0f}", _sig(f['env']), _sig(gflop),
                     _sig(f['rollout'] + f['update']), _sig(f['opt']), _sig(f['total']),
                     f"{r['floor_steps_per_s']:,.0f}", f"{r['x_floor']:.2f}x", _sig(r['reference_s']),
                     f"{r['x_reference']:.2f}x"])
    print()
    print(f"Best of {args.repeat} interleaved repetition(s); floor = T_env + max(W/P, M/B) per phase "
          f"(rollout, update, optimiser); P = {peak / 1e9:.1f} GFLOP/s")
    print(table(["cell (mazedsl vectorisation)", "env steps", "mazedsl s", "mazedsl steps/s", "T_env s",
                 "W GFLOP", "nets s", "optimiser s", "floor s", "floor steps/s", "x floor",
                 "reference s", "x reference"], rows))
    for r in results:
        target = {"ppo-8-64x64": 4.0, "a2c-8-64x64": 3.0}.get(r["key"])
        if target is not None:
            print(f"{r['label']}: mazedsl {r['x_floor']:.2f}x the floor (target <= {target:g}x): "
                  f"{'PASS' if r['x_floor'] <= target else 'MISS'}"
                  + (QUICK_TAG if args.quick else ""))
    profiled = args.profile or (cells[:1] if args.quick else [])
    for cell in profiled:
        vec = fastest_vectorization(cell)
        probe = experiment(cell, vec, args.seed, args.threads, 1)
        updates = next((r["updates"] for r in results if r["key"] == cell.key), 2)
        print(f"\n{cell.label.strip()} ({vec}):")
        exp = experiment(cell, vec, args.seed, args.threads, (updates + 2) * update_size(probe))
        print("\n".join(profile(exp, updates, args.top)))
    elapsed = time.perf_counter() - t_start
    print(f"{load_note()} at end; {elapsed:.0f} s in all")
    if json_path is not None:
        doc = run_record("limits.py", argv, threads=args.threads, matmul_peak_flops=peak,
                         matmul_peak_library=library,
                         matmul_peak_flops_start=peak_start, matmul_peak_flops_end=peak_end,
                         repeat=args.repeat, seconds=elapsed, cells=results)
        write_results(json_path, doc, report_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
