"""Recorded episodes as a behaviour-cloning dataset.

Reads the ``.npz`` files :meth:`mazedsl.rollout.Episode.save` writes (``observations``
``(T+1, ...)`` including the first and last, or ``observations.<key>`` per Dict key;
``actions`` ``(T, ...)``; ``rewards`` ``(T,)``; ``episode_return``), checks them against
the env's spaces, pairs each observation with the action taken after it, and splits whole
episodes into training and validation sets.
"""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any, Sequence

import attrs
import numpy as np
from gymnasium import spaces

from mazedsl.errors import ConfigError, MazeError

WHERE = "algorithm.episodes"
_GLOB = set("*?[")
_NUMBERS = "biuf"  # numpy dtype kinds of booleans, integers and floats (not complex, text, ...)


@attrs.define
class EpisodeData:
    """Transitions of several episodes: ``observations`` ``(N, ...)`` (a dict of arrays for
    Dict spaces), ``actions`` ``(N, ...)``, ``episode`` ``(N,)`` (index into ``files``)."""

    observations: Any
    actions: np.ndarray
    episode: np.ndarray
    files: list[Path]
    returns: list[float]

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    def subset(self, rows: np.ndarray) -> "EpisodeData":
        obs = ({k: v[rows] for k, v in self.observations.items()}
               if isinstance(self.observations, dict) else self.observations[rows])
        return EpisodeData(obs, self.actions[rows], self.episode[rows], self.files, self.returns)


def _in_dir(path: Path) -> list[Path]:
    folder = path / "rollouts" if (path / "rollouts").is_dir() else path
    return sorted(folder.glob("*.npz"))


def _is_run_name(ref: str, runs_root: str | Path) -> bool:
    """``latest``, ``EXPERIMENT:latest`` or a run's name under ``runs_root``."""
    return ref == "latest" or ref.endswith(":latest") or (Path(runs_root) / ref).exists()


def find_episode_files(refs: Sequence[str], runs_root: str | Path = "outputs") -> list[Path]:
    """The ``.npz`` files named by ``refs``: files, run directories (their ``rollouts/``),
    ``rollouts`` folders, run names (``latest``, ``cartpole_ppo:latest``, a name under
    ``runs_root``) or globs of any of these. A ConfigError when none is found."""
    if not refs:
        raise ConfigError("no recorded episodes given: set it to run directories, rollouts "
                          "folders, .npz files or globs (e.g. algorithm.episodes=[outputs/"
                          "cartpole_ppo/<run>])", WHERE)
    files: list[Path] = []
    resolved: dict[str, Path] = {}  # run names -> the run they named
    for ref in refs:
        if _GLOB & set(ref):
            matches = [Path(m) for m in sorted(glob.glob(ref, recursive=True))]
        else:
            path = Path(ref)
            if not path.exists():
                if not _is_run_name(ref, runs_root):
                    raise ConfigError(f"no recorded episodes at {ref} (no such file or folder, "
                                      f"nor a run under '{runs_root}')", WHERE)
                from mazedsl.run.listing import resolve_run

                try:
                    # started: not the run being built now, when it is of that experiment
                    # (mazedsl-run algorithm=bc 'algorithm.episodes=[conf_train:latest]')
                    path = resolve_run(ref, runs_root)
                except MazeError as exc:
                    raise ConfigError(f"{exc} (train and record one first: `mazedsl rollout RUN "
                                      "--episodes N`)", WHERE) from None
                resolved[ref] = path
            matches = [path]
        for m in matches:
            if m.is_file():  # a file named outright is read (and refused if not an episode)
                found = [m] if m.suffix == ".npz" or not (_GLOB & set(ref)) else []
            else:
                found = _in_dir(m) if m.is_dir() else []
            files += [f for f in found if f not in files]
    if not files:
        shown = ", ".join(f"{r!r} (the run {resolved[r]})" if r in resolved else repr(r)
                          for r in refs)
        raise ConfigError(f"no recorded episodes (rollouts/*.npz) found in {shown}; record some "
                          "with `mazedsl rollout RUN --episodes N`", WHERE)
    return files


