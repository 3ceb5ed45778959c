"""Packaging: every package folder ships, and the conf tree is package data."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"mazedsl": "mazedsl", "conf": "mazedsl.conf", "tui": "mazedsl_tui"}


def test_every_package_folder_is_listed_in_pyproject():
    """Every folder with an ``__init__.py``, and every folder of the Hydra conf tree (data only:
    setuptools warns at every install about importable folders it was not told of)."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for folder, package in MAPPING.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]))
    for sub in (ROOT / "conf").rglob("*"):
        if sub.is_dir() and sub.name != "__pycache__":
            found.add(".".join(["mazedsl.conf", *sub.relative_to(ROOT / "conf").parts]))
    assert found == listed


def test_console_scripts_and_readme_commands():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(meta["scripts"]) == {"mazedsl", "mazedsl-run"}
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("make test") < 400


def test_wheel_ships_conf_tree_tui_and_entry_points(tmp_path):
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("mazedsl-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for yaml_file in (ROOT / "conf").rglob("*.yaml"):
        assert "mazedsl/conf/" + yaml_file.relative_to(ROOT / "conf").as_posix() in names
    assert "mazedsl_tui/app.tcss" in names or any(n.startswith("mazedsl_tui/") and n.endswith(".tcss")
                                                  for n in names)
    assert "mazedsl/cli/hydra_app.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "mazedsl = mazedsl.cli.main:run" in text and "mazedsl-run = mazedsl.cli.hydra_app:run" in text


def test_exact_pins_only_in_the_dev_extra():
    """The runtime takes compatible ranges; exact pins (snapshot tests need them) live in dev."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {d.split(">")[0].split("<")[0].split("=")[0].strip(): d for d in meta["dependencies"]}
    assert not [d for d in meta["dependencies"] if "==" in d]
    assert runtime["textual"] == "textual>=8.2,<9"
    assert "textual==8.2.8" in meta["optional-dependencies"]["dev"]
