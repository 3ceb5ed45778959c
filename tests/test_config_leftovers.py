"""Config leftovers: your algorithm's bare config module with value overrides, errors of
declarations built in experiment files (full path, line, misspelt keywords), and diff /
explain after ``+key=value`` and ``~key`` overrides."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from mazedsl.config import (MISSING, add_search_path, apply_overrides, compose_experiment, diff,
                            explain, load_experiment, provenance, remove_search_path)
from mazedsl.errors import ConfigError
from mazedsl.spec import Experiment, GymEnv, NormalizeObservation

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=300)


# --- 1. your algorithm's config module lists only its _target_ --------------------------

@pytest.fixture
def bare_algorithm(request: pytest.FixtureRequest, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, Path]]:
    """``(package, module name, conf folder)``: a never-imported copy of the REINFORCE plugin
    (its own name per test) and ``conf/algorithm/<name>.yaml`` holding only its ``_target_``."""
    from hydra.core.config_store import ConfigStore

    from mazedsl.rl.registry import _ENTRIES

    tag = "".join(c for c in request.node.name if c.isalnum())[-12:].lower()
    package, name = f"leftover_algos_{tag}", f"bare_{tag}"
    source = (ROOT / "tests" / "plugins" / "reinforce_algo.py").read_text()
    _write(tmp_path / package / "__init__.py", "")
    _write(tmp_path / package / "algo.py",
           source.replace('register_algorithm("reinforce"', f'register_algorithm("{name}"'))
    conf = tmp_path / "conf"
    _write(conf / "algorithm" / f"{name}.yaml", f"_target_: {package}.algo.Reinforce\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    add_search_path(conf)
    try:
        yield package, name, conf
    finally:
        remove_search_path(conf)
        _ENTRIES.pop(name, None)
        ConfigStore.instance().repo.get("algorithm", {}).pop(f"{name}.yaml", None)
        for module in [m for m in sys.modules if m.startswith(package)]:
            sys.modules.pop(module)


def test_a_bare_algorithm_module_takes_value_overrides_when_its_package_is_allowed(
        bare_algorithm: tuple[str, str, Path]) -> None:
    """The experiment allows the package: ``algorithm=<module> algorithm.n_steps=13`` gives
    the registered declaration with its other fields at their defaults (as mazedsl-run)."""
    package, name, _conf = bare_algorithm
    exp = apply_overrides(Experiment(allow_targets=[package]), f"algorithm={name}",
                          "algorithm.n_steps=13")
    assert type(exp.algorithm).__module__ == f"{package}.algo"
    assert (exp.algorithm.n_steps, exp.algorithm.lr, exp.algorithm.gamma) == (13, 1e-3, 0.99)
    assert explain(exp, "algorithm.n_steps") == \
        "algorithm.n_steps = 13  (override 'algorithm.n_steps=13')"


def test_a_bare_algorithm_module_takes_value_overrides_whatever_their_order(
        bare_algorithm: tuple[str, str, Path]) -> None:
    """``allow_targets=[...]`` given after the value override still counts (mazedsl-run's
    preflight takes it with the module choices too)."""
    package, name, _conf = bare_algorithm
    exp = Experiment().override(f"algorithm={name}", "algorithm.n_steps=13",
                                f"allow_targets=[{package}]")
    assert exp.algorithm.n_steps == 13 and exp.allow_targets == [package]


def test_a_bare_algorithm_module_composes_with_value_overrides(
        bare_algorithm: tuple[str, str, Path]) -> None:
    """RunContext's path without an experiment (compose on conf_train)."""
    package, name, _conf = bare_algorithm
    exp = compose_experiment([f"algorithm={name}", "algorithm.n_steps=13",
                              f"allow_targets=[{package}]"])
    assert exp.algorithm.n_steps == 13 and exp.algorithm.lr == 1e-3


def test_a_bare_algorithm_module_still_refuses_unknown_fields(
        bare_algorithm: tuple[str, str, Path]) -> None:
    package, name, _conf = bare_algorithm
    with pytest.raises(ConfigError) as info:
        Experiment(allow_targets=[package]).override(f"algorithm={name}", "algorithm.nsteps=13")
    assert str(info.value) == ("algorithm.nsteps: unknown key; did you mean 'n_steps'? (valid: "
                               "lr, n_steps, gamma) (from override 'algorithm.nsteps=13')")


def test_mazedsl_train_takes_a_bare_algorithm_module_with_value_overrides(
        bare_algorithm: tuple[str, str, Path], tmp_path: Path) -> None:
    package, name, conf = bare_algorithm
    _write(tmp_path / "x.py", f"""\
        from mazedsl import Experiment
        experiment = Experiment(name="bare", allow_targets=["{package}"])
        """)
    proc = _cli("mazedsl", "train", "x.py", f"algorithm={name}", "algorithm.n_steps=13",
                "total_steps=64", "eval_every_steps=0", "eval_episodes=1", "runner.n_envs=2",
                "--run-dir", str(tmp_path / "run"), "--quiet", cwd=tmp_path,
                env={"MAZEDSL_CONFIG_PATH": str(conf)})
    assert proc.returncode == 0, proc.stderr
    assert "n_steps: 13" in (tmp_path / "run" / "config.yaml").read_text()


