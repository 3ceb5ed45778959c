"""Acting with an RLlib RLModule in mazedsl's own episode loop.

:class:`ModulePolicy` gives an RLModule the acting interface mazedsl's evaluation, rollouts
and ``compute_action`` use; :func:`load_built` restores one from a run's RLlib checkpoint
(``checkpoints/{last,best}/``) with RLlib's own API, without starting Ray.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
from gymnasium import spaces

from mazedsl.errors import CheckpointError
from mazedsl.rl.building import Built
from mazedsl.rl.envs import make_vector_env

#: Where RLlib's Algorithm checkpoint keeps the (single-agent) RLModule.
MODULE_SUBDIR = Path("learner_group") / "learner" / "rl_module" / "default_policy"
STATE_FILE = "mazedsl_state.json"


class ModulePolicy:
    """An RLModule behind mazedsl's acting interface (``act``, ``predict``, ``distribution``):
    PPO's (action distribution inputs), DQN's (Q-values: greedy, or epsilon-greedy at the
    final epsilon when not deterministic) and SAC's (a tanh-squashed Gaussian, scaled from
    [-1, 1] to the Box bounds as RLlib's ``normalize_actions`` does)."""

    def __init__(self, module: Any, action_space: spaces.Space) -> None:
        self.module = module
        self.action_space = action_space
        self.discrete = isinstance(action_space, spaces.Discrete)
        self.q_values = hasattr(module, "compute_q_values") and hasattr(module, "epsilon_schedule")
        self.squashed = False
        if not self.q_values:
            from ray.rllib.core.distribution.torch.torch_distribution import TorchSquashedGaussian

            cls = module.get_inference_action_dist_cls()
            self.squashed = isinstance(cls, type) and issubclass(cls, TorchSquashedGaussian)
        self.module.eval()

    def numpy_inference_fn(self) -> None:
        return None  # no numpy fast path: acting goes through the module's torch forward

    def eval(self) -> "ModulePolicy":
        self.module.eval()
        return self

    def parameters(self) -> Any:
        return self.module.parameters()

    def _dist(self, obs_t: torch.Tensor, deterministic: bool) -> Any:
        with torch.no_grad():
            if deterministic:
                out = self.module.forward_inference({"obs": obs_t})
                cls = self.module.get_inference_action_dist_cls()
            else:
                out = self.module.forward_exploration({"obs": obs_t})
                cls = self.module.get_exploration_action_dist_cls()
        return cls.from_logits(out["action_dist_inputs"]), out["action_dist_inputs"]

    def _q(self, obs_t: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.module.compute_q_values({"obs": obs_t})["qf_preds"]

    def _to_bounds(self, squashed: torch.Tensor) -> torch.Tensor:
        low = torch.as_tensor(self.action_space.low, dtype=squashed.dtype, device=squashed.device)
        high = torch.as_tensor(self.action_space.high, dtype=squashed.dtype, device=squashed.device)
        return low + (squashed.reshape(-1, *low.shape) + 1.0) * 0.5 * (high - low)

    def act(self, obs_t: torch.Tensor, deterministic: bool = True) -> tuple[torch.Tensor, None, None]:
        """Actions for a batch of observations (the mode when ``deterministic``)."""
        if self.q_values:
            if deterministic:
                return self._q(obs_t).argmax(-1), None, None
            with torch.no_grad():  # epsilon-greedy, past the end of the epsilon schedule
                out = self.module.forward_exploration({"obs": obs_t}, t=2**62)
            return out["actions"], None, None
        dist, _ = self._dist(obs_t, deterministic)
        with torch.no_grad():
            actions = dist.to_deterministic().sample() if deterministic else dist.sample()
        if self.squashed:
            actions = self._to_bounds(actions)
        return actions, None, None

    def predict(self, obs_t: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        """Actions for a batch of observations (the engine's acting protocol)."""
        return self.act(obs_t, deterministic)[0]

    def distribution(self, obs_t: torch.Tensor) -> dict[str, torch.Tensor]:
        """``probs``/``logits`` (discrete), ``q_values``/``probs`` (DQN: one-hot greedy, as
        natively) or ``mean``/``std`` (continuous; SAC's before squashing) of a batch."""
        if self.q_values:
            q = self._q(obs_t)
            return {"q_values": q,
                    "probs": torch.nn.functional.one_hot(q.argmax(-1), q.shape[-1]).float()}
        _, inputs = self._dist(obs_t, True)
        if self.discrete:
            return {"logits": inputs, "probs": torch.softmax(inputs, dim=-1)}
        mean, log_std = torch.chunk(inputs, 2, dim=-1)
        return {"mean": mean, "std": log_std.exp()}


class RawObs:
    """Observations as the RLModule takes them (RLlib's default connectors only batch them)."""

    normalizer = None
    image = False

    def __init__(self, space: spaces.Space) -> None:
        if not isinstance(space, spaces.Box):
            raise CheckpointError(f"runner=rllib acts on Box observations, got {space}")
        self.space = space
        self.dtype = np.float32 if np.issubdtype(space.dtype, np.floating) else space.dtype

    def __call__(self, obs: Any, update: bool = False) -> np.ndarray:
        return np.asarray(obs, dtype=self.dtype)

    def single(self, obs: Any) -> np.ndarray:
        return self(np.asarray(obs)[None])

    def is_batch(self, obs: Any) -> bool:
        return np.ndim(obs) > len(self.space.shape or ())


def load_module(checkpoint: Path) -> Any:
    """The RLModule of an RLlib Algorithm checkpoint directory (RLlib's API, no Ray needed)."""
    from ray.rllib.core.rl_module.rl_module import RLModule

    path = checkpoint / MODULE_SUBDIR
    if not path.is_dir():
        raise CheckpointError(f"{checkpoint}: not an RLlib checkpoint (no {MODULE_SUBDIR})")
    # RLlib's own RLModule constructor uses its deprecated RLModuleConfig and logs a
    # DeprecationWarning about it on every load: nothing the user can act on
    quiet = logging.getLogger("ray._common.deprecation")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return RLModule.from_checkpoint(str(path.resolve()))  # (RLlib takes absolute paths only)
    except Exception as exc:  # noqa: BLE001 - corrupt or foreign checkpoints of any kind
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(f"{checkpoint}: cannot load the RLModule ({first[:200]})") from None
    finally:
        quiet.setLevel(level)


def checkpoint_dir(run_path: Path, kind: str) -> Path:
    """``<run>/checkpoints/<kind>`` of an RLlib run, which must exist."""
    if kind not in ("last", "best"):
        raise CheckpointError(f"checkpoint must be one of last, best, got {kind!r}")
    path = Path(run_path) / "checkpoints" / kind
    if not (path / STATE_FILE).is_file():
        other = [k for k in ("last", "best") if k != kind
                 and (Path(run_path) / "checkpoints" / k / STATE_FILE).is_file()]
        hint = f"; '{other[0]}' exists" if other else ""
        raise CheckpointError(f"{path}: no '{kind}' checkpoint in this run{hint}")
    return path


def built_for(exp: Any, module: Any, obs_space: spaces.Space, action_space: spaces.Space,
              factory: Any, kind: str = "current") -> "Any":
    """The build stage's :class:`~mazedsl.rl.building.Built` for an RLModule: what evaluation,
    rollouts, ``compute_action`` and the TUI act with (``policy`` is a :class:`ModulePolicy`)."""
    from mazedsl.rl.building import Seeds
    from mazedsl.rl.device import resolve_device
    from mazedsl.rl.envs import env_step_limit
    from mazedsl.rl.registry import entry_for

    device = resolve_device(exp.runner.device)
    module.to(device)
    limit = None if env_step_limit(exp.env, factory) else exp.runner.episode_step_limit
    return RLlibBuilt(exp, device, Seeds.derive(exp.seed), entry_for(exp.algorithm), obs_space,
                      action_space, RawObs(obs_space), ModulePolicy(module, action_space), factory,
                      limit, kind=kind)


def load_built(exp: Any, run: Any, kind: str, factory: Any) -> Any:
    """An RLlib run's policy from ``checkpoints/<kind>/`` (RLlib's API; Ray is not started)."""
    from mazedsl.rl.spaces import space_from_json
    from mazedsl.rllib import require_ray

    require_ray()
    sp = run.read_json("spaces.json")
    module = load_module(checkpoint_dir(run.path, kind))
    return built_for(exp, module, space_from_json(sp["observation"]),
                     space_from_json(sp["action"]), factory, kind)


@attrs.define(eq=False)
class RLlibBuilt(Built):
    """Built of an RLlib run: its evaluation envs are stepped in this process."""

    kind: str = "current"

    def make_eval_venv(self, n_envs: int) -> Any:
        exp = self.experiment
        return make_vector_env(exp.env, exp.wrappers, n_envs, "auto", self.env_factory)
