"""DQN and SAC as RLlib ``DQNConfig`` / ``SACConfig`` builder calls (new API stack), and their
rows of the mapping table. Pure (no Ray import), like :mod:`mazedsl.rllib.translate`.

Native counts are SB3's: ``train_freq`` vector env steps are collected, then
``gradient_steps`` gradient steps of ``batch_size`` run. On RLlib one ``training_step`` samples
``rollout_fragment_length`` steps per env and then makes ``training_intensity``-weighted
updates of one train batch each, so ``train_freq`` maps to the fragment length and
``gradient_steps`` to the training intensity that yields exactly that many updates.
"""

from __future__ import annotations

import math
from typing import Any

from mazedsl.errors import ConfigError

_ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "elu": "elu", "silu": "silu", "gelu": "GELU"}
DQN_LEARNER = "mazedsl.rllib.learner:MazeDQNLearner"
SAC_LEARNER = "mazedsl.rllib.learner:MazeSACLearner"
SAC_MODULE = "mazedsl.rllib.module:MazeSACModule"


def _row(path: str, rllib: str, note: str = "") -> Any:
    from mazedsl.rllib.translate import Row

    return Row(path, rllib, note)


_COMMON = (
    ("algorithm.lr_schedule", "training(lr=[[0, lr], [total_steps, 0]])",
     "'linear': RLlib's piecewise schedule over sampled env steps (SAC: each of its three lrs)"),
    ("algorithm.buffer_size", "training(replay_buffer_config={'type': 'EpisodeReplayBuffer', "
     "'capacity': })", "uniform replay, as natively (RLlib's default is prioritized)"),
    ("algorithm.learning_starts", "training(num_steps_sampled_before_learning_starts=)", ""),
    ("algorithm.batch_size", "training(train_batch_size_per_learner=)", "split over learners"),
    ("algorithm.gamma", "training(gamma=)", "n_step=1, as natively"),
    ("algorithm.train_freq", "env_runners(rollout_fragment_length=)",
     "steps per env between training phases, as natively"),
    ("algorithm.gradient_steps", "training(training_intensity=)",
     "the intensity that makes exactly gradient_steps updates per phase (-1: train_freq x envs)"),
    ("algorithm.adam_eps", "MazeDQNLearner / MazeSACLearner: torch.optim.Adam(eps=)", ""),
    ("algorithm.save_replay", "training(store_buffer_in_checkpoints=)", ""),
    ("model.hidden_units, model.activation",
     "rl_module(model_config=DefaultModelConfig(fcnet_hiddens=, fcnet_activation=))",
     "VectorObs only (PixelObs and TorchModel are refused); the head is one linear layer"),
    ("log_every_steps, eval_every_steps, checkpoint_every_steps",
     "reporting(min_sample_timesteps_per_iteration=, min_time_s_per_iteration=0)",
     "one algo.train() samples at least RLlib's default (1000 DQN, 100 SAC) or the smallest "
     "of them; Ctrl-C is honoured between two calls"),
)

#: DQN's rows (README "Ray RLlib" section).
DQN_ROWS: tuple[tuple[str, str, str], ...] = (
    ("algorithm.lr", "training(lr=)", ""),
    *_COMMON[:1],
    ("algorithm.exploration_initial_eps, exploration_final_eps, exploration_fraction",
     "training(epsilon=[[0, initial], [fraction x total_steps, final]])",
     "over sampled env steps, as natively; before learning_starts RLlib acts epsilon-greedy "
     "(uniformly random while epsilon is 1, the default)"),
    *_COMMON[1:4],
    ("algorithm.tau", "training(tau=)", "1.0: hard copy"),
    ("algorithm.target_update_interval", "training(target_network_update_freq=)",
     "env steps, as natively; checked after each update"),
    *_COMMON[4:7],
    ("algorithm.max_grad_norm", "training(grad_clip=, grad_clip_by='global_norm')", ""),
    ("algorithm.double_q", "training(double_q=)", ""),
    ("algorithm.loss", "training(td_error_loss_fn=)", "'huber' (delta 1) or 'mse'"),
    ("(fixed)", "training(dueling=False, num_atoms=1, noisy=False, n_step=1)",
     "the native Q-network: plain DQN head"),
    *_COMMON[7:],
    ("model.ortho_init", "DefaultModelConfig(fcnet_kernel_initializer='orthogonal_', gain √2)",
     "encoder layers, as natively"),
)

