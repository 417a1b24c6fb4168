"""The fast argv path: ``check``'s arguments read without importing or building argparse.

``check`` runs from cron every few minutes; argparse is a sizeable share of
such a run. What this cannot read exactly goes to :mod:`lockdown.cli.args`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from argparse import Namespace as Args


#: ``check``'s options that take a value, and the attribute each sets.
_CHECK_VALUES = {
    "--project": "project",
    "--venv": "venv",
    "--python": "python",
    "--lock": "lock",
    "--level": "level",
    "--format": "format",
    "-o": "output",
    "--output": "output",
    "--cache-dir": "cache_dir",
    "--prefix": "prefix",
    "--db": "db",
}
_CHECK_LISTS = {"--extra": "extra", "--group": "group"}
_CHECK_FLAGS = {
    "-q": "quiet",
    "--quiet": "quiet",
    "-v": "verbose",
    "--verbose": "verbose",
    "--require-signature": "require_signature",
    "--audit": "audit",
}
_CHECK_CHOICES = {
    "level": ("versions", "files", "artifacts"),
    "format": ("text", "json", "prometheus", "junit"),
}
_CHECK_PATHS = frozenset({"project", "venv", "lock", "output", "cache_dir", "prefix", "db"})


def fast_check_args(argv: Sequence[str]) -> Args | None:
    """``check``'s arguments read without argparse, or ``None`` to let argparse read them.

    Only the plain forms are read here — each option spelled in full (or
    ``-o``/``-q``/``-v``) with its value as the next word, every value a valid
    choice. Anything else (``--help``, ``--opt=value``, abbreviations, unknown
    or repeated-in-error words, a value that looks like an option) returns
    ``None``, and argparse parses it, errors and help included. The result has
    exactly the attributes argparse would give (a test holds the two equal):
    ``check`` runs from cron every few minutes, and importing and building
    argparse is a sizeable share of such a run.
    """
    if not argv or argv[0] != "check":
        return None
    values: dict[str, object] = {
        "command": "check",
        "project": Path.cwd(),
        "verbose": False,
        "quiet": False,
        "venv": None,
        "python": None,
        "lock": None,
        "level": "versions",
        "format": "text",
        "output": None,
        "extra": None,
        "group": None,
        "require_signature": False,
        "cache_dir": None,
        "prefix": None,
        "audit": False,
        "db": None,
    }
    words = iter(argv[1:])
    for word in words:
        if word in _CHECK_FLAGS:
            values[_CHECK_FLAGS[word]] = True
            continue
        dest = _CHECK_VALUES.get(word) or _CHECK_LISTS.get(word)
        value = next(words, None)
        if dest is None or value is None or value.startswith("-"):
            return None
        if dest in _CHECK_CHOICES and value not in _CHECK_CHOICES[dest]:
            return None
        if word in _CHECK_LISTS:
            current = values[dest]
            values[dest] = [*current, value] if isinstance(current, list) else [value]
        else:
            values[dest] = Path(value) if dest in _CHECK_PATHS else value
    return cast("Args", SimpleNamespace(**values))
