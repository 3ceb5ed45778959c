"""The DQN learner: epsilon-greedy collection into the replay buffer, target network, and
vectorised gradient steps (all minibatches of a phase sampled at once; without double-DQN
their TD targets come from one target-network forward)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from mazedsl.rl.algos._offpolicy import (check_finite, clip_grad_norm, denormals_flushed,
                                         linear_schedule, make_adam, polyak_update, scheduled,
                                         step)
from mazedsl.rl.algos._mlpgrad import MLPGrad
from mazedsl.rl.algos._offpolicy_learner import OffPolicyLearner
from mazedsl.rl.algos.dqn.losses import q_targets, td_loss
from mazedsl.rl.algos.dqn.networks import check_discrete
from mazedsl.rl.algos.dqn.spec import DQN
from mazedsl.rl.models import PolicyModes, module_mode


class QPolicy(nn.Module):
    """The acting policy of DQN: greedy in Q (deterministic), else epsilon-greedy with the
    final exploration rate (as SB3's ``DQN.predict``)."""

    def __init__(self, q_net: nn.Module, action_space: Any, explore_eps: float) -> None:
        super().__init__()
        from mazedsl.rl.distributions import make_dist

        self.q = q_net
        self.dist = make_dist(action_space)  # to_env: the Discrete space's start offset
        self.n_actions = int(action_space.n)
        self.explore_eps = float(explore_eps)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.q(obs)

    def predict(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        with module_mode(self, False):  # acting: eval mode (as SB3's predict)
            greedy = self.q(obs).argmax(-1)
        if deterministic or self.explore_eps <= 0:
            return greedy
        n = greedy.shape[0]
        explore = torch.rand(n, device=greedy.device) < self.explore_eps
        return torch.where(explore, torch.randint(self.n_actions, (n,), device=greedy.device), greedy)

    def distribution(self, obs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Q-values and the greedy action's one-hot ``probs`` (in eval mode)."""
        with module_mode(self, False):
            q = self.q(obs)
        return {"q_values": q, "probs": nn.functional.one_hot(q.argmax(-1), self.n_actions).float()}


def build_q_net(experiment: Any, obs_space: Any, action_space: Any) -> nn.Module:
    """The experiment's model torso with a linear Q head (torch's default init, as SB3), or
    the user's own module (``TorchModel``) with one output per action (its constructor gets
    the action space, as every model's does)."""
    from mazedsl.rl.models import _torso, build_torch_model
    from mazedsl.spec.models import TorchModel

    model = experiment.model
    n_actions = check_discrete(action_space)
    if isinstance(model, TorchModel):
        return build_torch_model(model, obs_space, action_space, n_actions, "model",
                                 needs=f"DQN on action space {action_space} (one Q-value per "
                                       "action)")
    torso, dim = _torso(obs_space, model, model.hidden_units, model.activation)
    return nn.Sequential(torso, nn.Linear(dim, n_actions))


def _running_stats(net: nn.Module) -> list[torch.Tensor]:
    """The BatchNorm running statistics of ``net`` (SB3 copies them to the target net)."""
    return [b for name, b in net.named_buffers() if "running_" in name.rpartition(".")[2]]


class DQNLearner(OffPolicyLearner):
    """Deep Q-learning over the experiment's Q-network (``built.policy.q``)."""

    def __init__(self, decl: DQN, built: Any) -> None:
        super().__init__(decl, built)
        self.policy: QPolicy = built.policy
        self.q = self.policy.q
        # the target net only evaluates (eval mode, as SB3's); its BatchNorm statistics are
        # copied from the online net's with each target update
        self.target = copy.deepcopy(self.q).requires_grad_(False).eval()
        self.modes = PolicyModes(self.q)  # eval mode to act, train mode to update (as SB3)
        self.norm_stats = _running_stats(self.q)
        self.target_norm_stats = _running_stats(self.target)
        self.params = [p for p in self.q.parameters() if p.requires_grad]
        self.target_params = list(self.target.parameters())
        self.optimizer = make_adam(self.params, decl.lr, decl.adam_eps)
        self.n_actions = self.policy.n_actions
        self.replay = self.make_replay((), torch.int64)
        self.epsilon = decl.exploration_initial_eps
        self._start = int(getattr(built.action_space, "start", 0))
        self._target_every = max(decl.target_update_interval // self.n_envs, 1)
        # the hand-written backward and numpy acting for plain MLPs (autograd otherwise)
        self.mlp = MLPGrad.for_module(self.q)
        self._np_q = self.mlp.numpy_forward() if self.mlp is not None else None

    @classmethod
    def check(cls, decl: DQN, experiment: Any, obs_space: Any, action_space: Any) -> None:
        check_discrete(action_space)
        cls.check_common(decl, experiment, obs_space, action_space)

    @classmethod
    def make_policy(cls, decl: DQN, experiment: Any, obs_space: Any, action_space: Any) -> nn.Module:
        return QPolicy(build_q_net(experiment, obs_space, action_space), action_space,
                       decl.exploration_final_eps)

    # -- acting ----------------------------------------------------------------------------
    def _draw(self, n_steps: int, progress: float) -> None:
        """The random numbers of a collection phase, drawn in two calls, and the exploration
        rate of each of its steps: as SB3, epsilon follows the schedule env step by env step
        (the action at ``s`` env steps uses epsilon at progress ``s / horizon``)."""
        shape = (n_steps, self.n_envs)
        self._random_actions = torch.randint(self.n_actions, shape, generator=self.act_gen).numpy()
        self._uniform = torch.rand(shape, generator=self.act_gen).numpy()
        self._t = 0
        decl = self.decl
        steps = self.loop.steps
        # the trainer's progress is steps / horizon: recover the horizon (the experiment's
        # budget before the first step)
        horizon = (steps / progress if 0 < progress < 1
                   else float(self.built.experiment.total_steps))
        step_progress = (steps + self.n_envs * np.arange(n_steps)) / max(horizon, 1.0)
        if progress >= 1:
            step_progress[:] = 1.0
        self._eps = [linear_schedule(decl.exploration_initial_eps, decl.exploration_final_eps,
                                     decl.exploration_fraction, float(p)) for p in step_progress]

    def _act(self, obs_in: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self._t
        self._t += 1
        random_actions = self._random_actions[t]
        if self.loop.steps < self.decl.learning_starts:
            a = random_actions
        else:
            if self._np_q is not None:
                greedy = self._np_q(obs_in).argmax(-1)
            else:
                with torch.inference_mode():
                    greedy = self.q(torch.as_tensor(obs_in, device=self.device)).argmax(-1).cpu().numpy()
            self.epsilon = self._eps[t]
            a = np.where(self._uniform[t] < self.epsilon, random_actions, greedy)
        return a, a + self._start if self._start else a

    # -- one phase -------------------------------------------------------------------------
    def iteration(self, progress: float) -> dict[str, float]:
        decl = self.decl
        calls_before = self.n_calls
        self._draw(decl.train_freq, progress)
        with self.modes.acting():
            self.collect(decl.train_freq, self._act)
        self.epsilon = self._eps[-1]
        # SB3 updates the target every target_update_interval // n_envs vector steps; the
        # online net is constant while collecting, so those updates can be applied now
        crossings = self.n_calls // self._target_every - calls_before // self._target_every
        if crossings:
            tau = 1.0 - (1.0 - decl.tau) ** crossings
            polyak_update(self.params, self.target_params, tau)
            for src, dst in zip(self.norm_stats, self.target_norm_stats):
                dst.copy_(src)
        lr = scheduled(decl.lr, decl.lr_schedule, progress)
        stats: dict[str, float] = {"epsilon": self.epsilon, "lr": lr,
                                   "replay_size": float(len(self.replay))}
        n_grad = self.gradient_steps_now()
        if n_grad:
            with denormals_flushed(), self.modes.updating():
                stats.update(self.train(n_grad, lr))
        stats["n_updates"] = float(self.updates)
        return stats

    def train(self, n_grad: int, lr: float) -> dict[str, float]:
        decl = self.decl
        batch = self.replay.sample(decl.batch_size, n_grad, generator=self.sample_gen)
        obs_shape = batch.obs.shape[2:]
        targets = None
        if not decl.double_q:
            with torch.no_grad():
                next_q = self.target(batch.next_obs.reshape(-1, *obs_shape)).reshape(
                    n_grad, decl.batch_size, -1)
                targets = q_targets(next_q, batch.rewards, batch.terminated, decl.gamma)
        losses = torch.empty(n_grad, device=self.device)
        q_means = torch.empty(n_grad, device=self.device)
        params, q_net = self.params, self.q
        for g in range(n_grad):
            if targets is None:
                with torch.no_grad():
                    nxt = batch.next_obs[g]
                    target_g = q_targets(self.target(nxt), batch.rewards[g], batch.terminated[g],
                                         decl.gamma, q_net(nxt))
            else:
                target_g = targets[g]
            if self.mlp is not None:
                q, loss, grads = self._manual_step(batch.obs[g], batch.actions[g], target_g)
            else:
                q = q_net(batch.obs[g])
                loss = td_loss(q, batch.actions[g], target_g, decl.loss)
                grads = list(torch.autograd.grad(loss, params))
            clip_grad_norm(grads, decl.max_grad_norm)
            step(self.optimizer, params, grads, lr)
            losses[g] = loss.detach()
            q_means[g] = q.detach().mean()
        self.updates += n_grad
        q_loss = float(losses.mean())
        check_finite(q_loss, "the Q loss", self.loop.steps, self.replay)
        return {"q_loss": q_loss, "q_mean": float(q_means.mean())}

    @torch.no_grad()
    def _manual_step(self, obs: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Q-values, the TD loss and its parameter gradients by the hand-written backward
        (equal to :func:`td_loss` + autograd)."""
        assert self.mlp is not None
        q, saved = self.mlp.forward(obs)
        idx = actions.unsqueeze(1)
        diff = q.gather(1, idx).squeeze(1) - targets
        n = diff.shape[0]
        if self.decl.loss == "huber":
            absd = diff.abs()
            loss = torch.where(absd < 1.0, 0.5 * diff * diff, absd - 0.5).mean()
            dq = diff.clamp(-1.0, 1.0).div_(n)
        else:
            loss = diff.square().mean()
            dq = diff.mul(2.0 / n)
        grad_out = torch.zeros_like(q).scatter_(1, idx, dq.unsqueeze(1))
        return q, loss, self.mlp.backward(saved, grad_out)

    # -- checkpoints -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {**self.base_state(), "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict(), "epsilon": self.epsilon}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.load_base_state(state)
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epsilon = float(state["epsilon"])
