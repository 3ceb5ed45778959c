"""Matrix products for the hand-written forward and backward passes, each on the faster of
torch's two CPU GEMM libraries for its size.

``torch.mm`` / ``torch.addmm`` run MKL's sgemm, which on AMD CPUs runs its AVX2 code even
where the CPU has AVX-512. oneDNN, also inside torch (``torch.ops.mkldnn._linear_pointwise``,
the op torch's compiler emits for CPU linear layers), picks its kernel by the CPU's features.
On this project's AMD EPYC (AVX-512) host, one thread: a 256x256x256 product takes 160 us in
oneDNN against 340 us in MKL, and oneDNN wins from about 2M multiply-adds up (32x256x256:
36 against 46 us); below that its fixed cost of about 10 us a call loses (8x64x64: 13
against 3 us). On an AVX2-only host oneDNN was measured no faster (benchmarks/README.md, SAC's
gradient step), so there every product stays MKL's. ``benchmarks/gemm.py`` measures the
libraries on any machine.

The choice depends on the CPU and the shapes alone, never on a timing, so an experiment
computes the same numbers on every run on a machine (the two libraries round differently:
results agree to float32 rounding, as the fast paths' equality tests check). Both use
torch's thread setting.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor

ONEDNN_MIN_MACS = 1 << 21
"""Smallest product (rows x inner x output columns) given to oneDNN; smaller ones stay MKL's."""


def _has_onednn_linear() -> bool:
    try:
        return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn,
                                                                       "_linear_pointwise")
    except (AttributeError, RuntimeError):  # pragma: no cover - builds without oneDNN
        return False


HAS_ONEDNN = _has_onednn_linear()
"""Whether this torch build has oneDNN's linear op (every x86 CPU build since 2.1)."""

ONEDNN = HAS_ONEDNN and torch.backends.cpu.get_cpu_capability().startswith("AVX512")
"""Whether large products go to oneDNN: it is here and torch runs AVX-512 code on this CPU."""


def _packed(t: Tensor) -> Tensor:
    """``t`` (2-D) row- or column-major with no gaps: oneDNN's linear op runs a slow generic
    kernel on other strides (on a column slice of a wider array a 64x640x64 product took 65 ms),
    so such an operand is copied first (a pass over it, against ``cols`` passes in the product)."""
    return t if t.is_contiguous() or t.t().is_contiguous() else t.contiguous()


def uses_onednn(rows: int, inner: int, cols: int, t: Tensor) -> bool:
    """Whether a ``rows x inner`` by ``inner x cols`` product of tensors like ``t`` runs on
    oneDNN: float32 on the CPU, at least :data:`ONEDNN_MIN_MACS` multiply-adds."""
    return (ONEDNN and rows * inner * cols >= ONEDNN_MIN_MACS and t.device.type == "cpu"
            and t.dtype == torch.float32)


def linear(x: Tensor, w: Tensor, b: Tensor | None = None, out: Tensor | None = None) -> Tensor:
    """``x @ w.T + b``: a linear layer's output (``b`` may be None; into ``out`` if given)."""
    if uses_onednn(x.shape[0], x.shape[1], w.shape[0], x):
        r = torch.ops.mkldnn._linear_pointwise(_packed(x), _packed(w), b, "none", [], "")
        return r if out is None else out.copy_(r)
    if b is None:
        return mm(x, w.t(), out)
    return torch.addmm(b, x, w.t()) if out is None else torch.addmm(b, x, w.t(), out=out)


def mm(a: Tensor, b: Tensor, out: Tensor | None = None) -> Tensor:
    """``a @ b`` (into ``out`` if given)."""
    if uses_onednn(a.shape[0], a.shape[1], b.shape[1], a):
        r = torch.ops.mkldnn._linear_pointwise(_packed(a), _packed(b).t(), None, "none", [], "")
        return r if out is None else out.copy_(r)
    return torch.mm(a, b) if out is None else torch.mm(a, b, out=out)
