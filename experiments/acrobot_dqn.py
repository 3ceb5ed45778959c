"""Acrobot-v1 with DQN.

Hyperparameters are rl-baselines3-zoo's tuned values for Acrobot-v1 (hyperparams/dqn.yml):
100k steps on one env, lr 6.3e-4, batch 128, a 50k replay, learning from the first step,
gamma 0.99, hard target update every 250 steps, one gradient step per env step (4 every
4), epsilon from 1 to 0.1 over the first 12% of the budget, a 2x256 ReLU Q-network.
Evaluated (deterministic, 20 episodes) every 2,500 env steps, the last at the 100k budget.
"""

from mazedsl.rl.algos.dqn import DQN
from mazedsl.spec import Experiment, GymEnv, Runner, VectorObs

experiment = Experiment(
    name="acrobot_dqn",
    env=GymEnv(name="Acrobot-v1"),
    wrappers=[],
    model=VectorObs(hidden_units=[256, 256], activation="relu", ortho_init=False),
    algorithm=DQN(
        lr=6.3e-4,
        lr_schedule="constant",
        buffer_size=50_000,
        learning_starts=0,
        batch_size=128,
        gamma=0.99,
        tau=1.0,
        target_update_interval=250,
        train_freq=4,
        gradient_steps=-1,
        exploration_fraction=0.12,
        exploration_initial_eps=1.0,
        exploration_final_eps=0.1,
        max_grad_norm=10.0,
        double_q=False,
        loss="huber",
        save_replay=True,
    ),
    runner=Runner(n_envs=1, vectorization="auto"),
    seed=0,
    total_steps=100_000,
    eval_every_steps=2_500,
    eval_episodes=20,
    checkpoint_every_steps=20_000,
)
