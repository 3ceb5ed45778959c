"""Behaviour cloning: declaration (:class:`BC`), recorded-episode dataset, loss and learner;
registered as 'bc'."""

from mazedsl.rl.algos.bc.spec import BC
from mazedsl.rl.registry import register_algorithm

register_algorithm("bc", BC, "mazedsl.rl.algos.bc.learner:BCLearner",
                   action_spaces=("Discrete", "MultiDiscrete", "MultiBinary", "Box"),
                   public_path="mazedsl.rl.algos.bc.BC",
                   precheck="mazedsl.rl.algos.bc.data:check_episodes",
                   unused=("critic",))  # a policy from `model` alone

__all__ = ["BC"]
