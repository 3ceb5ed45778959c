"""SAC: declaration (:class:`SAC`), losses, networks and learner; registered as 'sac'."""

from mazedsl.rl.algos.sac.spec import SAC
from mazedsl.rl.registry import register_algorithm

register_algorithm("sac", SAC, "mazedsl.rl.algos.sac.learner:SACLearner",
                   action_spaces=("Box",), public_path="mazedsl.rl.algos.sac.SAC")

__all__ = ["SAC"]
