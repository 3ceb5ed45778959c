"""PPO: declaration (:class:`PPO`), learner (plain-torch reference and the fast backend)."""

from mazedsl.rl.algos.ppo.spec import PPO
from mazedsl.rl.registry import register_algorithm

register_algorithm("ppo", PPO, "mazedsl.rl.algos.ppo.learner:PPOLearner", default=True,
                   action_spaces=("Discrete", "MultiDiscrete", "MultiBinary", "Box"),
                   public_path="mazedsl.rl.algos.ppo.PPO", aliases=("mazedsl.spec.PPO",))

__all__ = ["PPO"]
