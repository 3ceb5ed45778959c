"""CartPole-v1 by behaviour cloning of a trained PPO policy's recorded episodes.

First train and record the expert (the default experiment), then clone it:

    mazedsl train experiments/cartpole_ppo.py
    mazedsl rollout cartpole_ppo:latest --episodes 50
    mazedsl train experiments/cartpole_bc.py

``episodes`` names the latest cartpole_ppo run (its rollouts/*.npz); any run directory,
rollouts folder, .npz file or glob works too. The policy is PPO's 2x64 tanh MLP; the loss
and optimiser are the imitation library's BC defaults (Adam lr 1e-3, batch 32, entropy
weight 1e-3); ``total_steps`` counts training samples (100k: about 4 passes over 50 episodes
of 500 steps); 10% of the episodes are held out for the validation loss.
"""

from mazedsl.rl.algos.bc import BC
from mazedsl.spec import Experiment, GymEnv, Runner, VectorObs

experiment = Experiment(
    name="cartpole_bc",
    env=GymEnv(name="CartPole-v1"),
    wrappers=[],
    model=VectorObs(hidden_units=[64, 64], activation="tanh"),
    algorithm=BC(
        episodes=["cartpole_ppo:latest"],
        lr=1e-3,
        batch_size=32,
        ent_weight=1e-3,
        l2_weight=0.0,
        validation_fraction=0.1,
        steps_per_iteration=2_048,
        max_grad_norm=10.0,
    ),
    runner=Runner(n_envs=1, vectorization="auto"),
    seed=0,
    total_steps=100_000,
    eval_every_steps=10_000,
    eval_episodes=20,
    checkpoint_every_steps=20_000,
)
