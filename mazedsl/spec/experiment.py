"""The experiment: a tree of component declarations plus run settings."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import attrs

from mazedsl.spec._fields import (all_checks, component, list_of, ge, gt, is_bool, is_float, is_int,
                                  is_str, one_as_list, optional, param)
from mazedsl.spec.algorithms import AlgorithmSpec, algorithm_types, default_algorithm
from mazedsl.spec.env import GymEnv
from mazedsl.spec.models import Critic, Model, PixelObs, StateCritic, TorchModel, VectorObs
from mazedsl.spec.runner import RLlibRunner, RolloutRunner, Runner
from mazedsl.spec.wrappers import WRAPPER_TYPES, Wrapper


def _name(value: Any) -> str | None:
    if not isinstance(value, str) or not value or any(c in value for c in "/\\: "):
        return "must be a non-empty name without '/', '\\', ':' or spaces"
    return None


@attrs.define(frozen=True, kw_only=True)
class Experiment:
    """A complete, validated experiment declaration.

    Compile it with :func:`mazedsl.to_config`, change it with :meth:`override`, run it
    with :class:`mazedsl.RunContext`.
    """

    name: str = param("experiment", "Experiment name; names the output folder.", _name)
    env: GymEnv = component(GymEnv, "The environment.")
    wrappers: list[Wrapper] = list_of(WRAPPER_TYPES, "Wrappers, applied in order.")
    model: Model = component(VectorObs, "The policy network: VectorObs, PixelObs or your own "
                             "torch module (TorchModel).", (VectorObs, PixelObs, TorchModel))
    critic: Critic = component(StateCritic, "The value network: StateCritic or your own torch "
                               "module (TorchModel).", (StateCritic, TorchModel))
    algorithm: AlgorithmSpec = component(default_algorithm, "The training algorithm: any registered "
                                         "algorithm declaration (ppo, a2c, ...).", algorithm_types)
    runner: Runner | RLlibRunner = component(
        Runner, "How environments are stepped: this process (Runner) or Ray RLlib (RLlibRunner).",
        (Runner, RLlibRunner))
    seed: int = param(0, "Master seed; env, torch and numpy seeds derive from it.", is_int, ge(0))
    total_steps: int = param(100_000, "Training budget in env steps.", is_int, gt(0))
    eval_every_steps: int = param(10_000, "Evaluate every this many env steps (0: only at the end).",
                                  is_int, ge(0))
    eval_episodes: int = param(10, "Deterministic episodes per evaluation.", is_int, gt(0))
    checkpoint_every_steps: int = param(
        10_000, "Write checkpoints/last.pt every this many env steps (and at the end).",
        is_int, gt(0))
    patience: Optional[int] = param(
        None, "Stop after this many evaluations without improvement; None: never.",
        optional(all_checks([is_int, gt(0)])))
    target_return: Optional[float] = param(
        None, "Stop once an evaluation's mean return reaches this; None: never.", optional(is_float))
    log_every_steps: int = param(2_000, "Write a train metrics line every this many env steps.",
                                 is_int, gt(0))
    output_dir: str = param("outputs", "Root folder of run directories.", is_str)
    allow_targets: list[str] = param(
        [], "Module prefixes whose classes `_target_` may name beyond mazedsl, gymnasium and "
        "torch.nn (e.g. ['mypkg.nets'] for your own model).", lambda v: None if isinstance(v, list)
        and all(isinstance(x, str) and x for x in v) else "must be a list of module names",
        converter=one_as_list)

    def override(self, *overrides: str | Mapping[str, Any] | Sequence[str]) -> "Experiment":
        """A new, validated experiment with Hydra-style overrides applied.

        Accepts override strings (``"algorithm.lr=1e-3"``, ``"algorithm=a2c"``,
        ``"+env.kwargs.foo=1"``, ``"~wrappers"``), lists of them, and dicts of dotted keys
        whose values may be config-module names, declarations or plain values.
        """
        from mazedsl.config.overrides import apply_overrides

        return apply_overrides(self, *overrides)


@attrs.define(frozen=True, kw_only=True)
class RolloutConfig:
    """The ``conf_rollout`` entry: play a policy from a run directory or at random."""

    input_dir: Optional[str] = param(None, "Run directory of the trained policy (or 'latest').",
                                     optional(is_str))
    policy: str = param("trained", "'trained' (from input_dir) or 'random'.", is_str,
                        lambda v: None if v in ("trained", "random") else
                        "must be one of 'trained', 'random'")
    checkpoint: str = param("best", "'best' or 'last' checkpoint.", is_str,
                            lambda v: None if v in ("best", "last") else "must be one of 'best', 'last'")
    env: Optional[GymEnv] = attrs.field(
        default=None, metadata={"doc": "Env to play in (random policy; or replaces the run's env)."},
        validator=attrs.validators.optional(attrs.validators.instance_of(GymEnv)))
    runner: RolloutRunner = component(RolloutRunner, "Episodes and how to act.")
    seed: Optional[int] = param(
        None, "Seed of the first episode (episode i: seed + i); None: continue after the "
        "episodes already recorded in the run (random policy: 0).",
        optional(all_checks([is_int, ge(0)])))
    quiet: bool = param(False, "Print only the final statistics.", is_bool)
