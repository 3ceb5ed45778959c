"""Packaging: every package folder ships, and the conf tree is package data."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"mazedsl": "mazedsl", "conf": "mazedsl.conf", "tui": "mazedsl_tui"}


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for folder, package in MAPPING.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]))
    assert found == listed


def test_console_scripts_and_readme_commands():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(meta["scripts"]) == {"mazedsl", "mazedsl-run"}
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("make test") < 400
