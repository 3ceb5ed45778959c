"""SAC's hand-written gradient step (``algorithm.backend=auto`` on the CPU) against the
plain-torch reference (``backend=torch``): every update, from the same state and batch,
gives the same weights, optimiser state and entropy coefficient (hundreds of updates at
states along a training run), and whole runs with the same seeds stay together.

Two float implementations of the same maths round differently; along a training run the
differences grow (the policy feeds back through the env), so the run-level check covers
the first ~140 updates tightly and the per-update check covers everything after."""

from __future__ import annotations

import copy

import attrs
import pytest
import torch

from mazedsl.errors import ConfigError
from mazedsl.rl import gemm
from mazedsl.rl.algos.sac import SAC
from mazedsl.rl.trainer import Trainer
from mazedsl.spec import Experiment, GymEnv, Runner, StateCritic, VectorObs


def _experiment(backend: str, env: GymEnv, activation: str, **algo: object) -> Experiment:
    return Experiment(
        name="sac_fast", env=env, wrappers=[],
        model=VectorObs(hidden_units=[32, 32], activation=activation, ortho_init=False),
        critic=StateCritic(hidden_units=[32, 32], activation=activation, shared=False),
        algorithm=SAC(lr=3e-3, learning_starts=64, batch_size=64, backend=backend, **algo),
        runner=Runner(n_envs=1), seed=3, total_steps=400, eval_every_steps=10**6,
        checkpoint_every_steps=10**6, allow_targets=["tests.plugins"])


def _close(a: torch.Tensor, b: torch.Tensor, what: str, tol: float) -> None:
    rel = float((a - b).norm() / max(float(a.norm()), 1e-12))
    assert rel < tol, f"{what}: relative difference {rel:.2e}"


PENDULUM = GymEnv(name="Pendulum-v1")
CORRIDOR = GymEnv(name="tests.plugins.my_envs:MyCorridor-v0")  # (1, 2) Box actions


CASES = [
    (PENDULUM, "relu", {}),
    (PENDULUM, "tanh", {"ent_coef": 0.05}),
    (CORRIDOR, "relu", {"log_std_min": -1.0, "log_std_max": 0.0}),  # the clamp is hit
]


@pytest.fixture(params=["as on this CPU", "all oneDNN"])
def gemm_route(request, monkeypatch):
    """The fast step's products as this CPU gets them (these small nets: all MKL), or every
    one of them on oneDNN (what 256-wide nets get on an AVX-512 CPU: mazedsl.rl.gemm)."""
    if request.param == "all oneDNN":
        calls = request.getfixturevalue("onednn_calls")
        monkeypatch.setattr(gemm, "ONEDNN_MIN_MACS", 0)
        yield
        assert calls, "no product went to oneDNN"
    else:
        yield


@pytest.mark.parametrize("env, activation, algo", CASES)
def test_whole_runs_with_either_step_stay_together(env, activation, algo, gemm_route) -> None:
    runs = {}
    for backend in ("torch", "auto"):
        trainer = Trainer(attrs.evolve(_experiment(backend, env, activation, **algo),
                                       total_steps=200))
        initial_mu = trainer.learner.actor.mu.weight.detach().clone()
        trainer.train()
        runs[backend] = trainer
    ref, fast = runs["torch"].learner, runs["auto"].learner
    assert ref.manual is None and fast.manual is not None
    assert ref.updates == fast.updates == 200 - 64
    assert not torch.allclose(fast.actor.mu.weight, initial_mu)  # training moved the weights
    for (name, a), b in zip(ref.actor.named_parameters(), fast.actor.parameters()):
        _close(a.detach(), b.detach(), f"actor {name}", 1e-5)
    for i, (a, b) in enumerate(zip(ref.critic_params + ref.target_params,
                                   fast.critic_params + fast.target_params)):
        _close(a.detach(), b.detach(), f"critic tensor {i}", 1e-5)
    _close(ref.log_alpha.detach(), fast.log_alpha.detach(), "log alpha", 1e-5)
    n = len(ref.replay)
    _close(ref.replay.actions[:n], fast.replay.actions[:n], "collected actions", 1e-5)
    for t in runs.values():
        t.close()


def _state(learner) -> dict:
    opts = [learner.actor_opt, learner.critic_opt] + ([learner.alpha_opt] if learner.alpha_opt else [])
    return copy.deepcopy({"actor": learner.actor.state_dict(), "critic": learner.critic.state_dict(),
                          "target": learner.critic_target.state_dict(),
                          "log_alpha": learner.log_alpha.detach().clone(),
                          "opts": [o.state_dict() for o in opts], "updates": learner.updates})


def _load(learner, state: dict) -> None:
    learner.actor.load_state_dict(state["actor"])
    learner.critic.load_state_dict(state["critic"])
    learner.critic_target.load_state_dict(state["target"])
    with torch.no_grad():
        learner.log_alpha.copy_(state["log_alpha"])
    opts = [learner.actor_opt, learner.critic_opt] + ([learner.alpha_opt] if learner.alpha_opt else [])
    for o, s in zip(opts, copy.deepcopy(state["opts"])):
        o.load_state_dict(s)
    learner.updates = state["updates"]


def _flat(state: dict) -> list[torch.Tensor]:
    out = [*state["actor"].values(), *state["critic"].values(), *state["target"].values(),
           state["log_alpha"]]
    for o in state["opts"]:
        for st in o["state"].values():
            out += [v for v in st.values() if torch.is_tensor(v) and v.numel() > 1]
    return out


@pytest.mark.parametrize("env, activation, algo", CASES)
def test_every_update_equals_the_reference_update(env, activation, algo, gemm_route) -> None:
    trainer = Trainer(_experiment("auto", env, activation, **algo))
    learner = trainer.learner
    assert learner.manual is not None
    checked = 0
    for until in (100, 250, 400):
        trainer.train(total_steps=until)  # states along a real run (fast steps)
        for _ in range(40):
            batch = learner.replay.sample(64, 1, generator=learner.sample_gen)
            noise = torch.randn((2, 64, learner.act_dim), generator=learner.sample_gen)
            args = (batch.obs[0], batch.actions[0], batch.next_obs[0], batch.rewards[0],
                    batch.terminated[0], noise[0], noise[1], 3e-3)
            before = _state(learner)
            ref_stats = learner.reference_step(*args)
            after_ref = _state(learner)
            _load(learner, before)
            fast_stats = learner.manual.step(*args)
            after_fast = _state(learner)
            assert after_ref["updates"] == after_fast["updates"] == before["updates"] + 1
            pairs = list(zip(_flat(after_ref), _flat(after_fast)))
            assert len(pairs) > 20
            for i, (a, b) in enumerate(pairs):
                _close(a, b, f"tensor {i} after update {learner.updates}", 1e-5)
            _close(ref_stats.detach(), fast_stats, "losses, entropy and mean Q", 1e-5)
            checked += 1
    assert checked == 120
    trainer.close()


def test_the_reference_serves_what_the_fast_step_does_not() -> None:
    elu = Trainer(_experiment("auto", PENDULUM, "elu"))
    assert elu.learner.manual is None  # no hand-written backward for ELU: autograd
    elu.train(total_steps=100)
    assert elu.learner.updates == 100 - 64
    elu.close()
    with pytest.raises(ConfigError, match="backend: must be one of 'auto', 'torch', got 'fast'"):
        SAC(backend="fast")
