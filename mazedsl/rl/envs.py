"""Building environments from declarations: single envs, vector envs, per-env wrappers."""

from __future__ import annotations

import difflib
from typing import Any, Callable, Sequence

import gymnasium as gym

from mazedsl.config.instantiate import check_targets, safe_instantiate
from mazedsl.config.targets import importable_cwd
from mazedsl.errors import ConfigError, EnvError
from mazedsl.rl import pixel
from mazedsl.rl.syncvec import SyncEnvs
from mazedsl.spec import (FrameStack, Grayscale, GymEnv, NormalizeObservation, NormalizeReward,
                          Resize, ScaleObservation)

EnvFactory = Callable[[], gym.Env]
VECTOR_LEVEL = (NormalizeObservation, NormalizeReward)

pixel.register_envs()


def check_env_id(name: str) -> None:
    """Raise a ConfigError at ``env.name`` unless ``name`` is registered; gymnasium's
    ``module:EnvId`` form imports ``module`` first (it registers its envs)."""
    import importlib

    env_id = name
    if ":" in name:
        module, _, env_id = name.partition(":")
        importable_cwd()
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"cannot import {module!r} for {name!r} ({exc})", "env.name") from None
    if env_id in gym.envs.registry:
        return
    close = difflib.get_close_matches(env_id, list(gym.envs.registry), n=3, cutoff=0.75)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(f"unknown gymnasium environment {name!r}{hint}", "env.name")


def factory_from_decl(env: GymEnv) -> EnvFactory | None:
    """The factory ``env.factory`` names (``module:callable``; the working directory is
    importable), None when it names none; a ConfigError when it cannot be imported."""
    if not env.factory:
        return None
    from mazedsl.components import import_callable, import_failure, is_import_path

    if not is_import_path(env.factory):
        return None  # a recorded description of a Python object (e.g. a lambda)
    importable_cwd()
    factory = import_callable(env.factory)
    if factory is None:
        raise ConfigError(f"cannot import the env factory {env.factory!r} ({import_failure(env.factory)}; "
                          "give 'module:function' with the module importable from here)", "env.factory")
    return factory


def env_step_limit(env: GymEnv, factory: EnvFactory | None) -> int | None:
    """The env's own episode step limit, if known (declared or registered)."""
    if env.max_episode_steps is not None:
        return env.max_episode_steps
    if factory is not None:
        return None
    spec = gym.envs.registry.get(env.name.partition(":")[2] if ":" in env.name else env.name)
    return getattr(spec, "max_episode_steps", None)


def env_wrappers(wrappers: Sequence[Any]) -> list[Any]:
    """The per-env wrapper declarations (normalisation works on the whole vector env)."""
    return [w for w in wrappers if not isinstance(w, VECTOR_LEVEL)]


def _apply_wrapper(env: gym.Env, decl: Any) -> gym.Env:
    space = env.observation_space
    if isinstance(decl, (Grayscale, Resize)) and not (
            isinstance(space, gym.spaces.Box) and len(space.shape) in (2, 3)):
        raise EnvError(f"{type(decl).__name__} needs image observations, got {space}")
    if isinstance(decl, Grayscale):
        return pixel.GrayscaleObservation(env, decl.keep_dim)
    if isinstance(decl, Resize):
        return pixel.ResizeObservation(env, decl.height, decl.width)
    if isinstance(decl, FrameStack):
        return pixel.FrameStackObservation(env, decl.n_frames)
    if isinstance(decl, ScaleObservation):
        return pixel.ScaleObservation(env, decl.scale)
    raise EnvError(f"unknown wrapper declaration {decl!r}")  # pragma: no cover


def make_env_fn(env: GymEnv, wrappers: Sequence[Any], factory: EnvFactory | None = None,
                render_mode: str | None = None) -> EnvFactory:
    """A thunk that builds one env (from ``factory`` or ``gymnasium.make``) with its wrappers."""
    per_env = env_wrappers(wrappers)
    if factory is None:
        check_env_id(env.name)
    check_targets(env.kwargs, "env.kwargs")

    def build() -> gym.Env:
        if factory is not None:
            made = factory()
            if not isinstance(made, gym.Env):
                raise EnvError(f"the env factory returned {type(made).__name__}, not a gymnasium.Env")
        else:
            kwargs = safe_instantiate(dict(env.kwargs), "env.kwargs")
            if env.max_episode_steps is not None:
                kwargs["max_episode_steps"] = env.max_episode_steps
            if render_mode is not None:
                kwargs["render_mode"] = render_mode
            try:
                made = gym.make(env.name, disable_env_checker=True, **kwargs)
            except gym.error.Error as exc:
                raise EnvError(f"env.name: cannot make {env.name!r}: {exc}") from None
            except TypeError as exc:
                raise ConfigError(f"bad kwargs for {env.name!r}: {exc}", "env.kwargs") from None
        for decl in per_env:
            made = _apply_wrapper(made, decl)
        return made

    return build


def has_native_vector(env: GymEnv) -> bool:
    spec = gym.envs.registry.get(env.name)  # module:id forms go through 'sync'
    return bool(spec and spec.vector_entry_point)


def make_vector_env(env: GymEnv, wrappers: Sequence[Any], n_envs: int, vectorization: str = "auto",
                    factory: EnvFactory | None = None) -> gym.vector.VectorEnv:
    """A gymnasium vector env of ``n_envs`` copies; next-step autoreset semantics.

    'auto' picks gymnasium's native vectorised env when one exists and nothing per-env
    is declared (no factory, no pixel wrappers), else in-process 'sync'.
    """
    native_ok = factory is None and not env_wrappers(wrappers) and has_native_vector(env)
    mode = vectorization
    if mode == "auto":
        mode = "native" if native_ok else "sync"
    if mode == "native":
        if not native_ok:
            raise ConfigError(f"{env.name!r} has no native vector env here (or per-env wrappers "
                              "or a factory are used); use 'sync' or 'async'", "runner.vectorization")
        kwargs = safe_instantiate(dict(env.kwargs), "env.kwargs")
        if env.max_episode_steps is not None:
            kwargs["max_episode_steps"] = env.max_episode_steps
        return gym.make_vec(env.name, num_envs=n_envs, vectorization_mode="vector_entry_point",
                            **kwargs)
    fns = [make_env_fn(env, wrappers, factory) for _ in range(n_envs)]
    if mode == "async":
        return gym.vector.AsyncVectorEnv(fns, autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
    return SyncEnvs(fns, autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
