"""Pendulum-v1 (continuous actions) with PPO.

Hyperparameters follow rl-baselines3-zoo's Pendulum-v1 PPO entry (hyperparams/ppo.yml):
normalised observations and rewards (reward gamma 0.9), 4 envs x 1024 steps, 10 epochs,
gamma 0.9, GAE lambda 0.95, lr 1e-3, clip 0.2, no entropy bonus, 2x64 tanh nets. The zoo
also uses gSDE exploration, which mazedsl does not have; without it, three changes make
learning steady across seeds (measured over seeds 0-6: best eval -125 to -157 within 200k
steps): the learning rate decays linearly, minibatches are 256, and an update's epochs stop
once the approximate KL passes 1.5 x 0.02.
"""

from mazedsl import PPO
from mazedsl.spec import Experiment, GymEnv, NormalizeObservation, NormalizeReward, Runner, StateCritic, VectorObs

experiment = Experiment(
    name="pendulum_ppo",
    env=GymEnv(name="Pendulum-v1"),
    wrappers=[NormalizeObservation(), NormalizeReward(gamma=0.9)],
    model=VectorObs(hidden_units=[64, 64], activation="tanh", log_std_init=0.0),
    critic=StateCritic(hidden_units=[64, 64], activation="tanh", shared=False),
    algorithm=PPO(
        lr=1e-3,
        lr_schedule="linear",
        n_steps=1024,
        batch_size=256,
        n_epochs=10,
        gamma=0.9,
        gae_lambda=0.95,
        clip_range=0.2,
        clip_range_vf=None,
        clip_schedule="constant",
        ent_coef=0.0,
        vf_coef=0.5,
        max_grad_norm=0.5,
        normalize_advantage=True,
        target_kl=0.02,
        adam_eps=1e-5,
    ),
    runner=Runner(n_envs=4, vectorization="auto"),
    seed=0,
    total_steps=200_000,
    eval_every_steps=10_000,
    eval_episodes=10,
)
