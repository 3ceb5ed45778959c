"""Building environments from declarations: single envs, vector envs, per-env wrappers."""

from __future__ import annotations

import copy
import difflib
import inspect
from collections.abc import Mapping
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np

from mazedsl.config.instantiate import check_targets, safe_instantiate
from mazedsl.config.targets import importable_cwd
from mazedsl.errors import ConfigError, EnvError, MazeError
from mazedsl.rl import pixel
from mazedsl.rl.syncvec import SyncEnvs
from mazedsl.spec import (FrameStack, Grayscale, GymEnv, NormalizeObservation, NormalizeReward,
                          Resize, ScaleObservation)
from mazedsl.spec.env import factory_form

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
    prefix = name[:len(name) - len(env_id)]  # 'module:' of a module:id name: kept in the hint
    hint = f"; did you mean {', '.join(repr(prefix + c) for c in close)}?" if close else ""
    raise ConfigError(f"unknown gymnasium environment {name!r}{hint}", "env.name")


def factory_from_decl(env: GymEnv) -> EnvFactory | None:
    """The factory ``env.factory`` names (``module:callable``; the working directory is
    importable), None when it names none; a ConfigError when it cannot be imported or is a
    dotted name without its colon (not to be mistaken for a recorded description)."""
    if not env.factory:
        return None
    from mazedsl.components import import_callable, import_failure, is_import_path

    problem = factory_form(env.factory)
    if problem:
        raise ConfigError(f"{problem}, got {env.factory!r}", "env.factory")
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


def _wrapper_space_problem(decl: Any, space: gym.Space) -> str | None:
    """What ``decl``'s wrapper needs that observations of ``space`` lack, or None."""
    box = isinstance(space, gym.spaces.Box)
    if isinstance(decl, Grayscale) and not (box and len(space.shape) == 3 and space.shape[2] >= 3):
        return "needs RGB image observations (height, width, 3)"
    if isinstance(decl, Resize) and not (box and len(space.shape) in (2, 3)):
        return "needs image observations (height, width[, channels])"
    if isinstance(decl, (FrameStack, ScaleObservation)) and not box:
        return "needs Box observations"
    return None


def _apply_wrapper(env: gym.Env, decl: Any, index: int) -> gym.Env:
    """``env`` wrapped as ``decl`` (``wrappers[index]``) declares; a ConfigError at that path
    when the env's observations are not what the wrapper works on."""
    problem = _wrapper_space_problem(decl, env.observation_space)
    if problem:
        raise ConfigError(f"{type(decl).__name__} {problem}, got {env.observation_space}",
                          f"wrappers[{index}]")
    if isinstance(decl, Grayscale):
        return pixel.GrayscaleObservation(env, decl.keep_dim)
    if isinstance(decl, Resize):
        return pixel.ResizeObservation(env, decl.height, decl.width)
    if isinstance(decl, FrameStack):
        return pixel.FrameStackObservation(env, decl.n_frames)
    if isinstance(decl, ScaleObservation):
        return pixel.ScaleObservation(env, decl.scale)
    raise EnvError(f"unknown wrapper declaration {decl!r}")  # pragma: no cover


def _call_factory(factory: EnvFactory, kwargs: dict[str, Any], what: str) -> gym.Env:
    """``factory(**kwargs)``; with ``kwargs`` it cannot take, ``factory()`` when they are what
    it made anyway (a factory's env recorded with its spec's kwargs), else a ConfigError."""
    if not kwargs:
        return factory()
    try:
        inspect.signature(factory).bind(**kwargs)
    except TypeError as exc:
        made = factory()
        spec = getattr(made, "spec", None)
        made_with = getattr(spec, "kwargs", None) or {}
        if all(k in made_with and made_with[k] == v for k, v in kwargs.items()):
            return made  # the recorded kwargs of the env it made: nothing to pass
        _close_quietly(made)
        raise ConfigError(f"the env factory {what} cannot take {sorted(kwargs)} as keyword "
                          f"arguments ({exc})", "env.kwargs") from None
    except ValueError:  # no signature to read (some builtins): try them
        pass
    return factory(**kwargs)


def _close_quietly(env: Any) -> None:
    """Close an env being given up on; its own failure to close must not hide why."""
    try:
        env.close()
    except Exception:  # noqa: BLE001
        pass


def _has_time_limit(env: gym.Env, limit: int) -> bool:
    """Whether ``env``'s wrappers already cut episodes at ``limit`` steps or fewer."""
    while isinstance(env, gym.Wrapper):
        if isinstance(env, gym.wrappers.TimeLimit) and env._max_episode_steps <= limit:
            return True
        env = env.env
    return False


