"""Leftovers of a new-user pass: ``train(total_steps=N)`` is the run's budget, the summary's
time is the run's in all, BC's iteration size is said, and messages that fit their case."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces

from mazedsl import A2C, BC, DQN, PPO, SAC, Experiment, RunContext
from mazedsl.errors import ConfigError
from mazedsl.run import iter_metrics
from mazedsl.spec import GymEnv, Runner, StateCritic, VectorObs

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
TIMING = ("time", "steps_per_s")
SMALL = VectorObs(hidden_units=[16, 16])


def untimed(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in iter_metrics(run_dir / "metrics.jsonl")]


def info(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


@pytest.fixture(scope="module")
def expert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A barely trained PPO CartPole run with 3 recorded episodes (BC's data)."""
    d = tmp_path_factory.mktemp("expert") / "ppo"
    ctx = RunContext(Experiment(name="ppo_expert", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1),
                                runner=Runner(n_envs=2), total_steps=64, eval_every_steps=0,
                                eval_episodes=1), run_dir=d, silent=True)
    ctx.train()
    ctx.rollout(n_episodes=3)
    return d


def tiny(algo: str, expert: Path | None = None, **changes) -> Experiment:
    """A tiny experiment of ``algo`` whose schedules (linear lr, epsilon) follow its budget."""
    algorithm = {
        "ppo": lambda: PPO(n_steps=16, batch_size=32, n_epochs=1, lr_schedule="linear"),
        "a2c": lambda: A2C(n_steps=8, lr_schedule="linear"),
        "dqn": lambda: DQN(buffer_size=256, learning_starts=32, batch_size=16, train_freq=8,
                           gradient_steps=1, exploration_fraction=0.5, lr_schedule="linear"),
        "sac": lambda: SAC(buffer_size=256, learning_starts=32, batch_size=16, train_freq=8,
                           gradient_steps=1, lr_schedule="linear"),
        "bc": lambda: BC(episodes=[str(expert)], batch_size=16, steps_per_iteration=32),
    }[algo]()
    base = dict(name=f"{algo}_tiny", env=GymEnv(name="Pendulum-v1" if algo == "sac" else "CartPole-v1"),
                model=SMALL, critic=StateCritic(hidden_units=[16, 16]), algorithm=algorithm,
                runner=Runner(n_envs=1 if algo in ("sac", "bc") else 2), total_steps=4096,
                eval_every_steps=64, eval_episodes=1, log_every_steps=32, checkpoint_every_steps=64)
    base.update(changes)
    return Experiment(**base)


# -- A: train(total_steps=N) on a new run is its budget -------------------------------------------
@pytest.mark.parametrize("algo", ["ppo", "a2c", "dqn", "sac", "bc"])
def test_train_total_steps_on_a_new_run_is_its_budget(tmp_path: Path, expert: Path, algo: str) -> None:
    given, declared = tmp_path / "given", tmp_path / "declared"
    summary = RunContext(tiny(algo, expert), run_dir=given, silent=True).train(total_steps=128)
    RunContext(tiny(algo, expert, total_steps=128), run_dir=declared, silent=True).train()
    # the schedules (lr, epsilon) and everything logged: as if the experiment declared 128
    assert untimed(given) == untimed(declared)
    assert any("lr" in r for r in untimed(given))
    recorded = info(given)
    assert recorded["total_steps"] == recorded["steps"] == summary.steps == 128
    assert recorded["status"] == "finished" and recorded["stopped"] == summary.stopped == "budget"
    assert "total_steps: 128" in (given / "config.yaml").read_text()
    assert "total_steps=128" in (given / "overrides.yaml").read_text()
    # a finished run stays finished: a resume without a larger budget trains nothing
    again = RunContext.load(given, checkpoint="last", silent=True).train()
    assert again.steps == 128 and untimed(given) == untimed(declared)
    assert info(given)["status"] == "finished"


def test_dqn_epsilon_follows_the_budget_given_to_train(tmp_path: Path) -> None:
    RunContext(tiny("dqn"), run_dir=tmp_path / "r", silent=True).train(total_steps=256)
    train = [r for r in iter_metrics(tmp_path / "r" / "metrics.jsonl") if r["phase"] == "train"]
    assert train[-1]["epsilon"] == pytest.approx(DQN().exploration_final_eps)  # not 4096's schedule


def test_a_second_train_call_continues_to_its_new_budget(tmp_path: Path) -> None:
    run = tmp_path / "r"
    ctx = RunContext(tiny("ppo"), run_dir=run, silent=True)
    assert ctx.train(total_steps=64).steps == 64
    assert ctx.train(total_steps=128).steps == 128  # as set_total_steps: the budget is now 128
    assert info(run)["total_steps"] == 128 and info(run)["status"] == "finished"
    assert "total_steps: 128" in (run / "config.yaml").read_text()
    assert "resumed:\n- total_steps=128" in (run / "overrides.yaml").read_text()
    lrs = [r["lr"] for r in iter_metrics(run / "metrics.jsonl") if r["phase"] == "train"]
    assert lrs[-1] == pytest.approx(PPO().lr * (1 - 96 / 128), rel=1e-4)  # the update at 96 of 128
    assert ctx.train(total_steps=64).steps == 128  # a budget already reached: nothing changes
    assert info(run)["total_steps"] == 128


def test_a_bad_budget_given_to_train_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^total_steps: must be > 0, got 0$"):
        RunContext(tiny("ppo"), run_dir=tmp_path / "r", silent=True).train(total_steps=0)
    assert not (tmp_path / "r").exists()


