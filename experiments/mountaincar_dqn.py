"""MountainCar-v0 with DQN.

Hyperparameters are rl-baselines3-zoo's tuned values for MountainCar-v0 (hyperparams/
dqn.yml): 120k steps on one env, lr 4e-3, batch 128, a 10k replay filled from 1k random
steps, gamma 0.98, hard target update every 600 steps, 8 gradient steps every 16 env
steps, epsilon from 1 to 0.07 over the first 20% of the budget, a 2x256 ReLU Q-network.
Evaluated (deterministic, 20 episodes) every 2,400 env steps = 150 training phases of 16,
the last at the 120k budget.
"""

from mazedsl.rl.algos.dqn import DQN
from mazedsl.spec import Experiment, GymEnv, Runner, VectorObs

experiment = Experiment(
    name="mountaincar_dqn",
    env=GymEnv(name="MountainCar-v0"),
    wrappers=[],
    model=VectorObs(hidden_units=[256, 256], activation="relu", ortho_init=False),
    algorithm=DQN(
        lr=4e-3,
        lr_schedule="constant",
        buffer_size=10_000,
        learning_starts=1_000,
        batch_size=128,
        gamma=0.98,
        tau=1.0,
        target_update_interval=600,
        train_freq=16,
        gradient_steps=8,
        exploration_fraction=0.2,
        exploration_initial_eps=1.0,
        exploration_final_eps=0.07,
        max_grad_norm=10.0,
        double_q=False,
        loss="huber",
        save_replay=True,
    ),
    runner=Runner(n_envs=1, vectorization="auto"),
    seed=0,
    total_steps=120_000,
    eval_every_steps=2_400,
    eval_episodes=20,
    checkpoint_every_steps=20_000,
)