def _kind(value: Any) -> str:
    """``value``'s type for a message: ``a numpy.ndarray of shape (2,)``, ``a tuple of 4``."""
    cls = type(value)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    if isinstance(value, np.ndarray):
        return f"a {name} of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {name} of {len(value)}"
    return f"a {name}"


def _obs_problem(obs: Any, space: gym.Space) -> str | None:
    """What makes ``obs`` no observation of ``space`` for a vector env (a shape, a type it
    cannot take, keys), or None. Values out of bounds and dtypes that cast (float64 for
    float32) pass: gymnasium only warns about them, and the vector env takes them."""
    if isinstance(space, (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete,
                          gym.spaces.MultiBinary)):
        try:
            arr = np.asarray(obs)
        except ValueError:  # ragged nested sequences
            return f"{_kind(obs)} that is no array as observation"
        shape = arr.shape
        if arr.dtype == object or arr.dtype.kind in "SUV":
            return f"{_kind(obs)} as observation"
        if shape != space.shape:
            return (f"{_kind(obs)} as observation" if isinstance(space, gym.spaces.Discrete)
                    else f"an observation of shape {shape}")
        try:  # as the vector env batches it
            np.stack([obs], axis=0, out=np.empty((1, *space.shape), space.dtype))
        except (TypeError, ValueError):
            return f"an observation of dtype {arr.dtype}"
        return None
    if isinstance(space, gym.spaces.Tuple):
        if not isinstance(obs, (tuple, list)) or len(obs) != len(space.spaces):
            return f"{_kind(obs)} as observation"
        for i, (item, sub) in enumerate(zip(obs, space.spaces)):
            problem = _obs_problem(item, sub)
            if problem:
                return f"{problem} at [{i}]"
        return None
    if isinstance(space, gym.spaces.Dict):
        if not isinstance(obs, Mapping):
            return f"{_kind(obs)} as observation"
        if set(obs) != set(space.spaces):
            return f"an observation with keys {sorted(map(str, obs))}"
        for key, sub in space.spaces.items():
            problem = _obs_problem(obs[key], sub)
            if problem:
                return f"{problem} at [{key!r}]"
        return None
    return None  # other spaces (Text, Graph, Sequence): not checked


def _probe_action(space: gym.Space) -> Any:
    """One action of ``space``, drawn from a copy so that the space's own RNG is untouched."""
    probe = copy.deepcopy(space)
    probe.seed(0)
    return probe.sample()


def _check_api(env: gym.Env, label: str) -> None:
    where = f"of {label!r}"
    result = env.reset()
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        got = (f"a tuple whose second item is {_kind(result[1])}, not an info dict"
               if isinstance(result, tuple) and len(result) == 2 else _kind(result))
        raise EnvError(f"env: reset() {where} must return (obs, info) as gymnasium >= 0.26 envs "
                       f"do; got {got}")
    space = env.observation_space
    problem = _obs_problem(result[0], space)
    if problem:
        raise EnvError(f"env: reset() {where} returned {problem} for its observation space {space}")
    try:
        action = _probe_action(env.action_space)
    except Exception:  # noqa: BLE001 - a space that cannot sample: reset is all we check
        return
    result = env.step(action)
    if not (isinstance(result, tuple) and len(result) == 5):
        got = f"{len(result)} values" if isinstance(result, tuple) else _kind(result)
        old = " (the old gym API's obs, reward, done, info)" if got == "4 values" else ""
        raise EnvError(f"env: step() {where} must return (obs, reward, terminated, truncated, "
                       f"info) as gymnasium >= 0.26 envs do; got {got}{old}")
    obs, reward, terminated, truncated, info = result
    problem = _obs_problem(obs, space)
    if problem:
        raise EnvError(f"env: step() {where} returned {problem} for its observation space {space}")
    for what, value in (("reward", reward), ("terminated", terminated), ("truncated", truncated)):
        if np.size(value) != 1 or np.asarray(value).dtype.kind not in "biuf":
            raise EnvError(f"env: step() {where} returned {_kind(value)} as {what}; it must be "
                           f"one {'number' if what == 'reward' else 'bool'}")
    if not isinstance(info, dict):
        raise EnvError(f"env: step() {where} returned {_kind(info)} as info; it must be a dict")


