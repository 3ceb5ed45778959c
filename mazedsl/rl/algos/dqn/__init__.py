"""DQN: declaration (:class:`DQN`), losses, Q-network and learner; registered as 'dqn'."""

from mazedsl.rl.algos.dqn.spec import DQN
from mazedsl.rl.registry import register_algorithm

register_algorithm("dqn", DQN, "mazedsl.rl.algos.dqn.learner:DQNLearner",
                   action_spaces=("Discrete",), public_path="mazedsl.rl.algos.dqn.DQN",
                   unused=("critic",))  # a Q-network from `model` alone

__all__ = ["DQN"]
