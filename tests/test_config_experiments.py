"""Experiment files: every shipped file loads; references; bad files; provenance from the AST."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from mazedsl.config import explain, load_experiment, provenance, show_yaml
from mazedsl.errors import ConfigError
from mazedsl.spec import Experiment, FrameStack, Grayscale, GymEnv, NormalizeObservation, NormalizeReward, PixelObs, Resize, Runner, ScaleObservation, StateCritic, VectorObs
from mazedsl import A2C, PPO

REPO = Path(__file__).resolve().parents[1]
FILES = sorted((REPO / "experiments").glob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_experiment_file_loads(path: Path) -> None:
    exp = load_experiment(path)
    assert isinstance(exp, Experiment)
    assert exp.name == path.stem
    labels = provenance(exp)
    assert labels["algorithm.lr"].endswith(f"{path.name}:{_line_of(path, 'lr=')}")
    assert path.read_text().startswith('"""')  # the header says what it is


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_cartpole_ppo_has_the_rl_zoo_values() -> None:
    exp = load_experiment(REPO / "experiments" / "cartpole_ppo.py")
    assert exp == Experiment(
        name="cartpole_ppo", env=GymEnv(name="CartPole-v1"), runner=Runner(n_envs=8),
        algorithm=PPO(n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                      ent_coef=0.0, lr=1e-3, lr_schedule="linear", clip_range=0.2,
                      clip_schedule="linear"),
        total_steps=100_000, eval_every_steps=5_000, eval_episodes=10)


def test_other_shipped_experiments() -> None:
    a2c = load_experiment(REPO / "experiments" / "cartpole_a2c.py")
    assert a2c.algorithm == A2C(ent_coef=0.0) and a2c.runner.n_envs == 8
    assert (a2c.total_steps, a2c.eval_every_steps) == (500_000, 10_000)
    pend = load_experiment(REPO / "experiments" / "pendulum_ppo.py")
    assert pend.env.name == "Pendulum-v1" and pend.runner.n_envs == 4
    assert pend.wrappers == [NormalizeObservation(), NormalizeReward(gamma=0.9)]
    assert pend.algorithm == PPO(n_steps=1024, batch_size=256, gae_lambda=0.95, gamma=0.9,
                                 n_epochs=10, ent_coef=0.0, lr=1e-3, lr_schedule="linear",
                                 clip_range=0.2, target_kl=0.02)
    assert pend.model == VectorObs(hidden_units=[64, 64], activation="tanh")
    assert (pend.total_steps, pend.eval_every_steps) == (200_000, 10_000)
    acro = load_experiment(REPO / "experiments" / "acrobot_ppo.py")
    assert acro.env.name == "Acrobot-v1" and acro.wrappers == [NormalizeObservation()]
    assert acro.runner.n_envs == 16
    assert acro.algorithm == PPO(n_steps=256, gae_lambda=0.94, gamma=0.99, n_epochs=4,
                                 ent_coef=0.0)
    pix = load_experiment(REPO / "experiments" / "pixel_cartpole_ppo.py")
    assert pix.env.name == "mazedsl/PixelCartPole-v1"
    assert pix.wrappers == [Grayscale(), Resize(height=42, width=42), FrameStack(n_frames=2),
                            ScaleObservation()]
    assert pix.model == PixelObs(channels=[16, 32], kernel_sizes=[4, 3], strides=[2, 1],
                                 hidden_units=[128])
    assert pix.critic == StateCritic(shared=True) and pix.runner.n_envs == 8
    assert pix.total_steps == 150_000


# --- references --------------------------------------------------------------------------

@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "experiments").mkdir()
    return tmp_path


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


SEVERAL = """\
from mazedsl.spec import Experiment
from mazedsl import PPO
fast = Experiment(name="fast", algorithm=PPO(lr=0.01))
slow = Experiment(name="slow", algorithm=PPO(lr=0.0001))
"""


