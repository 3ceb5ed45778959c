"""SAC: the declaration (spec), losses and networks; the learner registers as 'sac'."""

from mazedsl.rl.algos.sac.spec import SAC

__all__ = ["SAC"]
