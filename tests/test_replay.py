"""The replay buffer: adding with masks, wrapping, sampling, and its state as tensors."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from mazedsl.rl.replay import ReplayBuffer


def _buffer(capacity: int = 5, numpy_views: bool = True) -> ReplayBuffer:
    buf = ReplayBuffer(capacity, (2,), (), action_dtype=torch.int64)
    if not numpy_views:  # the path off the CPU: indexed tensor writes
        buf._arrays = None
    return buf


# on the CPU the buffer writes through numpy views; elsewhere through tensors: both checked
WRITE_PATHS = pytest.mark.parametrize("numpy_views", [True, False], ids=["numpy", "tensor"])


def _rows(start: int, n: int) -> tuple[np.ndarray, ...]:
    ids = np.arange(start, start + n)
    obs = np.stack([ids, -ids], 1).astype(np.float32)
    return obs, ids, ids * 10.0, obs + 0.5, (ids % 2 == 0)


@WRITE_PATHS
def test_add_keeps_only_valid_rows_in_order(numpy_views: bool) -> None:
    buf = _buffer(5, numpy_views)
    obs, act, rew, nxt, term = _rows(0, 4)
    assert buf.add(obs, act, rew, nxt, term, valid=np.array([True, False, True, True])) == 3
    assert len(buf) == 3 and buf.pos == 3 and buf.added == 3
    assert buf.actions[:3].tolist() == [0, 2, 3]
    assert buf.rewards[:3].tolist() == [0.0, 20.0, 30.0]
    assert buf.next_obs[1].tolist() == [2.5, -1.5]
    assert buf.terminated[:3].tolist() == [1.0, 1.0, 0.0]


@WRITE_PATHS
def test_add_wraps_around_the_capacity(numpy_views: bool) -> None:
    buf = _buffer(5, numpy_views)
    buf.add(*_rows(0, 4))
    buf.add(*_rows(4, 3))  # rows 4, 5, 6: 5 and 6 overwrite 0 and 1
    assert len(buf) == 5 and buf.pos == 2 and buf.added == 7
    assert buf.actions.tolist() == [5, 6, 2, 3, 4]
    buf.add(*_rows(7, 12))  # more than the capacity: the newest 5 (14..18) fit
    assert sorted(buf.actions.tolist()) == [14, 15, 16, 17, 18]
    assert len(buf) == 5 and buf.added == 19


def test_sample_draws_stored_transitions_consistently() -> None:
    buf = _buffer(100)
    buf.add(*_rows(0, 30))
    g = torch.Generator().manual_seed(0)
    batch = buf.sample(64, generator=g)
    assert batch.obs.shape == (64, 2) and batch.actions.shape == (64,)
    ids = batch.actions
    assert int(ids.max()) < 30  # only filled rows
    assert torch.equal(batch.obs[:, 0], ids.float())
    assert torch.equal(batch.rewards, ids.float() * 10)
    assert torch.equal(batch.next_obs, batch.obs + 0.5)
    assert torch.equal(batch.terminated, (ids % 2 == 0).float())
    many = buf.sample(8, n_batches=3, generator=g)
    assert many.obs.shape == (3, 8, 2) and many.rewards.shape == (3, 8)
    assert torch.equal(many.obs[..., 0], many.actions.float())


def test_sample_is_uniform_over_the_filled_rows() -> None:
    buf = _buffer(10)
    buf.add(*_rows(0, 4))
    counts = torch.bincount(buf.sample(40_000, generator=torch.Generator().manual_seed(1)).actions,
                            minlength=4)
    assert counts.shape == (4,)
    assert ((counts.float() / 40_000 - 0.25).abs() < 0.01).all()


def test_sampling_an_empty_buffer_fails() -> None:
    with pytest.raises(ValueError, match="empty"):
        _buffer().sample(4)


def test_state_dict_round_trips_through_torch_save_weights_only() -> None:
    buf = _buffer(8)
    buf.add(*_rows(0, 6))
    buf.add(*_rows(6, 4))  # wrapped
    state = buf.state_dict()
    assert state["obs"].shape == (8, 2) and state["size"] == 8 and state["pos"] == 2
    assert buf.nbytes == 8 * (2 * 4 * 2 + 8 + 4 + 4)
    blob = io.BytesIO()
    torch.save(state, blob)
    blob.seek(0)
    loaded = torch.load(blob, weights_only=True)
    other = _buffer(8)
    other.load_state_dict(loaded)
    for name in ("obs", "actions", "rewards", "next_obs", "terminated"):
        assert torch.equal(getattr(other, name), getattr(buf, name))
    assert (other.pos, other.size, other.added) == (2, 8, 10)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(buf.sample(16, generator=g1).obs, other.sample(16, generator=g2).obs)


def test_partial_state_saves_only_filled_rows() -> None:
    buf = _buffer(1000)
    buf.add(*_rows(0, 3))
    state = buf.state_dict()
    assert state["obs"].shape == (3, 2)
    other = _buffer(1000)
    other.load_state_dict(state)
    assert other.actions[:3].tolist() == [0, 1, 2] and len(other) == 3


def test_load_refuses_other_shapes() -> None:
    buf = _buffer(8)
    buf.add(*_rows(0, 3))
    with pytest.raises(ValueError, match="capacity"):
        _buffer(9).load_state_dict(buf.state_dict())
    with pytest.raises(ValueError, match="'obs' has shape"):
        ReplayBuffer(8, (3,), (), action_dtype=torch.int64).load_state_dict(buf.state_dict())


@WRITE_PATHS
def test_box_actions_and_tensor_inputs(numpy_views: bool) -> None:
    buf = ReplayBuffer(4, (3,), (2,))
    if not numpy_views:
        buf._arrays = None
    obs = torch.ones(2, 3)
    buf.add(obs, torch.tensor([[0.5, -0.5], [1.0, 0.0]]), torch.tensor([1.0, 2.0]), obs * 2,
            torch.tensor([False, True]))
    assert buf.actions[:2].tolist() == [[0.5, -0.5], [1.0, 0.0]]
    assert buf.terminated[:2].tolist() == [0.0, 1.0]
