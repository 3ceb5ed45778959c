"""Hydra sweep configs among the experiment files (such as ``experiments/optuna_cartpole.yaml``).

A YAML file with a ``defaults`` list is a Hydra config for ``mazedsl-run``, not an experiment:
it is shown as what it is (its search space and the values it fixes) and launched as
``mazedsl-run --config-dir DIR -cn NAME -m [overrides]``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# sweeper name (``override hydra/sweeper: NAME``) -> (plugin module, how to install it)
SWEEPER_PLUGINS = {"optuna": ("hydra_plugins.hydra_optuna_sweeper", "pip install -e '.[tune]'")}


@dataclass
class SweepConfig:
    """What a Hydra sweep config file declares."""

    path: Path
    name: str
    text: str
    sweeper: str = "basic"
    bases: list[str] = field(default_factory=list)           # configs it extends (conf_train)
    params: dict[str, str] = field(default_factory=dict)     # the search space
    settings: dict[str, Any] = field(default_factory=dict)   # the sweeper's scalar settings
    fixed: dict[str, Any] = field(default_factory=dict)      # values it sets (dotted paths)

    @property
    def config_name(self) -> str:
        return self.path.stem

    def problem(self) -> str | None:
        """Why it cannot run here (a missing sweeper plugin), else None."""
        plugin = SWEEPER_PLUGINS.get(self.sweeper)
        if plugin is None:
            return None
        try:
            found = importlib.util.find_spec(plugin[0]) is not None
        except (ImportError, ValueError):
            found = False
        if found:
            return None
        return f"the {self.sweeper} sweeper is not installed: {plugin[1]}"

    def summary(self) -> str:
        """``Optuna sweeper · 12 trials · maximize`` (what is known of it)."""
        parts = [f"{self.sweeper.capitalize()} sweeper"]
        if "n_trials" in self.settings:
            parts.append(f"{self.settings['n_trials']} trials")
        if "direction" in self.settings:
            parts.append(str(self.settings["direction"]))
        return " · ".join(parts)

    def command(self, overrides: list[str], runs_root: str | os.PathLike[str] | None = None) -> list[str]:
        """The ``mazedsl-run`` command that runs the sweep from the working directory."""
        from mazedsl_tui.formatting import cwd_path

        root = [] if runs_root is None or cwd_path(runs_root) == "outputs" else [f"output_dir={cwd_path(runs_root)}"]
        return ["mazedsl-run", "--config-dir", cwd_path(self.path.parent), "-cn", self.config_name, "-m",
                *overrides, *root]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def read_sweep_config(path: str | os.PathLike[str]) -> SweepConfig | None:
    """The sweep config in ``path``, or None when it is not a Hydra config (no ``defaults``)."""
    import yaml

    path = Path(path)
    if path.suffix not in (".yaml", ".yml"):
        return None
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("defaults"), list):
        return None
    config = SweepConfig(path=path, name=str(data.get("name") or path.stem), text=text)
    for entry in data["defaults"]:
        if isinstance(entry, str) and entry != "_self_":
            config.bases.append(entry)
        elif isinstance(entry, dict):
            for key, value in entry.items():
                if str(key).replace("override ", "").strip() == "hydra/sweeper":
                    config.sweeper = str(value)
    hydra = data.get("hydra") if isinstance(data.get("hydra"), dict) else {}
    sweeper = hydra.get("sweeper") if isinstance(hydra.get("sweeper"), dict) else {}
    config.params = {str(k): str(v) for k, v in (sweeper.get("params") or {}).items()}
    config.settings = {k: v for k, v in sweeper.items() if k != "params" and not isinstance(v, (dict, list))}
    config.fixed = {k: v for k, v in _flatten({k: v for k, v in data.items()
                                               if k not in ("defaults", "hydra")}).items()}
    return config


def sweep_arguments(config: SweepConfig, overrides: list[str]) -> list[str]:
    """``mazedsl-run``'s arguments for the sweep: ``--config-dir DIR -cn NAME -m OVERRIDES``."""
    return ["--config-dir", str(config.path.parent.resolve()), "-cn", config.config_name, "-m", *overrides]


def sweep_process_command(config: SweepConfig, overrides: list[str], sweep_dir: Path) -> list[str]:
    """The process the UI starts: ``mazedsl-run`` writing its jobs into ``sweep_dir``."""
    return [sys.executable, "-m", "mazedsl.cli.hydra_app", *sweep_arguments(config, overrides),
            f"hydra.sweep.dir={sweep_dir}"]