def test_reference_forms(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(workdir / "experiments" / "one.py", """\
        from mazedsl.spec import Experiment
        experiment = Experiment(name="one", seed=1)
        """)
    _write(workdir / "experiments" / "several.py", SEVERAL)
    _write(workdir / "pkg" / "__init__.py", "")
    _write(workdir / "pkg" / "exps.py", "from mazedsl.spec import Experiment\n"
                                        "experiment = Experiment(name='mod', seed=5)\n")
    monkeypatch.syspath_prepend(str(workdir))
    assert load_experiment("experiments/one.py").seed == 1
    assert load_experiment(workdir / "experiments" / "one.py").seed == 1
    assert load_experiment("one").name == "one"
    assert load_experiment("experiments/several.py:slow").name == "slow"
    assert load_experiment("several:fast").algorithm.lr == 0.01
    assert load_experiment("pkg.exps").seed == 5
    exp = load_experiment("pkg.exps")
    assert explain(exp, "seed") == f"seed = 5  ({Path('pkg') / 'exps.py'}:2)"


def test_loading_leaves_sys_modules_and_path_alone(workdir: Path) -> None:
    _write(workdir / "experiments" / "helper_values.py", "LR = 0.05\n")
    _write(workdir / "experiments" / "uses_helper.py", """\
        from helper_values import LR
        from mazedsl.spec import Experiment
        from mazedsl import PPO
        experiment = Experiment(algorithm=PPO(lr=LR))
        """)
    modules, path = set(sys.modules), list(sys.path)
    first = load_experiment("uses_helper")
    second = load_experiment("uses_helper")
    assert first == second and first is not second and first.algorithm.lr == 0.05
    assert sys.path == path
    assert not {m for m in set(sys.modules) - modules if "uses_helper" in m}
    sys.modules.pop("helper_values", None)


def test_an_edit_saved_within_the_same_second_is_read(workdir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's bytecode cache trusts a source's mtime (in seconds) and size: an experiment
    edited at the same size within a second must still be read anew."""
    import os

    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # caching on, as on most machines
    path = workdir / "experiments" / "edited.py"
    text = "from mazedsl import Experiment\nexperiment = Experiment(seed={})\n"
    _write(path, text.format(1))
    stamp = (path.stat().st_atime, path.stat().st_mtime)
    assert load_experiment(path).seed == 1
    _write(path, text.format(2))
    os.utime(path, stamp)  # the same second and the same size as the first version
    assert load_experiment(path).seed == 2


@pytest.mark.parametrize("text, message", [
    ("from mazedsl.spec import Experiment\nexperiment = Experiment(\n",
     "experiments/bad.py:2: syntax error: '(' was never closed"),
    ("import numpy\nimport no_such_module_xyz\n",
     "experiments/bad.py:2: importing it failed: ModuleNotFoundError: No module named "
     "'no_such_module_xyz'"),
    ("x = 1\n", "experiments/bad.py: defines no experiment (expected a module-level "
                "`experiment = Experiment(...)`)"),
    ("experiment = {'name': 'x'}\n", "experiments/bad.py: `experiment` is a dict, not an "
                                     "Experiment"),
    (SEVERAL, "experiments/bad.py: defines several experiments (fast, slow); pick one with "
              "'experiments/bad.py:<name>'"),
    ("x = 1 / 0\n", "experiments/bad.py:1: running it failed: ZeroDivisionError: division by "
                    "zero"),
    ("from mazedsl import Experiment, PPO\n\nexperiment = Experiment(algorithm=PPO(lr=-1))\n",
     "algorithm.lr: must be > 0, got -1 (from experiments/bad.py:3)"),
    ("from mazedsl.spec import Experiment\n\nexperiment = Experiment().override('seed=-1')\n",
     "seed: must be >= 0, got -1 (from override 'seed=-1' in experiments/bad.py:3)"),
])
def test_bad_experiment_files(workdir: Path, text: str, message: str) -> None:
    _write(workdir / "experiments" / "bad.py", text)
    with pytest.raises(ConfigError) as info:
        load_experiment("experiments/bad.py")
    assert str(info.value) == message


def test_bad_references(workdir: Path) -> None:
    _write(workdir / "experiments" / "several.py", SEVERAL)
    with pytest.raises(ConfigError, match=r"^experiments/several.py: no experiment named "
                                          r"'medium' \(defined: fast, slow\)$"):
        load_experiment("experiments/several.py:medium")
    with pytest.raises(ConfigError, match=r"^experiments/several.py: 'Experiment' is a type, "
                                          r"not an Experiment$"):
        load_experiment("experiments/several.py:Experiment")
    with pytest.raises(ConfigError, match=r"^experiment file 'experiments/nope.py' not found$"):
        load_experiment("experiments/nope.py")
    with pytest.raises(ConfigError, match=r"^no experiment file or module 'nope' \(looked for "
                                          r"experiments/nope.py and module nope; in "
                                          r"experiments/: several\)$"):
        load_experiment("nope")


# --- provenance from the file ----------------------------------------------------------------

PROVENANCE_FILE = """\
from mazedsl.spec import Experiment, FrameStack, Grayscale, GymEnv, Runner; from mazedsl import PPO

ALGO = PPO(
    lr=1e-3,
    n_steps=64,
)
experiment = Experiment(
    name="traced",
    env=GymEnv(name="Acrobot-v1", kwargs={"render_mode": "rgb_array"}),
    wrappers=[Grayscale(), FrameStack(n_frames=2)],
    algorithm=ALGO,
    runner=Runner(n_envs=2 * 2),
).override("seed=3", {"total_steps": 5000})
"""


def test_provenance_from_the_ast(workdir: Path) -> None:
    _write(workdir / "experiments" / "traced.py", PROVENANCE_FILE)
    exp = load_experiment("traced")
    where = {path: label for path, label in provenance(exp).items()}
    assert explain(exp, "algorithm.lr") == "algorithm.lr = 0.001  (experiments/traced.py:4)"
    assert where["algorithm.n_steps"] == "experiments/traced.py:5"
    assert where["algorithm.n_epochs"] == "PPO.n_epochs default"
    assert where["name"] == "experiments/traced.py:8"
    assert where["env.name"] == "experiments/traced.py:9"
    assert where["env.kwargs.render_mode"] == "experiments/traced.py:9"
    assert where["wrappers[1].n_frames"] == "experiments/traced.py:10"
    assert where["wrappers[0].keep_dim"] == "Grayscale.keep_dim default"
    assert where["runner.n_envs"] == "experiments/traced.py:12"
    assert where["seed"] == "experiments/traced.py:13"
    assert where["total_steps"] == "experiments/traced.py:13"
    assert where["eval_episodes"] == "Experiment.eval_episodes default"
    assert explain(exp, "wrappers[1]") == (
        "wrappers[1] = FrameStack(...)  (experiments/traced.py:10)")


def test_show_yaml_of_a_file_and_of_an_entry_config(workdir: Path) -> None:
    _write(workdir / "experiments" / "traced.py", PROVENANCE_FILE)
    text = show_yaml("traced", ["algorithm.lr=0.5"])
    assert "  lr: 0.5\n" in text and "name: traced\n" in text
    assert "name: conf_train\n" in show_yaml("conf_train", ["runner=dev"])
    assert "  n_envs: 2\n" in show_yaml("conf_train", ["runner=dev"])
    assert "_target_: mazedsl.spec.RolloutConfig" in show_yaml("conf_rollout")


def test_yaml_experiment_files(tmp_path) -> None:
    from mazedsl.config import load_experiment, to_yaml
    from mazedsl.errors import ConfigError
    from mazedsl.spec import Experiment
    from mazedsl import A2C

    exp = Experiment(name="from_yaml", algorithm=A2C(lr=1e-3))
    (tmp_path / "exp.yaml").write_text(to_yaml(exp))
    assert load_experiment(str(tmp_path / "exp.yaml")) == exp
    (tmp_path / "hydra.yaml").write_text("defaults:\n  - conf_train\n")
    with pytest.raises(ConfigError, match="a Hydra config with a defaults list; run it with mazedsl-run"):
        load_experiment(str(tmp_path / "hydra.yaml"))
    (tmp_path / "bad.yaml").write_text("a: [1\n")
    with pytest.raises(ConfigError, match="bad.yaml: malformed YAML"):
        load_experiment(str(tmp_path / "bad.yaml"))
    (tmp_path / "typo.yaml").write_text("runner:\n  n_env: 1\n")
    with pytest.raises(ConfigError, match=r"runner\.n_env: unknown key; did you mean 'n_envs'"):
        load_experiment(str(tmp_path / "typo.yaml"))
