"""Overrides: Hydra strings and dotted dicts, group swaps, deletes, validation with sources."""

from __future__ import annotations

from typing import Any

import pytest

from mazedsl.config import apply_overrides, explain, split_sweep
from mazedsl.errors import ConfigError
from mazedsl.spec import Experiment, FrameStack, Grayscale, GymEnv, NormalizeObservation, PixelObs, Resize, RolloutConfig, Runner, ScaleObservation, VectorObs
from mazedsl import A2C, PPO

BASE = Experiment(name="base", algorithm=PPO(lr=1e-3, n_epochs=3), wrappers=[Grayscale()],
                  env=GymEnv(kwargs={"a": 1}))


def _error(*overrides: Any, base: Any = BASE) -> str:
    with pytest.raises(ConfigError) as info:
        apply_overrides(base, *overrides)
    return str(info.value)


def test_value_overrides_keep_everything_else() -> None:
    exp = apply_overrides(BASE, "algorithm.lr=0.01", "seed=7", "env.name=Acrobot-v1")
    assert exp.algorithm == PPO(lr=0.01, n_epochs=3)
    assert exp.seed == 7 and exp.env == GymEnv(name="Acrobot-v1", kwargs={"a": 1})
    assert exp.wrappers == [Grayscale()] and exp.name == "base"
    assert BASE.algorithm.lr == 1e-3  # the base is untouched
    assert BASE.override("algorithm.lr=0.01") == exp.override("seed=0", "env.name=CartPole-v1")


def test_group_module_swaps_the_whole_node() -> None:
    exp = apply_overrides(BASE, "algorithm=a2c")
    assert exp.algorithm == A2C()
    assert apply_overrides(exp, "algorithm=ppo").algorithm == PPO()
    assert apply_overrides(BASE, "wrappers=pixel_obs").wrappers == [
        Grayscale(), Resize(height=84, width=84), FrameStack(n_frames=4), ScaleObservation()]
    assert apply_overrides(BASE, "wrappers=vector_obs").wrappers == [NormalizeObservation()]
    assert apply_overrides(BASE, "runner=dev").runner == Runner(n_envs=2, vectorization="sync",
                                                                 n_eval_envs=2)
    assert apply_overrides(BASE, "model=pixel_obs").model == PixelObs()


def test_overrides_apply_in_order() -> None:
    assert apply_overrides(BASE, "algorithm=a2c", "algorithm.lr=0.5").algorithm == A2C(lr=0.5)
    assert apply_overrides(BASE, "algorithm.lr=0.5", "algorithm=a2c").algorithm == A2C()
    exp = apply_overrides(BASE, "wrappers=pixel_obs", "wrappers.1.height=42",
                          "wrappers.1.width=42")
    assert exp.wrappers[1] == Resize(height=42, width=42)


def test_add_force_add_and_delete() -> None:
    assert apply_overrides(BASE, "+env.kwargs.foo=1").env.kwargs == {"a": 1, "foo": 1}
    assert apply_overrides(BASE, "++env.kwargs.a=2", "++env.kwargs.b=x").env.kwargs == {
        "a": 2, "b": "x"}
    assert apply_overrides(BASE, "~wrappers").wrappers == []
    assert apply_overrides(BASE, "~algorithm.lr").algorithm == PPO(n_epochs=3)
    assert apply_overrides(BASE, "~env.kwargs.a").env.kwargs == {}
    assert apply_overrides(BASE, "~algorithm").algorithm == PPO()
    assert apply_overrides(BASE, "~env.kwargs.a=1").env.kwargs == {}
    assert apply_overrides(BASE, "~algorithm.lr", "algorithm.lr=0.2").algorithm.lr == 0.2
    two = apply_overrides(BASE, "wrappers=pixel_obs", "~wrappers.0")
    assert two.wrappers == [Resize(), FrameStack(), ScaleObservation()]


def test_hydra_value_grammar() -> None:
    exp = apply_overrides(BASE, "model.hidden_units=[32,16]", "env.kwargs={b: [1, 2], c: null}",
                          "patience=null", "target_return=195", "name='my_exp'",
                          "runner.vectorization=sync", "critic.shared=true")
    assert exp.model.hidden_units == [32, 16]
    assert exp.env.kwargs == {"a": 1, "b": [1, 2], "c": None}  # a dict merges, as in Hydra
    assert exp.patience is None and exp.target_return == 195.0 and exp.name == "my_exp"
    assert exp.runner.vectorization == "sync" and exp.critic.shared is True


