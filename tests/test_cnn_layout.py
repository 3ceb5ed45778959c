"""The CNN's CPU layout (mazedsl.rl.models.Conv2d and ImageInput): channels-last batches and
the kernel-covers-its-input layer as F.linear compute what torch's default layout computes."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch import nn

from mazedsl import PPO
from mazedsl.rl import models
from mazedsl.rl.trainer import Trainer
from mazedsl.spec import (Experiment, FrameStack, Grayscale, GymEnv, PixelObs, Resize, Runner,
                          ScaleObservation, StateCritic)

CL = torch.channels_last
NATURE = PixelObs()  # the Nature CNN: its last layer covers its 3x3 input
SHIPPED = PixelObs(channels=[16, 32], kernel_sizes=[4, 3], strides=[2, 1], hidden_units=[128])
"""experiments/pixel_cartpole_ppo.py's CNN: its last conv is an ordinary one (18x18 out)."""


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("c_in, c_out, k, s, pad, hw, linear", [
    (64, 64, 3, 1, 0, 3, True),    # the Nature CNN's last layer on 42x42 frames
    (4, 8, 5, 2, 0, 5, True),      # a stride does not matter when the kernel covers the input
    (32, 64, 4, 2, 0, 9, False),   # an ordinary conv
    (8, 8, 3, 1, 1, 3, False),     # covers the input but pads: the conv itself
])
@pytest.mark.parametrize("layout", ["default", "channels_last"])
def test_conv2d_equals_nn_conv2d(c_in, c_out, k, s, pad, hw, linear, layout, monkeypatch):
    torch.manual_seed(0)
    ours = models.Conv2d(c_in, c_out, k, s, padding=pad)
    ref = nn.Conv2d(c_in, c_out, k, s, padding=pad)
    ref.load_state_dict(ours.state_dict())
    assert list(ours.state_dict()) == ["weight", "bias"]  # checkpoints are unchanged
    x = torch.randn(32, c_in, hw, hw)
    if layout == "channels_last":
        x = x.contiguous(memory_format=CL)
    x_ours, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_ref = ref(x_ref)
    if linear:  # it must not run the conv kernel at all
        monkeypatch.setattr(nn.Conv2d, "_conv_forward", lambda *a: pytest.fail("ran the conv"))
    y = ours(x_ours)
    assert y.shape == y_ref.shape
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
    g = torch.randn_like(y_ref)
    got = torch.autograd.grad(y, [x_ours, ours.weight, ours.bias], g)
    want = torch.autograd.grad(y_ref, [x_ref, ref.weight, ref.bias], g)
    for a, b in zip(got, want):
        assert _rel(a, b) < 1e-5


def test_conv2d_takes_an_unbatched_image_as_nn_conv2d_does():
    ours = models.Conv2d(3, 4, 5)
    x = torch.randn(3, 5, 5)  # (C, H, W): the kernel covers it, but there is no batch axis
    torch.testing.assert_close(ours(x), nn.Conv2d.forward(ours, x))
    assert ours(x).shape == (4, 1, 1)


def test_image_input_hands_cpu_batches_of_16_and_more_channels_last():
    prep = models.ImageInput(spaces.Box(0, 255, (3, 42, 42), np.uint8))  # CHW bytes
    frames = torch.randint(0, 256, (32, 3, 42, 42), dtype=torch.uint8)
    few = models.CHANNELS_LAST_MIN_BATCH - 1
    big, small = prep(frames), prep(frames[:few])
    assert big.shape == (32, 3, 42, 42) and big.is_contiguous(memory_format=CL)
    assert not big.is_contiguous()
    assert small.is_contiguous()  # a few frames (acting) keep the default layout
    torch.testing.assert_close(big, frames.float() / 255.0)
    torch.testing.assert_close(small, frames[:few].float() / 255.0)
    hwc = models.ImageInput(spaces.Box(0, 255, (42, 42, 3), np.uint8))  # HWC: channels last too
    torch.testing.assert_close(hwc(frames.permute(0, 2, 3, 1)), frames.float() / 255.0)


def test_the_last_conv_hands_the_dense_layers_the_default_layout():
    """A channels-last activation whose gradient comes back from the flattening in the
    default layout runs its backward several times slower: the last conv switches back."""
    net, _ = models._cnn(spaces.Box(0, 1, (2, 42, 42), np.float32), SHIPPED, [128])
    convs = [m for m in net.modules() if isinstance(m, models.Conv2d)]
    assert [c.contiguous_out for c in convs] == [False, True]
    x = torch.rand(32, 2, 42, 42)
    first = convs[0](net[0][0](x))
    assert first.is_contiguous(memory_format=CL) and not first.is_contiguous()
    assert convs[1](first).is_contiguous()


def _default_layout(monkeypatch) -> None:
    """torch's default layout everywhere: contiguous batches and every layer a plain conv."""
    monkeypatch.setattr(models, "CHANNELS_LAST_MIN_BATCH", 10 ** 9)
    monkeypatch.setattr(models.Conv2d, "forward", nn.Conv2d.forward)


def test_the_nature_cnn_gradients_match_float64():
    torch.manual_seed(0)
    net, _ = models._cnn(spaces.Box(0, 1, (2, 42, 42), np.float32), PixelObs(), [512])
    x = torch.rand(256, 2, 42, 42)
    grads = torch.autograd.grad(net(x).square().sum(), list(net.parameters()))
    conv, dense = copy.deepcopy(net).double()
    ref = nn.Sequential(*conv[1:], dense)  # without ImageInput (it makes float32 batches)
    for m in ref.modules():  # float64 through torch's own conv, in the default layout
        if isinstance(m, models.Conv2d):
            m.__class__ = nn.Conv2d
    want = torch.autograd.grad(ref(x.double()).square().sum(), list(ref.parameters()))
    assert [g.shape for g in grads] == [w.shape for w in want]
    for g, w in zip(grads, want):
        assert _rel(g, w) < 1e-4


def _pixel_experiment(model: PixelObs) -> Experiment:
    return Experiment(
        env=GymEnv(name="mazedsl/PixelCartPole-v1"),
        wrappers=[Grayscale(), Resize(height=42, width=42), FrameStack(n_frames=2), ScaleObservation()],
        model=model,
        critic=StateCritic(shared=True), runner=Runner(n_envs=4, device="cpu"),
        algorithm=PPO(n_steps=16, batch_size=32, n_epochs=2), seed=3, total_steps=384,
        eval_every_steps=0, eval_episodes=1, log_every_steps=64)


@pytest.mark.parametrize("model", [NATURE, SHIPPED], ids=["nature_cnn", "shipped_cnn"])
def test_pixel_ppo_trains_as_in_the_default_layout(model, monkeypatch):
    """Six PPO updates (24 minibatches of 32, channels-last; rollouts of 4 frames keep the
    default layout) through the Trainer: the parameters end where torch's default layout takes
    them, to float32 rounding compounded over the updates (measured: 4e-6 and 2e-5 of how far
    training moved them)."""
    fast = Trainer(_pixel_experiment(model))
    fast.train()
    with monkeypatch.context() as m:
        _default_layout(m)
        ref = Trainer(_pixel_experiment(model))
        ref.train()
    moved = 0.0
    for (name, a), b, init in zip(fast.policy.named_parameters(), ref.policy.parameters(),
                                  Trainer(_pixel_experiment(model)).policy.parameters()):
        assert _rel(a - init, b - init) < 1e-4, name  # relative to how far training moved it
        moved = max(moved, float((b - init).detach().abs().max()))
    assert moved > 1e-4  # training did move the parameters
