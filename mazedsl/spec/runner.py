"""Runner declarations: how environments are stepped."""

from __future__ import annotations

from typing import Optional

import attrs

from mazedsl.spec._fields import ge, gt, is_bool, is_float, is_int, is_str, one_of, optional, param

VECTORIZATION = ("auto", "native", "sync", "async")


def is_device(value: object) -> str | None:
    """'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' (whether it exists is checked when a run is built)."""
    if isinstance(value, str) and (value in ("auto", "cpu", "cuda", "mps") or (
            value.startswith("cuda:") and value[5:].isdigit())):
        return None
    return "must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"


@attrs.define(frozen=True, kw_only=True)
class Runner:
    """Vectorised training runner.

    ``vectorization``: 'auto' uses gymnasium's native vector env when the env has one, no
    per-env wrapper is declared and there are at least 5 envs (fewer separate envs step
    faster: ``benchmarks/vector_envs.py``), else 'sync'; 'async' steps envs in subprocesses.
    """

    n_envs: int = param(8, "Number of parallel training envs.", is_int, gt(0))
    vectorization: str = param("auto", "'auto', 'native', 'sync' or 'async' (subprocesses).",
                               one_of(*VECTORIZATION))
    torch_threads: int = param(1, "torch intra-op threads (1 is fastest for small nets).",
                               is_int, gt(0))
    n_eval_envs: int = param(4, "Parallel envs used for evaluation episodes.", is_int, gt(0))
    episode_step_limit: int = param(
        10_000, "Cut evaluation and rollout episodes at this many steps when the env has no step "
        "limit of its own (such an episode never hangs evaluation).", is_int, gt(0))
    device: str = param("auto", "Where every tensor lives: 'auto' (CUDA, else MPS, else CPU), 'cpu', "
                        "'cuda', 'cuda:N' or 'mps'.", is_device)


@attrs.define(frozen=True, kw_only=True)
class RolloutRunner:
    """Settings of a rollout (``conf_rollout``): how many episodes and how to act."""

    n_episodes: int = param(1, "Episodes to play.", is_int, gt(0))
    deterministic: bool = param(True, "Take the most likely action instead of sampling.", is_bool)
    render: bool = param(False, "Draw each step in the terminal.", is_bool)
    record: bool = param(True, "Save the episodes to the run directory as .npz.", is_bool)


@attrs.define(frozen=True, kw_only=True)
class RLlibRunner:
    """Train the same experiment on Ray RLlib's new API stack (``runner=rllib``).

    Needs ``pip install 'mazedsl[ray]'``. Envs are stepped by ``num_env_runners`` Ray
    actors with ``num_envs_per_env_runner`` envs each (every env collects the algorithm's
    ``n_steps`` per update, so the train batch is ``n_steps`` x all envs, as with
    :class:`Runner`); updates run on ``num_learners`` learner actors (0: in this process).
    Evaluation, metrics, checkpoints and the run directory stay mazedsl's.
    """

    num_env_runners: int = param(
        1, "Ray actors that step envs (0: step them in this process).", is_int, ge(0))
    num_envs_per_env_runner: int = param(
        8, "Envs each env runner steps (vectorised); n_steps x all envs = the train batch.",
        is_int, gt(0))
    num_cpus_per_env_runner: float = param(
        1.0, "CPUs Ray reserves for each env runner.", is_float, gt(0))
    num_learners: int = param(
        0, "Learner actors (0: one learner in this process; >1: data-parallel updates).",
        is_int, ge(0))
    num_gpus_per_learner: float = param(
        0.0, "GPUs per learner (0: CPU; with num_learners=0, >0 puts the local learner on a GPU).",
        is_float, ge(0))
    address: Optional[str] = param(
        None, "Ray cluster to join: None starts Ray inside this process (or joins $RAY_ADDRESS "
        "when set); 'auto' joins the cluster started on this machine with `ray start --head`; "
        "'HOST:6379' or 'ray://HOST:10001' a remote one.", optional(is_str))
    num_cpus: Optional[int] = param(
        None, "CPUs of the Ray started inside this process (None: the machine's cores); "
        "ignored when joining a cluster.", optional(is_int), optional(gt(0)))
    connect_timeout_s: float = param(
        10.0, "Give up joining a cluster (or waiting for env runners to start) after this "
        "many seconds.", is_float, gt(0))
    n_eval_envs: int = param(4, "Parallel envs of evaluation episodes (played in this process).",
                             is_int, gt(0))
    torch_threads: int = param(1, "torch intra-op threads of this process (learner, evaluation).",
                               is_int, gt(0))
    episode_step_limit: int = param(
        10_000, "Cut evaluation and rollout episodes at this many steps when the env has no step "
        "limit of its own.", is_int, gt(0))
    device: str = param("cpu", "Where this process acts with the RLModule (evaluation, rollouts, "
                        "compute_action); RLlib's learners use num_gpus_per_learner.", is_device)
