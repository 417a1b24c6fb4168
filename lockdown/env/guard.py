"""``lockdown guard``: pip in a venv cannot move locked packages.

A venv's own ``pip.conf`` (pip's "site" configuration, ``<venv>/pip.conf``)
gets ``[install] constraint = <venv>/lockdown-constraints.txt``, a constraints
file exported from the lock for the venv's interpreter. Afterwards
``pip install -U <locked package>`` there keeps the locked version, and asking
for another version fails. ``guard --remove`` takes both away again; other
settings in ``pip.conf`` are left as they were.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import UsageError
from lockdown.fsutil import atomic_write

if TYPE_CHECKING:
    import configparser

CONSTRAINTS = "lockdown-constraints.txt"
PIP_CONF = "pip.conf"
SECTION = "install"
HEADER = (
    "# [install] constraint was set by `lockdown guard`; `lockdown guard --remove` undoes it.\n"
)


def constraints_path(venv: Path) -> Path:
    """Where the guard's constraints file lives."""
    return venv / CONSTRAINTS


def _read_conf(path: Path) -> configparser.ConfigParser:
    import configparser  # noqa: PLC0415 - `check` asks is_guarded on every run; rarely needed

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except FileNotFoundError:
        pass
    except (configparser.Error, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"{path}: cannot read pip configuration: {first}") from None
    return parser


def _render(parser: configparser.ConfigParser) -> bytes:
    out = io.StringIO()
    parser.write(out)
    return (HEADER + out.getvalue()).encode("utf-8")


def is_guarded(venv: Path) -> bool:
    """Whether the venv's pip.conf points at the guard's constraints file."""
    if not constraints_path(venv).is_file():
        return False  # the cron path: no guard, no pip.conf to parse
    parser = _read_conf(venv / PIP_CONF)
    value = parser.get(SECTION, "constraint", fallback=None)
    return value is not None and Path(value) == constraints_path(venv)


def install_guard(
    venv: Path,
    lock_path: Path,
    *,
    extras: Collection[str] = (),
    groups: Collection[str] | None = None,
) -> Path:
    """Pin pip in ``venv`` to the lock; return the constraints file."""
    from lockdown.env.python_env import inspect_interpreter, venv_python  # noqa: PLC0415
    from lockdown.lock.export import Selection, render_export  # noqa: PLC0415
    from lockdown.lock.pylock import read_lock  # noqa: PLC0415

    python = venv_python(venv)
    if not python.exists():
        raise UsageError(f"{venv} is not a virtual environment (no {python})")
    lock = read_lock(lock_path)
    target = inspect_interpreter(python)
    text = render_export(
        lock, Selection(environment=target.environment, extras=extras, groups=groups), "constraints"
    )
    conf_path = venv / PIP_CONF
    parser = _read_conf(conf_path)
    existing = parser.get(SECTION, "constraint", fallback=None)
    if existing is not None and Path(existing) != constraints_path(venv):
        raise UsageError(
            f"{conf_path} already sets [install] constraint = {existing}",
            hint="remove it first; lockdown guard does not overwrite your settings",
        )
    # Constraints first, so pip.conf never points at a file that is not there.
    atomic_write(constraints_path(venv), text.encode("utf-8"))
    if not parser.has_section(SECTION):
        parser.add_section(SECTION)
    parser.set(SECTION, "constraint", str(constraints_path(venv)))
    atomic_write(conf_path, _render(parser))
    return constraints_path(venv)


def remove_guard(venv: Path) -> bool:
    """Undo :func:`install_guard`; return whether there was a guard to remove."""
    conf_path = venv / PIP_CONF
    parser = _read_conf(conf_path)
    value = parser.get(SECTION, "constraint", fallback=None)
    removed = False
    if value is not None and Path(value) == constraints_path(venv):
        parser.remove_option(SECTION, "constraint")
        if not parser.options(SECTION):
            parser.remove_section(SECTION)
        if parser.sections() or parser.defaults():
            out = io.StringIO()
            parser.write(out)
            atomic_write(conf_path, out.getvalue().encode("utf-8"))
        else:
            conf_path.unlink()
        removed = True
    with contextlib.suppress(FileNotFoundError):
        constraints_path(venv).unlink()
        removed = True
    return removed
