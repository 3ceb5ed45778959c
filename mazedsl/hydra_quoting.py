"""Python strings as Hydra override values: the one place the quoting rule lives."""

from __future__ import annotations

import re

_BEFORE_QUOTE = re.compile(r"(\\*)'")
_AT_END = re.compile(r"(\\+)$")
_BEFORE_INTERPOLATION = re.compile(r"(\\*)\$\{")


def hydra_quote(text: str, *, literal: bool = False) -> str:
    r"""``text`` as a single-quoted Hydra override value that Hydra's parser reads back as
    exactly ``text`` (with ``literal=True``: ``text`` with its interpolations escaped).

    Hydra's rule (https://hydra.cc/docs/advanced/override_grammar/basic/#quoted-values; the
    ``QUOTED_VALUE`` token of ``hydra/grammar/OverrideLexer.g4`` and
    ``OverridesVisitor._unescape_quoted_string``): inside quotes every character is itself,
    except that ``\'`` is an escaped quote, and backslashes are escapes only in a run right
    before a quote or the closing quote, where ``\\`` stands for one. So only those runs are
    doubled (``a\b`` stays ``'a\b'``; ``it's c:\`` becomes ``'it\'s c:\\'``), and a quote
    is escaped.

    ``${...}`` is no Hydra escape: it reaches the config as typed, and OmegaConf resolves it
    when the experiment is validated, exactly as the same string given in an override dict.
    With ``literal=True`` (paths such as ``--runs-root``) every ``${`` is escaped as OmegaConf
    reads it (a backslash before it; the backslashes already there doubled), so the resolved
    value is ``text`` itself.
    """
    if literal:
        text = _BEFORE_INTERPOLATION.sub(lambda m: m.group(1) * 2 + "\\${", text)
    body = _BEFORE_QUOTE.sub(lambda m: m.group(1) * 2 + "\\'", text)
    body = _AT_END.sub(lambda m: m.group(1) * 2, body)
    return f"'{body}'"
