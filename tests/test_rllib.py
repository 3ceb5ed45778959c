"""runner=rllib: the mapping table, training on a 2-node Ray cluster, acting with a restored
RLModule, interrupt and resume, bad input, and sweeps on the Ray and submitit launchers.

Ray is slow to start on 2 shared cores, so one module-scoped test cluster (two nodes of one
CPU each, ``ray.cluster_utils.Cluster``) serves every test that trains, and budgets are tiny.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml

from mazedsl import PPO, A2C, ConfigError, RunContext, load_experiment
from mazedsl.errors import EnvError, MazeError
from mazedsl.run import iter_metrics
from mazedsl.spec import NormalizeReward, RLlibRunner, StateCritic

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CARTPOLE = load_experiment(str(ROOT / "experiments" / "cartpole_ppo.py"))

ray = pytest.importorskip("ray", reason="needs the ray extra: pip install 'mazedsl[ray]'")


def rllib_exp(**runner):
    """experiments/cartpole_ppo.py with only the runner switched (plus small budgets)."""
    return CARTPOLE.override({"runner": RLlibRunner(**runner)})


# --- the mapping table (no Ray needed) -------------------------------------------------

def test_every_hyperparameter_maps_to_its_rllib_counterpart():
    from mazedsl.rllib.translate import rllib_settings

    exp = rllib_exp(num_env_runners=2, num_envs_per_env_runner=4)
    s = rllib_settings(exp)
    t = s["training"]
    algo = exp.algorithm
    assert t["lr"] == [[0, 1e-3], [100_000, 0.0]]  # linear schedule over the budget
    assert t["gamma"] == algo.gamma == 0.98 and t["lambda_"] == algo.gae_lambda == 0.8
    assert t["clip_param"] == 0.2 and t["entropy_coeff"] == 0.0 and t["vf_loss_coeff"] == 0.5
    assert t["num_epochs"] == 20 and t["minibatch_size"] == 256
    assert t["train_batch_size_per_learner"] == 32 * 2 * 4  # n_steps x all envs
    assert t["grad_clip"] == 0.5 and t["grad_clip_by"] == "global_norm"
    assert t["vf_clip_param"] == math.inf and t["kl_coeff"] == 0.0
    assert s["env_runners"] == {"num_env_runners": 2, "num_envs_per_env_runner": 4,
                                "num_cpus_per_env_runner": 1.0, "rollout_fragment_length": 32}
    lc = s["learners"]["learner_config_dict"]
    assert lc == {"adam_eps": 1e-5, "clip_schedule": "linear", "clip_param": 0.2,
                  "total_steps": 100_000}
    mc = s["rl_module"]["model_config"]
    assert mc["fcnet_hiddens"] == [64, 64] and mc["fcnet_activation"] == "tanh"
    assert mc["vf_share_layers"] is False and mc["fcnet_kernel_initializer"] == "orthogonal_"
    assert "free_log_std" not in mc and s["training"]["grad_clip"] == 0.5
    assert rllib_settings(exp, continuous=True)["rl_module"]["model_config"]["free_log_std"]
    assert s["debugging"] == {"seed": 0}
    # two learners split the same batch; a constant lr stays a number
    two = exp.override({"runner.num_learners": 2, "algorithm.lr_schedule": "constant",
                        "critic.shared": True, "model.activation": "gelu",
                        "critic.activation": "gelu"})
    s2 = rllib_settings(two)
    assert s2["training"]["train_batch_size_per_learner"] == 128 and s2["training"]["lr"] == 1e-3
    assert s2["rl_module"]["model_config"]["vf_share_layers"] is True
    assert s2["rl_module"]["model_config"]["fcnet_activation"] == "GELU"
    with pytest.raises(ConfigError, match=r"^algorithm.batch_size: 256 is larger than one rollout "
                                          r"\(n_steps 32 x 4 envs = 128\)"):
        rllib_settings(rllib_exp(num_envs_per_env_runner=4))


def test_the_rllib_config_object_carries_the_values():
    from mazedsl.rllib.learner import MazePPOLearner
    from mazedsl.rllib.translate import build_config

    config = build_config(rllib_exp())
    assert config.lr == [[0, 1e-3], [100_000, 0.0]] and config.lambda_ == 0.8
    assert config.num_epochs == 20 and config.minibatch_size == 256
    assert config.train_batch_size_per_learner == 256 and config.num_env_runners == 1
    assert config.learner_class is MazePPOLearner
    assert config.model_config["fcnet_hiddens"] == [64, 64]
    assert config.env == "mazedsl-env-cartpole_ppo"


@pytest.mark.parametrize("change, named", [
    ({"algorithm.target_kl": 0.02}, "algorithm.target_kl"),
    ({"algorithm.clip_range_vf": 0.2}, "algorithm.clip_range_vf"),
    ({"algorithm.normalize_advantage": False}, "algorithm.normalize_advantage"),
    ({"model.log_std_init": -0.5}, "model.log_std_init"),
    ({"critic": StateCritic(hidden_units=[32])}, "critic.hidden_units"),
    ({"wrappers": [NormalizeReward()]}, "wrappers[0]"),
])
def test_settings_without_counterpart_are_refused_by_name(change, named):
    from mazedsl.rllib.translate import check

    with pytest.raises(ConfigError) as info:
        check(rllib_exp().override(change))
    assert info.value.path == named
    assert "no RLlib counterpart" in str(info.value) and "\n" not in str(info.value)


def test_your_own_torch_module_runs_as_mazedsls_actor_critic_inside_an_rlmodule():
    import torch

    from mazedsl.rllib.module import MazeActorCriticModule
    from mazedsl.rllib.translate import build_config, rllib_settings
    from mazedsl.spec import TorchModel

    exp = rllib_exp().override({"model": TorchModel(torch.nn.Linear, in_features=4, out_features=2),
                                "critic": TorchModel(torch.nn.Linear, in_features=4, out_features=1)})
    s = rllib_settings(exp)["rl_module"]
    assert s["module_class"] == "mazedsl.rllib.module:MazeActorCriticModule"
    assert s["model_config"]["model"]["_target_"] == "torch.nn.modules.linear.Linear"
    spec = build_config(exp).rl_module_spec
    spec.observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    spec.action_space = gym.spaces.Discrete(2)
    module = spec.build()
    assert isinstance(module, MazeActorCriticModule)
    obs = torch.zeros(3, 4)
    out = module.forward_inference({"obs": obs})["action_dist_inputs"]
    assert out.shape == (3, 2)
    assert module.compute_values({"obs": obs}).shape == (3,)
    assert sum(p.numel() for p in module.parameters()) == 4 * 2 + 2 + 4 + 1  # the two Linears


DQN_EXP = load_experiment(str(ROOT / "experiments" / "cartpole_dqn.py"))
SAC_EXP = load_experiment(str(ROOT / "experiments" / "pendulum_sac.py"))


def test_dqn_maps_onto_rllibs_dqnconfig():
    from mazedsl.rllib.translate import build_config, rllib_settings

    exp = DQN_EXP.override({"runner": RLlibRunner(num_env_runners=0, num_envs_per_env_runner=1)})
    s = rllib_settings(exp)
    t = s["training"]
    assert t["lr"] == 2.3e-3 and t["gamma"] == 0.99 and t["tau"] == 1.0 and t["n_step"] == 1
    assert t["replay_buffer_config"] == {"type": "EpisodeReplayBuffer", "capacity": 100_000}
    assert t["num_steps_sampled_before_learning_starts"] == 1_000
    assert t["train_batch_size_per_learner"] == 64 and t["target_network_update_freq"] == 10
    assert t["epsilon"] == [[0, 1.0], [8_000, 0.04]]  # 16% of 50k steps, from 1 to 0.04
    assert t["grad_clip"] == 10.0 and t["grad_clip_by"] == "global_norm"
    assert t["double_q"] is False and t["dueling"] is False and t["td_error_loss_fn"] == "huber"
    assert t["store_buffer_in_checkpoints"] is True
    # 128 gradient steps per 256 env steps: RLlib's round-robin weight comes out at exactly 128
    assert s["env_runners"]["rollout_fragment_length"] == 256 and t["training_intensity"] == 32.0
    assert s["learners"]["learner_class"] == "mazedsl.rllib.learner:MazeDQNLearner"
    assert s["learners"]["learner_config_dict"] == {"adam_eps": 1e-8}
    assert s["rl_module"]["model_config"] == {"fcnet_hiddens": [256, 256],
                                              "fcnet_activation": "relu", "head_fcnet_hiddens": []}
    assert s["reporting"] == {"min_sample_timesteps_per_iteration": 1_000,  # RLlib's default
                              "min_time_s_per_iteration": 0}
    config = build_config(exp)
    from ray.rllib.algorithms.dqn.dqn import calculate_rr_weights

    assert type(config).__name__ == "DQNConfig" and calculate_rr_weights(config) == [1, 128]
    assert config.replay_buffer_config["capacity"] == 100_000 and config.double_q is False
    assert config.model_config["dueling"] is False and config.model_config["fcnet_hiddens"] == [256, 256]
    # 2 env runners x 2 envs, gradient_steps=-1 (one per transition), linear lr, double DQN, mse
    two = exp.override({"runner": RLlibRunner(num_env_runners=2, num_envs_per_env_runner=2),
                        "algorithm.gradient_steps": -1, "algorithm.lr_schedule": "linear",
                        "algorithm.double_q": True, "algorithm.loss": "mse",
                        "algorithm.exploration_fraction": 0.0})
    t2 = rllib_settings(two)["training"]
    assert t2["lr"] == [[0, 2.3e-3], [50_000, 0.0]] and t2["epsilon"] == 0.04
    assert t2["double_q"] is True and t2["td_error_loss_fn"] == "mse"
    assert calculate_rr_weights(build_config(two)) == [1, 256 * 4]


def test_sac_maps_onto_rllibs_sacconfig():
    from mazedsl.rllib.translate import build_config, rllib_settings

    exp = SAC_EXP.override({"runner": RLlibRunner(num_env_runners=0, num_envs_per_env_runner=1)})
    s = rllib_settings(exp, continuous=True)
    t = s["training"]
    assert t["actor_lr"] == t["critic_lr"] == t["alpha_lr"] == 1e-3
    assert t["initial_alpha"] == 1.0 and t["target_entropy"] == "auto" and t["tau"] == 0.005
    assert t["replay_buffer_config"] == {"type": "EpisodeReplayBuffer", "capacity": 1_000_000}
    assert t["num_steps_sampled_before_learning_starts"] == 100
    assert t["train_batch_size_per_learner"] == 256 and t["training_intensity"] is None
    assert t["target_network_update_freq"] == 0 and t["twin_q"] is True and t["grad_clip"] is None
    assert s["environment"]["normalize_actions"] is True
    assert s["rl_module"] == {"module_class": "mazedsl.rllib.module:MazeSACModule", "model_config": {
        "fcnet_hiddens": [256, 256], "fcnet_activation": "relu", "head_fcnet_hiddens": [],
        "log_std_min": -20.0, "log_std_max": 2.0}}
    fixed = exp.override({"algorithm.ent_coef": 0.2, "algorithm.target_entropy": -0.5,
                          "algorithm.gradient_steps": 3, "algorithm.lr_schedule": "linear"})
    t2 = rllib_settings(fixed)["training"]
    assert t2["initial_alpha"] == 0.2 and t2["alpha_lr"] == 0.0  # a fixed alpha is never stepped
    assert t2["target_entropy"] == -0.5 and t2["actor_lr"] == [[0, 1e-3], [20_000, 0.0]]
    config = build_config(fixed)
    from ray.rllib.algorithms.dqn.dqn import calculate_rr_weights

    assert type(config).__name__ == "SACConfig" and calculate_rr_weights(config) == [1, 3]
    assert config.initial_alpha == 0.2 and config.model_config["log_std_min"] == -20.0


def test_rllibs_sac_module_keeps_mazedsls_log_std_bounds_and_squashed_mode():
    import torch
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from mazedsl.rllib.translate import build_config

    exp = SAC_EXP.override({"runner": RLlibRunner(num_env_runners=0), "algorithm.log_std_min": -7.0,
                            "model.hidden_units": [8], "critic.hidden_units": [8]})
    config = build_config(exp)
    module = RLModuleSpec(module_class=config.rl_module_spec.module_class,
                          observation_space=gym.spaces.Box(-1.0, 1.0, (3,), np.float32),
                          action_space=gym.spaces.Box(-2.0, 2.0, (1,), np.float32),
                          model_config=config.model_config).build()
    last = [m for m in module.pi.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.5, -10.0]))  # mean 0.5, log std -10
        out = module.forward_inference({"obs": torch.zeros(2, 3)})["action_dist_inputs"]
    assert out[:, 1].tolist() == [-7.0, -7.0]  # mazedsl's bound, not RLlib's -5
    dist = module.get_inference_action_dist_cls().from_logits(out)
    assert dist.to_deterministic().sample()[0, 0].item() == pytest.approx(math.tanh(0.5))


@pytest.mark.parametrize("exp, change, named", [
    (DQN_EXP, {"model": "pixel_obs"}, "model"),
    (SAC_EXP, {"algorithm.target_update_interval": 2}, "algorithm.target_update_interval"),
    (SAC_EXP, {"critic.hidden_units": [64]}, "critic.hidden_units"),
    (SAC_EXP, {"wrappers": [NormalizeReward()]}, "wrappers[0]"),
])
def test_dqn_and_sac_settings_without_counterpart_are_refused_by_name(exp, change, named):
    from mazedsl.rllib.translate import check

    with pytest.raises(ConfigError) as info:
        check(exp.override({"runner": RLlibRunner(), **change}))
    assert info.value.path == named
    assert "no RLlib counterpart" in str(info.value) and "\n" not in str(info.value)


def test_a2c_is_one_line_naming_rllibs_algorithms():
    from mazedsl.rllib.translate import check

    with pytest.raises(ConfigError) as info:
        check(rllib_exp().override({"algorithm": A2C()}))
    msg = str(info.value)
    assert msg.startswith("algorithm: A2C has no RLlib counterpart")
    assert "PPO, APPO, IMPALA, DQN, SAC" in msg and "\n" not in msg


def test_readme_shows_the_mapping_tables():
    from mazedsl.rllib.translate import table_markdown

    readme = (ROOT / "README.md").read_text()
    for algorithm in ("PPO", "DQN", "SAC"):
        assert table_markdown(algorithm) in readme, algorithm


def test_without_the_extra_training_says_what_to_install(tmp_path, monkeypatch):
    ctx = RunContext(rllib_exp(), run_dir=tmp_path / "r", silent=True)
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MazeError, match=r"pip install 'mazedsl\[ray\]'"):
        ctx.train()
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["status"] == "failed" and "mazedsl[ray]" in info["error"]


# --- a 2-node Ray cluster on this machine ------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    c.add_node(num_cpus=1)
    c.wait_for_nodes()
    ray.init(address=c.address, log_to_driver=False, logging_level="ERROR")
    yield c
    ray.shutdown()
    c.shutdown()


@pytest.fixture(scope="module")
def trained(cluster, tmp_path_factory):
    """A short RLlib run: two env runners (one per node), evaluated and checkpointed."""
    run_dir = tmp_path_factory.mktemp("rllib") / "run"
    exp = rllib_exp(num_env_runners=2, num_envs_per_env_runner=4).override({
        "total_steps": 4_096, "eval_every_steps": 2_048, "eval_episodes": 4,
        "log_every_steps": 256, "checkpoint_every_steps": 2_048})
    ctx = RunContext(exp, run_dir=run_dir, silent=True)
    summary = ctx.train()
    return ctx, summary


def test_env_runners_are_placed_on_both_nodes_and_training_learns(cluster, trained):
    ctx, summary = trained
    info = json.loads((ctx.run_dir / "run.json").read_text())
    assert info["status"] == "finished" and info["runner"] == "rllib"
    nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert len(nodes) == 2 and info["rllib"]["nodes"] == 2
    assert set(info["rllib"]["env_runner_nodes"]) == nodes  # one env runner on each node
    assert summary.stopped == "budget" and summary.steps >= 4_096
    said = f"note: RLlib sampled {summary.steps:,} env steps for the budget of 4,096"
    assert (said in (ctx.run_dir / "train.log").read_text()) == (summary.steps > 4_096)
    train = list(iter_metrics(ctx.run_dir / "metrics.jsonl", "train"))
    evals = list(iter_metrics(ctx.run_dir / "metrics.jsonl", "eval"))
    assert len(evals) == 2 and [e["step"] for e in evals] == sorted(e["step"] for e in evals)
    for rec in train:  # the native run directory's fields, from RLlib's results
        assert rec["phase"] == "train" and rec["step"] > 0 and rec["time"] >= 0
        for key in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction", "lr"):
            assert isinstance(rec[key], float), key
    assert train[-1]["lr"] < train[0]["lr"]  # the linear schedule decays
    first, last = train[0]["ep_return_mean"], train[-1]["ep_return_mean"]
    assert last > 1.5 * first, (first, last)  # random CartPole play is ~20
    assert summary.best_eval == max(e["mean_return"] for e in evals) > 1.5 * first
    assert (ctx.run_dir / "rllib_config.yaml").read_text().count("train_batch_size_per_learner: 256")
    for kind in ("last", "best"):
        assert (ctx.run_dir / "checkpoints" / kind / "rllib_checkpoint.json").is_file()


def test_a_loaded_rllib_run_evaluates_rolls_out_and_acts(trained):
    ctx, summary = trained
    from mazedsl.rl.building import Seeds

    loaded = RunContext.load(ctx.run_dir, checkpoint="best", silent=True)
    evals = list(iter_metrics(ctx.run_dir / "metrics.jsonl", "eval"))
    best_index = max(i for i, e in enumerate(evals) if e["best"])
    result = loaded.evaluate(n_episodes=4, seed=Seeds.derive(0).eval + best_index)
    assert result.mean_return == summary.best_eval  # the same policy on the same episodes
    saved = json.loads((ctx.run_dir / "eval.json").read_text())
    assert saved["checkpoint"] == "best" and saved["n_episodes"] == 4
    episodes = loaded.rollout(n_episodes=1)
    assert len(episodes) == 1 and (ctx.run_dir / "rollouts" / "episode_000.npz").is_file()
    assert episodes.lengths[0] == len(episodes[0].actions) > 0
    obs = np.zeros(4, dtype=np.float32)
    action = loaded.compute_action(obs)
    assert action in (0, 1)
    batch = loaded.compute_action(np.zeros((3, 4), dtype=np.float32))
    assert batch.shape == (3,)
    probs = loaded.compute_action_distribution(obs)["probs"]
    assert probs.shape == (2,) and probs.sum() == pytest.approx(1.0)
    assert action == int(np.argmax(probs))  # deterministic = the mode
    # the CLI on the same run (eval loads the RLModule without starting Ray), named by a
    # relative path as users name runs under outputs/ (RLlib itself takes absolute ones only)
    out = subprocess.run([BIN / "mazedsl", "eval", ctx.run_dir.name, "--episodes", "2", "--json",
                          "--checkpoint", "last"], capture_output=True, text=True, timeout=180,
                         cwd=ctx.run_dir.parent)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["returns"]) == 2
    assert "Deprecat" not in out.stderr  # (RLlib's own, about its RLModule constructor)
    runs = subprocess.run([BIN / "mazedsl", "--runs-root", str(ctx.run_dir.parent), "runs", "--json"],
                          capture_output=True, text=True, timeout=60)
    listed = {Path(r["path"]).name: r for r in json.loads(runs.stdout)}
    assert listed["run"]["status"] == "finished" and listed["run"]["steps"] == summary.steps


def test_the_tui_lists_an_rllib_run_and_shows_its_curves(trained):
    from tests.tui_helpers import run_async, wait_for

    ctx, summary = trained
    train = list(iter_metrics(ctx.run_dir / "metrics.jsonl", "train"))
    evals = list(iter_metrics(ctx.run_dir / "metrics.jsonl", "eval"))

    @run_async
    async def drive() -> None:
        from mazedsl_tui.app import MazeApp
        from mazedsl_tui.screens.run_detail import RunDetailScreen
        from mazedsl_tui.widgets.detail.curves import MetricsPlot
        from mazedsl_tui.widgets.runs.table import RunsTable

        app = MazeApp(ROOT / "experiments", ctx.run_dir.parent, poll_interval=0.05, mode="runs")
        async with app.run_test(size=(120, 36)) as pilot:
            table = app.screen.query_one(RunsTable)
            await wait_for(pilot, lambda: table.row_count == 1, what="the RLlib run")
            key = str(ctx.run_dir)
            assert table.cell_text(key, "algorithm") == "PPO"
            assert table.cell_text(key, "env") == "CartPole-v1"
            assert table.cell_text(key, "status") == "✔ finished"
            assert table.cell_text(key, "steps") == f"{summary.steps:,}"
            assert table.cell_text(key, "best_eval") == f"{summary.best_eval:,.1f}"
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RunDetailScreen)
                           and app.screen.is_mounted, what="run detail")
            plots = {p.id: p for p in app.screen.query(MetricsPlot)}
            await wait_for(pilot, lambda: plots["plot-return"].point_count == len(train),
                           what="the return curve")
            assert plots["plot-return"].values("ep_return_mean") == [r["ep_return_mean"] for r in train]
            assert plots["plot-eval"].values("mean_return") == [e["mean_return"] for e in evals]
            assert plots["plot-loss"].values("policy_loss") == [r["policy_loss"] for r in train]
            assert plots["plot-speed"].point_count == len([r for r in train if r["steps_per_s"]])

    drive()


def test_too_many_env_runners_for_the_cluster_is_one_line(cluster, tmp_path):
    ctx = RunContext(rllib_exp(num_env_runners=3), run_dir=tmp_path / "r", silent=True)
    t0 = time.monotonic()
    with pytest.raises(MazeError) as info:
        ctx.train()
    assert time.monotonic() - t0 < 30
    assert str(info.value) == ("runner.num_env_runners: 3 env runners x 1 CPU need 3 CPUs, but "
                               "the Ray cluster has 2; lower it or add nodes")
    run = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run["status"] == "failed" and "need 3 CPUs" in run["error"]


def test_an_env_factory_that_cannot_be_shipped_is_one_line(cluster, tmp_path):
    handle = open(tmp_path / "data.txt", "w")  # noqa: SIM115 - the point: an open file

    def make_env():
        handle.write("made\n")
        return gym.make("CartPole-v1")

    try:
        ctx = RunContext(env=make_env, overrides={"runner": "rllib", "total_steps": 256},
                         run_dir=tmp_path / "r", silent=True)
        with pytest.raises(EnvError) as info:
            ctx.train()
    finally:
        handle.close()
    msg = str(info.value)
    assert msg.startswith("env: the env factory ") and "cannot be sent to Ray's env runners" in msg
    assert "cannot pickle" in msg.lower() and "\n" not in msg
    run = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run["status"] == "failed" and "cannot be sent" in run["error"]


def test_a_torch_module_of_your_own_trains_on_rllib_and_acts_after_loading(cluster, tmp_path,
                                                                            monkeypatch):
    import torch

    monkeypatch.chdir(ROOT)  # experiments._nets.mlp is imported from the project root
    exp = load_experiment(str(ROOT / "experiments" / "custom_model_ppo.py")).override({
        "runner": RLlibRunner(num_env_runners=0),  # envs stepped in this process
        "total_steps": 256, "eval_every_steps": 0, "eval_episodes": 2})
    summary = RunContext(exp, run_dir=tmp_path / "r", silent=True).train()
    assert summary.stopped == "budget" and summary.steps >= 256 and summary.evaluations == 1
    loaded = RunContext.load(tmp_path / "r", checkpoint="last", silent=True)
    net = loaded.policy.module.net.pi_torso.inner  # the user's PolicyNet, trained by RLlib
    assert type(net).__module__ == "experiments._nets.mlp" and type(net).__name__ == "PolicyNet"
    obs = np.array([0.1, -0.2, 0.05, 0.3], dtype=np.float32)
    with torch.no_grad():
        logits = net(torch.from_numpy(obs)[None])[0].numpy()
    assert loaded.compute_action(obs) == int(np.argmax(logits))


def _tiny_offpolicy(exp, **algorithm):
    return exp.override({"runner": RLlibRunner(num_env_runners=0, num_envs_per_env_runner=1, n_eval_envs=2),
                         "total_steps": 400, "eval_every_steps": 0, "eval_episodes": 2,
                         "log_every_steps": 200, "checkpoint_every_steps": 400,
                         **{f"algorithm.{k}": v for k, v in algorithm.items()}})


def test_dqn_trains_on_rllib_and_a_loaded_run_acts_greedily_in_q(cluster, tmp_path):
    import torch

    from mazedsl.rl.building import Seeds

    exp = _tiny_offpolicy(DQN_EXP, learning_starts=100, train_freq=50, gradient_steps=5,
                          batch_size=32, buffer_size=1_000).override({"model.hidden_units": [32]})
    summary = RunContext(exp, run_dir=tmp_path / "r", silent=True).train()
    assert summary.stopped == "budget" and summary.steps == 400 and summary.evaluations == 1
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["status"] == "finished" and info["runner"] == "rllib"
    train = list(iter_metrics(tmp_path / "r" / "metrics.jsonl", "train"))
    assert [r["step"] for r in train] == [200, 400]
    for rec in train:  # the native DQN's fields, from RLlib's DQN learner
        assert isinstance(rec["q_loss"], float) and isinstance(rec["q_mean"], float)
        assert rec["lr"] == pytest.approx(2.3e-3)
    assert "training_intensity: 3.2" in (tmp_path / "r" / "rllib_config.yaml").read_text()  # 5 x 32 / 50
    loaded = RunContext.load(tmp_path / "r", checkpoint="best", silent=True)
    result = loaded.evaluate(n_episodes=2, seed=Seeds.derive(0).eval)
    assert result.mean_return == summary.best_eval  # the same greedy policy on the same episodes
    obs = np.array([0.02, -0.3, 0.04, 0.5], dtype=np.float32)
    dist = loaded.compute_action_distribution(obs)
    module = loaded.policy.module
    with torch.no_grad():
        rllib_action = module.forward_inference({"obs": torch.from_numpy(obs)[None]})["actions"]
    assert loaded.compute_action(obs) == int(np.argmax(dist["q_values"])) == int(rllib_action[0])
    assert dist["probs"].tolist() in ([1.0, 0.0], [0.0, 1.0])
    episodes = loaded.rollout(n_episodes=1)
    assert episodes.lengths[0] == len(episodes[0].actions) > 0
    assert set(np.asarray(episodes[0].actions).tolist()) <= {0, 1}
    # resume: RLlib restores the algorithm (replay buffer included), mazedsl its counters
    resumed = RunContext.load(tmp_path / "r", checkpoint="last", silent=True).train(total_steps=600)
    assert resumed.stopped == "budget" and resumed.steps == 600 and resumed.evaluations == 2
    steps = [r["step"] for r in iter_metrics(tmp_path / "r" / "metrics.jsonl", "train")]
    assert steps == [200, 400, 600]


def test_sac_trains_on_rllib_and_a_loaded_run_acts_within_the_bounds(cluster, tmp_path):
    from mazedsl.rl.building import Seeds

    exp = _tiny_offpolicy(SAC_EXP, learning_starts=100, train_freq=20, gradient_steps=4,
                          batch_size=32, buffer_size=1_000, log_std_min=-5.0).override(
        {"model.hidden_units": [32, 32], "critic.hidden_units": [32, 32]})
    summary = RunContext(exp, run_dir=tmp_path / "r", silent=True).train()
    assert summary.stopped == "budget" and summary.steps == 400
    train = list(iter_metrics(tmp_path / "r" / "metrics.jsonl", "train"))
    assert [r["step"] for r in train] == [200, 400]
    for rec in train:  # the native SAC's fields, from RLlib's SAC learner
        for key in ("q_loss", "policy_loss", "ent_coef", "ent_coef_loss", "lr"):
            assert isinstance(rec[key], float), key
    assert train[-1]["ent_coef"] < 1.0  # alpha is tuned from ent_coef_init=1
    loaded = RunContext.load(tmp_path / "r", checkpoint="best", silent=True)
    result = loaded.evaluate(n_episodes=2, seed=Seeds.derive(0).eval)
    assert result.mean_return == summary.best_eval and result.lengths == [200, 200]
    obs = np.array([1.0, 0.0, 0.5], dtype=np.float32)
    mean = float(loaded.compute_action_distribution(obs)["mean"][0])
    action = loaded.compute_action(obs)
    assert action.shape == (1,) and -2.0 <= action[0] <= 2.0  # Pendulum's torque bounds
    assert action[0] == pytest.approx(2.0 * math.tanh(mean), abs=1e-5)  # squashed mode, scaled
    batch = loaded.compute_action(np.zeros((3, 3), dtype=np.float32))
    assert batch.shape == (3, 1)


def _cli_env(cluster) -> dict[str, str]:
    return {**os.environ, "RAY_ADDRESS": cluster.address, "PYTHONUNBUFFERED": "1"}


def test_sigint_checkpoints_and_resume_continues(cluster, tmp_path):
    run_dir = tmp_path / "run"
    cmd = [str(BIN / "mazedsl"), "train", str(ROOT / "experiments" / "cartpole_ppo.py"),
           "runner=rllib", "runner.num_env_runners=0", "total_steps=3000", "log_every_steps=256",
           "eval_every_steps=0",
           "eval_episodes=2", "--run-dir", str(run_dir), "--quiet"]
    proc = subprocess.Popen(cmd, env=_cli_env(cluster), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    metrics = run_dir / "metrics.jsonl"
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and proc.poll() is None:
        if metrics.is_file() and metrics.read_text().strip():
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted"
    state = json.loads((run_dir / "checkpoints" / "last" / "mazedsl_state.json").read_text())
    assert 0 < state["steps"] == info["steps"] < 3000
    # `mazedsl train --resume RUN` is RunContext.load(RUN, checkpoint="last").train(); in this
    # process it joins the same cluster without another interpreter start
    resumed = RunContext.load(run_dir, checkpoint="last", silent=True).train()
    assert resumed.stopped == "budget" and resumed.steps >= 3000
    steps = [r["step"] for r in iter_metrics(metrics, "train")]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)  # continued, not restarted
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    # a larger budget, as train(total_steps=N) and as `--resume RUN total_steps=N`
    # (set_total_steps), becomes the run's own: run.json, config.yaml, overrides.yaml
    for budget, extend in ((resumed.steps + 200, "train"), (resumed.steps + 400, "set")):
        ctx = RunContext.load(run_dir, checkpoint="last", silent=True)
        if extend == "set":
            ctx.set_total_steps(budget)
            more = ctx.train()
        else:
            more = ctx.train(total_steps=budget)
        info = json.loads((run_dir / "run.json").read_text())
        assert more.stopped == "budget" and more.steps >= budget, extend
        assert info["status"] == "finished" and info["total_steps"] == budget, extend
        assert yaml.safe_load((run_dir / "config.yaml").read_text())["total_steps"] == budget
        resumed_overrides = yaml.safe_load((run_dir / "overrides.yaml").read_text())["resumed"]
        assert resumed_overrides[-1] == f"total_steps={budget}", extend


@pytest.mark.parametrize("cli, args, line", [
    ("mazedsl", ["train", str(ROOT / "experiments" / "custom_model_sac.py"), "runner=rllib"],
     "error: model: no RLlib counterpart for this value under runner=rllib (runner=rllib trains "
     "SAC with RLlib's default MLP module: use a VectorObs model, got TorchModel)"),
    ("mazedsl-run", ["algorithm=a2c", "runner=rllib"],
     "error: algorithm: A2C has no RLlib counterpart (RLlib's algorithms: PPO, APPO, IMPALA, DQN, "
     "SAC, BC, CQL, MARWIL, DreamerV3); runner=rllib trains PPO, DQN, SAC: use algorithm=ppo, or "
     "a native runner (runner=local)"),
])
def test_both_clis_refuse_what_rllib_cannot_honour_before_writing(tmp_path, cli, args, line):
    """The mapping's refusals are plain data: both CLIs check them with the others, before a
    run directory is named (and before Ray starts)."""
    out = subprocess.run([str(BIN / cli), *args], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [line], out.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_address_is_one_line_within_seconds(tmp_path):
    cmd = [str(BIN / "mazedsl"), "train", str(ROOT / "experiments" / "cartpole_ppo.py"),
           "runner=rllib", "runner.address=127.0.0.1:9", "runner.connect_timeout_s=2",
           "--run-dir", str(tmp_path / "r"), "--quiet"]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"})
    assert time.monotonic() - t0 < 60
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines == ["error: runner.address: cannot reach the Ray cluster at '127.0.0.1:9' "
                     "(Connection refused, waited 2 s); start it with `ray start --head` or "
                     "fix the address"], out.stderr
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["status"] == "failed" and "cannot reach" in info["error"]


# --- a cluster started as users start one: `ray start --head` ----------------------------

def _pids_mentioning(text: str) -> list[int]:
    """Processes whose command line mentions ``text`` (our head's private temp dir)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    out.append(int(entry.name))
            except OSError:
                pass
    return out


@pytest.fixture
def ray_head(tmp_path):
    """`ray start --head --block` (2 CPUs, a free port, a private RAY_TMPDIR) as a subprocess,
    stopped by SIGTERM to that process (its node then ends its own Ray processes). `ray stop`
    is not used: it ends every Ray process on the machine, other users' clusters included.
    Token authentication is on, as `ray start` turns it on where ~/.ray/auth_token exists: a
    private HOME holds a token as `ray get-auth-token --generate` makes one (the machine's own
    ~/.ray, present or not, plays no part)."""
    import secrets
    import shutil
    import socket
    import tempfile

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ray_tmp = tempfile.mkdtemp(prefix="mzray", dir="/tmp")  # short: Ray's socket paths
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_MODE")}
    env.update(RAY_TMPDIR=ray_tmp, RAY_DEDUP_LOGS="0", PYTHONUNBUFFERED="1",
               HOME=str(Path(ray_tmp) / "home"))
    token = Path(env["HOME"]) / ".ray" / "auth_token"
    token.parent.mkdir(parents=True)
    token.write_text(secrets.token_hex(32))  # what `ray get-auth-token --generate` writes
    head = subprocess.Popen([str(BIN / "ray"), "start", "--head", "--block", "--num-cpus=2",
                             f"--port={port}", "--node-ip-address=127.0.0.1",
                             "--include-dashboard=false", "--disable-usage-stats"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        address_file = Path(ray_tmp) / "ray" / "ray_current_cluster"
        deadline = time.monotonic() + 90
        while not address_file.is_file() and head.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert address_file.is_file(), head.stderr.read() if head.poll() is not None else "timeout"
        yield {"address": f"127.0.0.1:{port}", "env": env, "tmp": ray_tmp}
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
        deadline = time.monotonic() + 30
        while _pids_mentioning(ray_tmp) and time.monotonic() < deadline:
            time.sleep(0.5)
        stray = _pids_mentioning(ray_tmp)
        for pid in stray:  # what the node left behind, ours by its private temp dir
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)
        assert not stray, f"Ray processes left after the head stopped: {stray}"


def test_runner_address_auto_and_ray_address_join_a_ray_start_head_cluster(ray_head, tmp_path):
    base = [str(BIN / "mazedsl"), "train", str(ROOT / "experiments" / "cartpole_ppo.py"),
            "runner=rllib", "runner.num_envs_per_env_runner=2", "algorithm.n_steps=32",
            "algorithm.batch_size=64", "algorithm.n_epochs=1", "total_steps=128",
            "eval_every_steps=0", "eval_episodes=1", "log_every_steps=64", "--quiet"]
    runs = {"auto": (["runner.address=auto", "runner.num_env_runners=1"], ray_head["env"]),
            # by address Ray sends the cluster's token (~/.ray/auth_token) only when told to
            "env": (["runner.num_env_runners=0"], {**ray_head["env"], "RAY_AUTH_MODE": "token",
                                                    "RAY_ADDRESS": ray_head["address"]})}
    for name, (args, env) in runs.items():
        out = subprocess.run([*base, *args, "--run-dir", str(tmp_path / name)], env=env,
                             capture_output=True, text=True, timeout=240)
        assert out.returncode == 0, out.stderr[-3000:]
        info = json.loads((tmp_path / name / "run.json").read_text())
        assert info["status"] == "finished" and info["steps"] >= 128, name
        # joined the head (not a Ray of its own): its address, its 2 CPUs, its one node
        port = ray_head["address"].rsplit(":", 1)[1]
        assert info["rllib"]["address"].endswith(f":{port}"), (name, info["rllib"]["address"])
        assert info["rllib"]["nodes"] == 1 and info["rllib"]["cpus"] == 2.0, name
        assert len(info["rllib"]["env_runner_nodes"]) == 1


# --- sweeps on the Ray and submitit launchers -------------------------------------------

# two jobs: enough to show each launcher runs a sweep's jobs (test_cli.py covers the product)
SWEEP = ["-cn", "conf_train", "-m", "runner=dev", "algorithm.lr=1e-3,3e-4", "seed=1",
         "total_steps=256", "eval_every_steps=128", "eval_episodes=2", "log_every_steps=64",
         "algorithm.n_steps=16", "algorithm.batch_size=32", "algorithm.n_epochs=2"]


def _check_sweep(out: subprocess.CompletedProcess, root: Path) -> None:
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    (sweep_json,) = root.glob("conf_train/sweep_*/sweep.json")
    jobs = json.loads(sweep_json.read_text())["jobs"]
    assert len(jobs) == 2 and all(j["status"] == "finished" for j in jobs)
    assert sorted(o for j in jobs for o in j["overrides"] if o.startswith("algorithm.lr")) \
        == ["algorithm.lr=0.0003", "algorithm.lr=0.001"]
    assert all(j["steps"] == 256 and j["best_eval"] is not None for j in jobs)
    assert "(2 jobs, 0 failed)" in out.stdout
    # output to a file or pipe (the TUI's sweep log) carries no colour codes: Ray's job lines
    # were "\x1b[36m(_run_job pid=...)\x1b[0m ..."
    assert "\x1b[" not in out.stdout + out.stderr, (out.stdout + out.stderr)[-2000:]


def test_a_sweep_on_the_ray_launcher_joins_the_cluster(cluster, tmp_path):
    out = subprocess.run([str(BIN / "mazedsl-run"), *SWEEP, f"output_dir={tmp_path}",
                          "hydra/launcher=ray_cluster",
                          f"hydra.launcher.ray.init.address={cluster.address}"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    _check_sweep(out, tmp_path)


def test_a_sweep_on_the_submitit_local_launcher(tmp_path):
    out = subprocess.run([str(BIN / "mazedsl-run"), *SWEEP, f"output_dir={tmp_path}",
                          "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    _check_sweep(out, tmp_path)


def _slurm_partition() -> str:
    """The default partition of the Slurm this machine talks to, or skip with the reason."""
    import shutil

    if shutil.which("sbatch") is None:
        pytest.skip("no sbatch on PATH: Slurm is not installed here "
                    "(tests/fixtures/slurm/single_node.sh sets up a one-machine Slurm)")
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=15)
        parts = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True,
                               timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"no Slurm controller answers ({exc})")
    if ping.returncode != 0 or "UP" not in ping.stdout or parts.returncode != 0:
        pytest.skip("no Slurm controller answers `scontrol ping` (is SLURM_CONF set?)")
    default = [p.rstrip("*") for p in parts.stdout.split() if p.endswith("*")]
    return default[0] if default else parts.stdout.split()[0]


def test_a_sweep_on_the_submitit_slurm_launcher(tmp_path):
    partition = _slurm_partition()
    out = subprocess.run([str(BIN / "mazedsl-run"), *SWEEP, f"output_dir={tmp_path}",
                          "hydra/launcher=submitit_slurm", f"hydra.launcher.partition={partition}",
                          "hydra.launcher.timeout_min=5"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    _check_sweep(out, tmp_path)
    (sweep_dir,) = tmp_path.glob("conf_train/sweep_*")
    (script,) = sweep_dir.glob(".submitit/*/*_submission.sh")  # one sbatch array of 2 tasks
    assert f"#SBATCH --partition={partition}" in script.read_text()
    assert "#SBATCH --array=0-1" in script.read_text()
    logs = sorted(sweep_dir.glob(".submitit/*_*/*_log.out"))
    assert len(logs) == 2 and all("JobEnvironment(job_id=" in p.read_text() for p in logs)
