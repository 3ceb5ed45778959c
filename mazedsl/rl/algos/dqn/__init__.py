"""DQN: the declaration (spec), losses and networks; the learner registers as 'dqn'."""

from mazedsl.rl.algos.dqn.spec import DQN

__all__ = ["DQN"]
