"""The conf/ tree: every YAML module against its declaration, Hydra compose, registry, search path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import attrs
import pytest
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.utils import JobRuntime
from omegaconf import DictConfig, OmegaConf

import mazedsl.conf
from mazedsl.config import (ENV_VAR, GROUPS, add_search_path, apply_overrides, compose,
                            compose_experiment, explain, from_config, list_configs, list_modules,
                            load_group_module, register, remove_search_path, unregister)
from mazedsl.config.searchpath import MazedslSearchPathPlugin
from mazedsl.config.targets import resolve_target, target_of, DECLARATIONS
from mazedsl.errors import ConfigError
from mazedsl.spec import Experiment, FrameStack, Grayscale, GymEnv, NormalizeObservation, PixelObs, Resize, RolloutConfig, RolloutRunner, RLlibRunner, Runner, ScaleObservation, StateCritic, VectorObs
from mazedsl import A2C, PPO
from mazedsl.rl.algos.bc import BC
from mazedsl.rl.algos.dqn import DQN
from mazedsl.rl.algos.sac import SAC

CONF = Path(mazedsl.conf.__file__).parent
MODULE_FILES = sorted(p.relative_to(CONF) for p in CONF.glob("*/*.yaml"))

#: What each module must compose to (the "no drift" table: most equal the class defaults).
EXPECTED: dict[tuple[str, str], Any] = {
    ("env", "gym_env"): GymEnv(),
    ("algorithm", "ppo"): PPO(),
    ("algorithm", "a2c"): A2C(),
    ("algorithm", "dqn"): DQN(),
    ("algorithm", "sac"): SAC(),
    ("algorithm", "bc"): BC(),
    ("model", "vector_obs"): VectorObs(),
    ("model", "pixel_obs"): PixelObs(),
    ("critic", "template_state"): StateCritic(),
    ("wrappers", "no_wrappers"): [],
    ("wrappers", "vector_obs"): [NormalizeObservation()],
    ("wrappers", "pixel_obs"): [Grayscale(), Resize(height=84, width=84), FrameStack(n_frames=4),
                                ScaleObservation()],
    ("runner", "local"): Runner(n_envs=8, vectorization="auto"),
    ("runner", "dev"): Runner(n_envs=2, vectorization="sync", n_eval_envs=2),
    ("runner", "rollout"): RolloutRunner(),
    ("runner", "rllib"): RLlibRunner(),
}


def _entry_for(group: str, name: str) -> str:
    return "conf_rollout" if (group, name) == ("runner", "rollout") else "conf_train"


def test_every_module_file_is_in_the_expectation_table() -> None:
    on_disk = {(p.parent.name, p.stem) for p in MODULE_FILES}
    assert on_disk == set(EXPECTED)
    assert set(GROUPS) == {g for g, _ in EXPECTED}


@pytest.mark.parametrize("path", MODULE_FILES, ids=str)
def test_module_composes_and_validates(path: Path) -> None:
    group, name = path.parent.name, path.stem
    assert load_group_module(group, name) == EXPECTED[(group, name)]
    entry = _entry_for(group, name)
    built = compose_experiment([f"{group}={name}"], config_name=entry)
    assert getattr(built, group) == EXPECTED[(group, name)]
    assert explain(built, group).endswith(f"(conf/{group}/{name}.yaml)") or not EXPECTED[
        (group, name)]


def _declaration_nodes(path: Path) -> Iterator[DictConfig]:
    raw = OmegaConf.load(CONF / path)
    if path.parent.name == "wrappers":
        assert list(raw.keys()) == ["wrappers"]
        assert (CONF / path).read_text().startswith("# @package _global_\n")
        yield from raw.wrappers
    else:
        yield raw


@pytest.mark.parametrize("path", MODULE_FILES, ids=str)
def test_module_states_every_field_of_its_declaration(path: Path) -> None:
    for node in _declaration_nodes(path):
        cls = resolve_target(node._target_, DECLARATIONS)
        assert node._target_ == target_of(cls)  # the public path (algorithms: their package)
        assert list(node.keys()) == ["_target_", *(f.name for f in attrs.fields(cls))]


@pytest.mark.parametrize("entry, cls", [("conf_train", Experiment),
                                        ("conf_rollout", RolloutConfig)])
def test_entry_config_states_every_field(entry: str, cls: type) -> None:
    raw = OmegaConf.load(CONF / f"{entry}.yaml")
    groups = {next(iter(d)) for d in raw.defaults if isinstance(d, DictConfig)} - {
        "override hydra/job_logging"}
    assert raw._target_ == f"mazedsl.spec.{cls.__name__}"
    stated = set(raw.keys()) - {"defaults", "_target_", "hydra"}  # hydra: mazedsl-run settings
    fields = [f.name for f in attrs.fields(cls)]
    assert stated | groups == set(fields)
    assert groups <= set(GROUPS)


def test_conf_train_composes_to_the_declared_defaults() -> None:
    exp = compose_experiment()
    assert exp == Experiment(name="conf_train")
    raw = OmegaConf.load(CONF / "conf_train.yaml")
    assert [next(iter(d.items())) if isinstance(d, DictConfig) else d
            for d in raw.defaults][:7] == [
        ("env", "gym_env"), ("algorithm", "ppo"), ("model", "vector_obs"),
        ("critic", "template_state"), ("wrappers", "no_wrappers"), ("runner", "local"), "_self_"]


def test_conf_rollout() -> None:
    assert compose_experiment(config_name="conf_rollout") == RolloutConfig()
    rc = compose_experiment(["env=gym_env", "env.name=Pendulum-v1", "runner.n_episodes=3",
                             "policy=random"], config_name="conf_rollout")
    assert rc == RolloutConfig(env=GymEnv(name="Pendulum-v1"), policy="random",
                               runner=RolloutRunner(n_episodes=3))
    with pytest.raises(ConfigError) as info:
        compose_experiment(["runner=local"], config_name="conf_rollout")
    assert str(info.value) == ("runner._target_: must be a RolloutRunner declaration, got "
                               "_target_ 'mazedsl.spec.Runner' (from conf/runner/local.yaml)")


def test_group_swap_gives_exactly_the_module_not_a_merge() -> None:
    exp = compose_experiment(["algorithm=a2c"])
    assert exp.algorithm == A2C()
    tweaked = compose_experiment(["algorithm.n_epochs=3", "algorithm.lr=0.5"])
    assert apply_overrides(tweaked, "algorithm=a2c").algorithm == A2C()


def test_compose_returns_the_unvalidated_tree() -> None:
    cfg = compose("conf_train", ["algorithm=a2c", "algorithm.lr=-1", "runner=dev"])
    assert isinstance(cfg, DictConfig)
    assert cfg.algorithm._target_ == "mazedsl.rl.algos.a2c.A2C" and cfg.algorithm.lr == -1
    assert cfg.runner.n_envs == 2 and "hydra" not in cfg


def test_compose_errors() -> None:
    with pytest.raises(ConfigError, match=r"^unknown config 'conf_trian'; did you mean "
                                          r"'conf_train'\? \(available: conf_rollout, conf_train\)$"):
        compose_experiment(config_name="conf_trian")
    with pytest.raises(ConfigError) as info:
        compose_experiment(["model=cnn"])
    assert str(info.value) == ("model: unknown config module 'cnn' (available model modules: "
                               "pixel_obs, vector_obs) (from override 'model=cnn')")
    with pytest.raises(ConfigError) as info:
        compose_experiment(["algorithm.lr=-1"])
    assert str(info.value) == "algorithm.lr: must be > 0, got -1.0 (from override 'algorithm.lr=-1')"
    with pytest.raises(ConfigError, match="is a sweep"):
        compose_experiment(["algorithm=a2c,ppo"])
    with pytest.raises(ConfigError, match="^malformed override 'algorithm.lr 3'"):
        compose_experiment(["algorithm.lr 3"])


def test_list_modules_and_configs() -> None:
    assert list_modules("algorithm") == ["a2c", "bc", "dqn", "ppo", "sac"]
    assert list_modules("wrappers") == ["no_wrappers", "pixel_obs", "vector_obs"]
    assert list_modules("runner") == ["dev", "local", "rllib", "rollout"]
    assert list_configs() == ["conf_rollout", "conf_train"]
    with pytest.raises(ConfigError, match=r"^unknown config group 'algo'; did you mean "
                                          r"'algorithm'\?"):
        list_modules("algo")


# --- leaving Hydra's global state as found ---------------------------------------------

def test_global_hydra_is_left_uninitialised() -> None:
    GlobalHydra.instance().clear()
    compose_experiment(["algorithm=a2c"])
    assert not GlobalHydra.instance().is_initialized()


def test_works_inside_an_initialised_hydra_and_restores_it(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("x: 1\n")
    with initialize_config_dir(str(tmp_path), version_base="1.3", job_name="outer_app"):
        before = GlobalHydra.instance().hydra
        assert compose_experiment(["runner=dev"]).runner.n_envs == 2
        assert list_modules("runner") == ["dev", "local", "rllib", "rollout"]
        assert GlobalHydra.instance().hydra is before
        assert JobRuntime.instance().get("name") == "outer_app"
        assert hydra_compose("app").x == 1
    assert not GlobalHydra.instance().is_initialized()


# --- register() ---------------------------------------------------------------------------

@pytest.fixture
def registered() -> Iterator[None]:
    yield
    for group, name in [("algorithm", "test_fast"), ("wrappers", "test_gray"),
                        ("model", "test_tiny")]:
        unregister(group, name)


def test_registered_module_is_usable_by_name_everywhere(registered: None) -> None:
    register("algorithm", "test_fast", PPO(lr=0.01, n_epochs=2))
    register("wrappers", "test_gray", [Grayscale(), FrameStack(n_frames=2)])
    register("model", "test_tiny", {"_target_": "VectorObs", "hidden_units": [8]})
    assert "test_fast" in list_modules("algorithm")
    assert load_group_module("wrappers", "test_gray") == [Grayscale(), FrameStack(n_frames=2)]
    exp = compose_experiment(["algorithm=test_fast", "wrappers=test_gray", "model=test_tiny"])
    assert exp.algorithm == PPO(lr=0.01, n_epochs=2)
    assert exp.wrappers == [Grayscale(), FrameStack(n_frames=2)]
    assert exp.model == VectorObs(hidden_units=[8])
    assert explain(exp, "algorithm.lr") == "algorithm.lr = 0.01  (registered algorithm/test_fast)"
    swapped = Experiment().override({"algorithm": "test_fast"}, "model=test_tiny")
    assert swapped.algorithm == PPO(lr=0.01, n_epochs=2) and swapped.model.hidden_units == [8]
    assert compose("conf_train", ["algorithm=test_fast"]).algorithm.n_epochs == 2


def test_register_refuses_bad_declarations_and_taken_names(registered: None) -> None:
    with pytest.raises(ConfigError) as info:
        register("algorithm", "test_fast", VectorObs())
    assert info.value.message.startswith("must be a PPO or A2C or DQN or SAC or BC declaration")
    with pytest.raises(ConfigError, match=r"algorithm/ppo is already a config module "
                                          r"\(conf/algorithm/ppo.yaml\)"):
        register("algorithm", "ppo", PPO(lr=1.0))
    with pytest.raises(ConfigError, match="must be a plain name"):
        register("algorithm", "a/b", PPO())
    with pytest.raises(ConfigError, match="unknown config group 'nope'"):
        register("nope", "x", PPO())


# --- user search path ------------------------------------------------------------------------

@pytest.fixture
def user_conf(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "my_conf"
    (root / "algorithm").mkdir(parents=True)
    (root / "algorithm" / "fast_ppo.yaml").write_text(
        "_target_: mazedsl.rl.algos.ppo.PPO\nlr: 0.002\nn_epochs: 4\n")
    (root / "wrappers").mkdir()
    (root / "wrappers" / "gray.yaml").write_text(
        "# @package _global_\nwrappers:\n  - _target_: mazedsl.spec.Grayscale\n")
    yield root
    remove_search_path(root)


def test_added_search_path_is_usable_by_name(user_conf: Path) -> None:
    with pytest.raises(ConfigError, match="unknown config module 'fast_ppo'"):
        compose_experiment(["algorithm=fast_ppo"])
    add_search_path(user_conf)
    assert list_modules("algorithm") == ["a2c", "bc", "dqn", "fast_ppo", "ppo", "sac"]
    exp = compose_experiment(["algorithm=fast_ppo", "wrappers=gray"])
    assert exp.algorithm == PPO(lr=0.002, n_epochs=4) and exp.wrappers == [Grayscale()]
    label = explain(exp, "algorithm.lr").split("  (")[1].rstrip(")")
    assert os.path.samefile(label, user_conf / "algorithm" / "fast_ppo.yaml")
    assert Experiment().override("algorithm=fast_ppo").algorithm.lr == 0.002
    assert load_group_module("wrappers", "gray") == [Grayscale()]


def test_env_var_search_path(user_conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, os.pathsep.join([str(user_conf), str(user_conf / "missing")]))
    with pytest.warns(UserWarning, match="is not a folder; ignored"):
        assert "fast_ppo" in list_modules("algorithm")
    assert compose_experiment(["algorithm=fast_ppo"]).algorithm.lr == 0.002


def test_user_module_errors_name_its_file(user_conf: Path) -> None:
    (user_conf / "algorithm" / "bad.yaml").write_text("_target_: mazedsl.rl.algos.ppo.PPO\nlr: -3\n")
    add_search_path(user_conf)
    with pytest.raises(ConfigError) as info:
        compose_experiment(["algorithm=bad"])
    assert info.value.path == "algorithm.lr"
    assert info.value.source is not None and info.value.source.endswith(
        os.path.join("my_conf", "algorithm", "bad.yaml"))


def test_add_search_path_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a folder"):
        add_search_path(tmp_path / "nope")


def test_search_path_plugin_appends_user_folders_after_main(user_conf: Path) -> None:
    from hydra._internal.config_search_path_impl import ConfigSearchPathImpl

    add_search_path(user_conf)
    search_path = ConfigSearchPathImpl()
    search_path.append("hydra", "pkg://hydra.conf")
    search_path.append("main", "pkg://mazedsl.conf")
    search_path.append("schema", "structured://")
    MazedslSearchPathPlugin().manipulate_search_path(search_path)
    MazedslSearchPathPlugin().manipulate_search_path(search_path)  # idempotent
    assert [e.path for e in search_path.get_path()] == [
        "pkg://hydra.conf", "pkg://mazedsl.conf", f"file://{user_conf}", "structured://"]


def test_search_path_plugin_puts_the_built_in_configs_after_another_primary_folder(user_conf: Path,
                                                                                 tmp_path: Path) -> None:
    """Under ``mazedsl-run -cp DIR`` Hydra's primary folder is DIR: the plugin adds the built-in
    configs right after it (before the user folders, as they come after them otherwise)."""
    from hydra._internal.config_search_path_impl import ConfigSearchPathImpl

    add_search_path(user_conf)
    search_path = ConfigSearchPathImpl()
    search_path.append("hydra", "pkg://hydra.conf")
    search_path.append("main", f"file://{tmp_path}")
    search_path.append("schema", "structured://")
    MazedslSearchPathPlugin().manipulate_search_path(search_path)
    MazedslSearchPathPlugin().manipulate_search_path(search_path)  # idempotent
    assert [e.path for e in search_path.get_path()] == [
        "pkg://hydra.conf", f"file://{tmp_path}", "pkg://mazedsl.conf", f"file://{user_conf}", "structured://"]


def test_from_config_of_a_composed_tree_equals_compose_experiment() -> None:
    cfg = compose("conf_train", ["model=pixel_obs", "wrappers=pixel_obs"])
    assert from_config(cfg) == compose_experiment(["model=pixel_obs", "wrappers=pixel_obs"])
