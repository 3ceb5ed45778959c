"""mazedsl vs Stable-Baselines3: training speed and time to solve.

    .venv/bin/pip install -e '.[bench]'      # Stable-Baselines3 2.9.2 (optional)
    .venv/bin/python benchmarks/vs_sb3.py     # 10 seeds, PPO and A2C (~3 minutes)
    .venv/bin/python benchmarks/vs_sb3.py --algos dqn,sac --seeds 3 --budget 10000
    .venv/bin/python benchmarks/vs_sb3.py --algos sac --seeds 5 --budget 3000 --json /tmp/v.json
    .venv/bin/python benchmarks/vs_sb3.py --quick   # tiny budgets, to check it runs

DQN runs experiments/cartpole_dqn.py (rl-zoo's CartPole-v1 DQN, solve target 475) and SAC
experiments/pendulum_sac.py (rl-zoo's Pendulum-v1 SAC, target -200); SB3 gets the same
hyperparameters (networks, replay, schedules, train_freq/gradient_steps, target updates).

Both tools train the shipped experiments' hyperparameters (experiments/cartpole_ppo.py,
the rl-baselines3-zoo PPO values, and experiments/cartpole_a2c.py, SB3's A2C defaults with
the zoo's 8 envs) with one torch and BLAS thread (``--threads`` sets another count, the same
for both sides: mazedsl's ``runner.torch_threads`` is set to it), interleaved seed by seed in
this one process. Both run with mazedsl's malloc settings (``tune_malloc``: glibc's trim and
mmap thresholds and top pad raised, so freed memory stays in the process), which are
process-wide: applied once before any run, so the order of the runs does not change them (a
mazedsl DQN/SAC learner would otherwise apply them at its first build, and every later SB3 run
would inherit them). Every 5k env steps (after the update that crosses it) both run a
deterministic 10-episode evaluation on 4 separate envs; a run stops at the first evaluation
with mean return >= 475.

Printed per algorithm, medians over seeds: training env steps/s (wall time minus evaluations, on both sides;
real transitions: mazedsl's reset step after each episode's end, which SB3 does not take, is not counted),
env steps and wall seconds (evaluations included) to the first evaluation >= 475, and
mazedsl's figures divided by SB3's, then the per-seed speed ratios with their geometric mean
and 95% t-interval. Each tool uses its own env stepping: mazedsl gymnasium's native vector
CartPole (its 'auto' choice from 5 envs; DQN's one env steps as a separate env), SB3 its
DummyVecEnv of Monitor-wrapped envs.

A full default run writes benchmarks/results/vs_sb3.json and vs_sb3.txt (the printed report);
any other run writes only where --json says (``make bench`` names
benchmarks/results/vs_sb3-dqn.json and vs_sb3-sac.json).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

from _common import (QUICK_TAG, ArgParser, add_json_option, captured_stdout, choices_list, finite_float,
                     positive_int, quick_defaults, results_path, EvalSink, evolve, fmt, load_note, median,
                     shipped, table, thread_count)
from _matrix import fmt_ratio, is_ppo, pin_threads, ratio_ci, report_header, run_record, write_results

ALGOS = {"ppo": "cartpole_ppo", "a2c": "cartpole_a2c", "dqn": "cartpole_dqn", "sac": "pendulum_sac"}
TARGETS = {"ppo": 475.0, "a2c": 475.0, "dqn": 475.0, "sac": -200.0}
SPEED_TARGETS = {"ppo": 3.0, "a2c": 3.0, "dqn": 2.0, "sac": 2.0}


def sb3_available() -> bool:
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        return False
    return True


# -- mazedsl -------------------------------------------------------------------------------
def _time_evaluations(trainer: Any) -> list[float]:
    """Make ``trainer`` add the seconds its evaluations take to the returned one-item list."""
    spent = [0.0]
    evaluate = trainer.evaluate

    def timed_evaluate(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return evaluate(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t

    trainer.evaluate = timed_evaluate
    return spent


def run_mazedsl(exp: Any, seed: int, target: float, budget: int, eval_every: int,
                eval_episodes: int, threads: int | None = None) -> dict[str, Any]:
    """One mazedsl run on the CPU; ``threads``: its ``runner.torch_threads`` (which the
    Trainer applies to torch and the BLAS pools, process-wide), else the experiment's."""
    from mazedsl.rl.trainer import Trainer

    runner = evolve(exp.runner, device="cpu",
                    **({} if threads is None else {"torch_threads": threads}))
    exp = evolve(exp, seed=seed, eval_every_steps=eval_every, eval_episodes=eval_episodes,
                 target_return=target, patience=None, runner=runner)
    sink = EvalSink()
    trainer = Trainer(exp, sink=sink)
    eval_time = _time_evaluations(trainer)
    sink.t0 = t0 = time.perf_counter()
    trainer.train(total_steps=budget)
    wall = time.perf_counter() - t0
    solved = sink.first_reaching(target)
    trainer.close()
    # wall time minus evaluations, as SB3's figure below (the trainer's own bookkeeping,
    # progress and final checkpoint included)
    # steps/s counts real transitions (less the reset step after each episode's end, which
    # SB3's DummyVecEnv takes inside the step that ends it), as SB3's timesteps
    return {"steps_per_s": trainer.built.env_loop.transitions / (wall - eval_time[0]),
            "steps": trainer.steps,
            "solve_steps": solved[0] if solved else None, "solve_wall": solved[1] if solved else None}


