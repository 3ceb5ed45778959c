"""Runner declarations: how environments are stepped."""

from __future__ import annotations

import attrs

from mazedsl.spec._fields import gt, is_bool, is_int, one_of, param

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

    ``vectorization``: 'auto' uses gymnasium's native vector env when the env has one
    and no per-env wrapper is declared, else 'sync'; 'async' steps envs in subprocesses.
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
