"""Policy and critic network declarations: built-in MLP and CNN, or any torch ``nn.Module``."""

from __future__ import annotations

from typing import Any

import attrs

from mazedsl.errors import ConfigError
from mazedsl.spec._fields import int_list, is_bool, is_float, param, same_length, str_dict

#: Activation names; a torch class path (``torch.nn.Tanh``) or class (``nn.Tanh``) works too.
ACTIVATIONS = ("tanh", "relu", "elu", "gelu", "silu")
_TORCH_ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu", "ELU": "elu", "GELU": "gelu", "SiLU": "silu"}


def activation_name(value: Any) -> str | None:
    """The short name of an activation given as ``'tanh'``, ``'torch.nn.Tanh'`` or ``nn.Tanh``."""
    if isinstance(value, type):
        value = value.__name__
    if not isinstance(value, str):
        return None
    if value in ACTIVATIONS:
        return value
    for prefix in ("torch.nn.modules.activation.", "torch.nn.", "nn."):
        if value.startswith(prefix):
            return _TORCH_ACTIVATIONS.get(value[len(prefix):])
    return _TORCH_ACTIVATIONS.get(value)


def _class_path(value: Any) -> Any:
    """Torch classes given in Python (``nn.Tanh``) as their public import path string."""
    if isinstance(value, type):
        module = value.__module__
        if module.startswith("torch.nn.modules"):
            module = "torch.nn"
        return f"{module}.{value.__qualname__}"
    return value


def _is_activation(value: Any) -> str | None:
    if activation_name(value) is None:
        return ("must be one of 'tanh', 'relu', 'elu', 'gelu', 'silu' or the torch class "
                "(e.g. 'torch.nn.Tanh')")
    return None


def activation_param(default: str) -> Any:
    return param(default, "Hidden activation: tanh, relu, elu, gelu, silu, or a torch class such "
                 "as torch.nn.Tanh.", _is_activation, converter=_class_path)


@attrs.define(frozen=True, kw_only=True)
class VectorObs:
    """An MLP policy for flat (vector) observations; SB3's default 2x64 tanh MLP. Image (2-D or
    3-D Box) observations reach it flattened to float32 vectors."""

    hidden_units: list[int] = param([64, 64], "Width of each hidden layer.", int_list())
    activation: str = activation_param("tanh")
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
    activation: str = activation_param("relu")
    ortho_init: bool = param(True, "Orthogonal init as in SB3/CleanRL.", is_bool)
    log_std_init: float = param(0.0, "Initial log std of Gaussian (continuous) actions.", is_float)

    def __attrs_post_init__(self) -> None:
        same_length("channels", "kernel_sizes", "strides")(self)


def _target_path(value: Any) -> str | None:
    if not isinstance(value, str) or not value or value.startswith(".") or " " in value \
            or "<" in value:
        return "must be an import path such as 'mypkg.nets.PolicyNet'"
    return None


def class_import_path(cls: type) -> str:
    """``module.Qualname`` of a class that a later process can import again (runs record
    their components by import path, to load and resume them); a ConfigError saying why not
    for a class defined in the running script (``__main__``), inside a function, or not
    reachable under its own name."""
    import sys

    module, qualname = cls.__module__, cls.__qualname__
    move = "move it into a module (e.g. nets.py beside your script) and import it from there"
    why = "runs record components by import path"
    if module == "__main__":
        raise ConfigError(f"{qualname} is defined in the script being run (__main__), which a "
                          f"run cannot import again ({why}); {move}")
    if module.startswith("_mazedsl_experiment_"):
        raise ConfigError(f"{qualname} is defined in the experiment file itself, which is not "
                          f"an importable module ({why}); {move}")
    if "<" in qualname:
        raise ConfigError(f"{module}.{qualname} is defined inside a function, so it cannot be "
                          f"imported ({why}); {move}")
    obj: Any = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if obj is not cls:
        raise ConfigError(f"{module}.{qualname} does not import under that name ({why}); {move}")
    return f"{module}.{qualname}"


@attrs.define(frozen=True, init=False)
class TorchModel:
    """Your own ``torch.nn.Module``, named by import path, with its keyword arguments.

    In a config it is the node ``{_target_: mypkg.nets.PolicyNet, <kwarg>: <value>, ...}``;
    in Python ``TorchModel(PolicyNet, hidden_units=[256, 256], non_lin=nn.Tanh)``. The
    constructor receives, besides these keyword arguments, those of ``obs_space``,
    ``action_space``, ``obs_dim``, ``obs_shape`` and ``out_dim`` that it declares; ``forward``
    takes a float batch of observations and returns ``(batch, out_dim)``. Strings naming torch
    classes (``'torch.nn.Tanh'``) arrive as the classes. See the README's "Your own model".
    """

    target: str = param("", "Import path of the nn.Module class ('module.Class').", _target_path)
    kwargs: dict[str, Any] = param({}, "Keyword arguments of its constructor.", str_dict)

    def __init__(self, target: Any, kwargs: dict[str, Any] | None = None, **more: Any) -> None:
        if isinstance(target, type):
            try:
                target = class_import_path(target)
            except ConfigError as exc:
                raise ConfigError(exc.message, "target") from None
        if isinstance(target, str) and ":" in target:
            target = target.replace(":", ".")
        merged = {**(kwargs or {}), **more}
        self.__attrs_init__(target=target, kwargs={k: _class_path(v) for k, v in merged.items()})


@attrs.define(frozen=True, kw_only=True)
class StateCritic:
    """A state-value critic V(s); separate network by default, or sharing the policy torso."""

    hidden_units: list[int] = param([64, 64], "Width of each hidden layer (separate critic).",
                                    int_list())
    activation: str = activation_param("tanh")
    shared: bool = param(False, "Share the policy's torso and add only a value head.", is_bool)


Model = VectorObs | PixelObs | TorchModel
Critic = StateCritic | TorchModel
