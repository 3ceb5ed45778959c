"""Actor-critic networks built from model and critic declarations.

Distributions are computed directly (log-softmax / diagonal Gaussian) rather than through
``torch.distributions``: the same maths with far fewer Python calls per step.

MLP torsos (the common case) run through a functional fast path that calls ``F.linear``
and the activation directly on the layers' parameters, skipping ``nn.Module.__call__``;
:meth:`ActorCritic.inference_fn` goes further for rollouts: policy and value MLPs up to
``MERGE_MAX_WIDTH`` wide are merged into one block-diagonal MLP, one matrix product per layer
for both (wider ones run as two chains: the zero blocks would cost more than the calls saved).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.nn import functional as F

from mazedsl.errors import ConfigError, EnvError
from mazedsl.rl.distributions import LOG_2PI, make_dist
from mazedsl.rl.spaces import flat_dim, is_image_space
from mazedsl.spec import PixelObs, StateCritic, TorchModel, VectorObs
from mazedsl.spec.models import activation_name

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU, "silu": nn.SiLU}
_LOG_2PI = LOG_2PI
_ACT_FNS: dict[type[nn.Module], Callable[[torch.Tensor], torch.Tensor]] = {
    nn.Tanh: torch.tanh, nn.ReLU: torch.relu, nn.ELU: F.elu, nn.GELU: F.gelu, nn.SiLU: F.silu}

Layer = tuple[torch.Tensor, torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]

MERGE_MAX_WIDTH = 128
"""Widest hidden layer for which separate policy and value MLPs run as one block-diagonal
MLP in rollouts (one product per layer for both). Wider, the zero blocks' arithmetic and
memory traffic cost more than the saved calls: the nets run as two chains."""


# -- train and eval mode ------------------------------------------------------------------------
# As SB3 (``policy.set_training_mode``): the policy acts in eval mode (evaluation, rollouts,
# compute_action, and the learners' own acting while they collect) and is updated in train mode,
# so Dropout and BatchNorm behave as their authors meant. A policy mazedsl builds for training
# rests in eval mode between updates; a loaded one is in eval mode.

_MODE_DEPENDENT: tuple[type[nn.Module], ...] = (
    nn.modules.dropout._DropoutNd, nn.modules.batchnorm._NormBase, nn.RNNBase,
    nn.MultiheadAttention, nn.RReLU)


def mode_matters(module: nn.Module) -> bool:
    """Whether train/eval mode can change what ``module`` computes or stores: it holds torch's
    dropout, batch/instance norm, RNN, attention or RReLU layers, or a class from outside torch
    and mazedsl (whose forward may read ``self.training``)."""
    for m in module.modules():
        home = type(m).__module__
        if isinstance(m, _MODE_DEPENDENT) or not home.startswith(("torch.", "mazedsl.")):
            return True
    return False


def _mode_matters_cached(module: nn.Module) -> bool:
    """:func:`mode_matters`, remembered on the module (its layers are fixed once built): the
    acting paths ask it at every env step."""
    known = module.__dict__.get("_mazedsl_mode_matters")
    if known is None:
        known = module.__dict__["_mazedsl_mode_matters"] = mode_matters(module)
    return known


@contextlib.contextmanager
def module_mode(module: nn.Module, training: bool) -> Iterator[None]:
    """``module`` in train (``training``) or eval mode inside the block, as ``module.train()``
    sets it; afterwards each submodule has the mode it had. A module whose own flag already
    says that mode is left as it is (the cheap case: one attribute read), as is one whose mode
    changes nothing it computes (:func:`mode_matters`: the built-in MLPs and CNN; switching
    would walk every submodule at every env step of an evaluation) and a policy that is no
    ``nn.Module`` (RLlib's, which keeps its own eval mode)."""
    if (not isinstance(module, nn.Module) or module.training == training
            or not _mode_matters_cached(module)):
        yield
        return
    before = [(m, m.training) for m in module.modules()]
    module.train(training)
    try:
        yield
    finally:
        for m, flag in before:
            m.training = flag


class PolicyModes:
    """A learner's mode switches for the modules it trains: :meth:`acting` (eval mode, while
    collecting) and :meth:`updating` (train mode, for the gradient steps). Modules whose mode
    changes nothing (:func:`mode_matters`: the built-in MLPs and CNN) are never switched, so
    the fast paths pay nothing."""

    def __init__(self, *modules: nn.Module) -> None:
        self.modules = [m for m in modules if mode_matters(m)]

    def acting(self) -> contextlib.AbstractContextManager[None]:
        return self._all(False)

    def updating(self) -> contextlib.AbstractContextManager[None]:
        return self._all(True)

    def _all(self, training: bool) -> contextlib.AbstractContextManager[None]:
        if not self.modules:
            return contextlib.nullcontext()
        if len(self.modules) == 1:
            return module_mode(self.modules[0], training)
        stack = contextlib.ExitStack()
        for m in self.modules:
            stack.enter_context(module_mode(m, training))
        return stack


def _mlp_plan(torso: nn.Module) -> list[Layer] | None:
    """The ``(weight, bias, activation)`` layers of a plain MLP torso, or None if it is not one."""
    if not isinstance(torso, nn.Sequential):
        return None
    mods = list(torso)
    if len(mods) % 2:
        return None
    plan: list[Layer] = []
    for lin, act in zip(mods[::2], mods[1::2]):
        fn = _ACT_FNS.get(type(act))
        if type(lin) is not nn.Linear or lin.bias is None or fn is None:
            return None
        if isinstance(act, nn.ELU) and act.alpha != 1.0 or isinstance(act, nn.GELU) and act.approximate != "none":
            return None
        plan.append((lin.weight, lin.bias, fn))
    return plan


def _np_tanh(x: np.ndarray) -> None:
    np.tanh(x, out=x)


def _np_relu(x: np.ndarray) -> None:
    np.maximum(x, 0.0, out=x)


def _np_silu(x: np.ndarray) -> None:
    x *= 0.5 * (1.0 + np.tanh(0.5 * x))  # x * sigmoid(x), without overflow


def _np_elu(x: np.ndarray) -> None:
    np.copyto(x, np.expm1(np.minimum(x, 0.0)), where=x <= 0.0)


_NP_ACTS: dict[Any, Callable[[np.ndarray], None]] = {
    torch.tanh: _np_tanh, torch.relu: _np_relu, F.silu: _np_silu, F.elu: _np_elu}


def _run(layers: list[Layer], x: torch.Tensor) -> torch.Tensor:
    for w, b, fn in layers:
        x = fn(F.linear(x, w, b))
    return x


def _init(layer: nn.Module, gain: float, ortho: bool) -> nn.Module:
    if ortho and isinstance(layer, (nn.Linear, nn.Conv2d)):
        nn.init.orthogonal_(layer.weight, gain)
        nn.init.zeros_(layer.bias)
    return layer


def _activation(name: str) -> type[nn.Module]:
    return _ACTIVATIONS[activation_name(name) or "tanh"]


def _mlp(in_dim: int, hidden: list[int], activation: str, ortho: bool) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [_init(nn.Linear(in_dim, width), math.sqrt(2), ortho), _activation(activation)()]
        in_dim = width
    return nn.Sequential(*layers), in_dim


CHANNELS_LAST_MIN_BATCH = 16
"""Smallest CPU batch that :class:`ImageInput` hands the convs in the channels-last layout
(see :class:`Conv2d`). Smaller ones (acting, rollouts of a few envs) keep the default layout,
which is as fast there or faster (one frame: about 20% faster)."""


class ImageInput(nn.Module):
    """Brings image batches to float ``(N, C, H, W)``: adds a channel axis, moves HWC to CHW,
    and scales uint8 to [0, 1]. CPU batches of ``CHANNELS_LAST_MIN_BATCH`` and more come out in
    the channels-last memory layout (same shape and values)."""

    def __init__(self, space: spaces.Box) -> None:
        super().__init__()
        shape = space.shape
        self.add_channel = len(shape) == 2
        self.hwc = len(shape) == 3 and shape[-1] in (1, 3, 4) and shape[0] > 4
        self.scale = 1.0 / 255.0 if space.dtype == np.uint8 else 1.0
        if self.add_channel:
            self.out_shape = (1, *shape)
        elif self.hwc:
            self.out_shape = (shape[2], shape[0], shape[1])
        else:
            self.out_shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if self.add_channel:
            x = x.unsqueeze(1)
        elif self.hwc:
            x = x.permute(0, 3, 1, 2)
        x = x * self.scale if self.scale != 1.0 else x
        if x.device.type == "cpu" and x.shape[0] >= CHANNELS_LAST_MIN_BATCH:  # see Conv2d
            x = x.contiguous(memory_format=torch.channels_last)
        return x


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` (same parameters, same state dict) computed faster on the CPU.

    :class:`ImageInput` hands the CPU convs batches in the channels-last layout, where
    oneDNN's kernels run a minibatch's forward and backward through the Nature CNN about 1.5x
    faster than in the default layout (256 frames of 2x42x42; benchmarks/cnn_layout.py).
    A layer whose kernel covers its whole input (no padding; the Nature CNN's last layer on
    42x42 frames) is one dot product per output channel: it runs as ``F.linear`` on the
    flattened input, where oneDNN's backward is several times slower. Both compute what
    torch's default layout computes, to float32 rounding (tests/test_cnn_layout.py).

    The last conv before the dense layers has ``contiguous_out`` set: its output goes back to
    the default layout, so that the activation after it and the flattening see one layout
    (a channels-last activation whose gradient comes from the flattening runs its backward
    several times slower)."""

    contiguous_out = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._forward(x)
        return out.contiguous() if self.contiguous_out else out

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if (x.dim() != 4 or x.shape[-2:] != self.weight.shape[-2:] or self.padding != (0, 0)
                or self.groups != 1 or self.dilation != (1, 1) or self.padding_mode != "zeros"):
            return super().forward(x)
        n, out = x.shape[0], self.out_channels
        if x.is_contiguous():  # (C, H, W) order
            flat, w = x.reshape(n, -1), self.weight.reshape(out, -1)
        else:  # channels-last: (H, W, C) order, the weight permuted to match
            flat = x.permute(0, 2, 3, 1).reshape(n, -1)
            w = self.weight.permute(0, 2, 3, 1).reshape(out, -1)
        return F.linear(flat, w, self.bias).view(n, out, 1, 1)


def _cnn(space: spaces.Space, decl: PixelObs, hidden: list[int]) -> tuple[nn.Module, int]:
    if not is_image_space(space):
        raise EnvError(f"model 'PixelObs' needs image observations (2-D or 3-D Box), got {space}")
    prep = ImageInput(space)  # type: ignore[arg-type]
    layers: list[nn.Module] = [prep]
    channels = prep.out_shape[0]
    for out, k, s in zip(decl.channels, decl.kernel_sizes, decl.strides):
        layers += [_init(Conv2d(channels, out, k, s), math.sqrt(2), decl.ortho_init),
                   _activation(decl.activation)()]
        channels = out
    layers[-2].contiguous_out = True  # the last conv (see Conv2d)
    layers.append(nn.Flatten())
    conv = nn.Sequential(*layers)
    with torch.no_grad():
        try:
            n_flat = conv(torch.zeros(1, *space.shape)).shape[1]
        except RuntimeError as exc:
            raise EnvError(f"model: the conv layers do not fit images of shape {space.shape}: {exc}") from None
    dense, out_dim = _mlp(n_flat, hidden, decl.activation, decl.ortho_init)
    return nn.Sequential(conv, dense), out_dim


def _torso(space: spaces.Space, decl: VectorObs | PixelObs, hidden: list[int],
           activation: str) -> tuple[nn.Module, int]:
    if isinstance(decl, PixelObs):
        return _cnn(space, decl, hidden)
    # an MLP takes images flattened (ObsPipeline flattens them for a VectorObs model)
    return _mlp(flat_dim(space), hidden, activation, decl.ortho_init)


def _image_critic(space: spaces.Box, critic: StateCritic) -> tuple[nn.Module, int]:
    """The default critic beside your own model on image observations: the built-in CNN
    (``PixelObs``'s conv layers, then ``critic.hidden_units``), or, for images smaller than
    its convs take (36x36), an MLP of ``critic.hidden_units`` over the flattened pixels,
    scaled as the CNN's input (uint8 to [0, 1])."""
    try:
        return _cnn(space, PixelObs(ortho_init=False), list(critic.hidden_units))
    except EnvError:  # the conv layers do not fit such small images
        pass
    dense, out_dim = _mlp(flat_dim(space), list(critic.hidden_units), critic.activation, False)
    return nn.Sequential(FlatPixels(space), dense), out_dim


class FlatPixels(nn.Module):
    """Image batches as flat float vectors, uint8 scaled to [0, 1] (as :class:`ImageInput`)."""

    def __init__(self, space: spaces.Box) -> None:
        super().__init__()
        self.scale = 1.0 / 255.0 if space.dtype == np.uint8 else 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1).float()
        return x * self.scale if self.scale != 1.0 else x


def _import_module_class(target: str, path: str) -> type[nn.Module]:
    """The ``nn.Module`` class a :class:`TorchModel` names (allowlist checked first)."""
    import importlib

    from mazedsl.config.instantiate import is_allowed
    from mazedsl.errors import UnsafeTargetError

    if not is_allowed(target):
        raise UnsafeTargetError(
            f"_target_ {target!r} is outside the allowed modules; allow it with the experiment "
            f"setting allow_targets=[{target.rpartition('.')[0]!r}]", f"{path}._target_")
    from mazedsl.config.targets import importable_cwd

    importable_cwd()  # your modules, importable from where you stand (as `python -m`)
    module_name, _, name = target.rpartition(".")
    try:
        obj: Any = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"cannot import {target!r} ({type(exc).__name__}: {exc})",
                          f"{path}._target_") from None
    if not (isinstance(obj, type) and issubclass(obj, nn.Module)):
        raise ConfigError(f"{target!r} is not a torch.nn.Module class (got {obj!r})",
                          f"{path}._target_")
    return obj


def _torch_classes(value: Any) -> Any:
    """Strings naming torch classes (``'torch.nn.Tanh'``) as the classes, recursively."""
    if isinstance(value, str) and value.startswith("torch."):
        import importlib

        module, _, name = value.rpartition(".")
        try:
            obj = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError, ValueError):
            return value
        return obj if isinstance(obj, type) else value
    if isinstance(value, list):
        return [_torch_classes(v) for v in value]
    if isinstance(value, dict):
        return {k: _torch_classes(v) for k, v in value.items()}
    return value


def _merged_hint(error: str, path: str) -> str:
    """Why a built-in model's field reached your module, when it did: an override of the
    ``_target_`` alone (``model._target_=mypkg.Net``) keeps the node's other fields."""
    import re

    import attrs

    found = re.search(r"unexpected keyword argument '(\w+)'", error)
    builtin = {f.name for cls in (VectorObs, PixelObs, StateCritic) for f in attrs.fields(cls)}
    if not found or found.group(1) not in builtin:
        return ""
    return (f" ('{found.group(1)}' is a field of the built-in declaration the {path} node held; "
            f"give the whole node to replace it: {path}={{_target_: ..., ...}})")


def build_torch_model(decl: TorchModel, obs_space: spaces.Space, action_space: spaces.Space,
                      out_dim: int, path: str, needs: str | None = None) -> nn.Module:
    """The user's module: its kwargs plus those of ``obs_space``, ``action_space``, ``obs_dim``,
    ``obs_shape`` and ``out_dim`` its constructor declares; its output shape is checked
    (``needs`` names who needs that shape in the error)."""
    import inspect

    cls = _import_module_class(decl.target, path)
    image = is_image_space(obs_space)
    offered = {"obs_space": obs_space, "action_space": action_space,
               "obs_dim": int(np.prod(obs_space.shape)) if image else flat_dim(obs_space),
               "obs_shape": tuple(obs_space.shape) if image else (flat_dim(obs_space),),
               "out_dim": out_dim}
    params = inspect.signature(cls).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in offered.items() if takes_any or k in params}
    kwargs.update(_torch_classes(dict(decl.kwargs)))
    try:
        module = cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{decl.target}(...) rejected its arguments: {exc}"
                          f"{_merged_hint(str(exc), path)}", path) from None
    in_shape = offered["obs_shape"]
    probe = torch.zeros(2, *in_shape)
    try:  # in eval mode: the probe leaves no trace (BatchNorm statistics, dropout's draws)
        with torch.no_grad(), module_mode(module, False):
            out = module(probe)
    except Exception as exc:  # noqa: BLE001 - the user's forward, reported as one line
        raise ConfigError(f"{decl.target}.forward failed on a batch of shape {tuple(probe.shape)}: "
                          f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                          path) from None
    shape = tuple(getattr(out, "shape", ()))
    if shape != (2, out_dim) and not (out_dim == 1 and shape == (2,)):
        if needs is None:
            needs = f"action space {action_space}" if out_dim != 1 or path == "model" else "a value"
        got = (f"shape {shape}" if isinstance(out, torch.Tensor)
               else f"a {type(out).__name__}, not a tensor,")  # e.g. a tuple (logits, state)
        raise ConfigError(f"{decl.target} returned {got} for a batch of 2; {needs} needs "
                          f"(batch, {out_dim})", path)
    return UserNet(module, unsqueeze=shape == (2,))


class UserNet(nn.Module):
    """The user's module, fed float observations (images arrive as uint8), its output as
    ``(batch, out_dim)`` (a value net's ``(batch,)`` gets its axis back)."""

    def __init__(self, inner: nn.Module, unsqueeze: bool = False) -> None:
        super().__init__()
        self.inner = inner
        self.unsqueeze = unsqueeze

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.inner(x.float())
        return out.unsqueeze(-1) if self.unsqueeze else out


class ActorCritic(nn.Module):
    """Policy (a distribution for any supported action space) and state-value function.

    The policy network is a built-in MLP/CNN torso with a linear head, or the user's own
    module (``TorchModel``) producing the distribution's inputs; the critic a separate net,
    the shared torso plus a value head, or the user's module with one output.
    """

    def __init__(self, obs_space: spaces.Space, action_space: spaces.Space,
                 model: Any, critic: Any) -> None:
        super().__init__()
        self.dist = make_dist(action_space)
        self.discrete = self.dist.kind == "discrete"
        self.kind = self.dist.kind
        n_out = self.dist.out_dim
        self.pi_head: nn.Module | None
        if isinstance(model, TorchModel):
            self.pi_torso = build_torch_model(model, obs_space, action_space, n_out, "model")
            self.pi_head = None
            pi_dim = n_out
            log_std_init, ortho = 0.0, False
        else:
            self.pi_torso, pi_dim = _torso(obs_space, model, model.hidden_units, model.activation)
            self.pi_head = _init(nn.Linear(pi_dim, n_out), 0.01, model.ortho_init)
            log_std_init, ortho = float(model.log_std_init), model.ortho_init
        if self.dist.needs_log_std:
            self.log_std = nn.Parameter(torch.full((n_out,), log_std_init))
        self.shared = isinstance(critic, StateCritic) and critic.shared
        self.vf_head: nn.Module | None
        if isinstance(critic, TorchModel):
            self.vf_torso: nn.Module | None = build_torch_model(critic, obs_space, action_space, 1,
                                                                "critic")
            self.vf_head = None
        elif critic.shared:
            if self.pi_head is None:
                raise ConfigError("a shared critic needs a built-in model (VectorObs or PixelObs); "
                                  "with your own model set critic.shared=false", "critic.shared")
            self.vf_torso = None
            self.vf_head = _init(nn.Linear(pi_dim, 1), 1.0, ortho)
        elif isinstance(model, TorchModel) and is_image_space(obs_space):
            # your module takes images as they come (ObsPipeline keeps them): so does the critic
            self.vf_torso, vf_dim = _image_critic(obs_space, critic)
            self.vf_head = _init(nn.Linear(vf_dim, 1), 1.0, ortho)
        else:
            decl = model if not isinstance(model, TorchModel) else VectorObs(ortho_init=False)
            self.vf_torso, vf_dim = _torso(obs_space, decl, critic.hidden_units, critic.activation)
            self.vf_head = _init(nn.Linear(vf_dim, 1), 1.0, ortho)

    # -- the functional fast path ----------------------------------------------
    @property
    def _fast(self) -> Any:
        plan = self.__dict__.get("_plan", False)
        if plan is False:
            plan = self._build_plan()
            self.__dict__["_plan"] = plan
        return plan

    def _build_plan(self) -> Any:
        if self.pi_head is None or self.vf_head is None or self.kind not in ("discrete", "gaussian") \
                or len(self.dist.action_shape) > (1 if self.kind == "gaussian" else 0):
            return None
        pi = _mlp_plan(self.pi_torso)
        vf = None if self.vf_torso is None else _mlp_plan(self.vf_torso)
        if pi is None or (self.vf_torso is not None and vf is None):
            return None
        return (pi, vf, (self.pi_head.weight, self.pi_head.bias),
                (self.vf_head.weight, self.vf_head.bias))

    _CACHES = ("_plan", "_np_merged", "_manual_grad", "_numpy_grad")

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles leave the fast-path caches behind (they hold parameter views)."""
        return {k: v for k, v in self.__dict__.items() if k not in self._CACHES}

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.__dict__["_plan"] = False  # parameters may be new tensors now
        return super()._apply(fn, *args, **kwargs)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy output (logits, or Gaussian mean) and state values ``(N,)``."""
        plan = self._fast
        if plan is None:
            return self.reference_forward(obs)
        pi, vf, (pw, pb), (vw, vb) = plan
        h = _run(pi, obs)
        g = h if vf is None else _run(vf, obs)
        return F.linear(h, pw, pb), F.linear(g, vw, vb).squeeze(-1)

    def policy_out(self, obs: torch.Tensor) -> torch.Tensor:
        """The policy output alone, as :meth:`forward` computes it, without the value net:
        what acting (evaluation, rollouts, ``compute_action``) needs."""
        plan = self._fast
        if plan is None:
            features = self.pi_torso(obs)
            return features if self.pi_head is None else self.pi_head(features)
        pi, _, (pw, pb), _ = plan
        return F.linear(_run(pi, obs), pw, pb)

    def reference_forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The plain ``nn.Module`` forward (no fast path): policy output and values ``(N,)``."""
        pi_features = self.pi_torso(obs)
        out = pi_features if self.pi_head is None else self.pi_head(pi_features)
        vf_features = pi_features if self.vf_torso is None else self.vf_torso(obs)
        values = vf_features if self.vf_head is None else self.vf_head(vf_features)
        return out, values.squeeze(-1)

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        self.__dict__["_plan"] = False  # assign=True puts new parameter objects in place
        return result

    def _merged(self) -> Any:
        """Policy and value MLPs as one: ``(layers, head_w, head_b, n_out)`` with the hidden
        layers' weights stacked block-diagonally (the value net's blocks after the policy's),
        or None when the two nets differ in depth or activations, are wider than
        ``MERGE_MAX_WIDTH``, or are not MLPs."""
        plan = self._fast
        if plan is None:
            return None
        pi, vf, (pw, pb), (vw, vb) = plan
        if vf is not None and max((w.shape[0] for w, _, _ in pi + vf), default=0) > MERGE_MAX_WIDTH:
            return None
        with torch.no_grad():
            if vf is None:
                layers = [(w.detach(), b.detach(), fn) for w, b, fn in pi]
                head_w, head_b = torch.cat([pw, vw]), torch.cat([pb, vb])
            elif len(pi) == len(vf) and all(a[2] is b[2] for a, b in zip(pi, vf)):
                layers = []
                for i, ((w1, b1, fn), (w2, b2, _)) in enumerate(zip(pi, vf)):
                    w = torch.cat([w1, w2]) if i == 0 else torch.block_diag(w1, w2)
                    layers.append((w, torch.cat([b1, b2]), fn))
                head_w = torch.cat([pw, vw]) if not pi else torch.block_diag(pw, vw)
                head_b = torch.cat([pb, vb])
            else:
                return None
        return layers, head_w, head_b, pw.shape[0]

    def inference_fn(self) -> Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
        """A forward pass for the current weights, for use without gradients until the
        parameters next change (one rollout). MLP policy and value nets of equal depth and
        activations are merged into one block-diagonal MLP: one product per layer for both."""
        merged = self._merged()
        if merged is None:
            return self.forward
        layers, head_w, head_b, n_out = merged

        def forward(obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out = F.linear(_run(layers, obs), head_w, head_b)
            return out[:, :n_out], out[:, n_out]

        return forward

    def numpy_inference_fn(self) -> NumpyForward | None:
        """Like :meth:`inference_fn`, in numpy on float32 arrays ``(N, obs_dim)``: for the small
        batches of a rollout step numpy's per-call cost is a fraction of torch's. None unless
        the nets are built-in MLPs with tanh, relu, silu or elu on CPU float32. Nets up to
        ``MERGE_MAX_WIDTH`` wide of equal depth and activations run merged, others as two
        chains. Agrees with the torch forward to float32 rounding. It can also record its
        layers' outputs (:class:`NumpyForward`).

        The (transposed) weights live in numpy buffers kept on the module; each call copies
        the current parameters into them, so every forward returned so far computes with the
        weights of the latest call."""
        merged = self.__dict__.get("_np_merged")
        plan = self._fast
        if merged is None or merged[0] is not plan or any(
                p.data_ptr() != ptr for p, ptr in merged[3]):
            merged = self._np_merged_buffers(plan)
            self.__dict__["_np_merged"] = merged
        _, forward, copies, _ = merged
        if forward is None:
            return None
        for dst, src in copies:
            dst[...] = src
        return forward

    def _np_merged_buffers(self, plan: Any) -> tuple[Any, Any, list[tuple[np.ndarray, np.ndarray]],
                                                     list[tuple[torch.Tensor, int]]]:
        """(plan, forward, [(buffer block, parameter array)], [(parameter, data_ptr)])."""
        if plan is None:
            return plan, None, [], []
        pi, vf, (pw, pb), (vw, vb) = plan
        params = [t for w, b, _ in pi + (vf or []) for t in (w, b)] + [pw, pb, vw, vb]
        if any(fn not in _NP_ACTS for _, _, fn in pi + (vf or [])) \
                or any(p.dtype != torch.float32 or p.device.type != "cpu" for p in params):
            return plan, None, [], []
        mergeable = vf is None or (len(pi) == len(vf) and all(a[2] is b[2] for a, b in zip(pi, vf)))
        wide = max((w.shape[0] for w, _, _ in pi + (vf or [])), default=0) > MERGE_MAX_WIDTH
        if vf is not None and (wide or not mergeable):
            forward, copies = _np_separate_forward(pi, vf, (pw, pb), (vw, vb))
        else:
            forward, copies = _np_merged_forward(pi, vf, (pw, pb), (vw, vb))
        return plan, forward, copies, [(p, p.data_ptr()) for p in params]

    def _log_std(self) -> torch.Tensor | None:
        return self.log_std if self.dist.needs_log_std else None

    def act(self, obs: torch.Tensor, deterministic: bool = False
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Actions, their log-probabilities and the state values."""
        out, values = self(obs)
        actions = self.sample(out, deterministic)
        return actions, self.log_prob(out, actions), values

    def predict(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        """Actions for a batch of prepared observations (what evaluation and rollouts call),
        in eval mode (as SB3's ``predict``)."""
        with module_mode(self, False):
            return self.sample(self.policy_out(obs), deterministic)

    def sample(self, out: torch.Tensor, deterministic: bool = False,
               noise: torch.Tensor | None = None) -> torch.Tensor:
        """Actions from policy outputs (``noise`` may be drawn ahead for a whole rollout)."""
        return self.dist.sample(out, self._log_std(), deterministic, noise)

    def log_prob(self, out: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of ``actions`` under the policy outputs ``out``."""
        return self.dist.log_prob(out, self._log_std(), actions)

    def entropy(self, out: torch.Tensor, logp_all: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample policy entropy (``logp_all``: a discrete policy's log-softmax, if known)."""
        if self.discrete and logp_all is not None:
            return -(logp_all.exp() * logp_all).sum(-1)
        return self.dist.entropy(out, self._log_std())

    def distribution(self, obs: torch.Tensor) -> dict[str, torch.Tensor]:
        """The action distribution's parameters: ``probs``/``logits`` or ``mean``/``std``
        (in eval mode, as :meth:`predict`)."""
        with module_mode(self, False):
            return self.dist.params(self.policy_out(obs), self._log_std())


# -- numpy rollout forwards --------------------------------------------------------------------
_Copies = list[tuple[np.ndarray, np.ndarray]]
_Split = Callable[[list[np.ndarray]], tuple[list[np.ndarray], list[np.ndarray] | None]]


class NumpyForward:
    """The numpy forward pass of a rollout: ``forward(obs) -> (policy outputs, values)``.

    ``forward(obs, record)`` also appends each layer's output, as computed (one array per
    product: a merged layer holds both nets' units), to the list ``record``; :meth:`split`
    turns such arrays (of one layer each, rows concatenated) into the hidden activations of
    the policy net and of the value net (None for a shared torso), in the order of the
    nets' layers: the activations a hand-written backward pass needs."""

    def __init__(self, run: Callable[[np.ndarray, list[np.ndarray] | None], tuple[np.ndarray, np.ndarray]],
                 split: _Split, layout: str) -> None:
        self._run = run
        self.split = split
        self.layout = layout
        """'merged' (both nets as one block-diagonal MLP) or 'separate' (two chains)."""

    def __call__(self, obs: np.ndarray, record: list[np.ndarray] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        return self._run(obs, record)


def _arr(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def _np_layer(w: torch.Tensor, b: torch.Tensor, copies: _Copies) -> tuple[np.ndarray, np.ndarray]:
    """Buffers for ``x @ W^T + b`` (``W^T`` C-contiguous: numpy's small products are fastest so),
    registered in ``copies`` to be refreshed from the parameters."""
    wt = np.zeros((w.shape[1], w.shape[0]), np.float32)
    bb = np.zeros(w.shape[0], np.float32)
    copies += [(wt, _arr(w).T), (bb, _arr(b))]
    return wt, bb


def _np_chain(layers: list[tuple[np.ndarray, np.ndarray, Any]], x: np.ndarray,
              record: list[np.ndarray] | None = None) -> np.ndarray:
    for w, b, act in layers:
        x = x @ w
        x += b
        act(x)
        if record is not None:
            record.append(x)
    return x


def _np_separate_forward(pi: list[Layer], vf: list[Layer], head_p: tuple[torch.Tensor, torch.Tensor],
                         head_v: tuple[torch.Tensor, torch.Tensor]) -> tuple[NumpyForward, _Copies]:
    """Policy and value MLPs as two chains of products (no zero blocks). When both first
    layers have the same activation they are one product: both read the observation, so
    their weights stack without padding."""
    copies: _Copies = []
    joint = bool(pi) and bool(vf) and pi[0][2] is vf[0][2]
    first: tuple[np.ndarray, np.ndarray, Any, int] | None = None
    if joint:
        (w1, b1, fn), (w2, b2, _) = pi[0], vf[0]
        o1 = w1.shape[0]
        wt = np.zeros((w1.shape[1], o1 + w2.shape[0]), np.float32)
        bb = np.zeros(o1 + w2.shape[0], np.float32)
        copies += [(wt[:, :o1], _arr(w1).T), (wt[:, o1:], _arr(w2).T), (bb[:o1], _arr(b1)),
                   (bb[o1:], _arr(b2))]
        first = (wt, bb, _NP_ACTS[fn], o1)
    rest_p = [(*_np_layer(w, b, copies), _NP_ACTS[fn]) for w, b, fn in pi[1 if joint else 0:]]
    rest_v = [(*_np_layer(w, b, copies), _NP_ACTS[fn]) for w, b, fn in vf[1 if joint else 0:]]
    hpw, hpb = _np_layer(*head_p, copies)
    hvw, hvb = _np_layer(*head_v, copies)

    def forward(obs: np.ndarray, record: list[np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
        if first is not None:
            wt, bb, act, o1 = first
            h = obs @ wt
            h += bb
            act(h)
            if record is not None:
                record.append(h)
            hp, hv = h[:, :o1], h[:, o1:]
        else:
            hp = hv = obs
        out = _np_chain(rest_p, hp, record) @ hpw
        out += hpb
        values = _np_chain(rest_v, hv, record) @ hvw
        values += hvb
        return out, values[:, 0]

    def split(layers: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        if first is None:
            return layers[:len(rest_p)], layers[len(rest_p):]
        o1 = first[3]
        h, rest = layers[0], layers[1:]
        return [h[:, :o1], *rest[:len(rest_p)]], [h[:, o1:], *rest[len(rest_p):]]

    return NumpyForward(forward, split, "separate"), copies


def _np_merged_forward(pi: list[Layer], vf: list[Layer] | None, head_p: tuple[torch.Tensor, torch.Tensor],
                       head_v: tuple[torch.Tensor, torch.Tensor]) -> tuple[NumpyForward, _Copies]:
    """Policy and value MLPs of equal depth and activations (or a shared torso) as one MLP:
    hidden weights stacked block-diagonally, the heads side by side."""
    (pw, pb), (vw, vb) = head_p, head_v
    copies: _Copies = []
    layers = []
    in_p = in_v = pi[0][0].shape[1] if pi else pw.shape[1]
    for i, (w1, b1, fn) in enumerate(pi):
        if vf is None:
            wt, b = _np_layer(w1, b1, copies)
        else:
            w2, b2, _ = vf[i]
            o1, o2 = w1.shape[0], w2.shape[0]
            rows = in_p if i == 0 else in_p + in_v
            wt = np.zeros((rows, o1 + o2), np.float32)
            b = np.zeros(o1 + o2, np.float32)
            if i == 0:  # both nets read the observation
                copies += [(wt[:, :o1], _arr(w1).T), (wt[:, o1:], _arr(w2).T)]
            else:
                copies += [(wt[:in_p, :o1], _arr(w1).T), (wt[in_p:, o1:], _arr(w2).T)]
            copies += [(b[:o1], _arr(b1)), (b[o1:], _arr(b2))]
            in_p, in_v = o1, o2
        layers.append((wt, b, _NP_ACTS[fn]))
    n_out = pw.shape[0]
    if vf is None or not pi:
        ht = np.zeros((pw.shape[1], n_out + 1), np.float32)
        copies += [(ht[:, :n_out], _arr(pw).T), (ht[:, n_out:], _arr(vw).T)]
    else:
        ht = np.zeros((in_p + in_v, n_out + 1), np.float32)
        copies += [(ht[:in_p, :n_out], _arr(pw).T), (ht[in_p:, n_out:], _arr(vw).T)]
    hb = np.zeros(n_out + 1, np.float32)
    copies += [(hb[:n_out], _arr(pb)), (hb[n_out:], _arr(vb))]
    widths = [w.shape[0] for w, _, _ in pi]  # the policy net's columns of each merged layer

    def forward(obs: np.ndarray, record: list[np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
        out = _np_chain(layers, obs, record) @ ht
        out += hb
        return out[:, :n_out], out[:, n_out]

    def split(hidden: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        if vf is None:
            return hidden, None
        return [h[:, :o] for h, o in zip(hidden, widths)], [h[:, o:] for h, o in zip(hidden, widths)]

    return NumpyForward(forward, split, "merged"), copies