# -- Stable-Baselines3 ---------------------------------------------------------------------
def _schedule(value: float, kind: str) -> Any:
    if kind == "linear":
        return lambda progress_remaining: value * progress_remaining
    return value


def _sb3_offpolicy(exp: Any, seed: int, env: Any, activations: dict[str, Any]) -> Any:
    """SB3's DQN or SAC with the experiment's hyperparameters."""
    from stable_baselines3 import DQN as SB3DQN
    from stable_baselines3 import SAC as SB3SAC

    algo, model = exp.algorithm, exp.model
    act = activations[str(model.activation).split(".")[-1].lower()]
    common = dict(learning_rate=_schedule(algo.lr, algo.lr_schedule), buffer_size=algo.buffer_size,
                  learning_starts=algo.learning_starts, batch_size=algo.batch_size, tau=algo.tau,
                  gamma=algo.gamma, train_freq=algo.train_freq, gradient_steps=algo.gradient_steps,
                  target_update_interval=algo.target_update_interval, seed=seed, device="cpu",
                  verbose=0)
    if type(algo).__name__ == "DQN":
        return SB3DQN("MlpPolicy", env, exploration_fraction=algo.exploration_fraction,
                      exploration_initial_eps=algo.exploration_initial_eps,
                      exploration_final_eps=algo.exploration_final_eps,
                      max_grad_norm=algo.max_grad_norm,
                      policy_kwargs={"net_arch": list(model.hidden_units), "activation_fn": act},
                      **common)
    ent = "auto" if algo.ent_coef is None else algo.ent_coef
    if algo.ent_coef is None and algo.ent_coef_init != 1.0:
        ent = f"auto_{algo.ent_coef_init}"
    return SB3SAC("MlpPolicy", env, ent_coef=ent,
                  target_entropy="auto" if algo.target_entropy is None else algo.target_entropy,
                  policy_kwargs={"net_arch": {"pi": list(model.hidden_units),
                                              "qf": list(exp.critic.hidden_units)},
                                 "activation_fn": act}, **common)


