"""Leftovers of a second new-user pass over DQN, SAC and BC: recorded episodes that are no
episodes are refused in one line (never an internal error), BC keeps Box actions within
the env's bounds and takes path objects, SB3's ``ent_coef='auto'`` spelling is answered,
and a run stopped short by ``train(n_epochs=K)`` resumes to an uninterrupted run's metrics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces

from mazedsl import BC, SAC, RunContext, load_experiment
from mazedsl.errors import ConfigError
from mazedsl.rl.algos.bc.data import load_episodes
from mazedsl.run import iter_metrics

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
CARTPOLE_OBS = spaces.Box(-np.inf, np.inf, (4,), np.float32)
PENDULUM_OBS = spaces.Box(np.array([-1, -1, -8], np.float32), np.array([1, 1, 8], np.float32))
PENDULUM_ACT = spaces.Box(-2.0, 2.0, (1,), np.float32)


def _episode(path: Path, steps: int = 5, box: bool = False, **replace: object) -> Path:
    """A recorded episode file as ``Episode.save`` writes it, with ``replace`` swapped in."""
    rng = np.random.default_rng(0)
    arrays = {"observations": rng.uniform(-1, 1, (steps + 1, 3 if box else 4)).astype(np.float32),
              "actions": (rng.uniform(-2, 2, (steps, 1)).astype(np.float32) if box
                          else rng.integers(0, 2, steps)),
              "rewards": np.ones(steps), "episode_return": np.array(float(steps))}
    arrays.update(replace)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


@pytest.mark.parametrize("replace, words", [
    ({"rewards": np.array(["a", "b", "c", "d", "e"])}, "rewards of shape (5,), dtype <U1"),
    ({"rewards": np.ones(3)}, "one number per action (5)"),
    ({"rewards": np.array([1.0, np.nan, 1, 1, 1])}, "rewards contain NaN (step 1)"),
    ({"episode_return": np.array("abc")}, "episode_return is 'abc'"),
    ({"episode_return": np.array([1.0, 2.0])}, "episode_return is [1.0, 2.0] (shape (2,)"),
    ({"observations": np.array([["x"] * 4] * 6)}, "observations have dtype <U1"),
    ({"observations": np.ones((6, 4), np.complex64)}, "observations have dtype complex64"),
])
def test_files_that_are_no_recorded_episodes_are_one_line_naming_the_file(
        tmp_path: Path, replace: dict, words: str) -> None:
    path = _episode(tmp_path / "bad.npz", **replace)
    with pytest.raises(ConfigError) as info:
        load_episodes([path], CARTPOLE_OBS, spaces.Discrete(2))
    assert str(info.value).startswith(f"algorithm.episodes: {path}: ") and words in str(info.value)


def test_an_episode_without_its_return_sums_its_rewards(tmp_path: Path) -> None:
    path = tmp_path / "e.npz"
    np.savez_compressed(path, observations=np.zeros((4, 4), np.float32), actions=np.array([0, 1, 0]),
                        rewards=np.array([1.0, 0.5, 2.0]))
    assert load_episodes([path], CARTPOLE_OBS, spaces.Discrete(2)).returns == [3.5]


def test_box_actions_outside_the_bounds_are_refused_within_rounding_are_kept(tmp_path: Path) -> None:
    actions = np.full((5, 1), 0.5, np.float32)
    actions[3] = 2.5
    bad = _episode(tmp_path / "oob.npz", box=True, actions=actions)
    with pytest.raises(ConfigError, match=r"oob.npz: action \[2.5\] \(step 3\) is out of the env's "
                                          r"action space Box\(1,\) float32 \(low \[-2.0\], high \[2.0\]\)"):
        load_episodes([bad], PENDULUM_OBS, PENDULUM_ACT)
    edge = np.array([[2.0], [-2.0], [np.nextafter(np.float32(2), np.float32(3))], [0.0], [1.0]],
                    np.float32)  # the bound itself, and one float32 step past it: kept
    data = load_episodes([_episode(tmp_path / "edge.npz", box=True, actions=edge)],
                         PENDULUM_OBS, PENDULUM_ACT)
    assert len(data) == 5


def test_bc_episodes_take_path_objects_as_rundir_gives_them() -> None:
    assert BC(episodes=Path("outputs/run")).episodes == ["outputs/run"]
    assert BC(episodes=[Path("a"), "b/*.npz"]).episodes == ["a", "b/*.npz"]
    with pytest.raises(ConfigError, match="episodes: must be a list of non-empty strings"):
        BC(episodes=[3])


@pytest.mark.parametrize("field, value, words", [
    ("ent_coef", "auto", "must be a number or null (null: tuned automatically, as SB3's 'auto')"),
    ("ent_coef", "auto_0.1", "(null and ent_coef_init=0.1: tuned automatically"),
    ("target_entropy", "auto", "(null: -dim(A), as SB3's 'auto')"),
])
def test_sb3s_auto_spelling_is_answered_with_this_ones(field: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        SAC(**{field: value})
    assert str(info.value).startswith(f"{field}: ") and words in str(info.value)


def test_the_cli_refuses_a_bad_episode_file_and_sb3s_auto_in_one_line_writing_nothing(
        tmp_path: Path) -> None:
    bad = _episode(tmp_path / "eps" / "e.npz", rewards=np.array(["a"] * 5))
    runs = tmp_path / "runs"
    cases = [([str(ROOT / "experiments" / "cartpole_bc.py"), f"algorithm.episodes=[{bad}]"],
              f"error: algorithm.episodes: {bad}: rewards of shape (5,), dtype <U1"),
             ([str(ROOT / "experiments" / "pendulum_sac.py"), "algorithm.ent_coef=auto"],
              "error: algorithm.ent_coef: must be a number or null (null: tuned automatically")]
    for args, line in cases:
        out = subprocess.run([str(BIN / "mazedsl"), "train", *args, f"output_dir={runs}"],
                             capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert out.returncode == 2 and out.stderr.startswith(line), out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and not runs.exists()


@pytest.mark.parametrize("name, budget, every, epochs", [
    ("cartpole_dqn", 2_048, 1_024, 2),
    ("pendulum_sac", 320, 160, 60),
])
def test_a_run_stopped_short_by_n_epochs_resumes_to_the_uninterrupted_runs_metrics(
        tmp_path: Path, name: str, budget: int, every: int, epochs: int) -> None:
    changes = {"total_steps": budget, "eval_every_steps": every, "eval_episodes": 2,
               "log_every_steps": budget // 8, "checkpoint_every_steps": budget}
    if name == "pendulum_sac":
        changes.update({"algorithm.learning_starts": 50, "model.hidden_units": [16, 16],
                        "critic.hidden_units": [16, 16], "algorithm.batch_size": 16})
    exp = load_experiment(str(ROOT / "experiments" / f"{name}.py")).override(changes)
    RunContext(exp, run_dir=tmp_path / "whole", silent=True).train()
    short = RunContext(exp, run_dir=tmp_path / "split", silent=True).train(n_epochs=epochs)
    assert short.stopped == "epochs" and short.evaluations == 0 and short.steps < every
    RunContext.load(tmp_path / "split", checkpoint="last", silent=True).train()

    def untimed(run: str) -> list[dict]:
        return [{k: v for k, v in r.items() if k not in ("time", "steps_per_s")}
                for r in iter_metrics(tmp_path / run / "metrics.jsonl")]

    whole = untimed("whole")
    assert [r["step"] for r in whole if r["phase"] == "eval"] == [every, budget]
    assert untimed("split") == whole


def test_a_reader_that_stops_early_ends_the_cli_quietly(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    """``mazedsl ... | head``: once the pipe's reader is gone, the CLI stops with 141 (as a
    Unix tool killed by SIGPIPE) and no traceback, in its help as in a command."""
    import os

    from mazedsl.cli import main as cli_main
    from mazedsl.cli.output import EXIT_PIPE_CLOSED, exit_code_of

    with capsys.disabled():
        for buffering in (-1, 1):  # written at the end, or line by line
            read, write = os.pipe()
            os.close(read)  # the reader went away
            monkeypatch.setattr(sys, "stdout", os.fdopen(write, "w", buffering=buffering))
            monkeypatch.setattr(sys, "argv", ["mazedsl", "--help"])
            with pytest.raises(SystemExit) as info:
                cli_main.run()
            assert info.value.code == EXIT_PIPE_CLOSED
            # a command's error from writing to it (`mazedsl compare ... --json | head`)
            read, write = os.pipe()
            os.close(read)
            monkeypatch.setattr(sys, "stdout", os.fdopen(write, "w", buffering=buffering))
            assert exit_code_of(BrokenPipeError(32, "Broken pipe")) == EXIT_PIPE_CLOSED
        monkeypatch.setattr(sys, "stdout", sys.__stdout__)
    assert capsys.readouterr().err == ""
    # a broken pipe that is not stdout's is still an error
    assert exit_code_of(BrokenPipeError(32, "Broken pipe")) == 1
    assert "BrokenPipeError" in capsys.readouterr().err


def test_a_finished_run_trained_again_says_so_and_draws_no_progress_bar(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    exp = load_experiment(str(ROOT / "experiments" / "cartpole_ppo.py")).override(
        {"total_steps": 256, "eval_every_steps": 0, "eval_episodes": 1, "algorithm.n_steps": 16,
         "algorithm.batch_size": 64, "algorithm.n_epochs": 1})
    RunContext(exp, run_dir=tmp_path / "r", silent=True).train()
    capsys.readouterr()
    again = RunContext.load(tmp_path / "r", checkpoint="last").train()
    said = capsys.readouterr()
    assert again.steps == 256 and again.stopped == "budget"
    assert "nothing to train" in said.out
    assert "━" not in said.err and "training runs to" not in said.err


def test_an_on_policy_algorithm_of_your_own_rounds_its_budget_as_ppo_does(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from mazedsl import Experiment
    from mazedsl.spec import Runner
    from tests.plugins.reinforce_algo import Reinforce

    exp = Experiment(name="reinforce", algorithm=Reinforce(n_steps=16), runner=Runner(n_envs=2),
                     total_steps=100, eval_every_steps=0, eval_episodes=1)
    summary = RunContext(exp, run_dir=tmp_path / "r").train()
    err = capsys.readouterr().err
    assert summary.steps == 128  # 4 rollouts of 16 x 2
    assert ("note: training runs to 128 steps: the budget of 100 rounds up to whole iterations "
            "of 32 env steps") in err


def test_a_finished_run_whose_checkpoints_are_gone_says_so(tmp_path: Path) -> None:
    import shutil

    from mazedsl.errors import CheckpointError

    exp = load_experiment(str(ROOT / "experiments" / "cartpole_ppo.py")).override(
        {"total_steps": 256, "eval_every_steps": 0, "eval_episodes": 1, "algorithm.n_steps": 16,
         "algorithm.batch_size": 64, "algorithm.n_epochs": 1})
    RunContext(exp, run_dir=tmp_path / "r", silent=True).train()
    shutil.rmtree(tmp_path / "r" / "checkpoints")
    with pytest.raises(CheckpointError, match="no checkpoint in this run, though it finished 256 "
                                              "steps: its checkpoints/ folder was emptied or removed"):
        RunContext.load(tmp_path / "r", checkpoint="last", silent=True).evaluate(n_episodes=1)


class _TupleNet(__import__("torch").nn.Module):
    """A forward that returns (output, state), as recurrent modules do."""

    def __init__(self, obs_shape: tuple, out_dim: int) -> None:
        super().__init__()
        self.linear = __import__("torch").nn.Linear(obs_shape[0], out_dim)

    def forward(self, x):  # noqa: ANN001, ANN201
        return self.linear(x), None


def test_a_module_returning_a_tuple_is_told_so(tmp_path: Path) -> None:
    from mazedsl.spec import TorchModel

    model = TorchModel(target=f"{__name__}._TupleNet")
    exp = load_experiment(str(ROOT / "experiments" / "cartpole_dqn.py")).override(
        {"model": model, "allow_targets": [__name__]})
    import re

    with pytest.raises(ConfigError, match=f"^model: {re.escape(__name__)}._TupleNet returned a "
                                          "tuple, not a tensor, for a batch of 2; "):
        RunContext(exp, run_dir=tmp_path / "r", silent=True, keep_refused=False).train()
    assert not (tmp_path / "r").exists()


def _nan_after_40_steps():  # noqa: ANN202 - an env factory
    import gymnasium as gym

    class NaNLater(gym.Wrapper):
        steps = 0

        def step(self, action):  # noqa: ANN001, ANN201
            obs, reward, terminated, truncated, info = self.env.step(action)
            NaNLater.steps += 1
            if NaNLater.steps > 40:
                obs = np.full_like(obs, np.nan)
            return obs, reward, terminated, truncated, info

    return NaNLater(gym.make("CartPole-v1"))


def test_a_nan_observation_from_the_env_is_named_not_blamed_on_the_learning_rate(
        tmp_path: Path) -> None:
    from mazedsl.errors import TrainingError

    exp = load_experiment(str(ROOT / "experiments" / "cartpole_dqn.py")).override(
        {"total_steps": 400, "eval_every_steps": 0, "eval_episodes": 1,
         "algorithm.learning_starts": 64, "algorithm.batch_size": 16, "runner.n_envs": 1})
    ctx = RunContext(exp, env=_nan_after_40_steps, run_dir=tmp_path / "r", silent=True)
    with pytest.raises(TrainingError, match=r"^the Q loss is nan at env step \d+: the env gave an "
                                            r"observation holding nan \(\d+ of the \d+ transitions "
                                            r"stored\); stopping \(check what your env returns\)"):
        ctx.train()


def _not_an_env():  # noqa: ANN202 - a factory that returns something else
    return 3


def test_a_factory_that_returns_no_env_is_named(tmp_path: Path) -> None:
    from mazedsl.errors import EnvError

    ctx = RunContext(str(ROOT / "experiments" / "cartpole_dqn.py"), env=_not_an_env,
                     run_dir=tmp_path / "r", silent=True, keep_refused=False)
    with pytest.raises(EnvError, match=r"^env.factory: .*_not_an_env returned int, not a "
                                       r"gymnasium.Env$"):
        ctx.train()


def test_a_typo_in_your_modules_argument_suggests_the_argument(tmp_path: Path) -> None:
    out = subprocess.run([str(BIN / "mazedsl"), "show", str(ROOT / "experiments" / "custom_model_ppo.py"),
                          "model.hiden_units=[8]"], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr == ("error: model.hiden_units: not set (did you mean 'model.hidden_units'?); "
                          "use '+model.hiden_units=...' to add it (from override "
                          "'model.hiden_units=[8]')\n")


@pytest.mark.parametrize("critic", [None, {"hidden_units": [8]}])
def test_dqn_notes_that_it_ignores_a_critic_it_was_given(tmp_path: Path, critic) -> None:
    """DQN uses no critic: a non-default critic is named in a note (train.log and stderr)."""
    exp = load_experiment(str(ROOT / "experiments" / "cartpole_dqn.py")).override(
        {"total_steps": 64, "eval_every_steps": 0, "eval_episodes": 1,
         "algorithm.learning_starts": 32, "algorithm.train_freq": 4})
    if critic is not None:
        exp = exp.override({f"critic.{k}": v for k, v in critic.items()})
    RunContext(exp, run_dir=tmp_path / "r", silent=True).train()
    log = (tmp_path / "r" / "train.log").read_text()
    note = ("note: DQN does not use `critic` (it learns through `model` alone): the critic settings "
            "(critic.*) are ignored")
    assert (note in log) == (critic is not None)


def test_the_fields_an_algorithm_registers_as_unused_get_a_note_only_when_set() -> None:
    """The note comes from the registry entry (``unused``), for BC as for DQN."""
    from mazedsl.rl.algos.base import unused_field_notes
    from mazedsl.rl.registry import entry_for

    exp = load_experiment(str(ROOT / "experiments" / "cartpole_bc.py"))
    unused = entry_for(exp.algorithm).unused
    assert unused == ("critic",) and unused_field_notes(exp, unused, "BC") == []
    assert unused_field_notes(exp.override({"critic.hidden_units": [8]}), unused, "BC") == [
        "note: BC does not use `critic` (it learns through `model` alone): the critic settings "
        "(critic.*) are ignored"]
    assert entry_for(load_experiment(str(ROOT / "experiments" / "cartpole_ppo.py")).algorithm).unused == ()
