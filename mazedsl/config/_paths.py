"""Dotted config paths (``algorithm.lr``, ``wrappers[1].n_frames``) over plain containers."""

from __future__ import annotations

import re
from typing import Any, Iterator

Segment = str | int

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def join(path: str, segment: Segment) -> str:
    """``path`` one level down: ``a.b`` + ``c`` -> ``a.b.c``; + ``1`` -> ``a.b[1]``."""
    if isinstance(segment, int):
        return f"{path}[{segment}]"
    return f"{path}.{segment}" if path else segment


def split(path: str) -> list[Segment]:
    """Segments of a path; ``[i]`` gives an int, ``a.1`` keeps ``"1"`` (resolved on lists)."""
    return [int(index) if index else key for index, key in _TOKEN.findall(path)]


def build(segments: list[Segment]) -> str:
    """The canonical path of ``segments`` (digit keys become ``[i]``)."""
    path = ""
    for seg in segments:
        path = join(path, int(seg) if isinstance(seg, str) and seg.isdigit() else seg)
    return path


def parent(path: str) -> str | None:
    """The enclosing path (``a.b[1]`` -> ``a.b``), ``""`` for a top-level key, None for root."""
    if not path:
        return None
    segments = split(path)
    return build(segments[:-1])


def ancestors(path: str) -> Iterator[str]:
    """``path`` itself, then each enclosing path up to (not including) the root."""
    current: str | None = path
    while current:
        yield current
        current = parent(current)


def is_within(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` or below it."""
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple))


def leaves(tree: Any, prefix: str = "", targets: bool = False) -> dict[str, Any]:
    """``{path: value}`` of the leaves of a plain tree.

    Leaves are scalars, empty containers and lists of scalars (``hidden_units``);
    ``_target_`` keys are left out unless ``targets``.
    """
    out: dict[str, Any] = {}
    if isinstance(tree, dict) and tree:
        for key, value in tree.items():
            if key == "_target_" and not targets:
                continue
            out.update(leaves(value, join(prefix, str(key)), targets))
    elif isinstance(tree, (list, tuple)) and tree and not all(is_scalar(v) for v in tree):
        for i, value in enumerate(tree):
            out.update(leaves(value, join(prefix, i), targets))
    elif prefix:
        out[prefix] = list(tree) if isinstance(tree, tuple) else tree
    return out


def lookup(table: dict[str, str], path: str) -> str | None:
    """The entry of ``path`` or of its nearest enclosing path in ``table``."""
    for candidate in ancestors(path):
        if candidate in table:
            return table[candidate]
    return None


def forget(table: dict[str, Any], path: str) -> None:
    """Remove ``path`` and everything below it from ``table``."""
    for key in [k for k in table if is_within(k, path)]:
        del table[key]
