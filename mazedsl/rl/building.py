"""The build stage (``mazedsl.rl.build``, ``mazedsl.build``): the one place an :class:`~mazedsl.spec.Experiment` becomes live parts.

Training, loading a run, evaluation, rollouts, ``compute_action``, both CLIs and the TUI all
call :func:`build`. It resolves the device, makes the envs (or reads the run's recorded
spaces), checks the algorithm against the action space, and builds the observation pipeline,
the policy on the device, and for training the env loop and the algorithm's learner.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs
import numpy as np
import torch
from gymnasium import spaces

from mazedsl.errors import ConfigError, EnvError
from mazedsl.rl.device import resolve_device
from mazedsl.rl.envs import EnvFactory, env_step_limit, make_env_fn, make_vector_env
from mazedsl.rl.observations import ObsPipeline
from mazedsl.rl.registry import AlgorithmEntry, check_action_space, entry_for
from mazedsl.rl.spaces import space_to_json
from mazedsl.spec import Experiment, NormalizeReward, VectorObs


@attrs.define(frozen=True)
class Seeds:
    """Seeds derived from one master seed (numpy SeedSequence), all recorded in run.json."""

    master: int
    env: int
    eval: int
    torch: int

    @classmethod
    def derive(cls, master: int) -> "Seeds":
        env, ev, th = np.random.SeedSequence(master).generate_state(3) % (2 ** 31 - 1)
        return cls(master=master, env=int(env), eval=int(ev), torch=int(th))

    def as_dict(self) -> dict[str, int]:
        return attrs.asdict(self)


@attrs.define(eq=False)
class Built:
    """An experiment's live parts. ``env_loop`` and ``learner`` exist for training only."""

    experiment: Experiment
    device: torch.device
    seeds: Seeds
    algorithm: AlgorithmEntry
    obs_space: spaces.Space
    action_space: spaces.Space
    prep: ObsPipeline
    policy: torch.nn.Module
    env_factory: EnvFactory | None
    episode_step_limit: int | None
    env_loop: Any = None
    learner: Any = None

    def make_env(self, render_mode: str | None = None) -> Any:
        """One env (with the per-env wrappers), as the policy sees it."""
        exp = self.experiment
        return make_env_fn(exp.env, exp.wrappers, self.env_factory, render_mode)()

    def make_eval_venv(self, n_envs: int) -> Any:
        """A vector env for evaluation (in-process when training uses subprocesses)."""
        exp = self.experiment
        mode = "sync" if exp.runner.vectorization == "async" else exp.runner.vectorization
        venv = make_vector_env(exp.env, exp.wrappers, n_envs, mode, self.env_factory)
        check_spaces(venv.single_observation_space, venv.single_action_space,
                     self.obs_space, self.action_space, "the run")
        return venv

    def act_fn(self, deterministic: bool = True) -> Callable[[Any], np.ndarray]:
        """Raw observation batch -> actions as the env takes them (weights as they are now)."""
        policy, prep, device = self.policy, self.prep, self.device
        to_env = _env_actions(self.action_space, policy)

        def act(obs: Any) -> np.ndarray:
            with torch.inference_mode():
                obs_t = torch.as_tensor(prep(obs, update=False), device=device)
                return to_env(policy.predict(obs_t, deterministic).cpu().numpy())

        return act

    def spaces_json(self) -> dict[str, Any]:
        return {"observation": space_to_json(self.obs_space), "action": space_to_json(self.action_space)}

    def close(self) -> None:
        if self.learner is not None:
            self.learner.close()
        if self.env_loop is not None:
            self.env_loop.close()


def _env_actions(space: spaces.Space, policy: Any) -> Callable[[np.ndarray], np.ndarray]:
    dist = getattr(policy, "dist", None)
    if dist is not None:
        return dist.to_env
    if isinstance(space, spaces.Box):
        return lambda a: np.clip(a, space.low, space.high).astype(space.dtype)
    return lambda a: a


def check_spaces(obs_space: spaces.Space, action_space: spaces.Space, want_obs: spaces.Space,
                 want_action: spaces.Space, whose: str) -> None:
    """One line naming both spaces when an env's spaces differ from ``whose`` (spaces.json)."""
    for kind, got, want in (("observation", obs_space, want_obs), ("action", action_space, want_action)):
        if space_to_json(got) != space_to_json(want):
            raise EnvError(f"the env's {kind} space {got} differs from {whose}'s {want} "
                           "(spaces.json)")


