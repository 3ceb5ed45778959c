"""CartPole-v1 with PPO: the default experiment.

Hyperparameters are rl-baselines3-zoo's tuned values for CartPole-v1 (hyperparams/ppo.yml):
8 envs, 32 steps each, minibatch 256, 20 epochs, gamma 0.98, GAE lambda 0.8, no entropy
bonus, lr 1e-3 and clip 0.2 both decayed linearly to 0. Everything else is written out
with mazedsl's defaults (SB3's) so that every knob is visible here.
"""

from mazedsl import PPO
from mazedsl.spec import Experiment, GymEnv, Runner, StateCritic, VectorObs

experiment = Experiment(
    name="cartpole_ppo",
    env=GymEnv(name="CartPole-v1"),
    wrappers=[],
    model=VectorObs(hidden_units=[64, 64], activation="tanh"),
    critic=StateCritic(hidden_units=[64, 64], activation="tanh", shared=False),
    algorithm=PPO(
        lr=1e-3,
        lr_schedule="linear",
        n_steps=32,
        batch_size=256,
        n_epochs=20,
        gamma=0.98,
        gae_lambda=0.8,
        clip_range=0.2,
        clip_range_vf=None,
        clip_schedule="linear",
        ent_coef=0.0,
        vf_coef=0.5,
        max_grad_norm=0.5,
        normalize_advantage=True,
        target_kl=None,
        adam_eps=1e-5,
    ),
    runner=Runner(n_envs=8, vectorization="auto"),
    seed=0,
    total_steps=100_000,
    eval_every_steps=5_000,
    eval_episodes=10,
    checkpoint_every_steps=10_000,
    patience=None,
    target_return=None,
)
