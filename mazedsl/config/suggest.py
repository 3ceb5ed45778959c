""""Did you mean" suggestions that only name close matches (a typo away), or nothing."""

from __future__ import annotations

from typing import Iterable


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
    two neighbouring characters each count 1."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def allowed_edits(word: str) -> int:
    """How many edits still count as a typo of ``word``: 1 up to 4 characters, 2 up to 12, else 3."""
    return 1 if len(word) <= 4 else 2 if len(word) <= 12 else 3


def close_matches(word: str, options: Iterable[str], n: int = 1) -> list[str]:
    """The ``n`` options closest to ``word`` (case ignored) within :func:`allowed_edits`, or
    starting with it, nearest first; empty when none is that close."""
    word = str(word)
    limit = allowed_edits(word)
    scored = []
    for index, option in enumerate(dict.fromkeys(str(o) for o in options)):
        if option == word:
            continue
        distance = edit_distance(word.lower(), option.lower())
        if len(word) >= 3 and option.lower().startswith(word.lower()):  # 'pixel' -> 'pixel_obs'
            distance = min(distance, limit)
        if distance <= limit:
            scored.append((distance, index, option))
    return [option for _d, _i, option in sorted(scored)[:n]]


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for a close match, else ``""``."""
    close = close_matches(word, options)
    return f"; did you mean {close[0]!r}?" if close else ""
