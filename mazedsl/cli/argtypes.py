"""Argument types shared by the CLIs and the benchmark scripts."""

from __future__ import annotations

import argparse
from typing import Callable


def int_at_least(least: int, meaning: str) -> Callable[[str], int]:
    """An argparse ``type``: an integer of at least ``least``; else argparse's one error line
    (``argument --seeds: needs a value >= 1 (seeds 0..N-1), got '0'``), before anything runs."""

    def count(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"needs a value >= {least} ({meaning}), got {text!r}")
        return value

    return count
