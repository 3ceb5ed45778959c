"""DQN, SAC and BC end to end: RunContext, `mazedsl train`, `mazedsl-run algorithm=...`,
exact resume with the replay buffer beside the checkpoint, and bad input refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mazedsl import Experiment, RunContext
from mazedsl.errors import ConfigError, MazeError
from mazedsl.rl.algos.bc import BC
from mazedsl.rl.algos.dqn import DQN
from mazedsl.rl.algos.sac import SAC
from mazedsl.run import iter_metrics
from mazedsl.run.listing import read_run_info
from mazedsl import PPO
from mazedsl.spec import GymEnv, Runner, StateCritic, VectorObs

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
TIMING = ("time", "steps_per_s")
SMALL_NET = VectorObs(hidden_units=[32, 32], activation="relu", ortho_init=False)


def untimed(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in iter_metrics(run_dir / "metrics.jsonl")]


def dqn_exp(**changes) -> Experiment:
    base = dict(name="dqn_tiny", env=GymEnv(name="CartPole-v1"), model=SMALL_NET,
                algorithm=DQN(lr=1e-3, buffer_size=300, learning_starts=64, batch_size=32,
                              target_update_interval=40, train_freq=8, gradient_steps=4,
                              exploration_fraction=0.5),
                runner=Runner(n_envs=2), total_steps=512, eval_every_steps=256, eval_episodes=2,
                log_every_steps=64, checkpoint_every_steps=128)
    base.update(changes)
    return Experiment(**base)


def sac_exp(**changes) -> Experiment:
    base = dict(name="sac_tiny", env=GymEnv(name="Pendulum-v1"), model=SMALL_NET,
                critic=StateCritic(hidden_units=[32, 32], activation="relu"),
                algorithm=SAC(buffer_size=1000, learning_starts=64, batch_size=32, train_freq=4,
                              gradient_steps=2),
                runner=Runner(n_envs=1), total_steps=384, eval_every_steps=192, eval_episodes=1,
                log_every_steps=64, checkpoint_every_steps=128)
    base.update(changes)
    return Experiment(**base)


MAKERS = {"dqn": dqn_exp, "sac": sac_exp}


def phases(exp: Experiment, steps: int) -> int:
    """The collection phases (``train(n_epochs=...)``) of an off-policy run's first ``steps``:
    a training stopped there, short of its budget, which a resume continues."""
    return steps // (exp.algorithm.train_freq * exp.runner.n_envs)


def test_a_sac_phase_across_learning_starts_acts_at_random_then_from_the_policy() -> None:
    """learning_starts inside a collection phase: its steps before it take the phase's uniform
    actions, the rest the policy's; later phases draw no uniform numbers at all."""
    from mazedsl.rl.trainer import Trainer

    algo = SAC(buffer_size=1000, learning_starts=66, batch_size=32, train_freq=4, gradient_steps=2)
    trainer = Trainer(sac_exp(algorithm=algo))
    learner = trainer.learner
    trainer.train(total_steps=68)  # phases of 4 steps: the last one holds steps 64-67
    assert learner._uniform is not None and learner._gauss is not None
    stored = learner.replay.actions[64:68, 0]
    uniform = learner._uniform[:, 0, 0]
    assert torch.equal(stored[:2], uniform[:2])  # steps 64, 65: warm-up
    assert not torch.isclose(stored[2:], uniform[2:]).any()  # steps 66, 67: the policy
    assert learner.updates == 2  # the phase that reached learning_starts trained
    trainer.train(total_steps=72)
    assert learner._uniform is None and learner._gauss is not None
    trainer.close()


