"""Pieces DQN and SAC (and BC) share: MLPs, target-network updates, schedules, gradient
clipping and a lean Adam.

Everything here works on lists of tensors with torch's ``_foreach`` kernels: one call per
operation for all parameters, instead of a Python loop over them.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterable, Iterator, Sequence

import torch
from torch import nn

Tensor = torch.Tensor

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU, "silu": nn.SiLU}


def mlp(in_dim: int, hidden: Sequence[int], activation: str, out_dim: int | None = None) -> nn.Sequential:
    """A plain MLP with torch's default init (as SB3's off-policy nets), ``activation``
    after each hidden layer and an optional linear output layer."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_dim, width), ACTIVATIONS[activation]()]
        in_dim = width
    if out_dim is not None:
        layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


@torch.no_grad()
def polyak_update(params: Sequence[Tensor], targets: Sequence[Tensor], tau: float) -> None:
    """``target <- (1 - tau) * target + tau * param`` for each pair; ``tau == 1`` copies."""
    params, targets = list(params), list(targets)
    if tau >= 1.0:
        torch._foreach_copy_(targets, params)
    else:
        torch._foreach_lerp_(targets, params, tau)


def linear_schedule(start: float, end: float, fraction: float, progress: float) -> float:
    """SB3's ``get_linear_fn``: from ``start`` to ``end`` over the first ``fraction`` of the
    budget (``progress`` in [0, 1]), then ``end``."""
    if fraction <= 0 or progress >= fraction:
        return end
    return start + (end - start) * progress / fraction


def scheduled(value: float, schedule: str, progress: float) -> float:
    """``value`` at ``progress``: constant, or linear decay to 0."""
    return value * (1.0 - progress) if schedule == "linear" else value


def clip_grad_norm(grads: Sequence[Tensor], max_norm: float) -> Tensor:
    """Scale ``grads`` in place so their global L2 norm is at most ``max_norm`` (as
    ``nn.utils.clip_grad_norm_``); returns the norm before clipping."""
    grads = list(grads)
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    torch._foreach_mul_(grads, coef)
    return total


_FUSED: list[bool] = []


def make_adam(params: Iterable[Tensor], lr: float, eps: float) -> Any:
    """Adam over ``params``: mazedsl's lean fused Adam for float32 CPU tensors (bit-identical
    to ``torch.optim.Adam(fused=True)``), else ``torch.optim.Adam``."""
    from mazedsl.rl import optim

    params = list(params)
    if not _FUSED:
        _FUSED.append(optim.fused_adam_available())
    if _FUSED[0] and all(p.device.type == "cpu" and p.dtype == torch.float32 for p in params):
        return optim.Adam(params, lr=lr, eps=eps)
    return torch.optim.Adam(params, lr=lr, eps=eps)


def step(optimizer: Any, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
    """One optimiser step of ``params`` with ``grads`` at learning rate ``lr``."""
    optimizer.param_groups[0]["lr"] = lr
    step_with = getattr(optimizer, "step_with", None)
    if step_with is not None:
        step_with(params, grads)
        return
    for p, g in zip(params, grads):
        p.grad = g
    optimizer.step()


def check_finite(value: float, what: str, step_count: int, replay: Any = None) -> None:
    """A :class:`~mazedsl.errors.TrainingError` naming the step when ``value`` is NaN/inf;
    where the ``replay`` buffer holds a NaN/inf the env gave, it names that instead."""
    if not math.isfinite(value):
        from mazedsl.errors import TrainingError

        cause = _non_finite_transitions(replay) if replay is not None else None
        if cause:
            raise TrainingError(f"{what} is {value} at env step {step_count}: {cause}; stopping "
                                "(check what your env returns)")
        raise TrainingError(f"{what} is {value} at env step {step_count}; stopping "
                            "(lower the learning rate or check the rewards)")


def _non_finite_transitions(replay: Any) -> str | None:
    """What non-finite value the env put into the replay buffer's filled rows, or None."""
    for field, name in (("obs", "observation"), ("next_obs", "observation"), ("rewards", "reward")):
        rows = getattr(replay, field, None)
        if not isinstance(rows, torch.Tensor) or not rows.is_floating_point():
            continue
        rows = rows[:len(replay)]
        bad = ~torch.isfinite(rows.reshape(len(rows), -1)).all(dim=1)
        if bool(bad.any()):
            value = rows.reshape(len(rows), -1)[int(bad.nonzero()[0])]
            shown = value[~torch.isfinite(value)][0].item()
            article = "an" if name[0] in "aeiou" else "a"
            return (f"the env gave {article} {name} holding {shown} ({int(bad.sum())} of the "
                    f"{len(rows)} transitions stored)")
    return None


_MALLOC_TUNED: list[bool] = []


def tune_malloc() -> bool:
    """Keep freed memory in the process (glibc): the update loops allocate and free the
    same few hundred-kilobyte tensors thousands of times a second, and glibc's defaults give
    that memory back to the system and fault it in again each time (measured here: a SAC
    gradient step 37 ms -> 20 ms on a loaded machine). Raises the trim and mmap thresholds
    and the top pad; process-wide, once; a no-op off glibc. Returns whether it applied."""
    if _MALLOC_TUNED:
        return _MALLOC_TUNED[0]
    ok = False
    try:
        import ctypes
        import ctypes.util
        import sys

        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
            ok = bool(libc.mallopt(m_trim_threshold, 512 << 20)) and \
                bool(libc.mallopt(m_top_pad, 64 << 20)) and \
                bool(libc.mallopt(m_mmap_threshold, 32 << 20))
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        ok = False
    _MALLOC_TUNED.append(ok)
    return ok


@contextlib.contextmanager
def denormals_flushed() -> Iterator[None]:
    """Flush denormal floats to zero inside the block (CPU, this thread), then restore the
    default. Adam's moment estimates of parameters whose gradients are zero (dead ReLU units)
    decay into the denormal range within a few hundred steps, where x86 arithmetic is tens
    of times slower: measured here, a DQN gradient step 8.3 ms -> 4.5 ms on a loaded machine."""
    flushed = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if flushed:
            torch.set_flush_denormal(False)