def check_experiment(experiment: Experiment, obs_space: spaces.Space,
                     action_space: spaces.Space, training: bool = True,
                     prechecked: bool = False) -> None:
    """The algorithm's refusals of ``experiment`` on an env with these spaces (the first
    thing :func:`build` does; ``mazedsl-run`` calls it before Hydra writes anything);
    ``training=False`` leaves out what only training needs (the registered ``precheck``,
    e.g. BC's recorded episodes, and ``check_training``); ``prechecked``: the caller has
    already run the action-space check and the precheck (the CLIs' preflight)."""
    entry = entry_for(experiment.algorithm)
    if not prechecked:
        check_action_space(experiment.algorithm, action_space)
        if training:
            entry.run_precheck(experiment.algorithm, experiment, obs_space, action_space)
    learner_cls = entry.learner_class()
    try:
        learner_cls.check(experiment.algorithm, experiment, obs_space, action_space)
        if training:
            learner_cls.check_training(experiment.algorithm, experiment, obs_space, action_space)
    except ConfigError as exc:  # says where the value it names came from, as other errors do
        from mazedsl.config.convert import sourced
        from mazedsl.config.provenance import origin

        if exc.source or not exc.path:
            raise
        raise sourced(exc, origin(experiment, exc.path)) from None


def build(experiment: Experiment, *, device: str | torch.device | None = None,
          env_factory: EnvFactory | None = None, training: bool = True,
          recorded_spaces: tuple[spaces.Space, spaces.Space] | None = None) -> Built:
    """Turn ``experiment`` into its live parts.

    ``device`` overrides ``runner.device``; ``env_factory`` makes one env (default:
    ``gymnasium.make`` of ``env.name``). With ``training`` the training vector env, the env
    loop and the learner are built; otherwise only the policy, from ``recorded_spaces``
    (a run's spaces.json) when given, else from one probe env.
    """
    exp = experiment
    dev = device if isinstance(device, torch.device) else resolve_device(device or exp.runner.device)
    seeds = Seeds.derive(exp.seed)
    torch.set_num_threads(exp.runner.torch_threads)
    _limit_blas_threads(exp.runner.torch_threads)
    torch.manual_seed(seeds.torch)
    entry = entry_for(exp.algorithm)
    learner_cls = entry.learner_class()
    venv = None
    if training:
        venv = make_vector_env(exp.env, exp.wrappers, exp.runner.n_envs, exp.runner.vectorization,
                               env_factory)
        obs_space, action_space = venv.single_observation_space, venv.single_action_space
    elif recorded_spaces is not None:
        obs_space, action_space = recorded_spaces
    else:
        probe = make_env_fn(exp.env, exp.wrappers, env_factory)()
        obs_space, action_space = probe.observation_space, probe.action_space
        probe.close()
    from mazedsl.config.instantiate import allowed_also

    try:
        check_experiment(exp, obs_space, action_space, training)
        prep = ObsPipeline(obs_space, exp.wrappers, image=not isinstance(exp.model, VectorObs))
        with allowed_also(exp.allow_targets):  # the user's own modules, for this experiment
            policy = learner_cls.make_policy(exp.algorithm, exp, obs_space, action_space)
            if policy is None:
                from mazedsl.rl.models import ActorCritic

                policy = ActorCritic(obs_space, action_space, exp.model, exp.critic)
        policy = policy.to(dev)
    except BaseException:
        if venv is not None:
            venv.close()
        raise
    # the env's own limit (applied to its envs, factories' too) also caps the episode loop,
    # so that an env ignoring it cannot hang evaluation; without one, runner.episode_step_limit
    own_limit = env_step_limit(exp.env, env_factory)
    built = Built(exp, dev, seeds, entry, obs_space, action_space, prep, policy, env_factory,
                  own_limit or exp.runner.episode_step_limit)
    if training:
        from mazedsl.rl.envloop import EnvLoop
        from mazedsl.rl.normalize import RewardNormalizer

        rn = next((w for w in exp.wrappers if isinstance(w, NormalizeReward)), None)
        reward_norm = (None if rn is None else
                       RewardNormalizer(exp.runner.n_envs, rn.gamma, rn.clip, rn.epsilon))
        built.env_loop = EnvLoop(venv, seeds.env, reward_norm)
        try:
            built.learner = learner_cls(exp.algorithm, built)
        except BaseException:
            built.env_loop.close()
            raise
    return built


def _limit_blas_threads(n: int) -> None:
    """numpy's maths library to ``n`` threads, like torch (it otherwise starts its own pool)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; tolerate its absence
        return
    threadpool_limits(limits=n, user_api="blas")