def describe_space(space: spaces.Space) -> str:
    """A short readable name of a space: ``Box(4,) float32``, ``Discrete(2)``, ``Dict(a, b)``."""
    if isinstance(space, spaces.Box):
        return f"Box{tuple(space.shape)} {space.dtype}"
    if isinstance(space, spaces.Discrete):
        return f"Discrete({space.n})" if space.start == 0 else f"Discrete({space.n}, start={space.start})"
    if isinstance(space, spaces.MultiDiscrete):
        return f"MultiDiscrete({np.asarray(space.nvec).tolist()})"
    if isinstance(space, spaces.MultiBinary):
        return f"MultiBinary({space.n})"
    if isinstance(space, spaces.Dict):
        return "Dict(" + ", ".join(f"{k}: {describe_space(v)}" for k, v in space.spaces.items()) + ")"
    return type(space).__name__


def _load(path: Path) -> dict[str, np.ndarray]:
    """The arrays of one episode file; never unpickles anything (``allow_pickle=False``)."""
    import zipfile

    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            why = "a single .npy array, not an .npz archive"
        else:
            with data:
                return {k: data[k] for k in data.files}
    except ValueError as exc:
        why = ("it holds Python objects, which are never unpickled" if "Object arrays" in str(exc)
               else "not a numpy .npz archive (pickled files are never loaded)")
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        why = f"unreadable ({type(exc).__name__}{': ' + str(exc).splitlines()[0] if str(exc) else ''})"
    raise ConfigError(f"{path} is not a recorded episode (.npz of arrays): {why}", WHERE)


def _check_obs(path: Path, arrays: dict[str, np.ndarray], space: spaces.Space, n: int) -> Any:
    if isinstance(space, spaces.Dict):
        obs = {}
        for key, sub in space.spaces.items():
            arr = arrays.get(f"observations.{key}")
            if arr is None:
                raise ConfigError(f"{path}: observations have no key {key!r} of the env's "
                                  f"observation space {describe_space(space)}", WHERE)
            obs[key] = _check_box_like(path, arr, sub, n, f"observations.{key}")
        return obs
    arr = arrays.get("observations")
    if arr is None:
        raise ConfigError(f"{path}: no 'observations' array (Dict observations?) for the env's "
                          f"observation space {describe_space(space)}", WHERE)
    return _check_box_like(path, arr, space, n, "observations")


def _check_box_like(path: Path, arr: np.ndarray, space: spaces.Space, n: int, name: str) -> np.ndarray:
    shape = tuple(space.shape or ())
    if arr.dtype.kind not in _NUMBERS:
        raise ConfigError(f"{path}: {name} have dtype {arr.dtype}; the env's observation space "
                          f"{describe_space(space)} takes real numbers", WHERE)
    if arr.shape[1:] != shape or arr.ndim == 0:
        raise ConfigError(f"{path}: {name} have shape {arr.shape[1:]} per step, the env's "
                          f"observation space {describe_space(space)} has {shape}", WHERE)
    if arr.shape[0] != n + 1:
        raise ConfigError(f"{path}: {arr.shape[0]} {name} for {n} actions; a recorded episode "
                          "holds T+1 observations for T actions", WHERE)
    _check_finite(path, arr, name)
    return arr[:-1]  # the observation each action was taken in


def _check_finite(path: Path, arr: np.ndarray, name: str) -> None:
    """A ConfigError naming the file, the array and the first step holding NaN or inf
    (``arr`` has one row per step)."""
    if not np.issubdtype(arr.dtype, np.inexact):
        return  # integers and booleans are always finite
    bad = ~np.isfinite(arr.reshape(len(arr), -1))
    if not bad.any():
        return
    step = int(np.argmax(bad.any(axis=1)))
    value = arr.reshape(len(arr), -1)[step, np.argmax(bad[step])]
    what = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    raise ConfigError(f"{path}: {name} contain {what} (step {step})", WHERE)


