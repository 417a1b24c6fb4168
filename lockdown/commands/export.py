"""``lockdown export``: the lock as requirements, constraints, or an SBOM (CycloneDX, SPDX)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.commands._lockfile import find_lock
from lockdown.errors import UsageError
from lockdown.progress import Reporter
from lockdown.report.results import Exported

if TYPE_CHECKING:
    from argparse import Namespace as Args


def run(args: Args, reporter: Reporter) -> Exported:
    """``lockdown export`` from its parsed arguments: the lock rendered, for stdout or a file."""
    from lockdown.lock.export import Selection  # noqa: PLC0415

    sbom = args.format in ("cyclonedx", "spdx")
    if args.platform is not None and not sbom:
        raise UsageError("--platform selects a conda lock's platform for --format cyclonedx|spdx")
    if sbom:
        # Said before anything is read, so a missing extra is the one line the user sees.
        from lockdown.report.sbom import require_sbom  # noqa: PLC0415

        require_sbom(args.format)
    path = _export_path(args)
    selection = None
    if not sbom or args.python is not None or args.extra or args.group:
        selection = Selection(
            environment=_marker_environment(args.python),
            extras=args.extra or (),
            groups=args.group or None,
        )
    if sbom:
        from lockdown.fsutil import default_cache_dir  # noqa: PLC0415
        from lockdown.lock.export import sbom_inventory  # noqa: PLC0415
        from lockdown.report.sbom import render_sbom  # noqa: PLC0415

        inventory = sbom_inventory(
            path, selection=selection, platform=args.platform, cache_root=default_cache_dir()
        )
        data = render_sbom(inventory, args.format)
        unread = [c for c in inventory.components if not c.metadata_read]
        if unread and inventory.licenses_from == "lock":
            reporter.note(
                f"no license for {len(unread)} of {len(inventory.components)} packages: the "
                "lock records none for them (their index declares no core metadata file for "
                "their wheels, or they have only sdists)"
            )
        elif unread:
            reporter.note(
                f"no license for {len(unread)} of {len(inventory.components)} packages: the "
                "lock records no licenses, and none of their files is in the artifact cache "
                "(lockdown install fetches them; lockdown lock records licenses), or they "
                "have only sdists"
            )
    else:
        from lockdown.lock.export import render_export  # noqa: PLC0415
        from lockdown.lock.pylock import read_lock  # noqa: PLC0415

        assert selection is not None  # noqa: S101 - always chosen for a requirements export
        data = render_export(read_lock(path), selection, args.format).encode("utf-8")
    return Exported(data=data, output=args.output)


def _export_path(args: Args) -> Path:
    """``--lock``, else the project's conda lock for ``--platform``, else its configured lock."""
    if args.lock is not None or args.platform is not None:
        # For --platform, the project's conda-lock.yml by its default name, as before.
        return find_lock(args.project, None, given=args.lock, kind="conda")
    from lockdown.config import load_config  # noqa: PLC0415

    config, _ = load_config(args.project)
    return find_lock(args.project, config)


def _marker_environment(python: str | None) -> dict[str, str]:
    """The PEP 508 environment of ``python`` (an interpreter path), or of this one."""
    if python is not None:
        from lockdown.env.python_env import inspect_interpreter  # noqa: PLC0415

        return dict(inspect_interpreter(python).environment)
    from packaging.markers import default_environment  # noqa: PLC0415

    return {str(k): str(v) for k, v in default_environment().items()}