def test_dict_overrides_take_module_names_declarations_dicts_and_values() -> None:
    exp = apply_overrides(BASE, {"algorithm": "a2c", "algorithm.lr": 1e-3,
                                 "model": VectorObs(hidden_units=[32]),
                                 "env": {"name": "Acrobot-v1"}, "wrappers[0].keep_dim": True,
                                 "runner.n_envs": 4})
    assert exp.algorithm == A2C(lr=1e-3)
    assert exp.model == VectorObs(hidden_units=[32])
    assert exp.env == GymEnv(name="Acrobot-v1", kwargs={"a": 1})  # a dict merges
    assert exp.wrappers == [Grayscale(keep_dim=True)] and exp.runner.n_envs == 4
    # a declaration replaces the node (no merge of kwargs), a dict with another _target_ too
    assert apply_overrides(BASE, {"env": GymEnv(kwargs={"b": 2})}).env.kwargs == {"b": 2}
    assert apply_overrides(BASE, {"algorithm": {"_target_": "A2C"}}).algorithm == A2C()
    assert apply_overrides(BASE, {"algorithm": {"n_steps": 7}}).algorithm == PPO(
        lr=1e-3, n_epochs=3, n_steps=7)
    assert apply_overrides(BASE, {"wrappers": [FrameStack(n_frames=2)]}).wrappers == [
        FrameStack(n_frames=2)]
    assert apply_overrides(BASE, {"env.kwargs.new": [1]}).env.kwargs == {"a": 1, "new": [1]}
    assert apply_overrides(BASE, ["seed=1", {"seed": 2}], ("seed=3",)).seed == 3


def test_no_overrides_returns_the_experiment() -> None:
    assert apply_overrides(BASE) is BASE
    assert apply_overrides(BASE, []) is BASE


def test_rollout_config_overrides() -> None:
    rc = apply_overrides(RolloutConfig(), "env=gym_env", "env.name=Pendulum-v1",
                         "runner.n_episodes=5", "policy=random")
    assert rc.env == GymEnv(name="Pendulum-v1") and rc.runner.n_episodes == 5
    assert _error("env.name=x", base=RolloutConfig()) == (
        "env: is None, which has no key 'name' (from override 'env.name=x')")


# --- errors ---------------------------------------------------------------------------

def test_out_of_range_names_path_value_and_override() -> None:
    assert _error("algorithm.lr=-1") == (
        "algorithm.lr: must be > 0, got -1.0 (from override 'algorithm.lr=-1')")
    assert _error("wrappers=pixel_obs", "wrappers.2.n_frames=0") == (
        "wrappers[2].n_frames: must be > 0, got 0 (from override 'wrappers.2.n_frames=0')")
    assert _error({"runner.n_envs": 0}) == (
        "runner.n_envs: must be > 0, got 0 (from override {'runner.n_envs': 0})")
    assert _error("model=pixel_obs", "model.channels=[8]") == (
        "model.channels: must have equal lengths, got channels=1, kernel_sizes=3, strides=3 "
        "(from override 'model.channels=[8]')")


@pytest.mark.parametrize("override, message", [
    ("runner.n_envs=1.5", "runner.n_envs: must be an integer, got 1.5"),
    ("runner.n_envs=true", "runner.n_envs: must be an integer, got True"),
    ("critic.shared=yes", "critic.shared: must be true or false, got 'yes'"),
    ("algorithm.lr=fast", "algorithm.lr: must be a number, got 'fast'"),
    ("name=3", "name: must be a string, got 3"),
    ("model.hidden_units=[64,0]", "model.hidden_units: must be a list of positive integers, "
                                  "got [64, 0]"),
])
def test_wrong_types(override: str, message: str) -> None:
    assert _error(override) == f"{message} (from override {override!r})"


def test_unknown_keys_suggest() -> None:
    assert _error("algorithm.lrr=1") == (
        "algorithm.lrr: unknown key; did you mean 'lr'? (valid: lr, lr_schedule, n_steps, "
        "batch_size, n_epochs, gamma, gae_lambda, clip_range, clip_schedule, clip_range_vf, "
        "normalize_advantage, ent_coef, vf_coef, max_grad_norm, target_kl, adam_eps, backend) "
        "(from override 'algorithm.lrr=1')")
    assert _error("+runner.nenvs=2").startswith(
        "runner.nenvs: unknown key; did you mean 'n_envs'? (valid: n_envs, vectorization, ")
    assert _error({"algorithm.gama": 0.9}).startswith(
        "algorithm.gama: unknown key; did you mean 'gamma'?")
    assert _error("algorithms.lr=1").startswith(
        "algorithms: unknown key; did you mean 'algorithm'? (valid: name, env, ")
    assert _error("env.kwargs.foo=1") == (
        "env.kwargs.foo: not set; use '+env.kwargs.foo=...' to add it "
        "(from override 'env.kwargs.foo=1')")
    assert _error("+algorithm.lr=1") == (
        "algorithm.lr: already set; use 'algorithm.lr=...' to change it "
        "(from override '+algorithm.lr=1')")
    assert _error("~env.kwargs.zz") == (
        "env.kwargs.zz: not set; nothing to delete (from override '~env.kwargs.zz')")
    assert _error("~env.kwargs.a=2") == (
        "env.kwargs.a: is 1, not 2; not deleted (from override '~env.kwargs.a=2')")
    assert _error("wrappers.3.keep_dim=true") == (
        "wrappers: no item '3' (the list has 1 items) (from override 'wrappers.3.keep_dim=true')")