def _action_range(space: spaces.Space) -> tuple[np.ndarray, np.ndarray] | None:
    """The lowest and highest valid recorded action: a discrete space's, or a Box's bounds
    (recorded actions are the ones the env took) widened by float rounding, 1e-5 relative to
    each bound; None for other spaces."""
    if isinstance(space, spaces.Box):
        low = np.asarray(space.low, dtype=np.float64)
        high = np.asarray(space.high, dtype=np.float64)
        return low - 1e-5 * (1 + np.abs(low)), high + 1e-5 * (1 + np.abs(high))
    if isinstance(space, spaces.Discrete):
        return np.asarray(space.start), np.asarray(space.start + space.n - 1)
    if isinstance(space, spaces.MultiDiscrete):
        start = np.asarray(getattr(space, "start", 0))
        return start + np.zeros_like(space.nvec), start + np.asarray(space.nvec) - 1
    if isinstance(space, spaces.MultiBinary):
        return np.asarray(0), np.asarray(1)
    return None


def _episode_return(path: Path, arrays: dict[str, np.ndarray], n: int) -> float:
    """The file's ``episode_return``, else the sum of its ``rewards`` (0 with neither); a
    ConfigError when either is not what a recorded episode holds."""
    rewards = arrays.get("rewards")
    if rewards is not None:
        if rewards.shape != (n,) or rewards.dtype.kind not in _NUMBERS:
            raise ConfigError(f"{path}: rewards of shape {rewards.shape}, dtype {rewards.dtype}; "
                              f"a recorded episode holds one number per action ({n})", WHERE)
        _check_finite(path, rewards, "rewards")
    value = arrays.get("episode_return")
    if value is None:
        return float(rewards.sum()) if rewards is not None else 0.0
    if value.shape != () or value.dtype.kind not in _NUMBERS or not np.isfinite(value):
        raise ConfigError(f"{path}: episode_return is {value.tolist()!r} (shape {value.shape}, "
                          f"dtype {value.dtype}); a recorded episode holds one finite number", WHERE)
    return float(value)


def _check_actions(path: Path, actions: np.ndarray, space: spaces.Space) -> np.ndarray:
    if isinstance(space, spaces.Discrete):
        ok = actions.ndim == 1 and np.issubdtype(actions.dtype, np.integer)
    else:
        shape = tuple(space.shape or ())
        ok = actions.ndim >= 1 and actions.shape[1:] == shape and (
            np.issubdtype(actions.dtype, np.floating) if isinstance(space, spaces.Box)
            else np.issubdtype(actions.dtype, np.integer) or actions.dtype == bool)
    if not ok:
        raise ConfigError(f"{path}: recorded actions (shape {actions.shape[1:]} per step, dtype "
                          f"{actions.dtype}) do not fit the env's action space {describe_space(space)}", WHERE)
    _check_finite(path, actions, "actions")
    bounds = _action_range(space)
    if bounds is not None and actions.size:
        low, high = bounds
        box = isinstance(space, spaces.Box)
        values = actions.astype(np.float64 if box else np.int64)
        out = ((values < low) | (values > high)).reshape(len(actions), -1).any(axis=1)
        if out.any():
            step = int(np.argmax(out))
            action = np.asarray(actions[step]).tolist()
            if not box:
                raise ConfigError(f"{path}: action {action} (step {step}) is out of range for the "
                                  f"env's action space {describe_space(space)}", WHERE)
            shown = (f"low {space.low.tolist()}, high {space.high.tolist()}" if space.low.size <= 8
                     else "its bounds")
            raise ConfigError(f"{path}: action {action} (step {step}) is out of the env's action "
                              f"space {describe_space(space)} ({shown}); recorded actions are the "
                              "ones the env took", WHERE)
    return actions


