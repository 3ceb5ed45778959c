"""Acrobot-v1 with PPO.

Hyperparameters follow rl-baselines3-zoo's Acrobot-v1 PPO entry (hyperparams/ppo.yml):
normalised observations, 16 envs x 256 steps, 4 epochs, gamma 0.99, GAE lambda 0.94, no
entropy bonus; the rest (lr 3e-4, clip 0.2, minibatch 256) are mazedsl's PPO defaults.
"""

from mazedsl import PPO
from mazedsl.spec import Experiment, GymEnv, NormalizeObservation, Runner, StateCritic, VectorObs

experiment = Experiment(
    name="acrobot_ppo",
    env=GymEnv(name="Acrobot-v1"),
    wrappers=[NormalizeObservation()],
    model=VectorObs(hidden_units=[64, 64], activation="tanh"),
    critic=StateCritic(hidden_units=[64, 64], activation="tanh", shared=False),
    algorithm=PPO(
        lr=3e-4,
        lr_schedule="constant",
        n_steps=256,
        batch_size=256,
        n_epochs=4,
        gamma=0.99,
        gae_lambda=0.94,
        clip_range=0.2,
        clip_range_vf=None,
        clip_schedule="constant",
        ent_coef=0.0,
        vf_coef=0.5,
        max_grad_norm=0.5,
        normalize_advantage=True,
        target_kl=None,
        adam_eps=1e-5,
    ),
    runner=Runner(n_envs=16, vectorization="auto"),
    seed=0,
    total_steps=200_000,
    eval_every_steps=10_000,
    eval_episodes=10,
)
