"""Provenance (each source kind, explain, the side table) and diff."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from mazedsl.config import (MISSING, apply_overrides, compose_experiment, diff, explain,
                            load_experiment, provenance, to_config)
from mazedsl.config.provenance import _TABLE
from mazedsl.errors import ConfigError
from mazedsl.spec import Experiment, FrameStack, Grayscale, GymEnv, VectorObs
from mazedsl import A2C, PPO

REPO = Path(__file__).resolve().parents[1]


def test_plain_python_experiment() -> None:
    exp = Experiment(seed=3, algorithm=PPO(lr=0.01), wrappers=[FrameStack(n_frames=2)])
    assert explain(exp, "algorithm.n_steps") == "algorithm.n_steps = 128  (PPO.n_steps default)"
    assert explain(exp, "algorithm.lr") == "algorithm.lr = 0.01  (set in Python)"
    assert explain(exp, "seed") == "seed = 3  (set in Python)"
    assert explain(exp, "wrappers[0].n_frames") == "wrappers[0].n_frames = 2  (set in Python)"
    assert explain(exp, "env.name") == "env.name = 'CartPole-v1'  (GymEnv.name default)"
    assert explain(exp, "model.hidden_units") == (
        "model.hidden_units = [64, 64]  (VectorObs.hidden_units default)")


def test_provenance_lists_every_leaf_in_field_order() -> None:
    exp = Experiment(env=GymEnv(kwargs={"a": 1, "b": {"c": 2}}), wrappers=[Grayscale()])
    paths = list(provenance(exp))
    assert paths[:7] == ["name", "env.name", "env.kwargs.a", "env.kwargs.b.c",
                         "env.max_episode_steps", "env.factory", "wrappers[0].keep_dim"]
    assert paths[-1] == "allow_targets" and "algorithm.adam_eps" in paths
    assert provenance(Experiment())["wrappers"] == "Experiment.wrappers default"
    assert provenance(Experiment())["env.kwargs"] == "GymEnv.kwargs default"


def test_config_module_sources() -> None:
    exp = compose_experiment(["algorithm=a2c", "runner=dev", "runner.n_envs=3"])
    assert explain(exp, "algorithm.lr") == "algorithm.lr = 0.0007  (conf/algorithm/a2c.yaml)"
    assert explain(exp, "runner.vectorization") == (
        "runner.vectorization = 'sync'  (conf/runner/dev.yaml)")
    assert explain(exp, "runner.n_envs") == "runner.n_envs = 3  (override 'runner.n_envs=3')"
    assert explain(exp, "seed") == "seed = 0  (conf/conf_train.yaml)"
    assert explain(exp, "wrappers") == "wrappers = []  (conf/wrappers/no_wrappers.yaml)"
    assert explain(exp, "algorithm") == "algorithm = A2C(...)  (conf/algorithm/a2c.yaml)"
    assert set(provenance(exp).values()) == {
        "conf/conf_train.yaml", "conf/env/gym_env.yaml", "conf/wrappers/no_wrappers.yaml",
        "conf/model/vector_obs.yaml", "conf/critic/template_state.yaml",
        "conf/algorithm/a2c.yaml", "conf/runner/dev.yaml", "override 'runner.n_envs=3'"}


def test_file_then_overrides_keep_the_file_lines() -> None:
    path = REPO / "experiments" / "cartpole_ppo.py"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "n_steps=" in text)
    base = load_experiment(path)
    changed = apply_overrides(base, "algorithm.lr=0.5", {"model": VectorObs(hidden_units=[8])})
    where = provenance(changed)
    assert where["algorithm.n_steps"].endswith(f"cartpole_ppo.py:{line}")
    assert where["algorithm.lr"] == "override 'algorithm.lr=0.5'"
    assert where["model.hidden_units"].startswith("override {'model': VectorObs(hidden_units=[8]")
    assert where["algorithm.target_kl"].endswith("cartpole_ppo.py:" + str(next(
        i for i, t in enumerate(path.read_text().splitlines(), 1) if "target_kl=" in t)))
    assert provenance(base)["algorithm.lr"] != where["algorithm.lr"]  # the base is unchanged


def test_explain_reaches_your_modules_arguments_and_every_target() -> None:
    """What `mazedsl show` prints is what provenance lists and --explain reaches: a TorchModel's
    arguments sit in its node (model.hidden_units, not model.kwargs.hidden_units), and each
    node's _target_ comes from where the node was set."""
    path = REPO / "experiments" / "custom_model_sac.py"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "TorchModel(" in text)
    exp = load_experiment(path)
    assert {k: v for k, v in provenance(exp).items() if k.startswith("model")} == {
        "model._target_": f"experiments/custom_model_sac.py:{line}",
        "model.hidden_units": f"experiments/custom_model_sac.py:{line}",
        "model.non_lin": f"experiments/custom_model_sac.py:{line + 1}"}  # (the TUI's table)
    assert explain(exp, "model.hidden_units") == (
        f"model.hidden_units = [256, 256]  (experiments/custom_model_sac.py:{line})")
    assert explain(exp, "model._target_") == (
        f"model._target_ = 'experiments._nets.mlp.PolicyNet'  (experiments/custom_model_sac.py:{line})")
    changed = apply_overrides(exp, "model.non_lin=torch.nn.Tanh")
    assert explain(changed, "model.non_lin") == (
        "model.non_lin = 'torch.nn.Tanh'  (override 'model.non_lin=torch.nn.Tanh')")
    with pytest.raises(ConfigError, match=r"^model.nope: no such config path"):
        explain(exp, "model.nope")
    composed = compose_experiment(["algorithm=a2c"])
    assert explain(composed, "algorithm._target_") == (
        "algorithm._target_ = 'mazedsl.rl.algos.a2c.A2C'  (conf/algorithm/a2c.yaml)")


