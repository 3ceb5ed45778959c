"""Atomic run-directory writes: the files get the mode a plain open() gives (0o666 & ~umask),
not mkstemp's private 0600, so shared result folders and other users' readers can read them."""

from __future__ import annotations

import contextlib
import os
import stat
import sys

import numpy as np
import pytest

from mazedsl import PPO, Experiment, GymEnv, RunContext
from mazedsl.run import files
from mazedsl.run.files import atomic_write_bytes, atomic_write_json, current_umask
from mazedsl.spec import Runner

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002])
def test_atomic_writes_get_the_mode_open_would_give(tmp_path, mask):
    with umask(mask):
        assert current_umask() == mask
        atomic_write_bytes(tmp_path / "a.bin", b"x")
        atomic_write_json(tmp_path / "sub" / "b.json", {"k": 1})
        with open(tmp_path / "plain.txt", "w") as fh:
            fh.write("x")
    assert mode(tmp_path / "a.bin") == 0o666 & ~mask
    assert mode(tmp_path / "sub" / "b.json") == 0o666 & ~mask == mode(tmp_path / "plain.txt")
    assert [p.name for p in tmp_path.rglob(".*.tmp")] == []


def test_rewriting_a_private_file_gives_it_the_umask_mode(tmp_path):
    path = tmp_path / "run.json"
    path.write_text("{}")
    os.chmod(path, 0o600)
    with umask(0o022):
        atomic_write_json(path, {"status": "finished"})
    assert mode(path) == 0o644


def test_umask_without_proc_falls_back_to_one_cached_round_trip(tmp_path, monkeypatch):
    def no_proc(*args, **kwargs):
        raise OSError("no /proc here")

    with umask(0o027):
        monkeypatch.setattr(files, "open", no_proc, raising=False)
        monkeypatch.setattr(files, "_FALLBACK_UMASK", None)
        calls = []
        real_umask = os.umask
        monkeypatch.setattr(os, "umask", lambda m: calls.append(m) or real_umask(m))
        assert files.current_umask() == 0o027
        assert files.current_umask() == 0o027
        assert len(calls) == 2  # set and restore, once: the answer is cached
        monkeypatch.setattr(os, "umask", real_umask)
        monkeypatch.delattr(files, "open")  # mkstemp and fdopen as usual; the mode from the cache
        atomic_write_bytes(tmp_path / "c.bin", b"x")
        assert real_umask(0o027) == 0o027  # the round trip left the umask as it was
    assert mode(tmp_path / "c.bin") == 0o640


def test_every_file_of_a_trained_run_is_readable_like_metrics_jsonl(tmp_path):
    exp = Experiment(name="modes", env=GymEnv(name="CartPole-v1"), total_steps=128, eval_every_steps=64,
                     eval_episodes=1, algorithm=PPO(n_steps=32, batch_size=64, n_epochs=1),
                     runner=Runner(n_envs=2))
    with umask(0o022):
        ctx = RunContext(exp, run_dir=tmp_path / "r", silent=True)
        ctx.train()
        ctx.evaluate(1)
        ctx.rollout(1, record=True)
        ctx.close()
    run = tmp_path / "r"
    written = {p.relative_to(run).as_posix(): mode(p) for p in run.rglob("*") if p.is_file()}
    for name in ("config.yaml", "run.json", "spaces.json", "overrides.yaml", "metrics.jsonl",
                 "checkpoints/last.pt", "checkpoints/best.pt", "rollouts/episode_000.npz"):
        assert name in written, sorted(written)
    assert {name: m for name, m in written.items() if m != 0o644} == {}
    np.load(run / "rollouts" / "episode_000.npz")  # still a readable file
