"""Turning RunContext's arguments (names, dicts, declarations, env factories, nn.Module classes)
into one Experiment."""

from __future__ import annotations

import inspect
import sys
from typing import Any, Callable, Mapping

import attrs

from mazedsl.errors import ConfigError
from mazedsl.hydra_quoting import hydra_quote
from mazedsl.spec._fields import from_numpy
from mazedsl.spec.env import is_import_path

GROUPS = ("env", "wrappers", "model", "critic", "algorithm", "runner")


def describe_callable(fn: Callable[..., Any]) -> str:
    """``module:qualname`` of a factory when importable, else its repr, for the log."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if module and qualname and "<" not in qualname:
        return f"{module}:{qualname}"
    return repr(fn)


def import_callable(path: str) -> Callable[..., Any] | None:
    """The callable named ``module:qualname``, or None."""
    if not is_import_path(path):
        return None
    try:
        obj = _imported(path)
    except (ImportError, AttributeError, ValueError):
        return None
    return obj if callable(obj) else None


def import_failure(path: str) -> str | None:
    """Why ``module:qualname`` does not import as a callable (one phrase), or None."""
    if not is_import_path(path):
        return f"{path!r} is not 'module:function'"
    try:
        obj = _imported(path)
    except (ImportError, AttributeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if callable(obj) else f"{path} is not callable"


def _imported(path: str) -> Any:
    import importlib

    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _is_env_instance(value: Any) -> bool:
    try:
        import gymnasium as gym
    except ImportError:  # pragma: no cover
        return False
    return isinstance(value, (gym.Env, gym.vector.VectorEnv))


def env_factory_from(value: Any) -> Callable[[], Any] | None:
    """The env factory when ``env`` was given as a callable; errors for env instances."""
    if _is_env_instance(value):
        raise ConfigError(
            f"got an environment instance ({type(value).__name__}); pass a factory instead, "
            "e.g. env=lambda: gymnasium.make('CartPole-v1')", "env")
    if callable(value) and not inspect.isclass(value) and not attrs.has(type(value)):
        return value
    if inspect.isclass(value) and not attrs.has(value):
        return value  # an env class is a factory too
    return None


def factory_env_decl(factory: Callable[[], Any]) -> Any:
    """A GymEnv declaration recording a factory: its env id (if registered) and import path."""
    from mazedsl.spec import GymEnv

    env = factory()
    kwargs: dict[str, Any] = {}
    limit = None
    try:
        spec = getattr(env, "spec", None)
        name = spec.id if spec is not None else type(getattr(env, "unwrapped", env)).__name__
        if spec is not None:  # what it made, so a lost (lambda) factory can be rebuilt
            kwargs = {k: v for k, v in (spec.kwargs or {}).items()
                      if isinstance(v, (str, int, float, bool)) and k != "render_mode"}
            limit = spec.max_episode_steps
    finally:
        try:
            env.close()
        except Exception:  # noqa: BLE001 - closing a probe env must not fail construction
            pass
    described = describe_callable(factory)
    if described.startswith("<"):  # not importable: say what it made, not its address
        described = f"{getattr(factory, '__name__', '<factory>')} made {name}"
    return GymEnv(name=name, kwargs=kwargs, max_episode_steps=limit, factory=described)


#: Components a torch module may fill (as ``TorchModel``).
_NETWORKS = ("model", "critic")


def _module_class_path(cls: type, key: str) -> str:
    """``module.Class`` of an ``nn.Module`` class a run can import again, else a ConfigError
    naming ``key``: runs record components by import path (to load and resume them)."""
    from mazedsl.spec.models import class_import_path

    try:
        return class_import_path(cls)
    except ConfigError as exc:
        raise ConfigError(exc.message, key) from None


def network_decl_from(value: Any, key: str) -> Any:
    """``model=``/``critic=`` given as a torch ``nn.Module`` class: ``TorchModel(cls)``.

    An ``nn.Module`` instance, a function or another class is refused in one line saying
    what to pass instead; anything else (names, dicts, declarations) is returned unchanged.
    """
    if value is None or isinstance(value, (str, Mapping)) or attrs.has(type(value)):
        return value
    if inspect.isclass(value) and attrs.has(value):
        raise ConfigError(f"got the declaration class {value.__name__}; pass an instance, "
                          f"e.g. {value.__name__}()", key)
    torch = sys.modules.get("torch")  # an nn.Module given: torch is imported already
    nn_module = getattr(getattr(torch, "nn", None), "Module", None)
    cls = value if inspect.isclass(value) else type(value)
    is_module = nn_module is not None and issubclass(cls, nn_module)
    if inspect.isclass(value) and is_module:
        from mazedsl.spec import TorchModel

        return TorchModel(_module_class_path(value, key))
    if is_module:
        try:
            path = _module_class_path(cls, key)
            pass_instead = f"TorchModel({cls.__name__}, **kwargs) or {{'_target_': '{path}', ...}}"
        except ConfigError:
            pass_instead = "TorchModel(YourNet, **kwargs), YourNet defined in a module"
        raise ConfigError(
            f"got an nn.Module instance ({cls.__name__}); a run builds its {key} itself from "
            f"the class and keyword arguments (it records them by import path, to load and "
            f"resume the run), so pass {pass_instead}", key)
    if inspect.isclass(value):
        raise ConfigError(f"got the class {value.__qualname__}, which is not a torch.nn.Module; "
                          f"a {key} is a config-module name, a dict, a declaration or an "
                          f"nn.Module class", key)
    if callable(value):
        raise ConfigError(
            f"got a function ({describe_callable(value)}); a {key} is built from an nn.Module "
            f"class, not a factory: pass TorchModel(YourNet, **kwargs) or "
            f"{{'_target_': 'mypkg.nets.YourNet', ...}} (its constructor may take obs_space, "
            f"action_space, obs_dim, obs_shape and out_dim)", key)
    return value


def _override_string(key: str, value: Any) -> str | None:
    """A Hydra override string for a plain value, or None if it is not a plain value."""
    value = from_numpy(value)
    if isinstance(value, bool):
        return f"{key}={'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"{key}={value!r}"
    if value is None:
        return f"{key}=null"
    if isinstance(value, str):
        return f"{key}={hydra_quote(value)}"
    return None


def resolve_experiment(experiment: Any, components: Mapping[str, Any],
                       overrides: Mapping[str, Any] | list[str] | None, seed: int | None
                       ) -> tuple[Any, Callable[[], Any] | None, list[Any]]:
    """The experiment a RunContext runs, the env factory (if any) and the raw overrides.

    With no ``experiment``, config-module names and plain values go through Hydra's compose
    API on ``conf_train`` (exactly as the CLI); declarations and dicts are applied after.
    """
    from mazedsl.config import _paths, apply_overrides, compose_experiment, load_experiment
    from mazedsl.spec import Experiment

    factory = None
    given = {k: v for k, v in components.items() if v is not None}
    if "env" in given:
        factory = env_factory_from(given["env"])
        if factory is not None:
            given["env"] = factory_env_decl(factory)
    for key in _NETWORKS:
        if key in given:
            given[key] = network_decl_from(given[key], key)
    items: list[tuple[str, Any]] = list(given.items())
    raw: list[Any] = []
    if isinstance(overrides, Mapping):
        overrides = {k: network_decl_from(v, k) if k in _NETWORKS else v
                     for k, v in overrides.items()}
        items += list(overrides.items())
        raw.append({k: _raw(v) for k, v in overrides.items()})
    elif overrides:
        raw += list(overrides)
    if seed is not None:
        items.append(("seed", seed))

    strings = [o for o in overrides] if isinstance(overrides, list) else []
    if experiment is None:
        hydra_overrides = []
        rest: list[tuple[str, Any]] = []
        for key, value in items:
            text = _override_string(key, value)
            below_rest = any(_paths.is_within(key, earlier) for earlier, _ in rest)
            if (text is not None and not (key in GROUPS and not isinstance(value, str))
                    and not below_rest):  # a value under a declaration given earlier: after it
                hydra_overrides.append(text if key not in GROUPS else f"{key}={value}")
            else:
                rest.append((key, value))
        exp = compose_experiment(hydra_overrides + strings)
        if rest:
            exp = apply_overrides(exp, dict(rest))
        return exp, factory, raw
    if isinstance(experiment, Experiment):
        base = experiment
    elif isinstance(experiment, str) or hasattr(experiment, "__fspath__"):
        base = load_experiment(str(experiment))
    else:
        raise ConfigError(f"must be an Experiment, an experiment file path or a module name, "
                          f"got {type(experiment).__name__}", "experiment")
    # one application, so an ``allow_targets=`` among the strings also admits a component's
    # ``_target_`` (``algorithm="reinforce"``)
    return apply_overrides(base, dict(items), strings), factory, raw


def _raw(value: Any) -> Any:
    """A loggable form of an override value (declarations as their config)."""
    if attrs.has(type(value)):
        from mazedsl.config import to_config
        from omegaconf import OmegaConf

        return OmegaConf.to_container(to_config(value))
    value = from_numpy(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _raw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_raw(v) for v in value]
    return repr(value)
