"""``lockdown lock``, ``lock --check``, ``lock --conda`` (the steps: :mod:`lockdown.lock.run`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import (
    EXIT_CHANGED,
    EXIT_OK,
    UsageError,
)
from lockdown.progress import Reporter
from lockdown.report.gate_summary import write_blocked, write_vulnerability_line

if TYPE_CHECKING:
    from argparse import Namespace as Args


def run(args: Args, reporter: Reporter) -> int:
    """``lockdown lock`` from its parsed arguments: lock (or check), then say what happened."""
    from lockdown.lock.run import check_lock, lock_project  # noqa: PLC0415

    if args.check:
        outcome = check_lock(args.project, resolver=args.resolver)
        if outcome.current:
            if not args.quiet:
                print(f"{outcome.path.name} is up to date")
            return EXIT_OK
        print(f"lockdown: {outcome.reason}; run lockdown lock", file=sys.stderr)
        return EXIT_CHANGED
    if args.upgrade and args.upgrade_package:
        raise UsageError("--upgrade and --upgrade-package cannot be used together")
    if args.conda is not None:
        return _lock_conda(args, reporter)
    result = lock_project(
        args.project,
        resolver=args.resolver,
        reporter=reporter,
        cache_dir=args.cache_dir,
        verify_artifacts=args.verify_artifacts,
        upgrade=args.upgrade,
        upgrade_packages=args.upgrade_package or (),
    )
    from lockdown.policy.render import render_text  # noqa: PLC0415

    if result.blocked:
        write_vulnerability_line(result.vulnerabilities, sys.stderr)
        return write_blocked(result.gate, result.path)
    if not args.quiet:
        from lockdown.policy.render import render_findings  # noqa: PLC0415
        from lockdown.report.lock_summary import summarize  # noqa: PLC0415

        print(summarize(result))
        if result.gate.changes or result.gate.verdicts:
            # A first lock has no changes, but may have admitted verdicts (a known
            # vulnerability admitted by an approval, an ignore or vulnerable = "warn").
            print("changes:" if result.gate.changes else "admitted:")
            sys.stdout.write(render_text(result.gate))
        elif result.gate.findings:
            print("\n".join(render_findings(result.gate)))
    return EXIT_OK


def _lock_conda(args: Args, reporter: Reporter) -> int:
    from lockdown.conda.lock import lock_conda  # noqa: PLC0415

    if args.check or args.resolver:
        raise UsageError(
            "--conda locks with py-rattler; --check and --resolver apply to Python locks only"
        )
    environment = Path(args.project) / args.conda if args.conda else None
    with reporter.status("solving the conda environment"):
        outcome = lock_conda(
            Path(args.project),
            environment_file=environment,
            upgrade=args.upgrade,
            upgrade_packages=args.upgrade_package or (),
            reporter=reporter,
        )
    from lockdown.policy.render import render_text  # noqa: PLC0415

    if outcome.blocked:
        write_vulnerability_line(outcome.vulnerabilities, sys.stderr)
        return write_blocked(outcome.gate, outcome.path)
    if not args.quiet:
        names = {p.name for p in outcome.packages}
        print(
            f"locked {len(names)} conda packages ({len(outcome.packages)} archives, md5 and "
            f"sha256 pinned) for {', '.join(outcome.platforms)} -> {outcome.path.name} "
            f"({'updated' if outcome.changed else 'unchanged'})"
        )
        write_vulnerability_line(outcome.vulnerabilities, sys.stdout, always=True)
        if outcome.gate.changes or outcome.gate.verdicts:
            # A first lock has no changes, but may have admitted verdicts (a known
            # vulnerability admitted by an approval, an ignore or vulnerable = "warn").
            print("changes:" if outcome.gate.changes else "admitted:")
            sys.stdout.write(render_text(outcome.gate))
    return EXIT_OK
