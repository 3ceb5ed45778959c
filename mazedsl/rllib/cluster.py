"""Starting or joining Ray, with checks that fail in seconds instead of hanging.

- no address (and no ``$RAY_ADDRESS``): ``ray.init()`` inside this process with the
  machine's cores (or ``runner.num_cpus``); it is shut down when training ends;
- ``address='auto'``: the cluster started on this machine with ``ray start --head``;
- ``'HOST:PORT'`` / ``'ray://HOST:PORT'``: a remote cluster, probed over TCP first;
- a Ray already initialised in this process (a test cluster, a notebook) is used as is.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any, Iterator

from mazedsl.rllib import RLlibError


def resolve_address(runner: Any) -> str | None:
    """The cluster address to join: ``runner.address``, else ``$RAY_ADDRESS``; None: embedded."""
    address = runner.address if runner.address is not None else os.environ.get("RAY_ADDRESS")
    if address in (None, "", "local"):
        return None
    return address


def _host_port(address: str) -> tuple[str, int] | None:
    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rpartition(":")
    if not sep or not port.split("/")[0].isdigit():
        return None
    return host.strip("[]"), int(port.split("/")[0])


def probe(address: str, timeout: float) -> None:
    """Raise one line unless ``address`` accepts a TCP connection within ``timeout`` s."""
    if address == "auto":
        return  # ray finds the local cluster itself, and says so at once when there is none
    target = _host_port(address)
    if target is None:
        raise RLlibError(f"runner.address: {address!r} is not 'auto', 'HOST:PORT' or "
                         "'ray://HOST:PORT'")
    try:
        with socket.create_connection(target, timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RLlibError(f"runner.address: cannot reach the Ray cluster at {address!r} "
                         f"({reason}, waited {timeout:g} s); start it with `ray start --head` "
                         "or fix the address") from None


def _quiet_env() -> None:
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")


@contextlib.contextmanager
def session(runner: Any) -> Iterator[dict[str, Any]]:
    """Ray up for the duration: yields ``{"address", "embedded", "nodes"}``."""
    import ray

    _quiet_env()
    started = False
    if not ray.is_initialized():
        address = resolve_address(runner)
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "logging_level": "ERROR", "configure_logging": True}
        try:
            if address is None:
                ray.init(num_cpus=runner.num_cpus or os.cpu_count() or 1, **kwargs)
            else:
                probe(address, runner.connect_timeout_s)
                ray.init(address=address, **kwargs)
        except RLlibError:
            raise
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = "the embedded Ray" if address is None else f"the Ray cluster at {address!r}"
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            hint = ""
            if address not in (None, "auto") and "RAY_AUTH_MODE" not in os.environ:
                # Ray sends its token to a cluster named by address only when asked to
                hint = ("; if the cluster uses token authentication (`ray start` turns it on "
                        "where it finds ~/.ray/auth_token), set RAY_AUTH_MODE=token (token: "
                        "~/.ray/auth_token or $RAY_AUTH_TOKEN)")
            raise RLlibError(f"runner.address: cannot start or join {where} ({first[:200]})"
                             f"{hint}") from None
        started = True
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        yield {"address": ray.get_runtime_context().gcs_address, "embedded": started,
               "nodes": len(nodes)}
    finally:
        if started:
            ray.shutdown()


def check_resources(runner: Any) -> dict[str, float]:
    """Raise one line when the cluster cannot hold the env runners and learners at all
    (RLlib would otherwise wait for them forever); returns the cluster's resources."""
    import ray

    total = ray.cluster_resources()
    cpus, gpus = float(total.get("CPU", 0.0)), float(total.get("GPU", 0.0))
    need_runners = runner.num_env_runners * runner.num_cpus_per_env_runner
    need_learners = runner.num_learners * (0 if runner.num_gpus_per_learner else 1)
    if need_runners + need_learners > cpus:
        what = (f"{runner.num_env_runners} env runners x {runner.num_cpus_per_env_runner:g} CPU"
                + (f" + {runner.num_learners} learners" if need_learners else ""))
        path = "runner.num_env_runners" if need_runners > cpus or not need_learners \
            else "runner.num_learners"
        raise RLlibError(f"{path}: {what} need {need_runners + need_learners:g} CPUs, but the Ray "
                         f"cluster has {cpus:g}; lower it or add nodes")
    need_gpus = runner.num_gpus_per_learner * max(1, runner.num_learners)
    if need_gpus > gpus:
        raise RLlibError(f"runner.num_gpus_per_learner: the learners need {need_gpus:g} GPUs, but "
                         f"the Ray cluster has {gpus:g}")
    return {"CPU": cpus, "GPU": gpus}
