"""Pendulum-v1 with SAC and your own torch actor network (experiments/_nets/mlp.py).

With SAC your module is the actor: it returns twice the action size, the Gaussian's means and
then its log stds (``out_dim`` arrives as ``2 * action size``). The twin Q critics stay MLPs
(``critic.hidden_units``). Such a model trains with autograd (the hand-written SAC step serves
the built-in MLP actor only). Train it from the project root:
``mazedsl train experiments/custom_model_sac.py``. Hyperparameters: pendulum_sac.py's (zoo).
"""

from mazedsl import TorchModel
from mazedsl.rl.algos.sac import SAC
from mazedsl.spec import Experiment, GymEnv, Runner, StateCritic

experiment = Experiment(
    name="custom_model_sac",
    env=GymEnv(name="Pendulum-v1"),
    model=TorchModel("experiments._nets.mlp.PolicyNet", hidden_units=[256, 256],
                     non_lin="torch.nn.ReLU"),
    critic=StateCritic(hidden_units=[256, 256], activation="relu", shared=False),
    algorithm=SAC(lr=1e-3, buffer_size=1_000_000, learning_starts=100, batch_size=256, tau=0.005,
                  gamma=0.99, train_freq=1, gradient_steps=1),
    runner=Runner(n_envs=1, device="auto"),
    total_steps=20_000,
    eval_every_steps=2_000,
    eval_episodes=20,
    checkpoint_every_steps=5_000,
    allow_targets=["experiments._nets"],
)
