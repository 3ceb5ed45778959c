"""CartPole-v1 with A2C.

Hyperparameters are rl-baselines3-zoo's for CartPole-v1 (hyperparams/a2c.yml): 8 envs and
no entropy bonus; all other values are Stable-Baselines3's A2C defaults (RMSprop, lr 7e-4,
5 steps per env, gamma 0.99, no GAE), written out here.
"""

from mazedsl import A2C
from mazedsl.spec import Experiment, GymEnv, Runner, StateCritic, VectorObs

experiment = Experiment(
    name="cartpole_a2c",
    env=GymEnv(name="CartPole-v1"),
    wrappers=[],
    model=VectorObs(hidden_units=[64, 64], activation="tanh"),
    critic=StateCritic(hidden_units=[64, 64], activation="tanh", shared=False),
    algorithm=A2C(
        lr=7e-4,
        lr_schedule="constant",
        n_steps=5,
        gamma=0.99,
        gae_lambda=1.0,
        normalize_advantage=False,
        ent_coef=0.0,
        vf_coef=0.5,
        max_grad_norm=0.5,
        optimizer="rmsprop",
        rms_alpha=0.99,
        eps=1e-5,
    ),
    runner=Runner(n_envs=8, vectorization="auto"),
    seed=0,
    total_steps=500_000,
    eval_every_steps=10_000,
    eval_episodes=10,
)
