"""A2C: declaration (:class:`A2C`), learner (plain-torch reference and the fast backend)."""

from mazedsl.rl.algos.a2c.spec import A2C
from mazedsl.rl.registry import register_algorithm

register_algorithm("a2c", A2C, "mazedsl.rl.algos.a2c.learner:A2CLearner",
                   action_spaces=("Discrete", "MultiDiscrete", "MultiBinary", "Box"),
                   public_path="mazedsl.rl.algos.a2c.A2C", aliases=("mazedsl.spec.A2C",))

__all__ = ["A2C"]