def test_n_epochs_short_of_the_budget_leaves_the_run_to_resume(tmp_path: Path) -> None:
    run = tmp_path / "r"
    summary = RunContext(tiny("ppo", total_steps=128), run_dir=run, silent=True).train(n_epochs=2)
    assert summary.stopped == "epochs" and summary.steps == 64
    assert (info(run)["status"], info(run)["stopped"], info(run)["total_steps"]) == ("interrupted", "epochs", 128)
    assert RunContext.load(run, checkpoint="last", silent=True).train().steps == 128
    assert (info(run)["status"], info(run)["stopped"]) == ("finished", "budget")


# -- B: after a resume, the steps and the time are the run's in all ---------------------------------
def test_the_resumed_summary_pairs_all_steps_with_all_training_time(tmp_path: Path) -> None:
    run = tmp_path / "r"
    RunContext(tiny("ppo", total_steps=8192, eval_every_steps=0, log_every_steps=1024,
                    checkpoint_every_steps=8192), run_dir=run, silent=True).train()
    first = max(r["time"] for r in iter_metrics(run / "metrics.jsonl"))  # the training clock so far
    proc = subprocess.run([str(BIN / "mazedsl"), "train", "--resume", str(run), "total_steps=8224"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    line = re.search(r"trained (\d+) steps in ([\d.]+) s \(budget\)", proc.stdout)
    assert line and int(line[1]) == 8224
    seconds = float(line[2])
    assert round(first, 1) <= seconds <= info(run)["train_seconds"] + 0.05
    summary = RunContext.load(run, checkpoint="last", silent=True).train(total_steps=8256)
    assert first <= summary.wall_time <= info(run)["train_seconds"]


# -- C: BC's iteration size ------------------------------------------------------------------------
def test_bc_says_how_many_samples_an_iteration_uses(tmp_path: Path, expert: Path, capsys) -> None:
    exp = tiny("bc", expert, total_steps=100, eval_every_steps=50, log_every_steps=50)
    RunContext(exp.override({"algorithm.steps_per_iteration": 40}), run_dir=tmp_path / "a").train()
    note = ("note: each iteration trains on 32 samples: algorithm.steps_per_iteration 40 rounds "
            "down to whole minibatches of algorithm.batch_size 16")
    assert note in capsys.readouterr().err and note in (tmp_path / "a" / "train.log").read_text()
    assert [r["step"] for r in iter_metrics(tmp_path / "a" / "metrics.jsonl") if r["phase"] == "eval"] == [64, 100]
    RunContext(exp.override({"algorithm.steps_per_iteration": 8}), run_dir=tmp_path / "b").train()
    assert "algorithm.steps_per_iteration 8 rounds up to" in capsys.readouterr().err
    RunContext(exp, run_dir=tmp_path / "c").train()  # 32: two whole minibatches, no note
    assert "note: each iteration" not in capsys.readouterr().err


# -- D: messages -----------------------------------------------------------------------------------
def test_sac_on_actions_it_cannot_take_gets_advice_that_fits() -> None:
    from mazedsl.rl.algos.sac.networks import check_box

    with pytest.raises(ConfigError) as unbounded:
        check_box(spaces.Box(-np.inf, np.inf, (2,), np.float32))
    assert "Box(-inf, inf, (2,), float32)" in str(unbounded.value)
    assert "discrete" not in str(unbounded.value) and "finite" in str(unbounded.value)
    with pytest.raises(ConfigError, match=r"got Discrete\(2\); use DQN or PPO for discrete actions$"):
        check_box(spaces.Discrete(2))


def test_a_buffer_smaller_than_a_batch_names_the_changed_field_and_its_origin(capsys) -> None:
    from mazedsl.cli.main import main

    code = main(["train", str(ROOT / "experiments" / "pendulum_sac.py"), "algorithm.buffer_size=10"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "error: algorithm.buffer_size: 10 is smaller than one batch (algorithm.batch_size 256): "
        "each gradient step samples a batch from the replay buffer (from override "
        "'algorithm.buffer_size=10')")
    code = main(["train", str(ROOT / "experiments" / "pendulum_sac.py"), "algorithm.batch_size=2000000"])
    assert code == 2 and capsys.readouterr().err.strip() == (
        "error: algorithm.batch_size: 2000000 is larger than the replay buffer (algorithm.buffer_size "
        "1000000) (from override 'algorithm.batch_size=2000000')")


def test_a_recorded_episode_keeps_the_seed_that_replays_it(tmp_path: Path, expert: Path) -> None:
    ctx = RunContext.load(expert, checkpoint="last", silent=True)
    with np.load(expert / "rollouts" / "episode_002.npz") as recorded:
        seed = int(recorded["seed"])
        actions, observations = recorded["actions"], recorded["observations"]
    assert seed == ctx.experiment.seed + 2_000_003 + 2  # the default sequence, after episode 1's
    (again,) = ctx.rollout(n_episodes=1, seed=seed, record=False)
    assert again.seed == seed
    assert np.array_equal(np.asarray(again.actions), actions)
    assert np.array_equal(np.stack(again.observations), observations)


@pytest.mark.parametrize("n, text", [(1, "over 1 episode\n"), (2, "over 2 episodes\n")])
def test_the_episode_count_is_singular_for_one(n: int, text: str, capsys) -> None:
    from mazedsl.cli.output import print_eval
    from mazedsl.rl.episodes import EvalResult

    print_eval("rollout", EvalResult([1.0] * n, [3] * n).summary())
    assert capsys.readouterr().out.endswith(text)
