"""CartPole-v1 with DQN.

Hyperparameters are rl-baselines3-zoo's for CartPole-v1 (hyperparams/dqn.yml): 50k steps
on one env, lr 2.3e-3, batch 64, a 100k replay filled from 1k random steps, gamma 0.99,
hard target update every 10 steps, 128 gradient steps every 256 env steps, epsilon from
1 to 0.04 over the first 16% of the budget, a 2x256 ReLU Q-network (SB3's default init).
Evaluated (deterministic, 20 episodes) every 1,280 env steps = 5 training phases of 256, so
one evaluation falls on 49,920: the last phase boundary within the 50k budget.
"""

from mazedsl.rl.algos.dqn import DQN
from mazedsl.spec import Experiment, GymEnv, Runner, VectorObs

experiment = Experiment(
    name="cartpole_dqn",
    env=GymEnv(name="CartPole-v1"),
    wrappers=[],
    model=VectorObs(hidden_units=[256, 256], activation="relu", ortho_init=False),
    algorithm=DQN(
        lr=2.3e-3,
        lr_schedule="constant",
        buffer_size=100_000,
        learning_starts=1_000,
        batch_size=64,
        gamma=0.99,
        tau=1.0,
        target_update_interval=10,
        train_freq=256,
        gradient_steps=128,
        exploration_fraction=0.16,
        exploration_initial_eps=1.0,
        exploration_final_eps=0.04,
        max_grad_norm=10.0,
        double_q=False,
        loss="huber",
        save_replay=True,
    ),
    runner=Runner(n_envs=1, vectorization="auto"),
    seed=0,
    total_steps=50_000,
    eval_every_steps=1_280,
    eval_episodes=20,
    checkpoint_every_steps=10_000,
)
