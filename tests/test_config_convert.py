"""to_config / from_config: _target_ nodes, strict leaves, unions, errors with paths."""

from __future__ import annotations

from typing import Any

import pytest
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from mazedsl.config import from_config, to_config, to_yaml
from mazedsl.errors import ConfigError, UnsafeTargetError
from mazedsl.spec import Experiment, FrameStack, Grayscale, GymEnv, NormalizeReward, PixelObs, Resize, RolloutConfig, RolloutRunner, Runner, StateCritic, VectorObs, Wrapper
from mazedsl import A2C, PPO

FULL = Experiment(
    name="full", env=GymEnv(name="Acrobot-v1", kwargs={"render_mode": None, "x": [1, 2]}),
    wrappers=[Grayscale(keep_dim=True), Resize(height=42, width=40), FrameStack(n_frames=2),
              NormalizeReward(gamma=0.9)],
    model=PixelObs(channels=[16, 32], kernel_sizes=[4, 3], strides=[2, 1], hidden_units=[128]),
    critic=StateCritic(shared=True), algorithm=A2C(lr=1e-3, optimizer="adam"),
    runner=Runner(n_envs=2, vectorization="sync"), seed=3, patience=4, target_return=195.5,
)


def _error(cfg: Any, cls: Any = Experiment, source: Any = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        from_config(cfg, cls, source=source)
    return info.value


def test_every_declaration_node_carries_its_public_target() -> None:
    cfg = to_config(FULL)
    assert isinstance(cfg, DictConfig)
    assert cfg._target_ == "mazedsl.spec.Experiment"
    assert cfg.env._target_ == "mazedsl.spec.GymEnv"
    assert cfg.algorithm._target_ == "mazedsl.rl.algos.a2c.A2C"
    assert cfg.model._target_ == "mazedsl.spec.PixelObs"
    assert cfg.critic._target_ == "mazedsl.spec.StateCritic"
    assert cfg.runner._target_ == "mazedsl.spec.Runner"
    assert [w._target_ for w in cfg.wrappers] == [
        "mazedsl.spec.Grayscale", "mazedsl.spec.Resize", "mazedsl.spec.FrameStack",
        "mazedsl.spec.NormalizeReward"]
    assert cfg.algorithm.lr == 1e-3 and cfg.env.kwargs.x == [1, 2]
    assert list(cfg.keys())[0] == "_target_"


def test_hydra_instantiate_builds_the_same_experiment() -> None:
    built = instantiate(to_config(FULL), _convert_="all")
    assert built == FULL
    assert isinstance(built.algorithm, A2C) and isinstance(built.wrappers[1], Resize)


def test_round_trip_through_yaml_text() -> None:
    text = to_yaml(FULL)
    assert "_target_: mazedsl.spec.PixelObs" in text
    assert from_config(OmegaConf.create(text)) == FULL
    assert from_config(OmegaConf.to_container(to_config(FULL))) == FULL


def test_wrapper_list_and_single_declarations() -> None:
    wrappers = [Grayscale(), FrameStack(n_frames=3)]
    cfg = to_config(wrappers)
    assert isinstance(cfg, ListConfig)
    assert from_config(cfg, list[Wrapper]) == wrappers
    assert from_config(to_config(PPO(lr=0.5)), PPO) == PPO(lr=0.5)
    assert from_config({"_target_": "mazedsl.rl.algos.a2c.A2C"}, None) == A2C()
    with pytest.raises(ConfigError, match="takes a declaration, got int"):
        to_config(3)


@pytest.mark.parametrize("target", ["mazedsl.rl.algos.a2c.A2C", "A2C", "mazedsl.rl.algos.a2c.spec.A2C"])
def test_union_dispatches_on_target_spellings(target: str) -> None:
    exp = from_config({"algorithm": {"_target_": target, "lr": 0.01}})
    assert exp.algorithm == A2C(lr=0.01)


def test_non_union_field_needs_no_target_but_union_does() -> None:
    assert from_config({"env": {"name": "Pendulum-v1"}}).env == GymEnv(name="Pendulum-v1")
    err = _error({"algorithm": {"lr": 0.01}})
    assert str(err) == ("algorithm: needs a _target_ naming a registered algorithm: "
                        "ppo (mazedsl.rl.algos.ppo.PPO), a2c (mazedsl.rl.algos.a2c.A2C), "
                        "dqn (mazedsl.rl.algos.dqn.DQN), sac (mazedsl.rl.algos.sac.SAC), "
                        "bc (mazedsl.rl.algos.bc.BC)")


def test_target_outside_the_allowlist_is_refused() -> None:
    err = _error({"wrappers": [{"_target_": "os.system", "command": "true"}]})
    assert isinstance(err, UnsafeTargetError)
    assert err.path == "wrappers[0]._target_"
    assert err.message.startswith("unknown _target_ 'os.system'; expected ")
    err = _error({"env": {"_target_": "mazedsl.rl.algos.ppo.PPO"}})
    assert str(err) == "env._target_: must be a GymEnv declaration, got _target_ 'mazedsl.rl.algos.ppo.PPO'"
    err = _error({"runner": {"_target_": "RolloutRunner"}})
    assert err.path == "runner._target_"


@pytest.mark.parametrize("cfg, message", [
    ({"runner": {"n_envs": 1.5}}, "runner.n_envs: must be an integer, got 1.5"),
    ({"runner": {"n_envs": True}}, "runner.n_envs: must be an integer, got True"),
    ({"runner": {"n_envs": "8"}}, "runner.n_envs: must be an integer, got '8'"),
    ({"algorithm": {"_target_": "PPO", "lr": "1e-3"}},
     "algorithm.lr: must be a number, got '1e-3'"),
    ({"algorithm": {"_target_": "PPO", "lr": False}}, "algorithm.lr: must be a number, got False"),
    ({"model": {"_target_": "VectorObs", "ortho_init": "yes"}},
     "model.ortho_init: must be true or false, got 'yes'"),
    ({"model": {"_target_": "VectorObs", "ortho_init": 1}},
     "model.ortho_init: must be true or false, got 1"),
    ({"name": 12}, "name: must be a string, got 12"),
    ({"model": {"_target_": "VectorObs", "hidden_units": [64, 6.5]}},
     "model.hidden_units[1]: must be an integer, got 6.5"),
    ({"model": {"_target_": "VectorObs", "hidden_units": 64}},
     "model.hidden_units: must be a list, got 64"),
    ({"env": {"kwargs": {1: 2}}}, "env.kwargs: must be a mapping with string keys, got {1: 2}"),
    ({"env": "CartPole-v1"}, "env: must be a GymEnv declaration (a mapping), got 'CartPole-v1'"),
    ({"wrappers": {"_target_": "Grayscale"}},
     "wrappers: must be a list, got {'_target_': 'Grayscale'}"),
    ({"algorithm": None}, "algorithm: must be an algorithm declaration (ppo, a2c, dqn, sac, bc) (a mapping), got None"),
])
def test_strict_leaf_types(cfg: dict[str, Any], message: str) -> None:
    assert str(_error(cfg)) == message


def test_floats_accept_ints_and_strings_stay_strings() -> None:
    exp = from_config({"algorithm": {"_target_": "PPO", "lr": 1}, "target_return": 200,
                       "env": {"name": "1"}, "output_dir": "yes"})
    assert exp.algorithm.lr == 1.0 and type(exp.algorithm.lr) is float
    assert type(exp.target_return) is float
    assert exp.env.name == "1" and exp.output_dir == "yes"
    assert from_config(OmegaConf.create("env: {name: 'yes'}")).env.name == "yes"


def test_validators_run_and_paths_are_prefixed() -> None:
    assert str(_error({"algorithm": {"_target_": "PPO", "lr": -1}})) == (
        "algorithm.lr: must be > 0, got -1.0")
    assert str(_error({"wrappers": [{"_target_": "Grayscale"},
                                    {"_target_": "FrameStack", "n_frames": 0}]})) == (
        "wrappers[1].n_frames: must be > 0, got 0")
    assert str(_error({"model": {"_target_": "PixelObs", "channels": [8]}})) == (
        "model.channels: must have equal lengths, got channels=1, kernel_sizes=3, strides=3")
    assert str(_error({"seed": -2})) == "seed: must be >= 0, got -2"


def test_unknown_keys_suggest_the_closest_name() -> None:
    err = _error({"algorithm": {"_target_": "PPO", "lrr": 1}})
    assert str(err) == (
        "algorithm.lrr: unknown key; did you mean 'lr'? (valid: lr, lr_schedule, n_steps, "
        "batch_size, n_epochs, gamma, gae_lambda, clip_range, clip_schedule, clip_range_vf, "
        "normalize_advantage, ent_coef, vf_coef, max_grad_norm, target_kl, adam_eps, backend)")
    err = _error({"wrappers": [{"_target_": "FrameStack", "nframes": 2}]})
    assert str(err) == "wrappers[0].nframes: unknown key; did you mean 'n_frames'? (valid: n_frames)"
    err = _error({"zzz": 1})
    assert err.path == "zzz" and err.message.startswith("unknown key (valid: name, env, ")


def test_missing_mandatory_values() -> None:
    cfg = OmegaConf.create({"algorithm": {"_target_": "PPO", "lr": "???"}})
    assert str(_error(cfg)) == (
        "algorithm.lr: missing mandatory value (???); set it, e.g. with an override")
    assert _error(OmegaConf.create({"seed": "???"})).path == "seed"


def test_interpolations_are_resolved_and_their_errors_named() -> None:
    cfg = OmegaConf.create({"seed": 3, "runner": {"n_envs": "${seed}"}})
    assert from_config(cfg).runner.n_envs == 3
    err = _error(OmegaConf.create({"runner": {"n_envs": "${nowhere}"}}))
    assert err.path == "runner.n_envs"
    assert "nowhere" in err.message


def test_source_labels_errors() -> None:
    cfg = {"algorithm": {"_target_": "PPO", "lr": -1}}
    assert str(_error(cfg, source="conf/algorithm/ppo.yaml")) == (
        "algorithm.lr: must be > 0, got -1.0 (from conf/algorithm/ppo.yaml)")
    table = {"algorithm": "conf/algorithm/ppo.yaml", "algorithm.lr": "override 'algorithm.lr=-1'"}
    assert str(_error(cfg, source=table)) == (
        "algorithm.lr: must be > 0, got -1.0 (from override 'algorithm.lr=-1')")
    assert _error({"algorithm": {"_target_": "PPO", "n_steps": 0}}, source=table).source == (
        "conf/algorithm/ppo.yaml")
    assert _error(cfg, source=lambda path: f"<{path}>").source == "<algorithm.lr>"


@pytest.mark.parametrize("cfg", [3, "text", [1, 2], {"env": object()}, {"wrappers": [None]},
                                 {"runner": {"n_envs": [1]}}, {"algorithm": {"_target_": 3}},
                                 {"env": {"kwargs": None}}])
def test_nothing_but_config_errors_escape(cfg: Any) -> None:
    _error(cfg)


def test_values_a_config_cannot_hold_are_config_errors() -> None:
    with pytest.raises(ConfigError) as info:
        to_config(Experiment(env=GymEnv(kwargs={"f": object()})))
    assert info.value.path == "env.kwargs.f"
    assert info.value.message.startswith("cannot be written to a config: ")


def test_rollout_config_optional_env() -> None:
    rc = from_config({"runner": {"n_episodes": 3}, "env": None}, RolloutConfig)
    assert rc.env is None and rc.runner == RolloutRunner(n_episodes=3)
    rc = from_config({"_target_": "mazedsl.spec.RolloutConfig", "env": {"name": "Acrobot-v1"}},
                     None)
    assert rc.env == GymEnv(name="Acrobot-v1")
    err = _error({"_target_": "mazedsl.spec.RolloutConfig"})
    assert str(err) == ("_target_: must be a Experiment declaration, got _target_ "
                        "'mazedsl.spec.RolloutConfig'")


def test_declaration_instances_inside_dicts_are_accepted() -> None:
    exp = from_config({"algorithm": A2C(lr=0.1), "model": VectorObs(hidden_units=[8])})
    assert exp.algorithm == A2C(lr=0.1) and exp.model.hidden_units == [8]
    assert from_config(FULL) is FULL


def test_one_string_where_a_list_of_strings_is_expected_is_a_list_of_one() -> None:
    """`algorithm.episodes=RUN` as typed on a command line, a declaration given one path,
    and a config tree holding one string all mean the list of that one; the tree compiles
    back to a list. Lists of anything else stay strict."""
    from mazedsl.rl.algos.bc import BC

    assert BC(episodes="runs/a").episodes == ["runs/a"]
    assert Experiment(allow_targets="mypkg.nets").allow_targets == ["mypkg.nets"]
    exp = Experiment().override("algorithm=bc", "algorithm.episodes=cartpole_ppo:latest")
    assert exp.algorithm.episodes == ["cartpole_ppo:latest"]
    cfg = to_config(exp)
    assert OmegaConf.to_container(cfg.algorithm.episodes) == ["cartpole_ppo:latest"]
    cfg.algorithm.episodes = "outputs/*/rollouts"
    assert from_config(cfg, Experiment).algorithm.episodes == ["outputs/*/rollouts"]
    with pytest.raises(ConfigError, match=r"model.hidden_units: must be a list"):
        Experiment().override("model.hidden_units=64")
    with pytest.raises(ConfigError, match="episodes"):
        BC(episodes="")
