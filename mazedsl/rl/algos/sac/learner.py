"""The SAC learner: squashed-Gaussian collection into the replay buffer, twin critics with
Polyak targets, automatic entropy tuning; the minibatches and the policy noise of a phase
are drawn in one call each, and the actor's loss runs the critics with detached weights."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import torch
from torch import nn

from mazedsl.errors import ConfigError
from mazedsl.rl.algos._offpolicy import (check_finite, denormals_flushed, make_adam, polyak_update,
                                         scheduled, step)
from mazedsl.rl.algos._offpolicy_learner import OffPolicyLearner
from mazedsl.rl.algos.sac.losses import (actor_loss, critic_loss, critic_target,
                                         entropy_coef_loss, squashed_sample)
from mazedsl.rl.algos.sac.manual import ManualSAC
from mazedsl.rl.algos.sac.networks import NetGaussianActor, SquashedGaussianActor, TwinQ, check_box
from mazedsl.rl.algos.sac.spec import SAC
from mazedsl.rl.models import PolicyModes, module_mode


def _activation(value: Any) -> str:
    from mazedsl.spec.models import activation_name

    name = activation_name(value)
    assert name is not None
    return name


class SACPolicy(nn.Module):
    """The acting policy of SAC: ``tanh(mean)`` (deterministic) or a squashed sample, scaled
    from [-1, 1] to the action bounds."""

    def __init__(self, actor: SquashedGaussianActor, action_space: Any) -> None:
        super().__init__()
        self.actor = actor
        self.shape = tuple(action_space.shape)
        low = torch.as_tensor(np.asarray(action_space.low, dtype=np.float32).reshape(-1))
        high = torch.as_tensor(np.asarray(action_space.high, dtype=np.float32).reshape(-1))
        self.register_buffer("scale", (high - low) / 2)
        self.register_buffer("center", (high + low) / 2)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor(obs)

    def squashed(self, obs: torch.Tensor, deterministic: bool,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Actions in [-1, 1] (flat)."""
        mean, log_std = self.actor(obs)
        if deterministic:
            return torch.tanh(mean)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device) if generator is None \
            else torch.randn(mean.shape, generator=generator).to(mean.device)
        return squashed_sample(mean, log_std, noise)[0]

    def to_bounds(self, squashed: torch.Tensor) -> torch.Tensor:
        return (self.center + self.scale * squashed).reshape(-1, *self.shape)

    def predict(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        with module_mode(self, False):  # acting: eval mode (as SB3's predict)
            return self.to_bounds(self.squashed(obs, deterministic))

    def distribution(self, obs: torch.Tensor) -> dict[str, torch.Tensor]:
        """The Gaussian before the tanh squashing: ``mean`` and ``std`` (in eval mode)."""
        with module_mode(self, False):
            mean, log_std = self.actor(obs)
        return {"mean": mean, "std": log_std.exp()}


class SACLearner(OffPolicyLearner):
    """Soft Actor-Critic over the experiment's actor (``built.policy.actor``) and twin critics
    built from ``experiment.critic``."""

    def __init__(self, decl: SAC, built: Any) -> None:
        super().__init__(decl, built)
        exp = built.experiment
        self.policy: SACPolicy = built.policy
        self.actor = self.policy.actor
        self.act_dim = check_box(built.action_space)
        obs_dim = int(self.prep.shape[0])
        self.critic = TwinQ(obs_dim + self.act_dim, exp.critic.hidden_units,
                            _activation(exp.critic.activation)).to(self.device)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor_params = list(self.actor.parameters())
        self.critic_params = self.critic.params()
        self.target_params = self.critic_target.params()
        self.actor_opt = make_adam(self.actor_params, decl.lr, decl.adam_eps)
        self.critic_opt = make_adam(self.critic_params, decl.lr, decl.adam_eps)
        self.auto_alpha = decl.ent_coef is None
        init = decl.ent_coef_init if self.auto_alpha else decl.ent_coef
        self.log_alpha = torch.full((), math.log(init), device=self.device,
                                    requires_grad=self.auto_alpha)
        self.alpha_opt = make_adam([self.log_alpha], decl.lr, decl.adam_eps) if self.auto_alpha else None
        self.target_entropy = (float(-self.act_dim) if decl.target_entropy is None
                               else float(decl.target_entropy))
        self.replay = self.make_replay((self.act_dim,), torch.float32)
        self.manual = ManualSAC.for_learner(self) if decl.backend != "torch" else None
        self.modes = PolicyModes(self.actor, self.critic)  # eval to act, train to update (SB3)

    @classmethod
    def check(cls, decl: SAC, experiment: Any, obs_space: Any, action_space: Any) -> None:
        from mazedsl.rl.spaces import is_image_space
        from mazedsl.spec import StateCritic, TorchModel, VectorObs

        check_box(action_space)
        cls.check_common(decl, experiment, obs_space, action_space)
        if not isinstance(experiment.model, (VectorObs, TorchModel)):
            raise ConfigError("SAC supports the VectorObs model or your own module "
                              f"(TorchModel), got {type(experiment.model).__name__}", "model")
        if is_image_space(obs_space) and len(obs_space.shape) > 1:
            raise ConfigError(f"SAC supports vector observations (its critics are MLPs), got "
                              f"images of shape {tuple(obs_space.shape)}", "env")
        if not isinstance(experiment.critic, StateCritic) or experiment.critic.shared:
            raise ConfigError("SAC builds its twin Q critics from a separate StateCritic "
                              "(hidden_units, activation); set critic.shared=false", "critic")
        if decl.log_std_min >= decl.log_std_max:
            raise ConfigError(f"must be below log_std_max ({decl.log_std_max}), got "
                              f"{decl.log_std_min}", "algorithm.log_std_min")

    @classmethod
    def make_policy(cls, decl: SAC, experiment: Any, obs_space: Any, action_space: Any) -> nn.Module:
        from mazedsl.rl.spaces import flat_dim
        from mazedsl.spec import TorchModel

        act_dim = check_box(action_space)
        model = experiment.model
        if isinstance(model, TorchModel):
            from mazedsl.rl.models import build_torch_model

            net = build_torch_model(model, obs_space, action_space, 2 * act_dim, "model",
                                    needs=f"SAC on action space {action_space} (means, then "
                                          "log stds)")
            return SACPolicy(NetGaussianActor(net, act_dim, decl.log_std_min, decl.log_std_max),
                             action_space)
        actor = SquashedGaussianActor(flat_dim(obs_space), act_dim, model.hidden_units,
                                      _activation(model.activation), decl.log_std_min,
                                      decl.log_std_max)
        return SACPolicy(actor, action_space)

    # -- acting ----------------------------------------------------------------------------
    def _draw(self, n_steps: int) -> None:
        """The random numbers of a collection phase, one call for each kind the phase uses:
        uniform actions in [-1, 1] for the steps before ``learning_starts`` (SB3's warm-up),
        the policy's noise for the others."""
        shape = (n_steps, self.n_envs, self.act_dim)
        first, starts = self.loop.steps, self.decl.learning_starts
        last = first + (n_steps - 1) * self.n_envs  # the env step count at the phase's last step
        self._uniform = (torch.rand(shape, generator=self.act_gen).mul_(2).sub_(1)
                         if first < starts else None)
        self._gauss = torch.randn(shape, generator=self.act_gen) if last >= starts else None
        self._t = 0

    def _act(self, obs_in: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self._t
        self._t += 1
        if self.manual is not None:
            if self.loop.steps < self.decl.learning_starts:
                squashed = self._uniform[t].numpy()
            else:
                squashed = self.manual.act(obs_in, self._gauss[t].numpy())
            return squashed, self.manual.to_bounds(squashed)
        with torch.inference_mode():
            if self.loop.steps < self.decl.learning_starts:
                squashed = self._uniform[t].to(self.device)
            else:
                mean, log_std = self.actor(torch.as_tensor(obs_in, device=self.device))
                squashed = squashed_sample(mean, log_std, self._gauss[t].to(self.device))[0]
            to_env = self.policy.to_bounds(squashed).cpu().numpy()
        return squashed.cpu().numpy(), to_env

    # -- one phase -------------------------------------------------------------------------
    def iteration(self, progress: float) -> dict[str, float]:
        decl = self.decl
        self._draw(decl.train_freq)
        with self.modes.acting():
            self.collect(decl.train_freq, self._act)
        lr = scheduled(decl.lr, decl.lr_schedule, progress)
        stats: dict[str, float] = {"lr": lr, "replay_size": float(len(self.replay))}
        n_grad = self.gradient_steps_now()
        if n_grad:
            with denormals_flushed(), self.modes.updating():
                stats.update(self.train(n_grad, lr))
        stats["ent_coef"] = float(self.log_alpha.detach().exp())
        stats["n_updates"] = float(self.updates)
        return stats

    def train(self, n_grad: int, lr: float) -> dict[str, float]:
        decl, dev = self.decl, self.device
        batch = self.replay.sample(decl.batch_size, n_grad, generator=self.sample_gen)
        noise = torch.randn((n_grad, 2, decl.batch_size, self.act_dim), generator=self.sample_gen,
                            device=dev)
        sums = torch.zeros(5, device=dev)  # critic loss, actor loss, alpha loss, -logp, q
        one_step = self.reference_step if self.manual is None else self.manual.step
        for g in range(n_grad):
            sums += one_step(batch.obs[g], batch.actions[g], batch.next_obs[g], batch.rewards[g],
                             batch.terminated[g], noise[g, 0], noise[g, 1], lr)
        c, p, al, ent, qm = (sums / n_grad).tolist()
        check_finite(c + p, "the SAC loss", self.loop.steps, self.replay)
        out = {"q_loss": c, "policy_loss": p, "entropy": ent, "q_mean": qm}
        if self.auto_alpha:
            out["ent_coef_loss"] = al
        return out

    def reference_step(self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor,
                       rewards: torch.Tensor, terminated: torch.Tensor, noise_pi: torch.Tensor,
                       noise_next: torch.Tensor, lr: float) -> torch.Tensor:
        """One gradient step in plain torch (autograd, the losses of
        :mod:`mazedsl.rl.algos.sac.losses`): entropy coefficient, critics, then the actor
        through the updated critics, as SB3's ``SAC.train``. Returns the critic, actor and
        entropy-coefficient losses, the entropy estimate and the mean Q."""
        decl, dev = self.decl, self.device
        actor, critic, target = self.actor, self.critic, self.critic_target
        mean, log_std = actor(obs)
        a_pi, logp = squashed_sample(mean, log_std, noise_pi)
        alpha = self.log_alpha.detach().exp()
        if self.auto_alpha:
            a_loss = entropy_coef_loss(self.log_alpha, logp, self.target_entropy)
            grad = torch.autograd.grad(a_loss, [self.log_alpha])
            step(self.alpha_opt, [self.log_alpha], list(grad), lr)
        else:
            a_loss = torch.zeros((), device=dev)
        with torch.no_grad():
            n_mean, n_log_std = actor(next_obs)
            next_a, next_logp = squashed_sample(n_mean, n_log_std, noise_next)
            next_q = target(torch.cat([next_obs, next_a], -1))
            y = critic_target(rewards, terminated, decl.gamma, next_q, next_logp, alpha)
        q = critic(torch.cat([obs, actions], -1))
        c_loss = critic_loss(q, y)
        step(self.critic_opt, self.critic_params,
             list(torch.autograd.grad(c_loss, self.critic_params)), lr)
        q_pi = critic(torch.cat([obs, a_pi], -1), detached=True)
        p_loss = actor_loss(q_pi, logp, alpha)
        step(self.actor_opt, self.actor_params,
             list(torch.autograd.grad(p_loss, self.actor_params)), lr)
        self.updates += 1
        if self.updates % decl.target_update_interval == 0:
            polyak_update(self.critic_params, self.target_params, decl.tau)
        return torch.stack([c_loss.detach(), p_loss.detach(), a_loss.detach(),
                            -logp.detach().mean(), q.detach().mean()])

    # -- checkpoints -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = {**self.base_state(), "critic": self.critic.state_dict(),
                 "critic_target": self.critic_target.state_dict(),
                 "actor_optimizer": self.actor_opt.state_dict(),
                 "critic_optimizer": self.critic_opt.state_dict(),
                 "log_alpha": self.log_alpha.detach().clone()}
        if self.alpha_opt is not None:
            state["alpha_optimizer"] = self.alpha_opt.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.load_base_state(state)
        self.critic.load_state_dict(state["critic"])
        self.critic_target.load_state_dict(state["critic_target"])
        self.actor_opt.load_state_dict(state["actor_optimizer"])
        self.critic_opt.load_state_dict(state["critic_optimizer"])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        if self.alpha_opt is not None and "alpha_optimizer" in state:
            self.alpha_opt.load_state_dict(state["alpha_optimizer"])