def check_env_api(env: gym.Env, label: str) -> None:
    """Probe ``env`` (called ``label``) with one reset and one step; an EnvError naming the env
    when their results break gymnasium's API or do not fit its spaces (one line, e.g. the old
    gym API's 4-tuple steps). The env is left mid-episode: reset it before use.

    When a wrapper around the env fails on what the env returns (gymnasium's TimeLimit
    unpacking an old-API step), the bare env is probed to say what is wrong with it. Other
    exceptions (the env's own code failing) are left to surface where the env runs, with
    their traceback, as without the probe."""
    try:
        _check_api(env, label)
    except MazeError:
        raise
    except Exception:  # noqa: BLE001 - not an API break found: see the docstring
        inner = env.unwrapped
        if inner is env:
            return
        try:
            _check_api(inner, label)
        except MazeError as explained:
            raise explained from None
        except Exception:  # noqa: BLE001
            pass


def make_env_fn(env: GymEnv, wrappers: Sequence[Any], factory: EnvFactory | None = None,
                render_mode: str | None = None, check: bool = True) -> EnvFactory:
    """A thunk that builds one env (from ``factory`` or ``gymnasium.make``) with its wrappers.

    ``factory`` is called with ``env.kwargs``; ``env.max_episode_steps`` holds for its env too
    (a TimeLimit). With ``check`` (and no ``render_mode``) each env is first probed with one
    reset and one step (:func:`check_env_api`), so an env that breaks gymnasium's API is named
    as such before anything runs it.
    """
    per_env = [(i, w) for i, w in enumerate(wrappers) if not isinstance(w, VECTOR_LEVEL)]
    if factory is None:
        check_env_id(env.name)
    check_targets(env.kwargs, "env.kwargs")

    def build() -> gym.Env:
        kwargs = safe_instantiate(dict(env.kwargs), "env.kwargs")
        if factory is not None:
            from mazedsl.components import describe_callable

            what = env.factory or describe_callable(factory)
            made = _call_factory(factory, kwargs, what)
            if not isinstance(made, gym.Env):
                raise EnvError(f"env.factory: {what} returned {type(made).__name__}, not a "
                               "gymnasium.Env")
            if env.max_episode_steps is not None and not _has_time_limit(made, env.max_episode_steps):
                made = gym.wrappers.TimeLimit(made, env.max_episode_steps)
        else:
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
        if check and render_mode is None:
            try:
                check_env_api(made, env.label)
            except BaseException:
                _close_quietly(made)
                raise
        for index, decl in per_env:
            made = _apply_wrapper(made, decl, index)
        return made

    return build


def has_native_vector(env: GymEnv) -> bool:
    spec = gym.envs.registry.get(env.name)  # module:id forms go through 'sync'
    return bool(spec and spec.vector_entry_point)


NATIVE_MIN_ENVS = 5
"""Fewest envs for which 'auto' takes gymnasium's native vectorised env: with fewer, separate
envs stepped in turn are faster (``benchmarks/vector_envs.py``, CartPole-v1, sync against
native: 1 env 12.7 against 37.3 us a step, 4 envs 31.7 against 37.0, 5 envs 37.6 against 37.1,
8 envs 56.7 against 38.2)."""


def make_vector_env(env: GymEnv, wrappers: Sequence[Any], n_envs: int, vectorization: str = "auto",
                    factory: EnvFactory | None = None) -> gym.vector.VectorEnv:
    """A gymnasium vector env of ``n_envs`` copies; next-step autoreset semantics.

    'auto' picks gymnasium's native vectorised env when one exists, nothing per-env is
    declared (no factory, no pixel wrappers) and there are at least :data:`NATIVE_MIN_ENVS`
    envs, else in-process 'sync'.
    """
    native_ok = factory is None and not env_wrappers(wrappers) and has_native_vector(env)
    mode = vectorization
    if mode == "auto":
        mode = "native" if native_ok and n_envs >= NATIVE_MIN_ENVS else "sync"
    if mode == "native":
        if not native_ok:
            raise ConfigError(f"{env.name!r} has no native vector env here (or per-env wrappers "
                              "or a factory are used); use 'sync' or 'async'", "runner.vectorization")
        kwargs = safe_instantiate(dict(env.kwargs), "env.kwargs")
        if env.max_episode_steps is not None:
            kwargs["max_episode_steps"] = env.max_episode_steps
        return gym.make_vec(env.name, num_envs=n_envs, vectorization_mode="vector_entry_point",
                            **kwargs)
    if mode == "async":  # probed here, in this process: a subprocess's error says less
        _close_quietly(make_env_fn(env, wrappers, factory)())
        fns = [make_env_fn(env, wrappers, factory, check=False) for _ in range(n_envs)]
        return gym.vector.AsyncVectorEnv(fns, autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
    fns = [make_env_fn(env, wrappers, factory, check=i == 0) for i in range(n_envs)]  # one probe
    return SyncEnvs(fns, autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
