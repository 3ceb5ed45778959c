"""Resolving ``runner.device`` to a torch device that exists on this machine."""

from __future__ import annotations

import torch

from mazedsl.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """``'auto'`` (CUDA, else MPS, else CPU), ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or ``'mps'``;
    a device this machine lacks is a ConfigError at ``runner.device``."""
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if has_mps else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            why = ("this torch is a CPU-only build" if torch.version.cuda is None
                   else "no CUDA device is visible")
            raise ConfigError(f"{name!r} asked for, but CUDA is not available ({why}); use 'cpu' "
                              "or 'auto'", "runner.device")
        index = int(name[5:]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(f"{name!r} does not exist: this machine has "
                              f"{torch.cuda.device_count()} CUDA device(s)", "runner.device")
        return torch.device(name)
    if name == "mps":
        if not has_mps:
            raise ConfigError("'mps' asked for, but Apple's MPS backend is not available here; use "
                              "'cpu' or 'auto'", "runner.device")
        return torch.device("mps")
    raise ConfigError(f"unknown device {name!r}; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'",
                      "runner.device")
