"""``lockdown init``: write the starter ``[tool.lockdown]`` (or ``lockdown.toml``).

It writes one file, atomically, and only after the settings it writes load as
``lock`` will read them; it never overwrites settings.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.config import PYPROJECT, STANDALONE, parse_config
from lockdown.errors import (
    ConfigError,
    InputError,
    UsageError,
)
from lockdown.progress import Reporter
from lockdown.report.results import SettingsWritten
from lockdown.resolve.platforms import PlannedEnvironments

if TYPE_CHECKING:
    from argparse import Namespace as Args

#: The template's environments block: from this line to the first ``# ]``.
_ENVIRONMENTS_BLOCK = "# The platforms the lock covers"


def environments_block(coverage: PlannedEnvironments) -> str:
    """``environments`` as ``init`` writes it for a project it checked, with the reasons."""
    lines = [
        "# The platforms the lock covers, as PEP 508 markers; the Python versions come",
        "# from requires-python. lockdown init tried its defaults (Linux, macOS and",
        "# Windows, each on x86_64 and arm64) against this project's packages:",
    ]
    if coverage.reasons:
        lines += [f"#   {reason}" for reason in coverage.reasons]
    else:
        lines.append("#   all of them serve it.")
    lines += [
        "# Listed, each one must be served (lockdown lock fails otherwise). Remove the",
        "# key to let lockdown choose among the defaults on every lock.",
        "environments = [",
        *(f'    "{e}",' for e in coverage.served),
        "]",
    ]
    return "\n".join(lines) + "\n"


def starter_config(*, standalone: bool, environments: PlannedEnvironments | None = None) -> str:
    """The starter settings, in ``pyproject.toml`` form or as a standalone ``lockdown.toml``.

    With ``environments`` (what a lock of the project would serve), they are
    written out with the reasons; without, the defaults stay a comment.
    """
    text = resources.files("lockdown").joinpath("templates/init.toml").read_text("utf-8")
    if environments is not None:
        start = text.index(_ENVIRONMENTS_BLOCK)
        end = text.index("# ]\n", start) + len("# ]\n")
        text = text[:start] + environments_block(environments) + text[end:]
    if not standalone:
        return text
    # lockdown.toml holds the same keys at its top level.
    text = text.replace("[tool.lockdown]\n", "").replace("[tool.lockdown.", "[")
    return text.lstrip("\n")


def init(
    project_dir: Path,
    *,
    standalone: bool = False,
    plan_environments: Callable[[Path], PlannedEnvironments | None] | None = None,
) -> Path:
    """Write the starter ``[tool.lockdown]`` (or ``lockdown.toml``); never overwrite settings.

    ``plan_environments`` says which default environments a lock of the
    project would serve (it resolves); it is asked only once nothing else
    stands in the way, and for a ``pyproject.toml`` project only.
    """
    import tomlkit  # noqa: PLC0415
    from tomlkit.exceptions import TOMLKitError  # noqa: PLC0415

    from lockdown.fsutil import atomic_write  # noqa: PLC0415

    standalone_path = project_dir / STANDALONE
    pyproject_path = project_dir / PYPROJECT
    if standalone_path.exists():
        raise UsageError(f"{standalone_path} already exists; nothing was changed")
    if standalone:
        text = starter_config(standalone=True)
        from lockdown._compat import tomllib  # noqa: PLC0415

        parse_config(
            tomllib.loads(text), source=standalone_path, project_dir=project_dir, where=STANDALONE
        )
        atomic_write(standalone_path, text.encode("utf-8"), overwrite=False)
        return standalone_path
    if not pyproject_path.is_file():
        raise InputError(
            f"no {PYPROJECT} in {project_dir}",
            hint="run lockdown init in the project, or use --standalone for a lockdown.toml",
        )
    current = pyproject_path.read_text(encoding="utf-8")
    try:
        doc = tomlkit.parse(current)
    except TOMLKitError as exc:
        raise InputError(f"{pyproject_path}: invalid TOML: {exc}") from None
    tool = doc.get("tool")
    if isinstance(tool, dict) and "lockdown" in tool:
        raise ConfigError(
            f"{pyproject_path} already has [tool.lockdown]; nothing was changed",
            hint="edit it, or remove it first to start from the template",
        )
    updated = current + ("" if current.endswith("\n") or not current else "\n")
    planned = plan_environments(project_dir) if plan_environments is not None else None
    updated += starter_config(standalone=False, environments=planned)
    try:
        merged = tomlkit.parse(updated)
    except TOMLKitError as exc:
        raise InputError(
            f"{pyproject_path}: cannot add [tool.lockdown] to this file: {exc}",
            hint="add the settings by hand, or use --standalone",
        ) from None
    # The settings written must load exactly as `lock` will read them.
    parse_config(
        merged.unwrap()["tool"]["lockdown"], source=pyproject_path, project_dir=project_dir
    )
    atomic_write(pyproject_path, updated.encode("utf-8"))
    return pyproject_path


def run(args: Args, reporter: Reporter) -> SettingsWritten:
    """``lockdown init`` from its parsed arguments: write the starter settings."""
    from lockdown.commands.lock import plan_environments  # noqa: PLC0415

    path = init(
        args.project,
        standalone=args.standalone,
        plan_environments=lambda project: plan_environments(project, reporter),
    )
    return SettingsWritten(path=path, standalone=args.standalone)
