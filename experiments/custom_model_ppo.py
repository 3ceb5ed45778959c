"""CartPole-v1 with PPO and your own torch policy network (experiments/_nets/mlp.py).

The model is named by import path with its keyword arguments; strings naming torch classes
(``"torch.nn.Tanh"``) reach the constructor as the classes. Modules outside mazedsl, gymnasium
and torch.nn must be allowed explicitly (``allow_targets``). Train it from the project root:
``mazedsl train experiments/custom_model_ppo.py``. Hyperparameters: cartpole_ppo.py's (zoo).
"""

from mazedsl import PPO, TorchModel
from mazedsl.spec import Experiment, GymEnv, Runner, StateCritic

experiment = Experiment(
    name="custom_model_ppo",
    env=GymEnv(name="CartPole-v1"),
    model=TorchModel("experiments._nets.mlp.PolicyNet", hidden_units=[64, 64],
                     non_lin="torch.nn.Tanh"),
    critic=StateCritic(hidden_units=[64, 64], activation="tanh", shared=False),
    algorithm=PPO(lr=1e-3, lr_schedule="linear", n_steps=32, batch_size=256, n_epochs=20,
                  gamma=0.98, gae_lambda=0.8, clip_range=0.2, clip_schedule="linear"),
    runner=Runner(n_envs=8, device="auto"),
    total_steps=100_000,
    eval_every_steps=5_000,
    allow_targets=["experiments._nets"],
)
