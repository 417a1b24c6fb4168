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
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import UsageError
from lockdown.fsutil import atomic_write

if TYPE_CHECKING:
    import configparser

    from lockdown.lock.pylock import LockFile

CONSTRAINTS = "lockdown-constraints.txt"
PIP_CONF = "pip.conf"
SECTION = "install"
HEADER = (
    "# [install] constraint was set by `lockdown guard`; `lockdown guard --remove` undoes it.\n"
)


def constraints_path(venv: Path) -> Path:
    """Where the guard's constraints file lives: an absolute path, as pip.conf must name it.

    pip reads a relative ``constraint`` against its working directory, so a
    relative path would break pip everywhere but where ``guard`` ran.
    """
    return venv.resolve() / CONSTRAINTS


def _ours(value: str | None, venv: Path, *, relative: bool = True) -> bool:
    """Whether a pip.conf ``constraint`` value names this venv's guard file.

    With ``relative``, a relative path to a file of the guard's name counts
    too (pip reads it against its working directory, so it guards nothing
    reliably), so that ``guard`` can replace it and ``--remove`` take it away.
    """
    if value is None:
        return False
    path = Path(value)
    if not path.is_absolute():
        return relative and path.name == CONSTRAINTS
    return path.resolve() == constraints_path(venv)


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
    return _ours(parser.get(SECTION, "constraint", fallback=None), venv, relative=False)


def _other_constraints(python: Path, venv: Path) -> tuple[list[str], bool]:
    """The constraint files pip in ``venv`` already reads, and whether ``PIP_CONSTRAINT`` is set.

    The guard's ``[install] constraint`` in the venv's own pip.conf takes the
    place of a ``constraint`` from the global or user configuration; asked
    here (``pip config list``, in this environment) so the guard's file can
    include them and nothing the user set is silently dropped. No pip in the
    venv: nothing there reads pip.conf, so there is nothing to keep.
    """
    import ast  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    try:
        listed = subprocess.run(
            [str(python), "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return [], False
    if listed.returncode != 0:
        return [], False
    files: set[str] = set()
    from_env = False
    for line in listed.stdout.splitlines():
        key, sep, value = line.partition("=")
        if not sep or not key.endswith(".constraint"):
            continue
        if key == ":env:.constraint":
            from_env = True
            continue
        try:
            text = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            continue
        files.update(item for item in str(text).split() if not _ours(item, venv))
    return sorted(files), from_env


def install_guard(
    venv: Path,
    lock: LockFile,
    *,
    extras: Collection[str] = (),
    groups: Collection[str] | None = None,
    notify: Callable[[str], None] | None = None,
) -> Path:
    """Pin pip in ``venv`` to ``lock`` (read, and verified when required, by the caller).

    Returns the constraints file. ``notify`` hears about constraint files kept
    from pip's other configuration and about a ``PIP_CONSTRAINT`` that would
    override the guard.
    """
    from lockdown.env.python_env import inspect_interpreter, venv_python  # noqa: PLC0415
    from lockdown.lock.export import Selection, render_export  # noqa: PLC0415

    python = venv_python(venv)
    if not python.exists():
        raise UsageError(f"{venv} is not a virtual environment (no {python})")
    target = inspect_interpreter(python)
    text = render_export(
        lock, Selection(environment=target.environment, extras=extras, groups=groups), "constraints"
    )
    conf_path = venv / PIP_CONF
    parser = _read_conf(conf_path)
    existing = parser.get(SECTION, "constraint", fallback=None)
    if existing is not None and not _ours(existing, venv):
        raise UsageError(
            f"{conf_path} already sets [install] constraint = {existing}",
            hint="remove it first; lockdown guard does not overwrite your settings",
        )
    kept, from_env = _other_constraints(python, venv)
    if kept:
        text = "".join(f"-c {file}\n" for file in kept) + text
        if notify is not None:
            notify(
                "kept the constraint files pip's other configuration names, which the "
                f"guard's [install] constraint would otherwise replace: {', '.join(kept)}"
            )
    if from_env and notify is not None:
        notify("PIP_CONSTRAINT is set here: wherever it is set, pip uses it instead of the guard")
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
    removed = False
    if _ours(parser.get(SECTION, "constraint", fallback=None), venv):
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
