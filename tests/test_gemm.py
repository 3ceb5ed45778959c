"""mazedsl.rl.gemm: the fast paths' products, on MKL or oneDNN by size, equal torch's."""

from __future__ import annotations

import pytest
import torch

from mazedsl.rl import gemm

SHAPES = [(8, 64, 64), (256, 4, 256), (256, 256, 256), (64, 256, 256), (300, 130, 70)]


@pytest.fixture(params=["as on this CPU", "oneDNN on"])
def route(request):
    if request.param == "oneDNN on":
        request.getfixturevalue("onednn_calls")


def _ref(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.double() @ b.double()).float()


@pytest.mark.parametrize("rows, inner, cols", SHAPES)
def test_products_equal_torchs_to_float32_rounding(rows, inner, cols, route):
    g = torch.Generator().manual_seed(rows + inner + cols)
    x = torch.randn(rows, inner, generator=g)
    w = torch.randn(cols, inner, generator=g)
    b = torch.randn(cols, generator=g)
    tol = dict(rtol=1e-4, atol=1e-4 * inner ** 0.5)
    torch.testing.assert_close(gemm.linear(x, w, b), _ref(x, w.t()) + b, **tol)
    torch.testing.assert_close(gemm.linear(x, w), _ref(x, w.t()), **tol)
    dz = torch.randn(rows, cols, generator=g)
    torch.testing.assert_close(gemm.mm(dz, w), _ref(dz, w), **tol)  # an input gradient
    out = torch.empty(cols, inner)
    got = gemm.mm(dz.t(), x, out=out)  # a weight gradient, transposed operand, into out
    assert got.data_ptr() == out.data_ptr()
    torch.testing.assert_close(out, _ref(dz.t(), x), **tol)


def test_the_route_is_chosen_by_size_device_and_dtype():
    big, small = torch.zeros(1, dtype=torch.float32), torch.zeros(1, dtype=torch.float64)
    assert gemm.ONEDNN == (gemm.HAS_ONEDNN and torch.backends.cpu.get_cpu_capability().startswith("AVX512"))
    assert gemm.uses_onednn(256, 256, 256, big) is gemm.ONEDNN
    assert gemm.uses_onednn(32, 256, 256, big) is gemm.ONEDNN  # 2.1M multiply-adds
    assert not gemm.uses_onednn(8, 64, 64, big) and not gemm.uses_onednn(256, 4, 256, big)
    assert not gemm.uses_onednn(256, 256, 256, small)  # float64: torch's own
    x = torch.randn(256, 256, dtype=torch.float64)
    assert gemm.linear(x, x).dtype == torch.float64


def test_large_products_go_to_onednn_and_small_ones_do_not(onednn_calls):
    calls = onednn_calls
    gemm.linear(torch.randn(8, 64), torch.randn(64, 64))
    gemm.mm(torch.randn(256, 4), torch.randn(4, 256))
    assert calls == []
    gemm.linear(torch.randn(256, 256), torch.randn(256, 256))
    gemm.mm(torch.randn(64, 256), torch.randn(256, 256))
    gemm.mm(torch.randn(640, 64).t(), torch.randn(640, 64))  # a weight gradient: transposed
    assert calls == [(256, 256), (64, 256), (64, 640)]
    # a column slice of a wider array (an A2C rollout's recorded activations): oneDNN runs a
    # slow generic kernel on such strides, so it gets a packed copy
    wide = torch.randn(640, 128)
    g = torch.randn(640, 64)
    got = gemm.mm(g.t(), wide[:, 64:])
    assert len(calls) == 4 and calls[-1] == (64, 640)
    torch.testing.assert_close(got, _ref(g.t(), wide[:, 64:]), rtol=1e-4, atol=1e-3)
