"""How close mazedsl's training loop runs to the machine's floor for the same work.

    .venv/bin/python benchmarks/limits.py            # PPO and A2C on CartPole-v1 (~2 minutes)
    .venv/bin/python benchmarks/limits.py --quick    # tiny budgets, to check it runs

For a shipped experiment (default: experiments/cartpole_ppo.py and cartpole_a2c.py, no
evaluation), it times mazedsl's training (``Trainer.train_time``) and, for the very same
work, three bare floors measured in the same process, interleaved with the training runs:

- env stepping: the same vector env (built as the Trainer builds it) stepped with random
  actions drawn beforehand, for the same number of vector steps;
- policy forward: the policy's torch modules called on a batch of ``n_envs`` observations
  under ``torch.inference_mode``, once per vector step;
- torch update: the same model as plain ``nn.Sequential`` modules, the algorithm's loss,
  ``backward()`` and the fastest stock optimiser step (fused Adam / foreach RMSprop), for
  the same number of samples, minibatches and epochs as the training run's updates.

It prints mazedsl's training time as a multiple of the floors' sum, where mazedsl's time
goes (phases timed by wrapping the Trainer's methods) and the top functions of a cProfile
run of the same training.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from typing import Any

import numpy as np

from _common import ROOT, evolve, fmt, load_note, median, shipped, table, versions


def _experiment(name: str, steps: int, seed: int) -> Any:
    return evolve(shipped(name), seed=seed, total_steps=steps, eval_every_steps=0,
                  eval_episodes=1, log_every_steps=10 ** 9, checkpoint_every_steps=10 ** 9)


# -- mazedsl ---------------------------------------------------------------------------------
def train_time(exp: Any) -> float:
    from mazedsl.rl.trainer import Trainer

    trainer = Trainer(exp)
    trainer.train()
    trainer.close()
    return trainer.train_time


def instrumented(exp: Any) -> tuple[float, dict[str, float], list[int], int]:
    """A training run with its phases timed; returns (train time, phase seconds, the number
    of samples of each update, vector steps)."""
    import mazedsl.rl.trainer as trainer_mod
    from mazedsl.rl.trainer import Trainer

    phases: dict[str, float] = {"rollout": 0.0, "env": 0.0, "gae": 0.0, "batch": 0.0, "update": 0.0}
    sizes: list[int] = []
    trainer = Trainer(exp)

    def timing(name: str, fn: Any) -> Any:
        def wrapped(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                phases[name] += time.perf_counter() - t0
        return wrapped

    def batch() -> Any:
        b = batch_fn()
        sizes.append(int(b["obs"].shape[0]))
        return b

    batch_fn = trainer.buffer.batch
    trainer.buffer.batch = timing("batch", batch)  # type: ignore[method-assign]
    trainer.buffer.compute_gae = timing("gae", trainer.buffer.compute_gae)  # type: ignore[method-assign]
    trainer._collect = timing("rollout", trainer._collect)  # type: ignore[method-assign]
    trainer.venv.step = timing("env", trainer.venv.step)  # type: ignore[method-assign]
    saved = trainer_mod.ppo_update, trainer_mod.a2c_update
    trainer_mod.ppo_update = timing("update", trainer_mod.ppo_update)
    trainer_mod.a2c_update = timing("update", trainer_mod.a2c_update)
    try:
        trainer.train()
    finally:
        trainer_mod.ppo_update, trainer_mod.a2c_update = saved
    trainer.close()
    vec_steps = trainer.steps // exp.runner.n_envs
    return trainer.train_time, phases, sizes, vec_steps


def profiled(exp: Any, top: int) -> list[tuple[str, float, float, int]]:
    """(function, tottime share, cumtime share, calls) of the top functions by own time."""
    from mazedsl.rl.trainer import Trainer

    trainer = Trainer(exp)
    prof = cProfile.Profile()
    prof.enable()
    trainer.train()
    prof.disable()
    trainer.close()
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = file.split("site-packages/")[-1].replace(str(ROOT) + "/", "") if file != "~" else ""
        label = f"{name} ({where}:{line})" if where else name
        rows.append((label, tt / total, ct / total, nc))
    rows.sort(key=lambda r: -r[1])
    return rows[:top]


# -- floors ----------------------------------------------------------------------------------
def floor_env(exp: Any, vec_steps: int) -> float:
    from mazedsl.rl.envs import make_vector_env

    venv = make_vector_env(exp.env, exp.wrappers, exp.runner.n_envs, exp.runner.vectorization)
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


def _plain_nets(exp: Any, obs_dim: int, n_out: int) -> tuple[Any, Any]:
    from torch import nn

    acts = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU, "silu": nn.SiLU}

    def mlp(hidden: list[int], act: str, out: int) -> nn.Module:
        layers: list[nn.Module] = []
        d = obs_dim
        for h in hidden:
            layers += [nn.Linear(d, h), acts[act]()]
            d = h
        return nn.Sequential(*layers, nn.Linear(d, out))

    return (mlp(exp.model.hidden_units, exp.model.activation, n_out),
            mlp(exp.critic.hidden_units, exp.critic.activation, 1))


def _spaces(exp: Any) -> tuple[int, int, bool]:
    from mazedsl.rl.envs import make_vector_env
    from mazedsl.rl.spaces import flat_dim

    venv = make_vector_env(exp.env, exp.wrappers, 1, exp.runner.vectorization)
    obs_dim = flat_dim(venv.single_observation_space)
    space = venv.single_action_space
    venv.close()
    discrete = hasattr(space, "n") and not hasattr(space, "low")
    return obs_dim, int(space.n) if discrete else int(space.shape[0]), discrete


def floor_forward(exp: Any, vec_steps: int) -> float:
    import torch

    obs_dim, n_out, _ = _spaces(exp)
    pi, vf = _plain_nets(exp, obs_dim, n_out)
    x = torch.randn(exp.runner.n_envs, obs_dim)
    with torch.inference_mode():
        t0 = time.perf_counter()
        for _ in range(vec_steps):
            pi(x)
            vf(x)
        return time.perf_counter() - t0


def floor_update(exp: Any, sizes: list[int]) -> float:
    import torch
    from torch.nn import functional as F

    from mazedsl import PPO

    algo = exp.algorithm
    obs_dim, n_out, discrete = _spaces(exp)
    pi, vf = _plain_nets(exp, obs_dim, n_out)
    params = list(pi.parameters()) + list(vf.parameters())
    log_std = torch.zeros(n_out, requires_grad=True)
    if not discrete:
        params.append(log_std)
    if isinstance(algo, PPO) or algo.optimizer == "adam":
        eps = algo.adam_eps if isinstance(algo, PPO) else algo.eps
        try:
            opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=algo.lr, eps=eps, fused=True)
        except (RuntimeError, ValueError, TypeError):  # pragma: no cover - older torch
            opt = torch.optim.Adam(params, lr=algo.lr, eps=eps, foreach=True)
    else:
        opt = torch.optim.RMSprop(params, lr=algo.lr, alpha=algo.rms_alpha, eps=algo.eps, foreach=True)
    n_max = max(sizes) if sizes else 1
    obs = torch.randn(n_max, obs_dim)
    actions = torch.randint(0, n_out, (n_max,)) if discrete else torch.randn(n_max, n_out)
    old_logp = torch.full((n_max,), -0.7)
    adv, ret = torch.randn(n_max), torch.randn(n_max)

    def logp_of(out: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        if discrete:
            return torch.log_softmax(out, -1).gather(-1, act.unsqueeze(-1)).squeeze(-1)
        z = (act - out) * torch.exp(-log_std)
        return (-0.5 * z.pow(2) - log_std).sum(-1)

    def step(o: torch.Tensor, a: torch.Tensor, lp: torch.Tensor, ad: torch.Tensor, r: torch.Tensor) -> None:
        out, v = pi(o), vf(o).squeeze(-1)
        logp = logp_of(out, a)
        if isinstance(algo, PPO):
            ratio = (logp - lp).exp()
            eps_c = algo.clip_range
            policy_loss = -torch.min(ad * ratio, ad * ratio.clamp(1 - eps_c, 1 + eps_c)).mean()
        else:
            policy_loss = -(ad * logp).mean()
        loss = policy_loss + algo.vf_coef * F.mse_loss(v, r)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    t0 = time.perf_counter()
    for n in sizes:
        if not isinstance(algo, PPO):
            step(obs[:n], actions[:n], old_logp[:n], adv[:n], ret[:n])
            continue
        bs = algo.batch_size
        for _ in range(algo.n_epochs):
            if n <= bs:
                step(obs[:n], actions[:n], old_logp[:n], adv[:n], ret[:n])
                continue
            perm = torch.randperm(n)
            for s in range(0, n, bs):
                idx = perm[s:s + bs]
                step(obs[idx], actions[idx], old_logp[idx], adv[idx], ret[idx])
    return time.perf_counter() - t0


# -- driver ----------------------------------------------------------------------------------
def measure(name: str, steps: int, repeat: int, top: int, seed: int) -> tuple[list[list[str]], list[str]]:
    exp = _experiment(name, steps, seed)
    instr_e, phases, sizes, vec_steps = instrumented(exp)  # also warms up
    engine, env_t, fwd_t, upd_t = [], [], [], []
    for _ in range(repeat):  # interleaved, so load changes hit all parts alike
        engine.append(train_time(exp))
        env_t.append(floor_env(exp, vec_steps))
        fwd_t.append(floor_forward(exp, vec_steps))
        upd_t.append(floor_update(exp, sizes))
    e, fe, ff, fu = (median(v) for v in (engine, env_t, fwd_t, upd_t))
    assert e is not None and fe is not None and ff is not None and fu is not None
    floor = fe + ff + fu
    n_steps = vec_steps * exp.runner.n_envs
    label = name.replace("cartpole_", "").upper()
    rows = [
        [f"{label} floor: env stepping", fmt(fe, 3), fmt(n_steps / fe), ""],
        [f"{label} floor: policy forward", fmt(ff, 3), fmt(n_steps / ff), ""],
        [f"{label} floor: torch update", fmt(fu, 3), fmt(n_steps / fu), ""],
        [f"{label} floor: sum", fmt(floor, 3), fmt(n_steps / floor), "1.00x"],
        [f"{label} mazedsl training", fmt(e, 3), fmt(n_steps / e), fmt(e / floor, 2, "x")],
    ]
    total = sum(phases[k] for k in ("rollout", "gae", "batch", "update"))
    scale = e / instr_e  # the instrumented run's phases, scaled to the timed runs' median
    other = max(instr_e - total, 0.0) * scale
    share = [
        ("env stepping (inside rollouts)", phases["env"]),
        ("rollout: inference, sampling, bookkeeping", phases["rollout"] - phases["env"]),
        ("GAE", phases["gae"]),
        ("batch assembly", phases["batch"]),
        ("updates (forward, loss, backward, clip, optimiser, stats)", phases["update"]),
    ]
    lines = [f"{label}: {n_steps:,} env steps in {len(sizes)} updates; mazedsl "
             f"{fmt(e / floor, 2, 'x')} the floor (target <= 1.5x): "
             f"{'PASS' if e / floor <= 1.5 else 'MISS'}",
             f"  where mazedsl's {e:.3f} s go:"]
    for what, secs in share:
        lines.append(f"    {what:58s} {secs * scale:7.3f} s  {secs * scale / e:6.1%}")
    lines.append(f"    {'train loop, logging, schedules':58s} {other:7.3f} s  {other / e:6.1%}")
    lines.append(f"    updates vs the bare torch update floor: {phases['update'] * scale / fu:.2f}x; "
                 f"rollouts vs env + forward floors: "
                 f"{phases['rollout'] * scale / (fe + ff):.2f}x")
    if top:
        lines.append(f"  top {top} functions by own time (cProfile, which inflates Python-heavy parts):")
        for label_, tt, ct, nc in profiled(exp, top):
            lines.append(f"    {tt:6.1%} own {ct:6.1%} cum {nc:8,d} calls  {label_[:90]}")
    return rows, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", default="cartpole_ppo,cartpole_a2c",
                        help="comma-separated shipped experiment names")
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per training run")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (medians)")
    parser.add_argument("--top", type=int, default=12, help="profile lines (0: no profile)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny budgets: checks that it runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.repeat, args.top = 2_048, 1, 5

    import torch

    torch.set_num_threads(1)
    print(f"mazedsl training vs the floor for the same work; {versions()}", flush=True)
    print(f"{load_note()} at start", flush=True)
    rows: list[list[str]] = []
    notes: list[str] = []
    for name in [n.strip() for n in args.experiments.split(",") if n.strip()]:
        r, n = measure(name, args.steps, args.repeat, args.top, args.seed)
        rows += r
        notes += n
    print()
    print(f"Medians of {args.repeat} interleaved repetition(s)")
    print(table(["part", "seconds", "env steps/s", "x floor"], rows))
    print()
    print("\n".join(notes))
    print(f"{load_note()} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
