"""Property: any valid Experiment survives to_config -> YAML text -> from_config unchanged."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from mazedsl.config import apply_overrides, diff, from_config, to_yaml
from mazedsl.spec import Experiment, FrameStack, Grayscale, GymEnv, NormalizeObservation, NormalizeReward, PixelObs, Resize, RolloutConfig, RolloutRunner, Runner, ScaleObservation, StateCritic, VectorObs
from mazedsl import A2C, PPO
from mazedsl.spec.models import ACTIVATIONS
from mazedsl.spec.runner import VECTORIZATION

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(st.sampled_from("abcxyzAZ09_-"), min_size=1, max_size=12)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12).filter(
    lambda s: "${" not in s and s != "???")
pos_int = st.integers(1, 10_000)
pos_float = st.floats(1e-9, 1e6, allow_nan=False)
unit = st.floats(0.0, 1.0)
optional = st.none().__or__
int_lists = st.lists(st.integers(1, 512), max_size=4)
scalars = st.none() | st.booleans() | st.integers(-2**40, 2**40) | texts | st.floats(
    allow_nan=False)
kwargs = st.dictionaries(names, scalars | st.lists(scalars, max_size=3), max_size=3)


def build(cls: type, **fields: Any) -> st.SearchStrategy[Any]:
    """A strategy for ``cls`` where each given field is drawn or left at its default."""
    return st.fixed_dictionaries({}, optional={k: v for k, v in fields.items()}).map(
        lambda d: cls(**d))


envs = build(GymEnv, name=names, kwargs=kwargs, max_episode_steps=optional(pos_int),
             factory=optional(texts))
wrappers = st.lists(st.one_of(
    build(NormalizeObservation, clip=pos_float, epsilon=pos_float),
    build(NormalizeReward, gamma=unit.filter(lambda g: g > 0), clip=pos_float, epsilon=pos_float),
    build(Grayscale, keep_dim=st.booleans()),
    build(Resize, height=pos_int, width=pos_int),
    build(FrameStack, n_frames=pos_int),
    build(ScaleObservation, scale=pos_float),
), max_size=5)
activations = st.sampled_from(ACTIVATIONS)
vector = build(VectorObs, hidden_units=int_lists, activation=activations,
               ortho_init=st.booleans(), log_std_init=st.floats(-5, 5))
pixel = st.integers(1, 3).flatmap(lambda n: st.builds(
    PixelObs, channels=st.lists(st.integers(1, 64), min_size=n, max_size=n),
    kernel_sizes=st.lists(st.integers(1, 8), min_size=n, max_size=n),
    strides=st.lists(st.integers(1, 4), min_size=n, max_size=n),
    hidden_units=int_lists, activation=activations, ortho_init=st.booleans(),
    log_std_init=st.floats(-5, 5)))
schedules = st.sampled_from(["constant", "linear"])
ppo = build(PPO, lr=pos_float, lr_schedule=schedules, n_steps=pos_int, batch_size=pos_int,
            n_epochs=pos_int, gamma=unit, gae_lambda=unit, clip_range=pos_float,
            clip_schedule=schedules, clip_range_vf=optional(pos_float),
            normalize_advantage=st.booleans(), ent_coef=st.floats(0, 1), vf_coef=st.floats(0, 2),
            max_grad_norm=pos_float, target_kl=optional(pos_float), adam_eps=pos_float)
a2c = build(A2C, lr=pos_float, lr_schedule=schedules, n_steps=pos_int, gamma=unit,
            gae_lambda=unit, normalize_advantage=st.booleans(), ent_coef=st.floats(0, 1),
            vf_coef=st.floats(0, 2), max_grad_norm=pos_float,
            optimizer=st.sampled_from(["rmsprop", "adam"]),
            rms_alpha=unit.filter(lambda a: a > 0), eps=pos_float)
runners = build(Runner, n_envs=pos_int, vectorization=st.sampled_from(VECTORIZATION),
                torch_threads=st.integers(1, 8), n_eval_envs=pos_int)
experiments = build(
    Experiment, name=names, env=envs, wrappers=wrappers, model=vector | pixel,
    critic=build(StateCritic, hidden_units=int_lists, activation=activations,
                 shared=st.booleans()),
    algorithm=ppo | a2c, runner=runners, seed=st.integers(0, 2**31), total_steps=pos_int,
    eval_every_steps=st.integers(0, 10**6), eval_episodes=pos_int,
    checkpoint_every_steps=pos_int, patience=optional(pos_int),
    target_return=optional(st.floats(-1e6, 1e6)), log_every_steps=pos_int, output_dir=texts)
rollouts = build(RolloutConfig, input_dir=optional(texts),
                 policy=st.sampled_from(["trained", "random"]),
                 checkpoint=st.sampled_from(["best", "last"]), env=optional(envs),
                 runner=build(RolloutRunner, n_episodes=pos_int, deterministic=st.booleans(),
                              render=st.booleans(), record=st.booleans()),
                 seed=st.integers(0, 2**31), quiet=st.booleans())


@SETTINGS
@given(experiments)
def test_experiment_round_trips_through_yaml(exp: Experiment) -> None:
    text = to_yaml(exp)
    back = from_config(OmegaConf.create(text))
    assert back == exp
    assert diff(back, exp) == []


@SETTINGS
@given(rollouts)
def test_rollout_config_round_trips_through_yaml(rc: RolloutConfig) -> None:
    text = to_yaml(rc)
    assert from_config(OmegaConf.create(text), RolloutConfig) == rc


@settings(max_examples=25, deadline=None)
@given(experiments, experiments)
def test_overriding_with_a_whole_config_gives_that_experiment(a: Experiment, b: Experiment
                                                               ) -> None:
    fields = ["env", "wrappers", "model", "critic", "algorithm", "runner", "name", "seed"]
    changed = apply_overrides(a, {f: getattr(b, f) for f in fields})
    for f in fields:
        assert getattr(changed, f) == getattr(b, f)
    assert changed.total_steps == a.total_steps


def test_yaml_round_trip_of_strings_yaml_reads_differently() -> None:
    rc = RolloutConfig(input_dir="runs/\x85\u2028é")
    assert from_config(OmegaConf.create(to_yaml(rc)), RolloutConfig) == rc
    assert "é" in to_yaml(Experiment(name="café"))  # plain unicode stays readable


def test_config_values_compare_bools_apart_from_numbers_list_by_list() -> None:
    """One rule for `diff()` and for Compare's differing keys: ``True`` is not ``1``."""
    from mazedsl.config import diff
    from mazedsl.values import same_value

    assert same_value([1, 2.0], [1.0, 2]) and same_value("a", "a")
    assert not same_value(True, 1) and not same_value([True], [1]) and not same_value([1], [1, 1])
    assert diff({"a": True, "b": [1, 2]}, {"a": 1, "b": [1.0, 2]}) == [("a", True, 1)]
