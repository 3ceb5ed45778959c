"""Declarations: the attrs classes an experiment is built from."""

from mazedsl.spec.algorithms import A2C, PPO, Algorithm
from mazedsl.spec.env import GymEnv
from mazedsl.spec.experiment import Experiment, RolloutConfig
from mazedsl.spec.models import PixelObs, StateCritic, VectorObs, Model
from mazedsl.spec.runner import RLlibRunner, RolloutRunner, Runner
from mazedsl.spec.wrappers import (FrameStack, Grayscale, NormalizeObservation, NormalizeReward,
                                   Resize, ScaleObservation, Wrapper, WRAPPER_TYPES)

__all__ = [
    "A2C", "PPO", "Algorithm", "GymEnv", "Experiment", "RolloutConfig", "PixelObs", "StateCritic",
    "VectorObs", "Model", "RolloutRunner", "Runner", "RLlibRunner", "FrameStack", "Grayscale",
    "NormalizeObservation", "NormalizeReward", "Resize", "ScaleObservation", "Wrapper",
    "WRAPPER_TYPES",
]
