"""Pendulum-v1 with SAC.

Hyperparameters are rl-baselines3-zoo's for Pendulum-v1 (hyperparams/sac.yml): 20k steps
on one env, lr 1e-3, everything else SB3's SAC defaults: a 1M replay, 100 random steps
first, batch 256, gamma 0.99, tau 0.005, one gradient step per env step, automatic entropy
tuning towards -dim(A), 2x256 ReLU actor and twin critics.
"""

from mazedsl.rl.algos.sac import SAC
from mazedsl.spec import Experiment, GymEnv, Runner, StateCritic, VectorObs

experiment = Experiment(
    name="pendulum_sac",
    env=GymEnv(name="Pendulum-v1"),
    wrappers=[],
    model=VectorObs(hidden_units=[256, 256], activation="relu", ortho_init=False),
    critic=StateCritic(hidden_units=[256, 256], activation="relu", shared=False),
    algorithm=SAC(
        lr=1e-3,
        lr_schedule="constant",
        buffer_size=1_000_000,
        learning_starts=100,
        batch_size=256,
        tau=0.005,
        gamma=0.99,
        train_freq=1,
        gradient_steps=1,
        target_update_interval=1,
        ent_coef=None,
        ent_coef_init=1.0,
        target_entropy=None,
        save_replay=True,
    ),
    runner=Runner(n_envs=1, vectorization="auto"),
    seed=0,
    total_steps=20_000,
    eval_every_steps=2_000,
    eval_episodes=20,
    checkpoint_every_steps=5_000,
)
