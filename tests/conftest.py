"""Fixtures shared by the test files, and the order the files run in."""

from __future__ import annotations

import sys

import pytest

# The files that take longest run first, longest first: `make test` hands whole files to its
# workers in collection order (--no-loadscope-reorder), and a long file started last leaves the
# others idle at the end. Only an order: a file not listed runs after these, as collected.
SLOW_FILES_FIRST = (  # seconds of test time each, 2026-12-03 (the whole suite: 1,050 s)
    "test_rllib.py", "test_cli.py", "test_benchmarks.py",  # 147, 125, 108
    "test_offpolicy_e2e.py", "test_tui_edges.py", "test_cli_edges.py",  # 59, 56, 56
    "test_open_engine.py", "test_run_integrity.py", "test_robustness.py",  # 55, 43, 39
    "test_tui_screens.py", "test_bc_fixes.py", "test_component_inputs.py",  # 36, 24, 23
    "test_engine_fast_backend.py", "test_tui_snapshots.py", "test_tui_leftovers.py",  # 22, 22, 20
    "test_compare.py", "test_sac_fast_path.py", "test_tui_compare.py",  # 18, 16, 15
    "test_env_porting.py", "test_tui_80x24.py", "test_benchmarks_learning.py",  # 14, 13, 12
    "test_sweeps.py", "test_tui_new_algos.py",  # 11, 10
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: same order within


@pytest.fixture(autouse=True)
def _algorithm_registry_restored():
    """An algorithm a test registers (a plugin it imports, such as ``tests.plugins.reinforce_algo``)
    is unregistered after it, and its module forgotten, so a later import registers it again:
    the registry is process-wide, and tests that list the algorithms would otherwise depend on
    which tests ran before them in the same worker."""
    from hydra.core.config_store import ConfigStore

    from mazedsl.config import targets
    from mazedsl.rl import registry

    registry.algorithms()  # the built-ins, registered on first use
    entries, declarations = dict(registry._ENTRIES), list(targets.DECLARATIONS)
    by_name, public = dict(targets._BY_NAME), dict(targets._PUBLIC)
    group = ConfigStore.instance().repo.setdefault("algorithm", {})
    stored = set(group)
    yield
    if registry._ENTRIES == entries and len(targets.DECLARATIONS) == len(declarations):
        return
    for entry in registry._ENTRIES.values():
        if entry.name not in entries:
            sys.modules.pop(entry.declaration.__module__, None)
    registry._ENTRIES.clear()
    registry._ENTRIES.update(entries)
    targets.DECLARATIONS[:] = declarations
    targets._BY_NAME.clear()
    targets._BY_NAME.update(by_name)
    targets._PUBLIC.clear()
    targets._PUBLIC.update(public)
    for key in set(group) - stored:
        del group[key]


@pytest.fixture
def demo(tmp_path):
    """A demo project (experiments and runs) for the TUI tests, in ``tmp_path``."""
    from mazedsl_tui.demo import build_demo

    return build_demo(tmp_path)


@pytest.fixture
def onednn_calls(monkeypatch):
    """oneDNN on for ``mazedsl.rl.gemm`` (as on an AVX-512 CPU, whatever this host is), and the
    shapes of the first operand of each product it receives; every operand it receives must be
    row- or column-major (its generic kernel on other strides is 1,000x slower)."""
    import torch

    from mazedsl.rl import gemm

    if not gemm.HAS_ONEDNN:
        pytest.skip("this torch build has no oneDNN")
    monkeypatch.setattr(gemm, "ONEDNN", True)
    real = torch.ops.mkldnn._linear_pointwise
    calls: list[tuple[int, ...]] = []

    def spy(x, w, *rest):
        for t in (x, w):
            assert t.is_contiguous() or t.t().is_contiguous(), t.stride()
        calls.append(tuple(x.shape))
        return real(x, w, *rest)

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", spy, raising=False)
    return calls