@pytest.mark.parametrize("algo", ["dqn", "sac"])
def test_run_directory_contract_and_exact_resume(tmp_path: Path, algo: str) -> None:
    exp = MAKERS[algo]()
    full = tmp_path / "full"
    RunContext(exp, run_dir=full, silent=True).train()
    records = list(iter_metrics(full / "metrics.jsonl"))
    train = [r for r in records if r["phase"] == "train"]
    evals = [r for r in records if r["phase"] == "eval"]
    assert len(evals) == 2 and train
    key = "epsilon" if algo == "dqn" else "ent_coef"
    assert all(np.isfinite(r[key]) for r in train)
    learned = [r for r in train if "q_loss" in r]
    assert learned and all(np.isfinite(r["q_loss"]) for r in learned)
    if algo == "dqn":
        assert train[0]["epsilon"] > train[-1]["epsilon"] == pytest.approx(0.05)
    else:
        assert train[-1]["ent_coef"] < 1.0  # tuned down from its initial 1.0
    ckpt = full / "checkpoints"
    assert (ckpt / "last.pt").is_file() and (ckpt / "best.pt").is_file()
    replay = torch.load(ckpt / "replay.pt", weights_only=True)
    capacity = exp.algorithm.buffer_size
    assert replay["size"] == min(capacity, replay["added"]) and replay["obs"].shape[0] == replay["size"]
    assert replay["steps"] == exp.total_steps
    last = torch.load(ckpt / "last.pt", weights_only=True)
    assert "beside" not in last["learner"] and last["learner"]["beside_files"] == ["replay"]
    best = torch.load(ckpt / "best.pt", weights_only=True)
    assert "beside" not in best["learner"] and "beside_files" not in best["learner"]

    part = tmp_path / "part"
    RunContext(exp, run_dir=part, silent=True).train(n_epochs=phases(exp, 256))
    RunContext.load(part).train()
    assert untimed(part) == untimed(full)

    loaded = RunContext.load(full)
    result = loaded.evaluate(n_episodes=2)
    assert json.loads((full / "eval.json").read_text())["n_episodes"] == 2
    assert np.isfinite(result.mean_return)
    obs = np.zeros(4 if algo == "dqn" else 3, dtype=np.float32)
    action = loaded.compute_action(obs)
    if algo == "dqn":
        assert action in (0, 1)
        assert loaded.compute_action_distribution(obs)["q_values"].shape == (2,)
    else:
        assert np.asarray(action).shape == (1,) and -2.0 <= float(np.asarray(action)[0]) <= 2.0


USER_NET = {"_target_": "tests.plugins.my_nets.PolicyNet", "hidden_units": [16],
            "non_lin": "torch.nn.SiLU"}


@pytest.mark.parametrize("algo", ["dqn", "sac"])
def test_your_own_module_as_the_model_trains_resumes_and_reloads(tmp_path: Path, algo: str) -> None:
    """Any nn.Module is a model: DQN's Q-network, or SAC's actor (it returns the Gaussian's
    means, then its log stds: 2 x the action size). Autograd, not the fast path, trains it."""
    exp = MAKERS[algo]().override({"model": USER_NET, "allow_targets": ["tests.plugins"],
                                   "total_steps": 256, "eval_every_steps": 128})
    full = tmp_path / "full"
    ctx = RunContext(exp, run_dir=full, silent=True)
    ctx.train()
    learner = ctx._trainer.learner
    if algo == "sac":
        assert learner.manual is None
        inner = learner.actor.net.inner
        assert inner.net[-1].out_features == 2  # Pendulum: one action
    else:
        inner = learner.q.inner
    assert type(inner).__name__ == "PolicyNet" and isinstance(inner.net[1], torch.nn.SiLU)
    learned = [r for r in iter_metrics(full / "metrics.jsonl") if "q_loss" in r]
    assert learned and all(np.isfinite(r["q_loss"]) for r in learned)
    part = tmp_path / "part"
    RunContext(exp, run_dir=part, silent=True).train(n_epochs=phases(exp, 128))
    RunContext.load(part).train()
    assert untimed(part) == untimed(full)
    loaded = RunContext.load(full)
    obs = np.zeros(4 if algo == "dqn" else 3, dtype=np.float32)
    action = np.asarray(loaded.compute_action(obs))
    assert action.shape == (() if algo == "dqn" else (1,))
    assert float(action) in (0, 1) if algo == "dqn" else -2.0 <= float(action[0]) <= 2.0