# --- 2 and 3. errors of declarations built in an experiment file -------------------------

@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("text, message", [
    ("""\
     from mazedsl import PPO
     from mazedsl.spec import Experiment
     experiment = Experiment(
         name="bad",
         algorithm=PPO(n_steps=16,
                       lr=-1),
     )
     """, "algorithm.lr: must be > 0, got -1 (from bad.py:6)"),
    ("""\
     from mazedsl.spec import Experiment, Runner
     runner = Runner(n_envs=0)
     experiment = Experiment(name="bad", runner=runner)
     """, "runner.n_envs: must be > 0, got 0 (from bad.py:2)"),
    ("""\
     from mazedsl.spec import Experiment, Grayscale, Resize
     experiment = Experiment(wrappers=[Grayscale(), Resize(width=0)])
     """, "wrappers[1].width: must be > 0, got 0 (from bad.py:2)"),
    ("""\
     from mazedsl.spec import Experiment, GymEnv
     experiment = Experiment(
         env=GymEnv(name="CartPole-v1", max_episode_steps=0))
     """, "env.max_episode_steps: must be > 0, got 0 (from bad.py:3)"),
    ("""\
     from mazedsl.spec import Experiment
     experiment = Experiment(
         seed=-1)
     """, "seed: must be >= 0, got -1 (from bad.py:3)"),
])
def test_a_bad_value_in_a_file_names_its_full_path_and_line(workdir: Path, text: str,
                                                              message: str) -> None:
    _write(workdir / "bad.py", text)
    with pytest.raises(ConfigError) as info:
        load_experiment("bad.py")
    assert str(info.value) == message


@pytest.mark.parametrize("text, message", [
    ("""\
     from mazedsl import PPO
     from mazedsl.spec import Experiment
     experiment = Experiment(
         name="bad",
         algorithm=PPO(lrr=1),
     )
     """, "algorithm.lrr: PPO has no field 'lrr'; did you mean 'lr'? (valid: lr, lr_schedule, "
          "n_steps, batch_size, n_epochs, gamma, gae_lambda, clip_range, clip_schedule, "
          "clip_range_vf, normalize_advantage, ent_coef, vf_coef, max_grad_norm, target_kl, "
          "adam_eps, backend) (from bad.py:5)"),
    ("""\
     from mazedsl.spec import Experiment, Runner, VectorObs
     experiment = Experiment(model=VectorObs(hidden_units=[8]), runner=Runner(n_env=2))
     """, "runner.n_env: Runner has no field 'n_env'; did you mean 'n_envs'? (valid: n_envs, "
          "vectorization, torch_threads, n_eval_envs, episode_step_limit, device) "
          "(from bad.py:2)"),
    ("""\
     from mazedsl.spec import Experiment
     experiment = Experiment(totl_steps=5)
     """, "totl_steps: Experiment has no field 'totl_steps'; did you mean 'total_steps'? "
          "(valid: name, env, wrappers, model, critic, algorithm, runner, seed, total_steps, "
          "eval_every_steps, eval_episodes, checkpoint_every_steps, patience, target_return, "
          "log_every_steps, output_dir, allow_targets) (from bad.py:2)"),
])
def test_a_misspelt_keyword_in_a_file_is_one_line_with_a_suggestion(workdir: Path, text: str,
                                                                    message: str) -> None:
    _write(workdir / "bad.py", text)
    with pytest.raises(ConfigError) as info:
        load_experiment("bad.py")
    assert str(info.value) == message


def test_mazedsl_train_refuses_a_misspelt_keyword_in_one_line(workdir: Path) -> None:
    _write(workdir / "bad.py", """\
        from mazedsl import PPO
        from mazedsl.spec import Experiment
        experiment = Experiment(name="bad", algorithm=PPO(lrr=1))
        """)
    proc = _cli("mazedsl", "train", "bad.py", "total_steps=64", cwd=workdir)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: algorithm.lrr: PPO has no field 'lrr'; did you mean 'lr'? (valid: lr, "
        "lr_schedule, n_steps, batch_size, n_epochs, gamma, gae_lambda, clip_range, "
        "clip_schedule, clip_range_vf, normalize_advantage, ent_coef, vf_coef, max_grad_norm, "
        "target_kl, adam_eps, backend) (from bad.py:3)"]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (workdir / "outputs").exists()


def test_other_type_errors_of_a_file_are_unchanged(workdir: Path) -> None:
    _write(workdir / "bad.py", """\
        class Thing:
            pass
        thing = Thing(size=1)
        """)
    with pytest.raises(ConfigError) as info:
        load_experiment("bad.py")
    assert str(info.value) == ("bad.py:3: running it failed: TypeError: Thing() takes no "
                               "arguments")


