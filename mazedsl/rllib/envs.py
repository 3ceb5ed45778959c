"""The experiment's env as a Ray-registered env creator (``ray.tune.registry.register_env``).

The creator builds exactly the env the native runner builds (``gymnasium.make`` of the id,
``module:id``, or the user's factory, with the per-env wrappers), so that RLlib's env
runners, mazedsl's evaluation and rollouts all see the same env.
"""

from __future__ import annotations

from typing import Any, Callable

from mazedsl.errors import EnvError


def creator(exp: Any, factory: Callable[[], Any] | None) -> Callable[[Any], Any]:
    """``env_config -> gymnasium.Env`` for Ray's env runners."""
    from mazedsl.rl.envs import make_env_fn

    build = make_env_fn(exp.env, exp.wrappers, factory)

    def make(env_config: Any = None) -> Any:
        return build()

    return make


def check_shippable(fn: Callable[..., Any], factory: Callable[[], Any] | None) -> None:
    """Raise one line when ``fn`` cannot be pickled for Ray's workers."""
    from ray import cloudpickle

    try:
        cloudpickle.dumps(fn)
    except Exception as exc:  # noqa: BLE001 - any pickling failure means the same thing
        from mazedsl.components import describe_callable

        what = describe_callable(factory) if factory is not None else "the env"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EnvError(f"env: the env factory {what} cannot be sent to Ray's env runners "
                       f"({type(exc).__name__}: {first[:160]}); make it a module-level function "
                       "that opens what it needs itself") from None


def register(exp: Any, factory: Callable[[], Any] | None, name: str) -> Callable[[Any], Any]:
    """Register the env creator under ``name`` with Ray (after a pickling check)."""
    from ray.tune.registry import register_env

    make = creator(exp, factory)
    check_shippable(make, factory)
    register_env(name, make)
    return make
