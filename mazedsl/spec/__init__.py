"""Declarations: the attrs classes an experiment is built from.

Algorithm declarations live in their packages (``mazedsl.rl.algos.<name>``), registered by name.
"""

from mazedsl.spec._fields import param
from mazedsl.spec.algorithms import AlgorithmSpec
from mazedsl.spec.env import GymEnv
from mazedsl.spec.experiment import Experiment, RolloutConfig
from mazedsl.spec.models import Critic, Model, PixelObs, StateCritic, TorchModel, VectorObs
from mazedsl.spec.runner import RLlibRunner, RolloutRunner, Runner
from mazedsl.spec.wrappers import (FrameStack, Grayscale, NormalizeObservation, NormalizeReward,
                                   Resize, ScaleObservation, Wrapper, WRAPPER_TYPES)

__all__ = [
    "AlgorithmSpec", "GymEnv", "Experiment", "RolloutConfig", "PixelObs", "StateCritic",
    "TorchModel", "VectorObs", "Model", "Critic", "RolloutRunner", "Runner", "RLlibRunner", "FrameStack",
    "Grayscale", "NormalizeObservation", "NormalizeReward", "Resize", "ScaleObservation",
    "Wrapper", "WRAPPER_TYPES", "param",
]


def __getattr__(name: str) -> object:
    """Registered algorithm declarations by class name (old ``from mazedsl.spec import <Decl>`` keeps
    working; the declarations live in their packages, found through the registry)."""
    from mazedsl.rl.registry import algorithms

    for entry in algorithms().values():
        if entry.declaration.__name__ == name:
            return entry.declaration
    raise AttributeError(f"module 'mazedsl.spec' has no attribute {name!r}")