#: SAC's rows (README "Ray RLlib" section).
SAC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("algorithm.lr", "training(actor_lr=, critic_lr=, alpha_lr=)", "one lr for all three, as natively"),
    *_COMMON[:4],
    ("algorithm.tau", "training(tau=)", "Polyak average of the target critics"),
    ("algorithm.target_update_interval", "training(target_network_update_freq=0)",
     "only 1: RLlib updates the targets after every update (refused otherwise)"),
    *_COMMON[4:7],
    ("algorithm.ent_coef", "training(initial_alpha=, alpha_lr=0)",
     "a fixed alpha: RLlib's alpha, never stepped; None: tuned"),
    ("algorithm.ent_coef_init", "training(initial_alpha=)", "when tuned"),
    ("algorithm.target_entropy", "training(target_entropy=)", "None: 'auto' (-dim(A)), as natively"),
    ("algorithm.log_std_min, log_std_max", "MazeSACModule: clamps the policy's log std",
     "RLlib's own clamp, [-5, 2], is replaced by these bounds"),
    ("(fixed)", "training(twin_q=True, n_step=1, grad_clip=None), "
     "environment(normalize_actions=True)", "twin critics, no clipping, actions squashed into "
     "the Box bounds, as natively; RLlib's critic loss is Huber (delta 1), SB3's 0.5 x MSE"),
    *_COMMON[7:],
    ("critic.hidden_units, critic.activation", "same as the policy's",
     "RLlib builds the Q encoders like the policy's: must equal model's (refused otherwise)"),
)


def table_rows(name: str) -> tuple[Any, ...]:
    """The mapping table rows of ``name`` ("DQN" or "SAC")."""
    return tuple(_row(*r) for r in (DQN_ROWS if name == "DQN" else SAC_ROWS))


def refusals(exp: Any) -> list[tuple[str, str]]:
    """``(path, why)`` for every DQN or SAC setting runner=rllib cannot honour."""
    from mazedsl.spec import VectorObs

    name = type(exp.algorithm).__name__
    out: list[tuple[str, str]] = []
    if not isinstance(exp.model, VectorObs):
        out.append(("model", f"runner=rllib trains {name} with RLlib's default MLP module: "
                    f"use a VectorObs model, got {type(exp.model).__name__}"))
    if name == "SAC":
        algo, model, critic = exp.algorithm, exp.model, exp.critic
        if algo.target_update_interval != 1:
            out.append(("algorithm.target_update_interval", "RLlib's SAC updates the target "
                        "critics after every update; set it to 1"))
        hidden = getattr(critic, "hidden_units", None)
        if isinstance(exp.model, VectorObs) and hidden is not None \
                and list(hidden) != list(model.hidden_units):
            out.append(("critic.hidden_units", f"RLlib's Q networks copy the policy's layers "
                        f"{list(model.hidden_units)}; set it equal"))
        if isinstance(exp.model, VectorObs) and getattr(critic, "activation", model.activation) \
                != model.activation:
            out.append(("critic.activation", f"RLlib's Q networks use the policy's activation "
                        f"{model.activation!r}"))
    return out


def check_batch(algo: Any, runner: Any) -> None:
    """The DQN or SAC batch splits evenly over the learners (plain data: checked before
    anything is written or Ray starts)."""
    learners = max(1, runner.num_learners)
    if algo.batch_size % learners:
        raise ConfigError(f"the batch {algo.batch_size} does not split over {learners} learners",
                          "runner.num_learners")


def _lr(lr: float, schedule: str, total: int) -> Any:
    return [[0, lr], [total, 0.0]] if schedule == "linear" else lr


#: RLlib's own ``min_sample_timesteps_per_iteration``.
_RLLIB_ITERATION = {"DQN": 1000, "SAC": 100}


def _iteration_steps(exp: Any) -> int:
    """Env steps one ``algo.train()`` samples at least: RLlib's default, or mazedsl's smallest
    cadence when that is smaller (a stop request is honoured between two calls)."""
    cadences = [exp.log_every_steps, exp.checkpoint_every_steps, exp.total_steps,
                _RLLIB_ITERATION[type(exp.algorithm).__name__]]
    if exp.eval_every_steps > 0:
        cadences.append(exp.eval_every_steps)
    return max(1, min(cadences))


