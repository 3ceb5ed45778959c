"""Acting with an RLlib RLModule in mazedsl's own episode loop.

:class:`ModulePolicy` gives an RLModule the acting interface mazedsl's evaluation, rollouts
and ``compute_action`` use; :class:`RLlibAgent` restores one from a run's RLlib checkpoint
(``checkpoints/{last,best}/``) with RLlib's own API, without starting Ray.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from mazedsl.errors import CheckpointError

#: Where RLlib's Algorithm checkpoint keeps the (single-agent) RLModule.
MODULE_SUBDIR = Path("learner_group") / "learner" / "rl_module" / "default_policy"
STATE_FILE = "mazedsl_state.json"


class ModulePolicy:
    """An RLModule behind mazedsl's acting interface (``act``, ``distribution``)."""

    def __init__(self, module: Any, action_space: spaces.Space) -> None:
        self.module = module
        self.action_space = action_space
        self.discrete = isinstance(action_space, spaces.Discrete)
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

    def act(self, obs_t: torch.Tensor, deterministic: bool = True) -> tuple[torch.Tensor, None, None]:
        """Actions for a batch of observations (the mode when ``deterministic``)."""
        dist, _ = self._dist(obs_t, deterministic)
        with torch.no_grad():
            actions = dist.to_deterministic().sample() if deterministic else dist.sample()
        return actions, None, None

    def predict(self, obs_t: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        """Actions for a batch of observations (the engine's acting protocol)."""
        return self.act(obs_t, deterministic)[0]

    def distribution(self, obs_t: torch.Tensor) -> dict[str, torch.Tensor]:
        """``probs``/``logits`` (discrete) or ``mean``/``std`` (continuous) of a batch."""
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
    try:
        return RLModule.from_checkpoint(str(path))
    except Exception as exc:  # noqa: BLE001 - corrupt or foreign checkpoints of any kind
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(f"{checkpoint}: cannot load the RLModule ({first[:200]})") from None


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


class RLlibAgent:
    """A policy restored from an RLlib run: ``policy``, ``prep``, spaces, ``kind``."""

    def __init__(self, run_path: Path, kind: str, obs_space: spaces.Space,
                 action_space: spaces.Space) -> None:
        from mazedsl.rllib import require_ray

        require_ray()
        self.kind = kind
        self.obs_space = obs_space
        self.action_space = action_space
        self.prep = RawObs(obs_space)
        self.policy = ModulePolicy(load_module(checkpoint_dir(run_path, kind)), action_space)

    @classmethod
    def from_run(cls, run: Any, kind: str) -> "RLlibAgent":
        from mazedsl.rl.spaces import space_from_json

        sp = run.read_json("spaces.json")
        return cls(run.path, kind, space_from_json(sp["observation"]),
                   space_from_json(sp["action"]))

    @classmethod
    def live(cls, module: Any, obs_space: spaces.Space, action_space: spaces.Space) -> "RLlibAgent":
        """The agent of a module being trained (no checkpoint)."""
        agent = cls.__new__(cls)
        agent.kind = "current"
        agent.obs_space, agent.action_space = obs_space, action_space
        agent.prep = RawObs(obs_space)
        agent.policy = ModulePolicy(module, action_space)
        return agent