def _sb3_model(exp: Any, seed: int) -> Any:
    import torch
    from stable_baselines3 import A2C as SB3A2C
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.env_util import make_vec_env

    algo, model, critic = exp.algorithm, exp.model, exp.critic
    activations = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU,
                   "gelu": torch.nn.GELU, "silu": torch.nn.SiLU}
    if type(algo).__name__ in ("DQN", "SAC"):
        env = make_vec_env(exp.env.name, n_envs=exp.runner.n_envs, seed=seed)
        return _sb3_offpolicy(exp, seed, env, activations)
    policy_kwargs: dict[str, Any] = {
        "net_arch": {"pi": list(model.hidden_units), "vf": list(critic.hidden_units)},
        "activation_fn": activations[model.activation], "ortho_init": model.ortho_init}
    env = make_vec_env(exp.env.name, n_envs=exp.runner.n_envs, seed=seed)
    common = dict(gamma=algo.gamma, gae_lambda=algo.gae_lambda, ent_coef=algo.ent_coef,
                  vf_coef=algo.vf_coef, max_grad_norm=algo.max_grad_norm, n_steps=algo.n_steps,
                  normalize_advantage=algo.normalize_advantage, seed=seed, device="cpu", verbose=0,
                  learning_rate=_schedule(algo.lr, algo.lr_schedule))
    if is_ppo(algo):
        policy_kwargs["optimizer_kwargs"] = {"eps": algo.adam_eps}
        return SB3PPO("MlpPolicy", env, batch_size=algo.batch_size, n_epochs=algo.n_epochs,
                      clip_range=_schedule(algo.clip_range, algo.clip_schedule),
                      clip_range_vf=algo.clip_range_vf, target_kl=algo.target_kl,
                      policy_kwargs=policy_kwargs, **common)
    return SB3A2C("MlpPolicy", env, use_rms_prop=algo.optimizer == "rmsprop", rms_prop_eps=algo.eps,
                  policy_kwargs=policy_kwargs, **common)


def run_sb3(exp: Any, seed: int, target: float, budget: int, eval_every: int,
            eval_episodes: int) -> dict[str, Any]:
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    model = _sb3_model(exp, seed)
    eval_env = make_vec_env(exp.env.name, n_envs=exp.runner.n_eval_envs, seed=seed + 10_000)

    class EvalStop(BaseCallback):
        """Evaluates after the update that crosses each ``eval_every`` (as mazedsl), and
        stops at the first mean return >= target; keeps the evaluation time."""

        def __init__(self) -> None:
            super().__init__()
            self.next_eval = eval_every
            self.eval_time = 0.0
            self.solved: tuple[int, float] | None = None
            self.t0 = 0.0

        def _evaluate(self) -> None:
            t = time.perf_counter()
            mean, _ = evaluate_policy(self.model, eval_env, n_eval_episodes=eval_episodes,
                                      deterministic=True)
            now = time.perf_counter()
            self.eval_time += now - t
            while self.next_eval <= self.num_timesteps:
                self.next_eval += eval_every
            if self.solved is None and mean >= target:
                self.solved = (self.num_timesteps, now - self.t0)

        def _on_rollout_start(self) -> None:
            if self.solved is None and self.num_timesteps >= self.next_eval:
                self._evaluate()

        def _on_step(self) -> bool:
            return self.solved is None and self.num_timesteps < budget

        def _on_training_end(self) -> None:
            if self.solved is None and self.num_timesteps >= self.next_eval:
                self._evaluate()

    cb = EvalStop()
    cb.t0 = t0 = time.perf_counter()
    model.learn(total_timesteps=exp.total_steps, callback=cb)  # the schedules' horizon
    wall = time.perf_counter() - t0
    model.get_env().close()
    eval_env.close()
    return {"steps_per_s": model.num_timesteps / (wall - cb.eval_time), "steps": model.num_timesteps,
            "solve_steps": cb.solved[0] if cb.solved else None,
            "solve_wall": cb.solved[1] if cb.solved else None}