def load_episodes(files: Sequence[Path], obs_space: spaces.Space,
                  action_space: spaces.Space) -> EpisodeData:
    """All transitions of ``files``, checked against the env's spaces (ConfigError naming
    the file on a mismatch)."""
    obs_parts: list[Any] = []
    act_parts: list[np.ndarray] = []
    ep_parts: list[np.ndarray] = []
    returns: list[float] = []
    for i, path in enumerate(files):
        arrays = _load(path)
        if "actions" not in arrays:
            raise ConfigError(f"{path}: no 'actions' array: not a recorded episode", WHERE)
        actions = arrays["actions"]
        n = int(actions.shape[0]) if actions.ndim else 0
        obs_parts.append(_check_obs(path, arrays, obs_space, n))
        act_parts.append(_check_actions(path, actions, action_space))
        ep_parts.append(np.full(n, i, dtype=np.int64))
        returns.append(_episode_return(path, arrays, n))
    if isinstance(obs_space, spaces.Dict):
        observations: Any = {k: np.concatenate([o[k] for o in obs_parts]) for k in obs_space.spaces}
    else:
        observations = np.concatenate(obs_parts)
    data = EpisodeData(observations, np.concatenate(act_parts), np.concatenate(ep_parts),
                       list(files), returns)
    if len(data) == 0:
        raise ConfigError("the recorded episodes hold no steps", WHERE)
    return data


def _check_recorded_spaces(files: list[Path], obs_space: spaces.Space, action_space: spaces.Space) -> None:
    """The recording runs' spaces.json (when present) must equal the env's spaces."""
    from mazedsl.rl.spaces import space_from_json, space_to_json

    want = {"observation": space_to_json(obs_space), "action": space_to_json(action_space)}
    here = {"observation": obs_space, "action": action_space}
    seen: set[Path] = set()
    for f in files:
        run = f.parent.parent if f.parent.name == "rollouts" else f.parent
        if run in seen or not (run / "spaces.json").is_file():
            continue
        seen.add(run)
        try:
            got = json.loads((run / "spaces.json").read_text())
        except (OSError, ValueError):
            continue
        for kind in ("observation", "action"):
            if kind in got and got[kind] != want[kind]:
                try:
                    recorded = describe_space(space_from_json(got[kind]))
                except Exception:  # noqa: BLE001 - an unreadable record: say so briefly
                    recorded = "an unreadable space"
                mine = describe_space(here[kind])
                if recorded == mine:
                    mine += " (same shape, other bounds)"
                raise ConfigError(f"episodes of {run} were recorded with the {kind} space "
                                  f"{recorded}, this env's is {mine}", WHERE)


def load_dataset(decl: Any, experiment: Any, obs_space: spaces.Space,
                 action_space: spaces.Space) -> EpisodeData:
    """The recorded episodes ``decl.episodes`` names, checked against the env's spaces."""
    files = find_episode_files(decl.episodes, experiment.output_dir)
    _check_recorded_spaces(files, obs_space, action_space)
    return load_episodes(files, obs_space, action_space)


def check_episodes(decl: Any, experiment: Any, obs_space: spaces.Space,
                   action_space: spaces.Space) -> None:
    """BC's training check, registered as its ``precheck``: the episodes load and match the
    env's spaces (this module imports no torch, so both CLIs refuse within a second)."""
    load_dataset(decl, experiment, obs_space, action_space)


def split_episodes(data: EpisodeData, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the training and validation sets: ``round(fraction * episodes)`` whole
    episodes (at least one when ``fraction > 0`` and there are two or more) are held out,
    chosen by ``seed``."""
    n_eps = len(data.files)
    n_val = 0
    if fraction > 0 and n_eps >= 2:
        n_val = min(n_eps - 1, max(1, round(fraction * n_eps)))
    order = np.random.default_rng(seed).permutation(n_eps)
    val_eps = np.zeros(n_eps, dtype=bool)
    val_eps[order[:n_val]] = True
    is_val = val_eps[data.episode]
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)
