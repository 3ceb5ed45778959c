"""An Experiment as an RLlib ``AlgorithmConfig`` (new API stack), and the mapping table.

:func:`rllib_settings` is pure (no Ray import): it returns the ``AlgorithmConfig`` builder
calls as plain data, ``{"training": {"lr": ...}, "env_runners": {...}, ...}``, which is
written to the run directory as ``rllib_config.yaml``. :func:`build_config` replays them on
``PPOConfig()``, ``DQNConfig()`` or ``SACConfig()`` (DQN's and SAC's settings come from
:mod:`mazedsl.rllib.offpolicy`). A hyperparameter with no RLlib counterpart and a non-default value is
refused by name (:class:`~mazedsl.errors.ConfigError`), never dropped.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import attrs

from mazedsl.errors import ConfigError

#: RLlib's algorithms on the new API stack (what an unsupported algorithm is told).
RLLIB_ALGORITHMS = ("PPO", "APPO", "IMPALA", "DQN", "SAC", "BC", "CQL", "MARWIL", "DreamerV3")
#: mazedsl algorithms runner=rllib trains (declaration class name -> RLlib algorithm).
SUPPORTED = {"PPO": "PPO", "DQN": "DQN", "SAC": "SAC"}

ENV_PREFIX = "mazedsl-env"
MODULE_CLASS = "mazedsl.rllib.module:MazeActorCriticModule"

_ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "elu": "elu", "silu": "silu", "gelu": "GELU"}


@attrs.define(frozen=True)
class Row:
    """One line of the mapping table: a mazedsl setting, its RLlib counterpart, and how."""

    path: str
    rllib: str
    note: str = ""


#: The mapping table (README "Ray RLlib" section). "refused" rows accept only the default.
PPO_TABLE: tuple[Row, ...] = (
    Row("algorithm.lr", "training(lr=)", ""),
    Row("algorithm.lr_schedule", "training(lr=[[0, lr], [total_steps, 0]])",
        "'linear': RLlib's piecewise schedule over sampled env steps"),
    Row("algorithm.n_steps", "env_runners(rollout_fragment_length=)",
        "steps per env per update, as natively"),
    Row("algorithm.n_steps x all envs", "training(train_batch_size_per_learner=)",
        "all envs = num_env_runners (min 1) x num_envs_per_env_runner; split over learners"),
    Row("algorithm.batch_size", "training(minibatch_size=)", ""),
    Row("algorithm.n_epochs", "training(num_epochs=)", ""),
    Row("algorithm.gamma", "training(gamma=)", ""),
    Row("algorithm.gae_lambda", "training(lambda_=)", ""),
    Row("algorithm.clip_range", "training(clip_param=)", ""),
    Row("algorithm.clip_schedule", "MazePPOLearner: clip_param x (1 - steps / total_steps)",
        "'linear': RLlib has no clip schedule; mazedsl.rllib.learner decays it"),
    Row("algorithm.clip_range_vf", "training(vf_clip_param=inf)",
        "only None: RLlib clips the squared value error, not the value change (refused otherwise)"),
    Row("algorithm.normalize_advantage", "always on in RLlib",
        "only true: RLlib standardises advantages over the train batch (refused otherwise)"),
    Row("algorithm.ent_coef", "training(entropy_coeff=)", ""),
    Row("algorithm.vf_coef", "training(vf_loss_coeff=)", ""),
    Row("algorithm.max_grad_norm", "training(grad_clip=, grad_clip_by='global_norm')",
        "None: no clipping"),
    Row("algorithm.backend", "none", "how the native engine computes PPO; no effect on RLlib"),
    Row("algorithm.target_kl", "none", "only None: RLlib has no KL early stop (refused otherwise); "
        "its KL penalty is off (kl_coeff=0, KL still reported as approx_kl)"),
    Row("algorithm.adam_eps", "MazePPOLearner: torch.optim.Adam(eps=)", ""),
    Row("model.hidden_units", "rl_module(model_config=DefaultModelConfig(fcnet_hiddens=))", ""),
    Row("model.activation", "DefaultModelConfig(fcnet_activation=)", ""),
    Row("model.ortho_init", "DefaultModelConfig(fcnet_kernel_initializer='orthogonal_', gain √2)",
        "encoder layers only; the output heads keep RLlib's initialisation"),
    Row("model.log_std_init", "DefaultModelConfig(free_log_std=True)",
        "continuous actions; only 0.0 (RLlib's free log-std starts at 0; refused otherwise)"),
    Row("critic.shared", "DefaultModelConfig(vf_share_layers=)", ""),
    Row("critic.hidden_units, critic.activation", "same as the policy's",
        "RLlib builds the value encoder like the policy's: must equal model's (refused otherwise)"),
    Row("model: PixelObs, TorchModel; critic: TorchModel",
        "rl_module(rl_module_spec=RLModuleSpec(module_class=MazeActorCriticModule))",
        "mazedsl's own ActorCritic inside an RLModule: the native network, layer for layer"),
    Row("wrappers: Grayscale, Resize, FrameStack, ScaleObservation",
        "inside the env factory registered with Ray", "per-env wrappers travel with the env"),
    Row("wrappers: NormalizeObservation, NormalizeReward", "refused",
        "their running statistics live in mazedsl's native loop"),
    Row("env", "environment(env='mazedsl-env-...') via ray.tune.registry.register_env",
        "gymnasium id, 'module:id' or a factory, wrapped as natively"),
    Row("seed", "debugging(seed=)", ""),
    Row("total_steps, eval_*, checkpoint_every_steps, log_every_steps, patience, target_return",
        "mazedsl's loop around algo.train()", "same meaning as natively; evaluation plays the "
        "RLModule in mazedsl's episode loop; checkpoints: algo.save_to_path()"),
    Row("runner.num_env_runners, num_envs_per_env_runner, num_cpus_per_env_runner",
        "env_runners(...)", ""),
    Row("runner.num_learners, num_gpus_per_learner", "learners(...)", ""),
    Row("runner.address, num_cpus", "ray.init(address=) / ray.init(num_cpus=)", ""),
    Row("runner.n_eval_envs, episode_step_limit, device, torch_threads",
        "mazedsl's evaluation and rollouts", "played in this process with the RLModule"),
)

def tables() -> dict[str, tuple[Row, ...]]:
    """Every algorithm's rows (README "Ray RLlib" section); DQN's and SAC's are in
    :mod:`mazedsl.rllib.offpolicy`."""
    from mazedsl.rllib.offpolicy import table_rows

    return {"PPO": PPO_TABLE, "DQN": table_rows("DQN"), "SAC": table_rows("SAC")}


def _check_algorithm(exp: Any) -> str:
    name = type(exp.algorithm).__name__
    if name not in SUPPORTED and name in RLLIB_ALGORITHMS:
        raise ConfigError(
            f"runner=rllib does not map {name} yet (RLlib has it); runner=rllib trains "
            f"{', '.join(SUPPORTED)}: or use a native runner (runner=local)", "algorithm")
    if name not in SUPPORTED:
        raise ConfigError(
            f"{name} has no RLlib counterpart (RLlib's algorithms: {', '.join(RLLIB_ALGORITHMS)}); "
            f"runner=rllib trains {', '.join(SUPPORTED)}: use algorithm=ppo, or a native runner "
            "(runner=local)", "algorithm")
    return SUPPORTED[name]


def _refusals(exp: Any) -> list[tuple[str, str]]:
    """``(path, why)`` for every setting without an RLlib counterpart and not its default."""
    algo, model, critic = exp.algorithm, exp.model, exp.critic
    out: list[tuple[str, str]] = []
    if type(algo).__name__ in ("DQN", "SAC"):
        from mazedsl.rllib.offpolicy import refusals

        out += refusals(exp)
        return out + _wrapper_refusals(exp)
    if algo.clip_range_vf is not None:
        out.append(("algorithm.clip_range_vf", "RLlib clips the squared value error, not the "
                    "value change; set it to null"))
    if not algo.normalize_advantage:
        out.append(("algorithm.normalize_advantage", "RLlib always standardises advantages"))
    if algo.target_kl is not None:
        out.append(("algorithm.target_kl", "RLlib's PPO has no KL early stop; set it to null"))
    if not uses_default_module(exp):
        pass  # mazedsl's own network inside an RLModule: every model setting carries over
    else:
        if model.log_std_init != 0.0:
            out.append(("model.log_std_init", "RLlib's free log-std starts at 0.0"))
        if not critic.shared:
            if list(critic.hidden_units) != list(model.hidden_units):
                out.append(("critic.hidden_units", f"RLlib's value network copies the policy's "
                            f"layers {list(model.hidden_units)}; set it equal or critic.shared=true"))
            if critic.activation != model.activation:
                out.append(("critic.activation", f"RLlib's value network uses the policy's "
                            f"activation {model.activation!r}"))
    return out + _wrapper_refusals(exp)


def _wrapper_refusals(exp: Any) -> list[tuple[str, str]]:
    from mazedsl.spec import NormalizeObservation, NormalizeReward

    return [(f"wrappers[{i}]", f"{type(w).__name__} has no RLlib counterpart here")
            for i, w in enumerate(exp.wrappers)
            if isinstance(w, (NormalizeObservation, NormalizeReward))]


def uses_default_module(exp: Any) -> bool:
    """RLlib's default RLModule (an MLP from ``model_config``) fits a VectorObs policy with a
    StateCritic; anything else (PixelObs, your own TorchModel) runs mazedsl's ActorCritic
    inside :class:`mazedsl.rllib.module.MazeActorCriticModule`."""
    from mazedsl.spec import StateCritic, VectorObs

    return isinstance(exp.model, VectorObs) and isinstance(exp.critic, StateCritic)


def check(exp: Any) -> None:
    """Raise one ConfigError naming every setting runner=rllib cannot honour (at the first
    one's path; the others follow on the same line), or a train batch that cannot hold a
    minibatch (PPO) or split over the learners. Plain data: no Ray, no torch."""
    _check_algorithm(exp)
    refused = _refusals(exp)
    if refused:
        (path, why), others = refused[0], refused[1:]
        also = "".join(f"; also {p}: {w}" for p, w in others)
        raise ConfigError(f"no RLlib counterpart for this value under runner=rllib ({why}){also}",
                          path)
    if type(exp.algorithm).__name__ == "PPO":
        _check_ppo_batch(exp.algorithm, exp.runner)
    else:
        from mazedsl.rllib.offpolicy import check_batch

        check_batch(exp.algorithm, exp.runner)


def _check_ppo_batch(algo: Any, runner: Any) -> None:
    """PPO's train batch (n_steps x all envs) holds at least one minibatch and splits evenly
    over the learners (plain data: checked before anything is written or Ray starts)."""
    envs = n_envs(runner)
    batch = algo.n_steps * envs
    if algo.batch_size > batch:
        if runner.num_env_runners:
            made_of = (f"runner.num_env_runners {runner.num_env_runners} x "
                       f"runner.num_envs_per_env_runner {runner.num_envs_per_env_runner}")
        else:
            made_of = (f"runner.num_envs_per_env_runner {runner.num_envs_per_env_runner} on the "
                       f"driver (runner.num_env_runners 0)")
        raise ConfigError(f"{algo.batch_size} is larger than one rollout (n_steps {algo.n_steps} x "
                          f"{envs} envs = {batch}); the envs: {made_of}", "algorithm.batch_size")
    learners = max(1, runner.num_learners)
    if batch % learners:
        raise ConfigError(f"the train batch n_steps x envs = {batch} does not split over "
                          f"{learners} learners", "runner.num_learners")


def n_envs(runner: Any) -> int:
    """All training envs: env runners (the driver steps them when there are none) x envs each."""
    return max(1, runner.num_env_runners) * runner.num_envs_per_env_runner


def env_name(exp: Any) -> str:
    """The name the env factory is registered under with Ray."""
    return f"{ENV_PREFIX}-{exp.name}"


def rllib_settings(exp: Any, continuous: bool = False) -> dict[str, dict[str, Any]]:
    """The ``PPOConfig`` / ``DQNConfig`` / ``SACConfig`` builder calls for ``exp`` as plain
    data (after :func:`check`); ``continuous``: the env's actions are a Box (PPO: a
    state-independent log-std, as natively)."""
    check(exp)
    algo, model, critic, runner = exp.algorithm, exp.model, exp.critic, exp.runner
    envs = n_envs(runner)
    if type(algo).__name__ in ("DQN", "SAC"):
        from mazedsl.rllib.offpolicy import settings

        out = settings(exp, envs)
        out["environment"]["env"] = env_name(exp)
        return out
    learners = max(1, runner.num_learners)
    batch = algo.n_steps * envs
    lr: Any = algo.lr
    if algo.lr_schedule == "linear":
        lr = [[0, algo.lr], [exp.total_steps, 0.0]]
    if uses_default_module(exp):
        rl_module = {"model_config": _default_model_config(model, critic, continuous)}
    else:
        from omegaconf import OmegaConf

        from mazedsl.config import to_config

        rl_module = {"module_class": MODULE_CLASS, "model_config": {
            "model": OmegaConf.to_container(to_config(model)),
            "critic": OmegaConf.to_container(to_config(critic))}}
    return {
        "environment": {"env": env_name(exp), "normalize_actions": False, "clip_actions": True},
        "env_runners": {
            "num_env_runners": runner.num_env_runners,
            "num_envs_per_env_runner": runner.num_envs_per_env_runner,
            "num_cpus_per_env_runner": runner.num_cpus_per_env_runner,
            "rollout_fragment_length": algo.n_steps,
        },
        "learners": {
            "num_learners": runner.num_learners,
            "num_gpus_per_learner": runner.num_gpus_per_learner,
            "learner_class": "mazedsl.rllib.learner:MazePPOLearner",
            "learner_config_dict": {
                "adam_eps": algo.adam_eps,
                "clip_schedule": algo.clip_schedule,
                "clip_param": algo.clip_range,
                "total_steps": exp.total_steps,
            },
        },
        "training": {
            "lr": lr,
            "gamma": algo.gamma,
            "lambda_": algo.gae_lambda,
            "clip_param": algo.clip_range,
            "vf_clip_param": math.inf,
            "entropy_coeff": algo.ent_coef,
            "vf_loss_coeff": algo.vf_coef,
            "num_epochs": algo.n_epochs,
            "minibatch_size": algo.batch_size,
            "train_batch_size_per_learner": batch // learners,
            "grad_clip": algo.max_grad_norm,  # None: no clipping, in both
            "grad_clip_by": "global_norm",
            "use_kl_loss": True,  # only to report the KL: its coefficient stays 0
            "kl_coeff": 0.0,
        },
        "rl_module": rl_module,
        "debugging": {"seed": exp.seed},
    }


def _default_model_config(model: Any, critic: Any, continuous: bool) -> dict[str, Any]:
    model_config: dict[str, Any] = {
        "fcnet_hiddens": list(model.hidden_units),
        "fcnet_activation": _ACTIVATIONS[model.activation],
        "vf_share_layers": bool(critic.shared),
        "head_fcnet_hiddens": [],
    }
    if continuous:
        model_config["free_log_std"] = True
    if model.ortho_init:
        model_config["fcnet_kernel_initializer"] = "orthogonal_"
        model_config["fcnet_kernel_initializer_kwargs"] = {"gain": math.sqrt(2)}
    return model_config


def _resolve(path: str) -> Callable[..., Any]:
    import importlib

    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _quiet_new_stack_notice() -> None:
    """Drop RLlib's "You are running PPO on the new API stack!" notice (mazedsl chose it)."""
    import logging

    class _Drop(logging.Filter):
        mazedsl = True

        def filter(self, record: logging.LogRecord) -> bool:
            return "on the new API stack" not in str(record.msg)

    for name in ("ray.rllib.algorithms.algorithm_config", "ray.rllib.algorithms.sac.sac",
                 "ray.rllib.algorithms.dqn.dqn"):
        logger = logging.getLogger(name)
        if not any(getattr(f, "mazedsl", False) for f in logger.filters):
            logger.addFilter(_Drop())


