"""Policy and critic network declarations."""

from __future__ import annotations

import attrs

from mazedsl.spec._fields import int_list, is_bool, is_float, one_of, param, same_length

ACTIVATIONS = ("tanh", "relu", "elu", "gelu", "silu")


@attrs.define(frozen=True, kw_only=True)
class VectorObs:
    """An MLP policy for flat (vector) observations; SB3's default 2x64 tanh MLP."""

    hidden_units: list[int] = param([64, 64], "Width of each hidden layer.", int_list())
    activation: str = param("tanh", "Hidden activation: tanh, relu, elu, gelu or silu.",
                            one_of(*ACTIVATIONS))
    ortho_init: bool = param(True, "Orthogonal init as in SB3/CleanRL (policy head gain 0.01).",
                             is_bool)
    log_std_init: float = param(0.0, "Initial log std of Gaussian (continuous) actions.", is_float)


@attrs.define(frozen=True, kw_only=True)
class PixelObs:
    """A CNN policy for image observations; the Nature-DQN torso (Mnih et al. 2015)."""

    channels: list[int] = param([32, 64, 64], "Output channels of each conv layer.", int_list(1))
    kernel_sizes: list[int] = param([8, 4, 3], "Kernel size of each conv layer.", int_list(1))
    strides: list[int] = param([4, 2, 1], "Stride of each conv layer.", int_list(1))
    hidden_units: list[int] = param([512], "Width of the dense layers after the convs.", int_list())
    activation: str = param("relu", "Hidden activation: tanh, relu, elu, gelu or silu.",
                            one_of(*ACTIVATIONS))
    ortho_init: bool = param(True, "Orthogonal init as in SB3/CleanRL.", is_bool)
    log_std_init: float = param(0.0, "Initial log std of Gaussian (continuous) actions.", is_float)

    def __attrs_post_init__(self) -> None:
        same_length("channels", "kernel_sizes", "strides")(self)


@attrs.define(frozen=True, kw_only=True)
class StateCritic:
    """A state-value critic V(s); separate network by default, or sharing the policy torso."""

    hidden_units: list[int] = param([64, 64], "Width of each hidden layer (separate critic).",
                                    int_list())
    activation: str = param("tanh", "Hidden activation: tanh, relu, elu, gelu or silu.",
                            one_of(*ACTIVATIONS))
    shared: bool = param(False, "Share the policy's torso and add only a value head.", is_bool)


Model = VectorObs | PixelObs
