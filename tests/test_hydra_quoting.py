"""mazedsl.hydra_quoting: Python strings as Hydra override values, read back by Hydra's own
parser; the three callers (RunContext's compose path, ``--runs-root``, sweep job overrides)."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from mazedsl.hydra_quoting import hydra_quote

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CARTPOLE = str(ROOT / "experiments" / "cartpole_ppo.py")
PARSER = OverridesParser.create()

NASTY = ["", " ", "  two  spaces ", "'", '"', "\\", "\\\\", "a\\", "a\\\\", "\\'", "'\\", "a\\b",
         "a\\\\b", "C:\\runs\\", "C:\\Users\\me\\runs", "it's c:\\dir\\", "a\\'b", "'\"'\"",
         "${x}", "\\${x}", "${oc.env:HOME}", "$", "${", "}", "a=b", "=", "a,b", ",", "[1,2]",
         "{a: 1}", "(x)", "[", "]", "{", "}", ":", "#x", "~x", "+x", "@x", "null", "true", "1",
         "1e-3", "nan", "a|b", "tab\there", "line\nbreak", "é ✓ 日本 🙂"]


def parsed(override: str) -> object:
    """The value Hydra's override parser reads from ``override``."""
    (result,) = PARSER.parse_overrides([override])
    return result.value()


@pytest.mark.parametrize("text", NASTY)
def test_hydra_reads_back_exactly_the_string(text):
    value = parsed(f"key={hydra_quote(text)}")
    assert isinstance(value, str) and value == text


def test_every_short_string_of_the_tricky_characters_round_trips():
    for n in range(4):
        for chars in itertools.product(["\\", "'", '"', "$", "{", "}", "a", " ", ","], repeat=n):
            text = "".join(chars)
            assert parsed(f"key={hydra_quote(text)}") == text, text


def test_backslashes_are_doubled_only_before_a_quote_or_the_end():
    assert hydra_quote("a\\b") == "'a\\b'"  # not 'a\\\\b', which Hydra reads as a\\b
    assert hydra_quote("a\\") == "'a\\\\'"
    assert hydra_quote("a\\'b") == "'a\\\\\\'b'"
    assert hydra_quote("it's") == "'it\\'s'"


@pytest.mark.parametrize("text", ["${x}", "\\${x}", "\\\\${x}", "a${b", "${oc.env:HOME}/runs",
                                  "C:\\${x}\\", "$${x}", "${x}${y}", "plain \\ path"])
def test_literal_strings_keep_interpolations_literal(text):
    """Hydra keeps ``${...}`` as typed and OmegaConf resolves it later; ``literal=True``
    escapes it as OmegaConf reads escapes, so the config value is the text itself."""
    read = parsed(f"key={hydra_quote(text, literal=True)}")
    assert OmegaConf.create({"key": read, "x": "X", "y": "Y", "b": "B"}).key == text


def test_interpolations_reach_the_config_as_typed():
    """Without ``literal``, ``${...}`` is what the same string in an override dict is: an
    interpolation OmegaConf resolves."""
    assert parsed(f"key={hydra_quote('${x}')}") == "${x}"
    assert OmegaConf.create({"key": parsed(f"key={hydra_quote('${x}/a')}"), "x": "X"}).key == "X/a"


# -- the callers --------------------------------------------------------------------------

KEPT = ["runs\\a\\b", "C:\\runs\\", "it's \"here\"", "a,b=c [1] {2}", "é ✓", "\\'", ""]


@pytest.mark.parametrize("text", KEPT)
def test_run_context_keeps_a_string_override_exactly(text):
    """No experiment: RunContext composes conf_train with Hydra override strings."""
    from mazedsl import RunContext

    assert RunContext(overrides={"output_dir": text}).experiment.output_dir == text


def test_run_context_reads_interpolations_as_an_override_dict_does(monkeypatch):
    from mazedsl import RunContext
    from mazedsl.config import apply_overrides, load_experiment

    monkeypatch.setenv("MAZEDSL_QUOTING_TEST", "/scratch/me")
    given = {"output_dir": "${oc.env:MAZEDSL_QUOTING_TEST}/runs"}
    composed = RunContext(overrides=given).experiment.output_dir
    from_dict = apply_overrides(load_experiment(CARTPOLE), given).output_dir
    assert composed == from_dict == "/scratch/me/runs"


@pytest.mark.parametrize("root", ["DIR with \\ and 'quote'", "C:\\runs\\", "/tmp/${x}/a\\${y}",
                                  "/tmp/a,b=c", "/tmp/é"])
def test_runs_root_override_gives_the_exact_path(root):
    from mazedsl.cli.commands import _with_runs_root
    from mazedsl.config import apply_overrides, load_experiment

    overrides = _with_runs_root(argparse.Namespace(runs_root=root, runs_root_given=True,
                                                   overrides=["total_steps=300"]))
    assert overrides[0].startswith("output_dir=") and overrides[1:] == ["total_steps=300"]
    assert OmegaConf.create({"output_dir": parsed(overrides[0])}).output_dir == root
    assert apply_overrides(load_experiment(CARTPOLE), overrides).output_dir == root


def test_sweep_job_overrides_use_the_same_quoting():
    from mazedsl.config import apply_overrides, load_experiment
    from mazedsl.sweep import override_strings

    given = {"output_dir": "runs\\a\\b", "env.kwargs": {"note": "it's c:\\dir\\"}}
    strings = override_strings(given)
    assert strings[0] == "++output_dir='runs\\a\\b'"
    assert strings[1] == "++env.kwargs={note:'it\\'s c:\\dir\\\\'}"
    changed = apply_overrides(load_experiment(CARTPOLE), strings)
    assert (changed.output_dir, changed.env.kwargs["note"]) == ("runs\\a\\b", "it's c:\\dir\\")


def test_cli_trains_under_a_runs_root_with_backslashes_quotes_and_dollars(tmp_path):
    """``mazedsl --runs-root DIR train`` writes where ``mazedsl --runs-root DIR runs`` looks."""
    root = tmp_path / "DIR with \\ and 'quote' ${x}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    tiny = ["total_steps=128", "eval_every_steps=128", "eval_episodes=1", "runner.n_envs=2",
            "algorithm.n_steps=32", "algorithm.batch_size=64", "algorithm.n_epochs=1"]
    train = subprocess.run([str(BIN / "mazedsl"), "--runs-root", str(root), "train", CARTPOLE,
                            *tiny, "--quiet"], cwd=tmp_path, capture_output=True, text=True,
                           env=env, timeout=240)
    assert train.returncode == 0, train.stderr
    run_dir = Path(train.stdout.strip().splitlines()[-1])
    assert run_dir.parent == root / "cartpole_ppo" and (run_dir / "config.yaml").is_file()
    assert not (tmp_path / "outputs").exists()
    listed = subprocess.run([str(BIN / "mazedsl"), "--runs-root", str(root), "runs", "--json"],
                            cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert [r["steps"] for r in json.loads(listed.stdout)] == [128]
