"""A replay buffer of transitions, held as torch tensors on the run's device.

Transitions arrive a vector step at a time (one row per env, with a mask of the rows that
are real transitions: with next-step autoreset the step after an episode's end only resets
its env) and are written with one indexed copy per field; a sample is one ``torch.randint``
and one ``index_select`` per field, for one minibatch or for many at once. Nothing loops
over samples in Python.

``next_obs`` is stored beside ``obs`` (as Stable-Baselines3 does by default), so an episode
cut by a time limit keeps its true last observation and only ``terminated`` stops the
bootstrap (SB3's ``handle_timeout_termination``).

:meth:`ReplayBuffer.state_dict` holds only the filled rows, as tensors: checkpoints save it
with ``torch.save`` and load it back with ``weights_only=True``.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np
import torch

Tensor = torch.Tensor

_FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated")


def transition_nbytes(obs_nbytes: int, action_nbytes: int) -> int:
    """Bytes one stored transition takes: two observations, the action, a float32 reward and
    a float32 termination flag."""
    return 2 * obs_nbytes + action_nbytes + 8


def available_memory(device: torch.device) -> int | None:
    """Bytes free for new tensors on ``device`` now (Linux ``MemAvailable`` for the CPU,
    the driver's free memory for CUDA); None where this cannot be told."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _as_array(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, Tensor) else np.asarray(value)


class Batch(NamedTuple):
    """Sampled transitions; a leading ``(n_batches,)`` axis when sampled several at once."""

    obs: Tensor
    actions: Tensor
    rewards: Tensor
    next_obs: Tensor
    terminated: Tensor  # float32 1.0 where the episode ended for real (no bootstrap)


class ReplayBuffer:
    """A circular buffer of ``capacity`` transitions.

    ``obs_shape``/``obs_dtype`` describe one (prepared) observation, ``action_shape``/
    ``action_dtype`` one action (``()`` and int64 for a Discrete space).
    """

    def __init__(self, capacity: int, obs_shape: Sequence[int], action_shape: Sequence[int],
                 *, obs_dtype: torch.dtype = torch.float32, action_dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> None:
        if capacity <= 0:
            raise ValueError(f"replay capacity must be > 0, got {capacity}")
        self.capacity = int(capacity)
        self.device = torch.device(device)
        obs_shape, action_shape = tuple(obs_shape), tuple(action_shape)
        kw = {"device": self.device}
        self.obs = torch.zeros((self.capacity, *obs_shape), dtype=obs_dtype, **kw)
        self.next_obs = torch.zeros((self.capacity, *obs_shape), dtype=obs_dtype, **kw)
        self.actions = torch.zeros((self.capacity, *action_shape), dtype=action_dtype, **kw)
        self.rewards = torch.zeros(self.capacity, dtype=torch.float32, **kw)
        self.terminated = torch.zeros(self.capacity, dtype=torch.float32, **kw)
        # on the CPU, writes go through numpy views of the same memory (no tensor per field)
        self._arrays = ([getattr(self, f).numpy() for f in _FIELDS]
                        if self.device.type == "cpu" else None)
        self.pos = 0  # next row to write
        self.size = 0  # rows filled
        self.added = 0  # transitions ever added

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes held by the filled rows (what :meth:`state_dict` saves)."""
        return sum(getattr(self, f)[: self.size].nelement() * getattr(self, f).element_size()
                   for f in _FIELDS)

    def _as_tensor(self, value: Any, like: Tensor) -> Tensor:
        if isinstance(value, Tensor):
            return value.to(device=self.device, dtype=like.dtype)
        return torch.as_tensor(np.asarray(value), dtype=like.dtype, device=self.device)

    def add(self, obs: Any, actions: Any, rewards: Any, next_obs: Any, terminated: Any,
            valid: Any = None) -> int:
        """Append a batch of transitions (rows of equal length; numpy or tensors).

        ``valid`` (bool rows) keeps only the real transitions. Returns how many were added.
        """
        values = (obs, actions, rewards, next_obs, terminated)
        if self._arrays is not None:
            stores: list[Any] = self._arrays
            fields: list[Any] = [_as_array(v) for v in values]
            keep = None if valid is None else _as_array(valid).astype(bool, copy=False)
        else:
            stores = [getattr(self, f) for f in _FIELDS]
            fields = [self._as_tensor(v, store) for v, store in zip(values, stores)]
            keep = None if valid is None else self._as_tensor(valid, torch.empty(0, dtype=torch.bool))
        if keep is not None and not bool(keep.all()):
            fields = [f[keep] for f in fields]
        n = int(fields[0].shape[0])
        if n == 0:
            return 0
        if n > self.capacity:  # only the newest rows fit
            fields = [f[n - self.capacity:] for f in fields]
            self.added += n - self.capacity
            n = self.capacity
        end = self.pos + n
        if end <= self.capacity:
            rows: Any = slice(self.pos, end)
        elif self._arrays is not None:
            rows = np.arange(self.pos, end) % self.capacity
        else:
            rows = torch.arange(self.pos, end, device=self.device) % self.capacity
        for store, value in zip(stores, fields):
            store[rows] = value
        self.pos = end % self.capacity
        self.size = min(self.size + n, self.capacity)
        self.added += n
        return n

    def sample(self, batch_size: int, n_batches: int | None = None,
               generator: torch.Generator | None = None) -> Batch:
        """Uniformly sampled transitions (with replacement, as SB3): ``(batch_size, ...)``
        tensors, or ``(n_batches, batch_size, ...)`` when ``n_batches`` is given."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        shape = (batch_size,) if n_batches is None else (n_batches, batch_size)
        idx = torch.randint(0, self.size, shape, device=self.device, generator=generator)
        flat = idx.reshape(-1)
        out = []
        for name in _FIELDS:
            store = getattr(self, name)
            out.append(store.index_select(0, flat).reshape(*shape, *store.shape[1:]))
        return Batch(*out)

    # -- checkpoints ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The filled rows (in buffer order) and the write position, as tensors and ints."""
        state: dict[str, Any] = {"capacity": self.capacity, "pos": self.pos, "size": self.size,
                                 "added": self.added}
        for name in _FIELDS:
            state[name] = getattr(self, name)[: self.size].detach().cpu().clone()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (shapes and capacity must match)."""
        if int(state["capacity"]) != self.capacity:
            raise ValueError(f"replay capacity differs: saved {state['capacity']}, here {self.capacity}")
        size = int(state["size"])
        for name in _FIELDS:
            store, saved = getattr(self, name), state[name]
            if tuple(saved.shape) != (size, *store.shape[1:]):
                raise ValueError(f"replay field {name!r} has shape {tuple(saved.shape)}, "
                                 f"expected {(size, *store.shape[1:])}")
            store[:size] = saved.to(device=self.device, dtype=store.dtype)
        self.pos, self.size, self.added = int(state["pos"]), size, int(state["added"])