def settings(exp: Any, rllib_n_envs: int) -> dict[str, dict[str, Any]]:
    """The ``DQNConfig`` / ``SACConfig`` builder calls for ``exp`` (already checked);
    ``rllib_n_envs``: all training envs (env runners x envs each)."""
    name = type(exp.algorithm).__name__
    algo, model, runner = exp.algorithm, exp.model, exp.runner
    learners = max(1, runner.num_learners)
    grad_steps = algo.gradient_steps if algo.gradient_steps > 0 else algo.train_freq * rllib_n_envs
    # RLlib: updates per sample = intensity / (batch / (fragment x envs each x (runners + 1)))
    per_sample = algo.train_freq * runner.num_envs_per_env_runner * max(runner.num_env_runners + 1, 1)
    intensity = None if grad_steps == 1 else grad_steps * algo.batch_size / per_sample
    model_config: dict[str, Any] = {
        "fcnet_hiddens": list(model.hidden_units),
        "fcnet_activation": _ACTIVATIONS[model.activation],
        "head_fcnet_hiddens": [],
    }
    training: dict[str, Any] = {
        "gamma": algo.gamma,
        "tau": algo.tau,
        "n_step": 1,
        "train_batch_size_per_learner": algo.batch_size // learners,
        "num_steps_sampled_before_learning_starts": algo.learning_starts,
        "replay_buffer_config": {"type": "EpisodeReplayBuffer", "capacity": algo.buffer_size},
        "store_buffer_in_checkpoints": algo.save_replay,
        "training_intensity": intensity,
    }
    extra: dict[str, Any] = {"adam_eps": algo.adam_eps}
    env: dict[str, Any] = {}
    if name == "DQN":
        eps: Any = algo.exploration_final_eps
        decay = int(round(algo.exploration_fraction * exp.total_steps))
        if decay > 0:
            eps = [[0, algo.exploration_initial_eps], [decay, algo.exploration_final_eps]]
        training.update({
            "lr": _lr(algo.lr, algo.lr_schedule, exp.total_steps),
            "epsilon": eps,
            "target_network_update_freq": algo.target_update_interval,
            "grad_clip": algo.max_grad_norm,
            "grad_clip_by": "global_norm",
            "double_q": algo.double_q,
            "dueling": False,
            "num_atoms": 1,
            "noisy": False,
            "td_error_loss_fn": algo.loss,
        })
        if model.ortho_init:
            model_config["fcnet_kernel_initializer"] = "orthogonal_"
            model_config["fcnet_kernel_initializer_kwargs"] = {"gain": math.sqrt(2)}
        learner, rl_module = DQN_LEARNER, {"model_config": model_config}
    else:
        lr = _lr(algo.lr, algo.lr_schedule, exp.total_steps)
        fixed = algo.ent_coef is not None
        training.update({
            "actor_lr": lr, "critic_lr": lr, "alpha_lr": 0.0 if fixed else lr,
            "initial_alpha": algo.ent_coef if fixed else algo.ent_coef_init,
            "target_entropy": "auto" if algo.target_entropy is None else algo.target_entropy,
            "target_network_update_freq": 0,
            "twin_q": True,
            "grad_clip": None,
        })
        model_config.update({"log_std_min": algo.log_std_min, "log_std_max": algo.log_std_max})
        env = {"normalize_actions": True, "clip_actions": False}
        learner, rl_module = SAC_LEARNER, {"module_class": SAC_MODULE, "model_config": model_config}
    return {
        "environment": {"env": None, **env},  # the name is filled in by the caller
        "env_runners": {
            "num_env_runners": runner.num_env_runners,
            "num_envs_per_env_runner": runner.num_envs_per_env_runner,
            "num_cpus_per_env_runner": runner.num_cpus_per_env_runner,
            "rollout_fragment_length": algo.train_freq,
        },
        "learners": {
            "num_learners": runner.num_learners,
            "num_gpus_per_learner": runner.num_gpus_per_learner,
            "learner_class": learner,
            "learner_config_dict": extra,
        },
        "training": training,
        "reporting": {"min_sample_timesteps_per_iteration": _iteration_steps(exp),
                      "min_time_s_per_iteration": 0},
        "rl_module": rl_module,
        "debugging": {"seed": exp.seed},
    }
