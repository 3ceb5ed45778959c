"""CartPole from pixels with PPO: the image pipeline end to end on a small problem.

The env ``mazedsl/PixelCartPole-v1`` (registered by the engine) renders CartPole as RGB
frames. Wrappers: grayscale, 42x42, 2 stacked frames (to see velocity), bytes scaled to
[0, 1]; a small two-layer CNN whose torso the critic shares. PPO values are
rl-baselines3-zoo's CartPole-v1 ones (see cartpole_ppo.py).
"""

from mazedsl import PPO
from mazedsl.spec import Experiment, FrameStack, Grayscale, GymEnv, PixelObs, Resize, Runner, ScaleObservation, StateCritic

experiment = Experiment(
    name="pixel_cartpole_ppo",
    env=GymEnv(name="mazedsl/PixelCartPole-v1"),
    wrappers=[
        Grayscale(),
        Resize(height=42, width=42),
        FrameStack(n_frames=2),
        ScaleObservation(),
    ],
    model=PixelObs(
        channels=[16, 32],
        kernel_sizes=[4, 3],
        strides=[2, 1],
        hidden_units=[128],
        activation="relu",
    ),
    critic=StateCritic(shared=True),
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
    total_steps=150_000,
    eval_every_steps=10_000,
    eval_episodes=10,
)
