"""User config folders: ``add_search_path`` and ``MAZEDSL_CONFIG_PATH``.

A user folder has the same group layout as ``conf/`` (``my_conf/algorithm/fast_ppo.yaml``).
The folders are appended to Hydra's config search path (after the built-in ``conf/``, so a
built-in module of the same name wins), in-process by :mod:`mazedsl.config.hydra_session`
and, in ``mazedsl-run``, by :class:`MazedslSearchPathPlugin` once Hydra discovers it.
"""

from __future__ import annotations

import os
import warnings

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin

from mazedsl.errors import ConfigError

ENV_VAR = "MAZEDSL_CONFIG_PATH"
PROVIDER = "mazedsl-searchpath"
PRIMARY_PROVIDER = "mazedsl-primary"
BUILT_IN_PROVIDER = "mazedsl"
BUILT_IN = "pkg://mazedsl.conf"
"""The built-in config folder (``conf/``), Hydra's primary one unless ``--config-path`` names another."""

_added: list[str] = []
_primary: str | None = None  # set_primary's folder
_warned: set[str] = set()


def add_search_path(path: str | os.PathLike[str]) -> None:
    """Make the config modules under folder ``path`` usable by name everywhere."""
    folder = os.path.abspath(os.fspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"config search path {os.fspath(path)!r} is not a folder")
    if folder not in _added:
        _added.append(folder)


def remove_search_path(path: str | os.PathLike[str]) -> None:
    """Undo :func:`add_search_path` (no error when ``path`` was not added)."""
    folder = os.path.abspath(os.fspath(path))
    if folder in _added:
        _added.remove(folder)


def search_paths() -> list[str]:
    """The user folders in search order: ``MAZEDSL_CONFIG_PATH`` entries, then added ones."""
    out: list[str] = []
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if not entry:
            continue
        folder = os.path.abspath(entry)
        if not os.path.isdir(folder):
            if folder not in _warned:
                _warned.add(folder)
                warnings.warn(f"{ENV_VAR}: {entry!r} is not a folder; ignored", stacklevel=2)
            continue
        if folder not in out:
            out.append(folder)
    out += [f for f in _added if f not in out]
    return out


def set_primary(path: str | os.PathLike[str] | None) -> None:
    """Search folder ``path`` before the built-in ``conf/`` (as ``mazedsl-run --config-path``
    makes it Hydra's primary folder); None: no such folder."""
    global _primary
    _primary = None if path is None else os.path.abspath(os.fspath(path))


def extend(search_path: ConfigSearchPath) -> None:
    """Append the user folders to a Hydra search path (before the ``structured://`` schema),
    after a :func:`set_primary` folder put before the built-in one."""
    present = {element.path for element in search_path.get_path()}
    if _primary is not None and f"file://{_primary}" not in present:
        search_path.prepend(PRIMARY_PROVIDER, f"file://{_primary}", anchor="main")
        present.add(f"file://{_primary}")
    for folder in search_paths():
        url = f"file://{folder}"
        if url not in present:
            providers = {e.provider for e in search_path.get_path()}
            anchor = next((p for p in (PROVIDER, BUILT_IN_PROVIDER) if p in providers), "main")
            search_path.append(PROVIDER, url, anchor=anchor)
            present.add(url)


class MazedslSearchPathPlugin(SearchPathPlugin):
    """Hydra plugin adding the user folders (for ``mazedsl-run``; see the module docstring),
    and the built-in ``conf/`` right after the primary folder when ``--config-path`` made
    another folder primary: a config of your own there extends ``conf_train`` and names its
    groups (``algorithm=ppo``) as under ``--config-dir``."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        if all(element.path != BUILT_IN for element in search_path.get_path()):
            search_path.append(BUILT_IN_PROVIDER, BUILT_IN, anchor="main")
        extend(search_path)