# --- 4. diff and explain after +key=value and ~key --------------------------------------

def test_diff_lists_an_added_key_once() -> None:
    base = Experiment()
    added = base.override("+env.kwargs.sutton_barto_reward=true")
    assert diff(base, added) == [("env.kwargs.sutton_barto_reward", MISSING, True)]
    assert diff(added, base) == [("env.kwargs.sutton_barto_reward", True, MISSING)]


def test_diff_lists_a_deleted_key_once() -> None:
    base = Experiment(env=GymEnv(kwargs={"sutton_barto_reward": True}),
                      wrappers=[NormalizeObservation()])
    deleted = base.override("~env.kwargs.sutton_barto_reward", "~wrappers")
    assert diff(base, deleted) == [
        ("env.kwargs.sutton_barto_reward", True, MISSING),
        ("wrappers[0]._target_", "mazedsl.spec.NormalizeObservation", MISSING),
        ("wrappers[0].clip", 10.0, MISSING),
        ("wrappers[0].epsilon", 1e-8, MISSING)]


def test_diff_keeps_a_none_against_a_node() -> None:
    """Only an empty container is folded into its new leaves: None against a node stays."""
    rows = diff({"env": None}, {"env": {"name": "x"}})
    assert rows == [("env", None, MISSING), ("env.name", MISSING, "x")]


def test_explain_names_the_override_that_added_or_deleted_a_key() -> None:
    base = Experiment(env=GymEnv(kwargs={"a": 1}))
    added = Experiment().override("+env.kwargs.sutton_barto_reward=false")
    assert explain(added, "env.kwargs") == ("env.kwargs = {'sutton_barto_reward': False}  "
                                            "(override '+env.kwargs.sutton_barto_reward=false')")
    assert provenance(added)["env.kwargs.sutton_barto_reward"] == \
        "override '+env.kwargs.sutton_barto_reward=false'"
    emptied = base.override("~env.kwargs.a")
    assert explain(emptied, "env.kwargs") == "env.kwargs = {}  (override '~env.kwargs.a')"
    kept = Experiment(env=GymEnv(kwargs={"a": 1, "b": 2})).override("~env.kwargs.a")
    assert provenance(kept)["env.kwargs.b"] == "set in Python"


def test_show_run_explain_names_the_override_of_a_deleted_key(tmp_path: Path) -> None:
    """A run's config.yaml plus overrides.yaml (as `mazedsl train` writes them)."""
    from mazedsl.cli.commands import load_run_experiment
    from mazedsl.config import to_yaml

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(to_yaml(Experiment()))
    (run / "overrides.yaml").write_text("overrides:\n- ~env.kwargs.sutton_barto_reward\n")
    exp = load_run_experiment(run)
    assert explain(exp, "env.kwargs") == \
        "env.kwargs = {}  (override '~env.kwargs.sutton_barto_reward' when the run was made)"


def test_a_runs_override_labels_name_the_last_override_of_a_key_in_canonical_form(tmp_path):
    from mazedsl.cli.commands import _override_sources

    saved = tmp_path / "overrides.yaml"
    saved.write_text("overrides:\n- ~algorithm.lr\n- +algorithm.lr=0.0005\n"
                     "- wrappers.0.clip=5.0\n- seed=3\nresumed:\n- total_steps=900\n")
    table = _override_sources(saved)
    assert table["algorithm.lr"] == "override '+algorithm.lr=0.0005' when the run was made"
    assert table["wrappers[0].clip"] == "override 'wrappers.0.clip=5.0' when the run was made"
    assert table["seed"] == "override 'seed=3' when the run was made"
    assert table["total_steps"] == "override 'total_steps=900' given on resume"


def test_a_component_by_name_sees_the_allow_targets_given_among_string_overrides(tmp_path):
    """RunContext(file, algorithm="<module>", overrides=["allow_targets=[pkg]"]) in a fresh
    process: the component and the strings are applied together, so the module's ``_target_``
    is admitted (it was refused as unknown when the component went first, alone)."""
    import subprocess
    import sys

    conf = tmp_path / "conf" / "algorithm"
    conf.mkdir(parents=True)
    (conf / "reinforce_byname.yaml").write_text("_target_: tests.plugins.reinforce_algo.Reinforce\n")
    code = ("from mazedsl import RunContext\n"
            f"ctx = RunContext({str(ROOT / 'experiments' / 'cartpole_ppo.py')!r}, "
            "algorithm='reinforce_byname', overrides=['allow_targets=[tests.plugins]', "
            "'algorithm.n_steps=13'], silent=True)\n"
            "print(type(ctx.experiment.algorithm).__name__, ctx.experiment.algorithm.n_steps)\n")
    env = {**os.environ, "MAZEDSL_CONFIG_PATH": str(tmp_path / "conf"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Reinforce", "13"]