def config_class(exp: Any) -> Any:
    """RLlib's ``AlgorithmConfig`` class of ``exp``'s algorithm."""
    name = _check_algorithm(exp)
    if name == "DQN":
        from ray.rllib.algorithms.dqn import DQNConfig

        return DQNConfig
    if name == "SAC":
        from ray.rllib.algorithms.sac import SACConfig

        return SACConfig
    from ray.rllib.algorithms.ppo import PPOConfig

    return PPOConfig


def build_config(exp: Any, settings: dict[str, dict[str, Any]] | None = None) -> Any:
    """A ``PPOConfig`` / ``DQNConfig`` / ``SACConfig`` (new API stack) for ``exp``; the env
    must be registered (:func:`mazedsl.rllib.envs.register`) before ``build_algo()``."""
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

    settings = settings or rllib_settings(exp)
    _quiet_new_stack_notice()
    config = config_class(exp)()
    for section, kwargs in settings.items():
        kwargs = dict(kwargs)
        if section == "learners":
            kwargs["learner_class"] = _resolve(kwargs["learner_class"])
        if section == "rl_module" and kwargs.get("module_class") == MODULE_CLASS:
            from ray.rllib.core.rl_module.rl_module import RLModuleSpec

            kwargs = {"rl_module_spec": RLModuleSpec(
                module_class=_resolve(kwargs["module_class"]),
                model_config={"model": exp.model, "critic": exp.critic,
                              "allow_targets": list(getattr(exp, "allow_targets", []))})}
        elif section == "rl_module" and "module_class" in kwargs:  # SAC: RLlib's, subclassed
            import dataclasses

            from ray.rllib.core.rl_module.rl_module import RLModuleSpec

            extra = dict(kwargs["model_config"])
            bounds = {k: extra.pop(k) for k in ("log_std_min", "log_std_max")}
            kwargs = {"rl_module_spec": RLModuleSpec(module_class=_resolve(kwargs["module_class"])),
                      "model_config": {**dataclasses.asdict(DefaultModelConfig(**extra)), **bounds}}
        elif section == "rl_module":
            kwargs["model_config"] = DefaultModelConfig(**kwargs["model_config"])
        getattr(config, section)(**kwargs)
    return config


def table_markdown(algorithm: str = "PPO") -> str:
    """The mapping table of ``algorithm`` (PPO, DQN, SAC) as Markdown (the README's)."""
    lines = ["| mazedsl | RLlib | note |", "| --- | --- | --- |"]
    lines += [f"| `{r.path}` | {f'`{r.rllib}`' if '(' in r.rllib else r.rllib} | {r.note} |"
              for r in tables()[algorithm]]
    return "\n".join(lines)