def test_unknown_module_lists_the_available_ones() -> None:
    assert _error("algorithm=dqn") == (
        "algorithm: unknown config module 'dqn' (available algorithm modules: a2c, ppo); to "
        "change one value inside it use 'algorithm.<field>=...' (from override 'algorithm=dqn')")
    assert _error({"wrappers": "pixel"}).startswith(
        "wrappers: unknown config module 'pixel'; did you mean 'pixel_obs'? (available wrappers "
        "modules: no_wrappers, pixel_obs, vector_obs)")


@pytest.mark.parametrize("override, reason", [
    ("algorithm.lr 1e-3", "token recognition error at: ' '"),
    ("algorithm.lr==1", "extraneous input '='"),
    ("=3", "no key before '='"),
    ("algorithm.lr=[1", "no viable alternative at input '[1'"),
])
def test_malformed_override_strings(override: str, reason: str) -> None:
    message = _error(override)
    assert message.startswith(f"malformed override {override!r}: {reason}")
    assert message.endswith("(expected key=value, +key=value, ++key=value or ~key)")
    assert "Traceback" not in message and "\n" not in message


@pytest.mark.parametrize("override", ["algorithm=a2c,ppo", "seed=range(0,3)",
                                      "algorithm.lr=choice(0.1,0.2)"])
def test_sweeps_are_refused_in_single_overrides(override: str) -> None:
    assert _error(override).startswith(
        f"override {override!r} is a sweep (several values); one override takes one value: "
        f"run it as a sweep (mazedsl-run -m, mazedsl train --sweep)")


def test_other_bad_arguments() -> None:
    assert _error(3) == "an override must be a string or a dict, got 3"
    assert _error({1: 2}).startswith("override keys must be dotted strings, got 1")
    assert _error("hydra.run.dir=x") == (
        "override 'hydra.run.dir=x': hydra.* settings only apply to compose()")
    assert _error("x=glob(*)").startswith("override 'x=glob(*)': glob() sweeps are not supported")
    assert _error("algorithm@pkg=a2c") == (
        "override 'algorithm@pkg=a2c': package overrides ('@') are not supported")
    with pytest.raises(ConfigError, match="takes a declaration"):
        apply_overrides({"seed": 1}, "seed=2")


def test_provenance_of_overrides() -> None:
    exp = apply_overrides(BASE, "algorithm=a2c", "algorithm.lr=0.5", {"seed": 4})
    assert explain(exp, "algorithm.lr") == "algorithm.lr = 0.5  (override 'algorithm.lr=0.5')"
    assert explain(exp, "algorithm.n_steps") == (
        "algorithm.n_steps = 5  (conf/algorithm/a2c.yaml via override 'algorithm=a2c')")
    assert explain(exp, "seed") == "seed = 4  (override {'seed': 4})"
    assert explain(exp, "wrappers[0].keep_dim") == (
        "wrappers[0].keep_dim = False  (Grayscale.keep_dim default)")
    assert explain(exp, "env.kwargs.a") == "env.kwargs.a = 1  (set in Python)"


# --- split_sweep ------------------------------------------------------------------------

def test_split_sweep_expands_the_cartesian_product() -> None:
    assert split_sweep(["algorithm=a2c,ppo", "seed=range(0,3)", "runner.n_envs=4"]) == [
        ["algorithm=a2c", "seed=0", "runner.n_envs=4"],
        ["algorithm=a2c", "seed=1", "runner.n_envs=4"],
        ["algorithm=a2c", "seed=2", "runner.n_envs=4"],
        ["algorithm=ppo", "seed=0", "runner.n_envs=4"],
        ["algorithm=ppo", "seed=1", "runner.n_envs=4"],
        ["algorithm=ppo", "seed=2", "runner.n_envs=4"],
    ]
    assert split_sweep(["algorithm.lr=choice(0.1,0.01)", "+env.kwargs.x=1,2"]) == [
        ["algorithm.lr=0.1", "+env.kwargs.x=1"], ["algorithm.lr=0.1", "+env.kwargs.x=2"],
        ["algorithm.lr=0.01", "+env.kwargs.x=1"], ["algorithm.lr=0.01", "+env.kwargs.x=2"]]
    assert split_sweep([]) == [[]]
    assert split_sweep(["seed=1"]) == [["seed=1"]]
    for point in split_sweep(["algorithm=a2c,ppo", "seed=range(0,2)"]):
        assert isinstance(apply_overrides(BASE, point), Experiment)


def test_split_sweep_errors() -> None:
    with pytest.raises(ConfigError, match="interval\\(\\) is a continuous range"):
        split_sweep(["algorithm.lr=interval(0.1,1)"])
    with pytest.raises(ConfigError, match="^malformed override 'seed=range\\(0,'"):
        split_sweep(["seed=range(0,"])
