"""Behaviour cloning: the declaration (spec), the episode dataset and the loss; the learner
registers as 'bc'."""

from mazedsl.rl.algos.bc.spec import BC

__all__ = ["BC"]
