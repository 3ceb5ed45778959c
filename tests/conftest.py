"""Fixtures shared by the test files."""

from __future__ import annotations

import pytest


@pytest.fixture
def demo(tmp_path):
    """A demo project (experiments and runs) for the TUI tests, in ``tmp_path``."""
    from mazedsl_tui.demo import build_demo

    return build_demo(tmp_path)