# -- driver --------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = ArgParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=positive_int, default=10,
                        help="seeds 0..N-1 (default 10: steps to solve vary a lot between seeds)")
    parser.add_argument("--algos", type=choices_list(tuple(ALGOS)), default=["ppo", "a2c"],
                        help="comma-separated: ppo, a2c, dqn, sac")
    parser.add_argument("--target", type=finite_float, default=None,
                        help="solve threshold (default: 475 on CartPole, -200 on Pendulum)")
    parser.add_argument("--eval-every", type=positive_int, default=5_000, help="env steps between evaluations")
    parser.add_argument("--eval-episodes", type=positive_int, default=10)
    parser.add_argument("--budget", type=positive_int, default=None,
                        help="env step cap per run (default: the experiment's total_steps, which "
                             "also sets the linear schedules)")
    parser.add_argument("--no-sb3", action="store_true", help="mazedsl only")
    parser.add_argument("--threads", type=thread_count, default=1,
                        help="torch and BLAS threads, the same for both tools (default 1)")
    add_json_option(parser, "vs_sb3")
    parser.add_argument("--quick", action="store_true",
                        help="tiny budgets (1 seed, 2k steps, evaluation every 1k of 2 episodes, any "
                             "evaluation reaches the target; options given explicitly win): checks "
                             "that the script runs, measures nothing useful")
    args = parser.parse_args(argv)
    json_path = results_path(parser, args, "vs_sb3")
    if args.quick:
        quick_defaults(parser, args, argv, seeds=1, eval_every=1_000, eval_episodes=2, budget=2_000)
    with captured_stdout() as report:
        return run(args, json_path, report.text, argv)


