"""The behaviour-cloning learner: minibatches of recorded (observation, action) pairs, the
policy's negative log-likelihood, and a validation loss on held-out episodes.

BC steps no env: each iteration advances the env loop's step counter by the training
samples it used, so ``total_steps``, logging, evaluation and checkpoint schedules count
samples seen."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
from gymnasium import spaces

from mazedsl.errors import TrainingError
from mazedsl.rl.algos._offpolicy import clip_grad_norm, denormals_flushed, make_adam, step
from mazedsl.rl.algos.base import Learner
from mazedsl.rl.algos.bc.data import EpisodeData, load_dataset, split_episodes
from mazedsl.rl.algos.bc.manifest import MANIFEST, manifest, pinned_episodes
from mazedsl.rl.algos.bc.losses import bc_loss
from mazedsl.rl.algos.bc.spec import BC
from mazedsl.rl.models import PolicyModes


class BCLearner(Learner):
    """Behaviour cloning into the experiment's policy (``built.policy``)."""

    plays_episodes = False  # it learns from the recorded episodes; only evaluations play

    def __init__(self, decl: BC, built: Any) -> None:
        super().__init__(decl, built)
        self.policy = built.policy
        self.device = built.device
        self.modes = PolicyModes(self.policy)  # train mode to update, eval mode to validate
        data = load_dataset(decl, built.experiment, built.obs_space, built.action_space)
        train_rows, val_rows = split_episodes(data, decl.validation_fraction, built.seeds.torch)
        prep = built.prep
        if prep.normalizer is not None:  # statistics of the training observations
            prep(self._obs_rows(data, train_rows), update=True)
        self.x_train, self.a_train = self._tensors(data, train_rows)
        self.x_val, self.a_val = self._tensors(data, val_rows)
        self.n_episodes = len(data.files)
        self.n_val_episodes = int(len(np.unique(data.episode[val_rows]))) if len(val_rows) else 0
        self._manifest = manifest(decl.episodes, data, val_rows)
        self.params = [p for p in self._pi_params()]
        self.optimizer = make_adam(self.params, decl.lr, decl.adam_eps)
        self.gen = torch.Generator(device=self.device).manual_seed(built.seeds.torch + 3)
        self.updates = 0

    @classmethod
    def for_resume(cls, decl: BC, run_dir: Path) -> BC:
        """Resume on the episode files the run trained on (its episodes.json), not on what
        ``episodes`` names now; a ConfigError when any of them is gone or changed."""
        files = pinned_episodes(run_dir)
        return decl if files is None else attrs.evolve(decl, episodes=files)

    def run_files(self) -> dict[str, Any]:
        return {MANIFEST: self._manifest}

    def notes(self) -> list[str]:
        m = self._manifest
        lines = [f"behaviour cloning from {m['count']} recorded episodes ({m['steps']} steps; "
                 f"{len(m['validation'])} held out for validation), listed in {MANIFEST}: "
                 + ", ".join(f["path"] for f in m["files"])]
        decl = self.decl
        samples = self.iteration_samples
        if samples != decl.steps_per_iteration:
            lines.append(f"note: each iteration trains on {samples:,} samples: "
                         f"algorithm.steps_per_iteration {decl.steps_per_iteration:,} "
                         f"{'rounds down' if samples < decl.steps_per_iteration else 'rounds up'} "
                         f"to whole minibatches of algorithm.batch_size {decl.batch_size:,} "
                         "(evaluations, logs and checkpoints fall at iteration ends)")
        if not m["validation"] and self.decl.validation_fraction > 0:
            lines.append(f"warning: no validation split (no bc_val_loss): {m['count']} recorded "
                         "episode; whole episodes are held out, so at least 2 are needed")
        return lines

    @property
    def iteration_samples(self) -> int:
        """The training samples of one iteration: ``steps_per_iteration`` in whole minibatches
        (at least one); the budget may cut the last iteration short."""
        return max(1, self.decl.steps_per_iteration // self.decl.batch_size) * self.decl.batch_size

    # -- data ------------------------------------------------------------------------------
    @staticmethod
    def _obs_rows(data: EpisodeData, rows: np.ndarray) -> Any:
        if isinstance(data.observations, dict):
            return {k: v[rows] for k, v in data.observations.items()}
        return data.observations[rows]

    def _tensors(self, data: EpisodeData, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        prep, space = self.built.prep, self.built.action_space
        if len(rows) == 0:
            return (torch.zeros((0, *prep.shape), device=self.device),
                    torch.zeros((0,), device=self.device))
        x = torch.as_tensor(prep(self._obs_rows(data, rows), update=False), device=self.device)
        actions = data.actions[rows]
        start = getattr(space, "start", None)
        if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)) and start is not None:
            actions = actions - np.asarray(start)  # policy actions count from 0
        dtype = torch.float32 if isinstance(space, spaces.Box) else torch.int64
        return x, torch.as_tensor(np.asarray(actions), dtype=dtype, device=self.device)

    def _pi_params(self) -> list[torch.nn.Parameter]:
        """The policy's parameters without the value function's (BC does not train it)."""
        skip = {id(p) for name in ("vf_torso", "vf_head")
                for mod in [getattr(self.policy, name, None)] if mod is not None
                for p in mod.parameters()}
        return [p for p in self.policy.parameters() if id(p) not in skip and p.requires_grad]

    def _pi_out(self, obs: torch.Tensor) -> torch.Tensor:
        pol = self.policy
        head = getattr(pol, "pi_head", None)
        torso = getattr(pol, "pi_torso", None)
        if torso is None:
            return pol(obs)[0]
        h = torso(obs)
        return head(h) if head is not None else h

    def _loss(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        out = self._pi_out(obs)
        logp = self.policy.log_prob(out, actions)
        entropy = self.policy.entropy(out)
        loss, parts = bc_loss(logp, entropy, self.params, self.decl.ent_weight, self.decl.l2_weight)
        if getattr(self.policy, "discrete", False):
            parts["accuracy"] = (out.argmax(-1) == actions).float().mean().detach()
        return loss, parts

    # -- one iteration ---------------------------------------------------------------------
    def iteration(self, progress: float) -> dict[str, float]:
        with denormals_flushed():
            with self.modes.updating():
                stats = self._iteration()
            stats.update(self.validate())
            return stats

    def _iteration(self) -> dict[str, float]:
        decl = self.decl
        lr = decl.lr
        samples = self.iteration_samples
        n_steps = samples // decl.batch_size
        left = None if self.budget is None else self.budget - self.built.env_loop.steps
        if left is not None and 0 < left < samples:  # the last iteration stops at the budget
            samples = left
            n_steps = -(-left // decl.batch_size)
        idx = torch.randint(0, self.x_train.shape[0], (n_steps, decl.batch_size),
                            generator=self.gen, device=self.device)
        totals = torch.zeros(3, device=self.device)
        for g in range(n_steps):
            rows = idx[g, :samples - g * decl.batch_size]
            loss, parts = self._loss(self.x_train[rows], self.a_train[rows])
            grads = list(torch.autograd.grad(loss, self.params, allow_unused=True))
            grads = [torch.zeros_like(p) if gr is None else gr for p, gr in zip(self.params, grads)]
            clip_grad_norm(grads, decl.max_grad_norm)
            step(self.optimizer, self.params, grads, lr)
            totals += torch.stack([loss.detach(), parts["neglogp"], parts["entropy"]])
        self.updates += n_steps
        self.built.env_loop.steps += samples  # BC counts samples seen
        bc, neglogp, ent = (totals / n_steps).tolist()
        if not math.isfinite(bc):  # BC has no rewards: name what it learns from
            raise TrainingError(f"the BC loss is {bc} at env step {self.built.env_loop.steps}; "
                                "stopping (lower the learning rate or check the recorded episodes)")
        stats = {"bc_loss": bc, "bc_neglogp": neglogp, "entropy": ent, "lr": lr,
                 "n_updates": float(self.updates)}
        return stats

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """The loss (and, for discrete actions, accuracy) on the held-out episodes."""
        if self.x_val.shape[0] == 0:
            return {}
        with self.modes.acting():
            return self._validate()

    def _validate(self) -> dict[str, float]:
        out: dict[str, float] = {}
        chunk = 65_536
        total, correct = 0.0, 0.0
        n = self.x_val.shape[0]
        for s in range(0, n, chunk):
            _, parts = self._loss(self.x_val[s:s + chunk], self.a_val[s:s + chunk])
            rows = min(chunk, n - s)
            total += float(parts["neglogp"]) * rows
            correct += float(parts.get("accuracy", torch.zeros(()))) * rows
        out["bc_val_loss"] = total / n
        if getattr(self.policy, "discrete", False):
            out["bc_val_accuracy"] = correct / n
        return out

    # -- checkpoints -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "gen": self.gen.get_state(),
                "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.optimizer.load_state_dict(state["optimizer"])
        self.gen.set_state(state["gen"].cpu())
        self.updates = int(state["updates"])