def test_explain_unknown_path() -> None:
    with pytest.raises(ConfigError, match=r"^algorithm.lrr: no such config path; did you mean "
                                          r"'algorithm.lr'\?$"):
        explain(Experiment(), "algorithm.lrr")
    with pytest.raises(ConfigError, match="no such config path"):
        explain(Experiment(), "wrappers[3]")
    with pytest.raises(ConfigError, match="takes a declaration"):
        provenance({"a": 1})


def test_side_table_entries_die_with_their_object() -> None:
    gc.collect()
    before = len(_TABLE)
    exp = apply_overrides(Experiment(), "seed=1")
    assert len(_TABLE) == before + 1
    del exp
    gc.collect()
    assert len(_TABLE) == before


# --- diff ---------------------------------------------------------------------------

def test_diff_of_experiments() -> None:
    a = Experiment(seed=1, algorithm=PPO(lr=0.1), wrappers=[Grayscale(), FrameStack()])
    b = Experiment(seed=2, algorithm=PPO(lr=0.2), wrappers=[Grayscale()])
    rows = diff(a, b)
    assert [r[0] for r in rows] == ["algorithm.lr", "seed", "wrappers[1]._target_",
                                    "wrappers[1].n_frames"]
    assert rows[2] == ("wrappers[1]._target_", "mazedsl.spec.FrameStack", MISSING)
    assert repr(MISSING) == "<missing>" and str(MISSING) == "<missing>"
    assert diff(a, a) == []


def test_diff_across_algorithm_types_and_configs() -> None:
    a, b = Experiment(), Experiment(algorithm=A2C())
    rows = dict((p, (x, y)) for p, x, y in diff(a, b))
    assert rows["algorithm._target_"] == ("mazedsl.rl.algos.ppo.PPO", "mazedsl.rl.algos.a2c.A2C")
    assert rows["algorithm.batch_size"] == (256, MISSING)
    assert rows["algorithm.optimizer"] == (MISSING, "rmsprop")
    assert rows["algorithm.lr"] == (3e-4, 7e-4)
    assert "algorithm.gamma" not in rows
    cfg = to_config(a)
    cfg.algorithm.lr = 0.5
    assert diff(a, cfg) == [("algorithm.lr", 3e-4, 0.5)]
    assert diff(OmegaConf.to_container(cfg), a) == [("algorithm.lr", 0.5, 3e-4)]


def test_diff_keeps_bools_apart_from_ints_and_sorts_indices_numerically() -> None:
    assert diff({"x": True}, {"x": 1}) == [("x", True, 1)]
    assert diff({"x": 1}, {"x": 1.0}) == []
    assert diff({"x": [1, 2]}, {"x": [1, 2, 3]}) == [("x", [1, 2], [1, 2, 3])]
    left = {"w": [{"a": i} for i in range(11)]}
    right = {"w": [{"a": -i} for i in range(11)]}
    assert [p for p, _, _ in diff(left, right)] == [f"w[{i}].a" for i in range(1, 11)]
    with pytest.raises(ConfigError, match="compares declarations or configs"):
        diff(3, 4)