def run(args: Any, json_path: Path | None, report_text: Callable[[], str], argv: list[str] | None) -> int:
    """Every seed of every algorithm, both tools interleaved, the table (and the results files)."""
    from mazedsl.rl.algos._offpolicy import tune_malloc

    def target_of(algo: str) -> float:
        if args.target is not None:
            return args.target
        if args.quick:  # any evaluation counts
            return -1e4 if algo == "sac" else 0.0
        return TARGETS[algo]

    pin_threads(args.threads)
    # process-wide: set before any run, for both tools (not at the first mazedsl DQN/SAC build)
    malloc_tuned = tune_malloc()
    use_sb3 = not args.no_sb3 and sb3_available()
    algos = args.algos
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    malloc = ("mazedsl's malloc settings (tune_malloc: glibc trim/mmap thresholds and top pad raised) "
              "applied for both tools, process-wide, before any run" if malloc_tuned
              else "mazedsl's malloc settings not applied (not glibc)")
    report_header(f"mazedsl vs Stable-Baselines3 ({', '.join(ALGOS[a] for a in algos if a in ALGOS)})",
                  args.threads, f"; {malloc}")
    for seed in range(args.seeds):
        for algo in algos:
            exp = shipped(ALGOS[algo])
            budget = args.budget or exp.total_steps
            order = ["mazedsl", "sb3"] if seed % 2 == 0 else ["sb3", "mazedsl"]
            for tool in order:
                if tool == "sb3" and not use_sb3:
                    continue
                if tool == "mazedsl":
                    res = run_mazedsl(exp, seed, target_of(algo), budget, args.eval_every, args.eval_episodes,
                                      threads=args.threads)
                else:
                    res = run_sb3(exp, seed, target_of(algo), budget, args.eval_every, args.eval_episodes)
                results.setdefault((algo, tool), []).append(res)
                print(f"  {algo.upper()} {tool:7s} seed {seed}: {res['steps_per_s']:8,.0f} steps/s, "
                      f"reached {target_of(algo):g} at {fmt(res['solve_steps'])} steps / "
                      f"{fmt(res['solve_wall'], 1)} s", file=sys.stderr, flush=True)

    rows = []
    verdicts = []
    summary: dict[str, Any] = {}
    tag = QUICK_TAG if args.quick else ""
    for algo in algos:
        med: dict[str, dict[str, Any]] = {}
        doc: dict[str, Any] = {"experiment": ALGOS[algo], "target": target_of(algo),
                               "budget": args.budget or shipped(ALGOS[algo]).total_steps,
                               "seeds": list(range(args.seeds))}
        summary[algo] = doc
        for tool in ("mazedsl", "sb3"):
            runs = results.get((algo, tool))
            label = f"{algo.upper()} {'mazedsl' if tool == 'mazedsl' else 'SB3'}"
            if not runs:
                rows.append([label, "not installed", "n/a", "n/a", "n/a", f"{target_of(algo):g}"])
                continue
            med[tool] = {k: median(r[k] for r in runs) for k in ("steps_per_s", "solve_steps", "solve_wall")}
            solved = sum(r["solve_steps"] is not None for r in runs)
            doc[tool] = {"steps_per_s": [r["steps_per_s"] for r in runs], "runs": runs,
                         "medians": med[tool], "solved": solved}
            rows.append([label, fmt(med[tool]["steps_per_s"]), fmt(med[tool]["solve_steps"]),
                         fmt(med[tool]["solve_wall"], 2), f"{solved}/{len(runs)}",
                         f"{target_of(algo):g}"])
        if len(med) == 2:
            def ratio(key: str) -> float | None:
                a, b = med["mazedsl"][key], med["sb3"][key]
                return None if a is None or b is None or b == 0 else a / b
            r_speed, r_steps, r_wall = ratio("steps_per_s"), ratio("solve_steps"), ratio("solve_wall")
            rows.append([f"{algo.upper()} mazedsl/SB3", fmt(r_speed, 2, "x"), fmt(r_steps, 2, "x"),
                         fmt(r_wall, 2, "x"), "", ""])
            pairs = zip(results[(algo, "mazedsl")], results[(algo, "sb3")])
            per_seed = [m["steps_per_s"] / s["steps_per_s"] for m, s in pairs]
            ci = ratio_ci(per_seed)
            doc["median_ratios"] = {"steps_per_s": r_speed, "solve_steps": r_steps, "solve_wall": r_wall}
            doc["speed_ratio"] = {"per_seed": per_seed, "geomean": ci[0], "ci95": [ci[1], ci[2]]}
            mean, interval = fmt_ratio(ci)
            verdicts.append(f"{algo.upper()}: per-seed training speed ratios "
                            f"{', '.join(f'{r:.2f}' for r in per_seed)}; geometric mean {mean}, "
                            f"95% CI {interval}")
            want = SPEED_TARGETS[algo]
            verdicts.append(f"{algo.upper()}: training speed {fmt(r_speed, 2, 'x')} SB3's "
                            f"(target >= {want:g}x): "
                            f"{'PASS' if r_speed is not None and r_speed >= want else 'MISS'}{tag}")
            if algo == "ppo":
                verdicts.append(f"PPO: wall time to solve {fmt(r_wall, 2, 'x')} SB3's "
                                "(target <= 0.33x): "
                                f"{'PASS' if r_wall is not None and r_wall <= 1 / 3 else 'MISS'}{tag}")
    print()
    print(f"Medians over {args.seeds} seed(s); target: deterministic {args.eval_episodes}-episode "
          f"evaluation >= the target, evaluated every {args.eval_every:,} env steps")
    print(table(["run", "train steps/s", "steps to target", "wall s to target", "solved", "target"],
                rows))
    if not use_sb3 and not args.no_sb3:
        print("Stable-Baselines3 is not installed: pip install -e '.[bench]' for the comparison")
    for v in verdicts:
        print(v)
    print(f"{load_note()} at end")
    if json_path is not None:
        options = {"seeds": args.seeds, "algos": algos, "target": args.target, "eval_every": args.eval_every,
                   "eval_episodes": args.eval_episodes, "budget": args.budget, "threads": args.threads,
                   "sb3": use_sb3, "quick": args.quick, "malloc_tuned": malloc_tuned}
        write_results(json_path, run_record("vs_sb3.py", argv, options=options, algos=summary),
                      report_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