def test_a_sac_model_of_the_wrong_width_says_what_sac_needs(tmp_path: Path) -> None:
    exp = sac_exp().override({"model": {"_target_": "tests.plugins.my_nets.WrongShape"},
                              "allow_targets": ["tests.plugins"], "output_dir": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"^model: tests.plugins.my_nets.WrongShape returned shape "
                       r"\(2, 5\) for a batch of 2; SAC on action space Box\(-2.0, 2.0, \(1,\), "
                       r"float32\) \(means, then log stds\) needs \(batch, 2\)$"):
        RunContext(exp, silent=True).train()
    assert list(tmp_path.iterdir()) == []


def test_replay_can_be_left_out(tmp_path: Path) -> None:
    exp = dqn_exp(algorithm=DQN(buffer_size=300, learning_starts=64, batch_size=32, train_freq=8,
                                gradient_steps=4, save_replay=False), total_steps=256)
    RunContext(exp, run_dir=tmp_path / "r", silent=True).train(n_epochs=phases(exp, 128))
    assert not (tmp_path / "r" / "checkpoints" / "replay.pt").exists()
    RunContext.load(tmp_path / "r").train()  # resumes with an empty buffer
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "finished"


def test_double_dqn_mse_trains(tmp_path: Path) -> None:
    exp = dqn_exp(algorithm=DQN(buffer_size=300, learning_starts=32, batch_size=16, train_freq=4,
                                gradient_steps=2, double_q=True, loss="mse", tau=0.1,
                                target_update_interval=4), total_steps=128, eval_every_steps=0)
    RunContext(exp, run_dir=tmp_path / "d", silent=True).train()
    losses = [r["q_loss"] for r in iter_metrics(tmp_path / "d" / "metrics.jsonl") if "q_loss" in r]
    assert losses and all(np.isfinite(losses))


# -- behaviour cloning -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def expert(tmp_path_factory) -> Path:
    """A (barely trained) PPO CartPole run with 4 recorded episodes."""
    d = tmp_path_factory.mktemp("expert") / "ppo"
    exp = Experiment(name="ppo_expert", algorithm=PPO(n_steps=16, batch_size=32, n_epochs=1),
                     runner=Runner(n_envs=2), total_steps=64, eval_every_steps=0, eval_episodes=1)
    ctx = RunContext(exp, run_dir=d, silent=True)
    ctx.train()
    ctx.rollout(n_episodes=4)
    return d


def bc_exp(expert: Path, **changes) -> Experiment:
    base = dict(name="bc_tiny", env=GymEnv(name="CartPole-v1"),
                algorithm=BC(episodes=[str(expert)], batch_size=16, steps_per_iteration=64,
                             validation_fraction=0.25),
                runner=Runner(n_envs=1), total_steps=512, eval_every_steps=256, eval_episodes=2,
                log_every_steps=64, checkpoint_every_steps=128)
    base.update(changes)
    return Experiment(**base)


def test_bc_learns_from_recorded_episodes_and_resumes(tmp_path: Path, expert: Path) -> None:
    exp = bc_exp(expert)
    full = tmp_path / "full"
    RunContext(exp, run_dir=full, silent=True).train()
    train = [r for r in iter_metrics(full / "metrics.jsonl") if r["phase"] == "train"]
    assert train and all("bc_val_loss" in r and np.isfinite(r["bc_val_loss"]) for r in train)
    assert train[-1]["bc_loss"] < train[0]["bc_loss"]  # the expert is deterministic: it learns
    assert train[-1]["step"] == 512
    assert (full / "checkpoints" / "best.pt").is_file()
    # no env episodes while it trains: run.json says so (the TUI shows why no returns);
    # the expert's run (PPO) played them
    assert json.loads((full / "run.json").read_text())["train_episodes"] is False
    assert json.loads((expert / "run.json").read_text())["train_episodes"] is True
    assert not read_run_info(full).plays_episodes and read_run_info(expert).plays_episodes
    part = tmp_path / "part"
    RunContext(exp, run_dir=part, silent=True).train(n_epochs=4)  # 4 x 64 samples of 512
    RunContext.load(part).train()
    assert untimed(part) == untimed(full)
    # a glob of episode files works as well
    exp2 = bc_exp(expert, algorithm=BC(episodes=[str(expert / "rollouts" / "*.npz")],
                                       steps_per_iteration=64), total_steps=64)
    RunContext(exp2, run_dir=tmp_path / "glob", silent=True).train()


# -- bad input ---------------------------------------------------------------------------------
def _refused(tmp_path: Path, exp: Experiment, match: str) -> None:
    out = tmp_path / "outputs"
    with pytest.raises(MazeError, match=match):
        RunContext(exp, overrides={"output_dir": str(out)}, silent=True).train()
    assert not out.exists()  # nothing written


def test_dqn_on_box_and_sac_on_discrete_are_refused(tmp_path: Path) -> None:
    _refused(tmp_path, dqn_exp(env=GymEnv(name="Pendulum-v1")), r"algorithm: dqn needs a Discrete")
    _refused(tmp_path, sac_exp(env=GymEnv(name="CartPole-v1")), r"algorithm: sac needs a Box")


def test_bc_without_episodes_or_with_other_spaces_is_refused(tmp_path: Path, expert: Path) -> None:
    (tmp_path / "empty").mkdir()
    _refused(tmp_path, bc_exp(tmp_path / "empty"),
             r"^algorithm.episodes: no recorded episodes \(rollouts/\*\.npz\) found in")
    _refused(tmp_path, bc_exp(expert, env=GymEnv(name="Acrobot-v1")),
             r"algorithm.episodes: episodes of .* were recorded with the observation space")


def cli(args: list[str], cwd: Path, exe: str = "mazedsl") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.run([str(BIN / exe), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=240)


def test_mazedsl_run_refuses_before_hydra_writes_a_run_directory(tmp_path: Path, expert: Path) -> None:
    (tmp_path / "empty").mkdir()
    cases = [(["algorithm=dqn", "env.name=Pendulum-v1"], "algorithm: dqn needs a Discrete"),
             (["algorithm=sac"], "algorithm: sac needs a Box"),
             # one path as typed on a command line, no list brackets
             (["algorithm=bc", f"algorithm.episodes={tmp_path / 'empty'}"], "no recorded episodes"),
             (["algorithm=bc", f"algorithm.episodes=[{expert}]", "env.name=Acrobot-v1"],
              "were recorded with the observation space"),
             (["-m", "algorithm=dqn,sac", "total_steps=64"], "algorithm: sac needs a Box")]
    for args, message in cases:
        proc = cli(["-cn", "conf_train", *args], tmp_path, "mazedsl-run")
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and proc.stderr.strip().count("\n") == 0, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and not (tmp_path / "outputs").exists(), args


def test_mazedsl_train_refuses_before_naming_a_run_directory(tmp_path: Path, expert: Path) -> None:
    (tmp_path / "empty").mkdir()
    exps = ROOT / "experiments"
    cases = [([str(exps / "cartpole_dqn.py"), "env.name=Pendulum-v1"], "algorithm: dqn needs a Discrete"),
             ([str(exps / "pendulum_sac.py"), "env.name=CartPole-v1"], "algorithm: sac needs a Box"),
             ([str(exps / "cartpole_bc.py"), f"algorithm.episodes=[{tmp_path / 'empty'}]"],
              "no recorded episodes")]
    for i, (args, message) in enumerate(cases):
        for quiet in ([["--quiet"]] if i else [[], ["--quiet"]]):
            proc = cli(["train", *args, *quiet], tmp_path)
            assert proc.returncode == 2, (args, proc.stderr)
            assert message in proc.stderr and proc.stderr.strip().count("\n") == 0, (args, proc.stderr)
            # a script capturing stdout gets nothing, not the path of a run that never existed
            assert proc.stdout.strip() == "" and not (tmp_path / "outputs").exists(), (args, proc.stdout)


def test_wrong_actions_and_missing_episodes_are_refused_before_torch_is_imported(
        tmp_path: Path, expert: Path) -> None:
    """The commonest refusals answer without importing torch (2-3 s of every such answer),
    from both CLIs: an algorithm on the wrong kind of actions (a sweep's points are all
    checked this way before any is built) and BC's registered precheck of its episodes."""
    (tmp_path / "empty").mkdir()
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}  # Python logs each import to stderr
    cases = [(["mazedsl", "train", str(ROOT / "experiments" / "pendulum_sac.py"),
               "env.name=CartPole-v1"], "algorithm: sac needs a Box"),
             (["mazedsl-run", "-cn", "conf_train", "-m", "algorithm=dqn,sac", "total_steps=64"],
              "algorithm: sac needs a Box"),
             (["mazedsl", "train", str(ROOT / "experiments" / "cartpole_bc.py"),
               f"algorithm.episodes=[{tmp_path / 'empty'}]"], "no recorded episodes"),
             (["mazedsl-run", "-cn", "conf_train", "algorithm=bc", f"algorithm.episodes=[{expert}]",
               "env.name=Acrobot-v1"], "were recorded with the observation space")]
    for (exe, *args), message in cases:
        proc = subprocess.run([str(BIN / exe), *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
        log = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
        said = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
        imported = {line.rsplit("|", 1)[1].strip() for line in log}
        assert proc.returncode == 2 and len(said) == 1 and message in said[0], (exe, said)
        assert "gymnasium" in imported and "torch" not in imported, exe
        assert not (tmp_path / "outputs").exists(), exe


def test_a_replay_buffer_larger_than_free_memory_is_refused(tmp_path: Path, monkeypatch) -> None:
    from gymnasium import spaces

    from mazedsl.rl.algos import _offpolicy_learner as offpolicy

    # what one transition takes: 2 observations + action + float32 reward and flag
    monkeypatch.setattr(offpolicy, "available_memory", lambda device: 10_000)
    pixels = spaces.Box(0, 255, (2, 4, 4), np.uint8)
    # uint8 pixels: 2 x 32 B + an int64 action + 8 B = 80 B
    offpolicy.check_replay_fits(125, pixels, spaces.Discrete(2), torch.device("cpu"))
    with pytest.raises(ConfigError, match=r"algorithm.buffer_size: 126 transitions of 80 bytes "
                                          r".* need 9.8 KiB, more than the 9.8 KiB free"):
        offpolicy.check_replay_fits(126, pixels, spaces.Discrete(2), torch.device("cpu"))
    floats = spaces.Box(-1, 1, (3,), np.float32)  # 2 x 12 + 4 (a float32 action) + 8 = 36 B
    with pytest.raises(ConfigError, match="300 transitions of 36 bytes"):
        offpolicy.check_replay_fits(300, floats, spaces.Box(-1, 1, (1,), np.float32), torch.device("cpu"))
    # on the CLI: one line, exit 2, nothing allocated or written (4.8 TB exceeds any machine)
    for exe, args in (("mazedsl", ["train", str(ROOT / "experiments" / "cartpole_dqn.py")]),
                      ("mazedsl-run", ["-cn", "conf_train", "algorithm=dqn"])):
        proc = cli([*args, "algorithm.buffer_size=100000000000"], tmp_path, exe)
        assert proc.returncode == 2, proc.stderr
        assert "algorithm.buffer_size: 100,000,000,000 transitions" in proc.stderr, proc.stderr
        assert proc.stderr.strip().count("\n") == 0 and not (tmp_path / "outputs").exists()


TINY_DQN = ["total_steps=256", "eval_every_steps=128", "eval_episodes=2", "algorithm.learning_starts=32",
            "algorithm.train_freq=8", "algorithm.gradient_steps=2", "algorithm.batch_size=16",
            "algorithm.buffer_size=1000", "checkpoint_every_steps=128"]


def test_mazedsl_train_and_resume_from_the_cli(tmp_path: Path) -> None:
    for name, extra in (("cartpole_dqn", TINY_DQN),
                        ("pendulum_sac", ["total_steps=150", "eval_every_steps=150", "eval_episodes=1",
                                          "algorithm.learning_starts=50", "algorithm.batch_size=16",
                                          "model.hidden_units=[16]", "critic.hidden_units=[16]",
                                          "checkpoint_every_steps=100"])):
        run = tmp_path / name
        proc = cli(["train", str(ROOT / "experiments" / f"{name}.py"), *extra, "--run-dir", str(run),
                    "--quiet"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert (run / "checkpoints" / "replay.pt").is_file()
        proc = cli(["train", "--resume", str(run), "--quiet"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert json.loads((run / "run.json").read_text())["status"] == "finished"


def test_a_resume_without_the_saved_replay_says_it_is_not_exact(tmp_path: Path) -> None:
    run = tmp_path / "dqn"
    proc = cli(["train", str(ROOT / "experiments" / "cartpole_dqn.py"), *TINY_DQN, "--run-dir", str(run),
                "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    replay = run / "checkpoints" / "replay.pt"
    replay.write_bytes(replay.read_bytes()[:100])  # truncated
    proc = cli(["train", "--resume", str(run), "total_steps=384"], tmp_path)
    assert proc.returncode == 2 and "replay.pt: cannot load: the file is truncated" in proc.stderr
    assert "weights_only" not in proc.stderr and "delete it to resume without it" in proc.stderr
    replay.unlink()
    proc = cli(["train", "--resume", str(run), "total_steps=384"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    note = "checkpoints/replay.pt is missing: the replay buffer refills from new experience"
    assert f"note: {note}" in proc.stdout
    assert f"resume: {note}" in (run / "train.log").read_text()
    proc = cli(["train", "--resume", str(run), "total_steps=512"], tmp_path)  # saved again: exact
    assert proc.returncode == 0 and "note:" not in proc.stdout, proc.stdout


def test_mazedsl_run_with_the_config_modules(tmp_path: Path) -> None:
    proc = cli(["-cn", "conf_train", "env.name=CartPole-v1", "algorithm=dqn", "model=vector_obs",
                "runner.n_envs=1", *TINY_DQN], tmp_path, "mazedsl-run")
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(proc.stdout.split("run directory: ")[1].split()[0])
    run_dir = run_dir if run_dir.is_absolute() else tmp_path / run_dir
    assert "mazedsl.rl.algos.dqn.DQN" in (run_dir / "config.yaml").read_text()
    assert any("q_loss" in r for r in iter_metrics(run_dir / "metrics.jsonl"))
    proc = cli(["-cn", "conf_train", "env.name=Pendulum-v1", "algorithm=sac", "model=vector_obs",
                "runner.n_envs=1", "total_steps=100", "eval_every_steps=100", "eval_episodes=1",
                "algorithm.learning_starts=50", "algorithm.batch_size=16"], tmp_path, "mazedsl-run")
    assert proc.returncode == 0, proc.stderr
    cfg = cli(["-cn", "conf_train", "algorithm=bc", "--cfg", "job"], tmp_path, "mazedsl-run").stdout
    assert "mazedsl.rl.algos.bc.BC" in cfg and "validation_fraction: 0.1" in cfg


def test_shipped_experiments_have_the_rl_zoo_values() -> None:
    from mazedsl.config import load_experiment

    def load(name: str) -> Experiment:
        return load_experiment(ROOT / "experiments" / f"{name}.py")

    relu256 = VectorObs(hidden_units=[256, 256], activation="relu", ortho_init=False)
    cart = load("cartpole_dqn")
    assert cart.algorithm == DQN(lr=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000,
                                 gamma=0.99, target_update_interval=10, train_freq=256,
                                 gradient_steps=128, exploration_fraction=0.16,
                                 exploration_final_eps=0.04)
    assert (cart.model, cart.total_steps, cart.runner.n_envs, cart.eval_episodes) == (relu256, 50_000, 1, 20)
    car = load("mountaincar_dqn")
    assert car.algorithm == DQN(lr=4e-3, batch_size=128, buffer_size=10_000, learning_starts=1000,
                                gamma=0.98, target_update_interval=600, train_freq=16,
                                gradient_steps=8, exploration_fraction=0.2,
                                exploration_final_eps=0.07)
    assert (car.model, car.total_steps) == (relu256, 120_000)
    acro = load("acrobot_dqn")
    assert acro.algorithm == DQN(lr=6.3e-4, batch_size=128, buffer_size=50_000, learning_starts=0,
                                 gamma=0.99, target_update_interval=250, train_freq=4,
                                 gradient_steps=-1, exploration_fraction=0.12,
                                 exploration_final_eps=0.1)
    assert (acro.model, acro.total_steps) == (relu256, 100_000)
    pend = load("pendulum_sac")
    assert pend.algorithm == SAC(lr=1e-3) and pend.total_steps == 20_000
    assert pend.model == relu256 and pend.critic == StateCritic(hidden_units=[256, 256], activation="relu")
    bc = load("cartpole_bc")
    assert bc.algorithm == BC(episodes=["cartpole_ppo:latest"]) and bc.eval_episodes == 20


def test_bc_through_mazedsl_train_resume_and_mazedsl_run(tmp_path: Path, expert: Path) -> None:
    tiny = ["total_steps=128", "eval_every_steps=64", "eval_episodes=1", "checkpoint_every_steps=64",
            "algorithm.steps_per_iteration=64", f"algorithm.episodes=['{expert}']"]
    run = tmp_path / "bc"
    RunContext(str(ROOT / "experiments" / "cartpole_bc.py"), overrides=tiny, run_dir=run,
               silent=True).train(n_epochs=1)  # 64 samples of its 128
    proc = cli(["train", "--resume", str(run), "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run / "run.json").read_text())["steps"] == 128
    assert any("bc_val_loss" in r for r in iter_metrics(run / "metrics.jsonl"))
    proc = cli(["-cn", "conf_train", "env.name=CartPole-v1", "algorithm=bc", "runner.n_envs=1", *tiny],
               tmp_path, "mazedsl-run")
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(proc.stdout.split("run directory: ")[1].split()[0])
    run_dir = run_dir if run_dir.is_absolute() else tmp_path / run_dir
    train = [r for r in iter_metrics(run_dir / "metrics.jsonl") if r["phase"] == "train"]
    assert train[-1]["step"] == 128 and np.isfinite(train[-1]["bc_val_loss"])
