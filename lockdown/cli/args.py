"""The ``lockdown`` command line's grammar: every command's arguments, built with argparse.

Kept apart from :mod:`lockdown.cli` (the dispatcher) so that a run whose
arguments :func:`lockdown.cli.fast.fast_check_args` can read exactly — ``check``
from cron — never imports argparse. Each command's parser is built only when
that command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from lockdown import __version__
from lockdown.errors import UsageError


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help with descriptions and examples kept as written, sized to the terminal.

    argparse's own formatter imports :mod:`shutil` just to ask for the terminal
    width, and argparse makes one while parsing; the width is asked here
    directly, so ``check`` from cron does not pay for ``shutil``'s imports.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    """``$COLUMNS``, else the terminal's width, else 80 (what shutil would answer)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exit 64, in lockdown's one-line style."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"see {self.prog} --help")


def _common() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--project",
        type=Path,
        default=Path.cwd(),
        metavar="DIR",
        help="the project directory (default: the current directory)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="tracebacks on errors")
    common.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    return common


def _selection_args(parser: argparse.ArgumentParser, verb: str) -> None:
    """``--extra`` / ``--group``: which of the lock's extras and dependency groups apply."""
    parser.add_argument("--extra", action="append", metavar="NAME", help=f"{verb} an extra")
    parser.add_argument(
        "--group", action="append", metavar="NAME", help=f"{verb} a dependency group"
    )


def _add_lock(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``lock`` command's arguments."""
    lock = sub.add_parser(
        "lock",
        parents=[common],
        help="resolve the project into a hashed PEP 751 pylock.toml",
        description="Resolve pyproject.toml (or lockdown.toml) into pylock.toml: every "
        "artifact pinned by URL, size and sha256, for every configured environment.",
        epilog="examples:\n  lockdown lock\n  lockdown lock --check   "
        "# exit 1 if pylock.toml is stale (no network)\n"
        "  lockdown lock --upgrade-package requests\n"
        "  lockdown lock --resolver pip-tools\n"
        "exit 3: a change is blocked by [tool.lockdown.policy]; pylock.toml is unchanged",
    )
    lock.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if the lock is current with its inputs, 1 if not; never resolves",
    )
    lock.add_argument(
        "--resolver", choices=("uv", "pip-tools"), help="override the configured resolver"
    )
    lock.add_argument(
        "--conda",
        nargs="?",
        const="",
        metavar="ENVIRONMENT_YML",
        help="lock the conda environment (environment.yml and/or [tool.lockdown.conda]) "
        "into conda-lock.yml",
    )
    lock.add_argument(
        "--upgrade",
        action="store_true",
        help="let every package move (default: keep locked versions while they still fit)",
    )
    lock.add_argument(
        "--upgrade-package",
        action="append",
        metavar="NAME",
        help="let this package move (repeatable); the others keep their locked versions",
    )
    lock.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="the content-addressed artifact cache (default: $LOCKDOWN_CACHE_DIR or the "
        "user cache dir)",
    )
    lock.add_argument(
        "--verify-artifacts",
        choices=("host", "all"),
        default=None,
        help="also download and hash artifacts at lock time: what this machine would "
        "install (host) or every pinned file (all); by default the index's digests are "
        "pinned as declared and install verifies every byte",
    )


def _add_export(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``export`` command's arguments."""
    export = sub.add_parser(
        "export",
        parents=[common],
        help="write the lock as requirements.txt (with hashes), constraints, or an SBOM",
        description="Export the packages of the lock that apply to one environment "
        "(default: the running interpreter) as a pip requirements file with "
        "--hash lines, or as a constraints file; or the lock (pylock.toml or "
        "conda-lock.yml) as a CycloneDX 1.6 or SPDX 2.3 JSON SBOM: the whole lock, "
        "or one environment with --python/--extra/--group (or --platform for conda).",
        epilog="examples:\n  lockdown export --format requirements > requirements.txt\n"
        "  pip install --require-hashes -r requirements.txt\n"
        "  lockdown export --format constraints --python /usr/bin/python3.12 -o c.txt\n"
        "  lockdown export --format cyclonedx -o sbom.cdx.json\n"
        "  lockdown export --format spdx --lock conda-lock.yml --platform linux-64 -o sbom.json",
    )
    export.add_argument(
        "--format",
        choices=("requirements", "constraints", "cyclonedx", "spdx"),
        default="requirements",
    )
    export.add_argument("--lock", type=Path, metavar="FILE", help="the lock file to export")
    export.add_argument(
        "--python", metavar="EXE", help="export for this interpreter's platform and version"
    )
    export.add_argument(
        "--platform",
        metavar="SUBDIR",
        help="SBOM of one platform of a conda lock (linux-64, osx-arm64...)",
    )
    _selection_args(export, "include")
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here (default: stdout)"
    )


def _add_keygen(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``keygen`` command's arguments."""
    keygen = sub.add_parser(
        "keygen",
        parents=[common],
        help="create an ECDSA P-256 key pair for signing without Sigstore",
        description="Write KEYFILE (private key, encrypted with a passphrase from "
        "$LOCKDOWN_KEY_PASSWORD or a prompt; mode 0600) and KEYFILE's .pub (public key).",
        epilog="examples:\n  lockdown keygen release.key      # -> release.key + release.pub\n"
        "  LOCKDOWN_KEY_PASSWORD=... lockdown keygen keys/site.key",
    )
    keygen.add_argument("keyfile", type=Path, metavar="KEYFILE")


def _add_sign(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``sign`` command's arguments."""
    sign = sub.add_parser(
        "sign",
        parents=[common],
        help="sign a lock file (Sigstore keyless, or --key) -> FILE.sigstore.json",
        description="Sign FILE (default: the project's pylock.toml) and write a Sigstore "
        "bundle next to it. Without --key: keyless, with the ambient CI identity (GitHub "
        "Actions, GitLab, Buildkite, ...), --identity-token, $SIGSTORE_ID_TOKEN, or a "
        "browser on a terminal.",
        epilog="examples:\n  lockdown sign                       # in CI: keyless\n"
        "  lockdown sign --key release.key     # air-gapped sites\n"
        "  lockdown sign conda-lock.yml",
    )
    sign.add_argument("file", nargs="?", metavar="FILE", help="the file to sign")
    sign.add_argument("--key", type=Path, metavar="KEYFILE", help="sign with this private key")
    sign.add_argument("--identity-token", metavar="TOKEN", help="OIDC identity token (keyless)")
    sign.add_argument("--staging", action="store_true", help="use Sigstore's staging instance")
    sign.add_argument("--trust-config", type=Path, metavar="FILE", help="a private Sigstore")
    sign.add_argument("--bundle", type=Path, metavar="FILE", help="write the bundle here")


def _add_verify(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``verify`` command's arguments."""
    verify = sub.add_parser(
        "verify",
        parents=[common],
        help="verify a lock file's signature (offline) and what the lock pins",
        description="Verify FILE (default: the project's pylock.toml) against its "
        "FILE.sigstore.json bundle and the trust policy in [tool.lockdown.trust] (or the "
        "signers given as flags, which replace it). Never touches the network unless "
        "--online. A lock (pylock*.toml, conda-lock*.yml, the project's configured locks, or "
        "FILE with --as-lock) is also checked: every artifact pinned by sha256, over https.",
        epilog="examples:\n  lockdown verify\n"
        "  lockdown verify --identity https://github.com/acme/svc/.github/workflows/"
        "lock.yml@refs/heads/main \\\n"
        "                  --issuer https://token.actions.githubusercontent.com\n"
        "  lockdown verify --key release.pub\n"
        "  lockdown verify --provenance   # also re-check every file's PEP 740 publisher",
    )
    verify.add_argument("file", nargs="?", metavar="FILE", help="the file to verify")
    verify.add_argument("--bundle", type=Path, metavar="FILE", help="the bundle to check")
    verify.add_argument("--identity", action="append", metavar="I", help="accepted identity")
    verify.add_argument(
        "--identity-regex", action="append", metavar="RE", help="accepted identity (regex)"
    )
    verify.add_argument("--issuer", metavar="URL", help="the identity's OIDC issuer")
    verify.add_argument(
        "--key", action="append", type=Path, metavar="PUB", help="accepted public key"
    )
    verify.add_argument("--staging", action="store_true", help="Sigstore's staging instance")
    verify.add_argument(
        "--trusted-root", type=Path, metavar="FILE", help="a private Sigstore's trusted root"
    )
    verify.add_argument(
        "--trust-config", type=Path, metavar="FILE", help="a private Sigstore's trust config"
    )
    verify.add_argument(
        "--online", action="store_true", help="refresh Sigstore's trusted root over TUF"
    )
    verify.add_argument(
        "--provenance",
        action="store_true",
        help="also fetch each attested file's PEP 740 provenance from its index (network) and "
        "check it against the pinned sha256 and the lock's attestation-identities",
    )
    verify.add_argument(
        "--as-lock",
        action="store_true",
        help="check FILE as a lock whatever its name (.yml/.yaml: conda-lock, else PEP 751)",
    )


def _add_install(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``install`` command's arguments."""
    install = sub.add_parser(
        "install",
        parents=[common],
        help="make a venv match the lock exactly (verify everything first)",
        description="Create or sync a virtual environment to the lock: select one artifact "
        "per package for the target interpreter, download and verify ALL of them (sha256 and "
        "size) before changing anything, install them with no index access, remove what the "
        "lock does not list.",
        epilog="examples:\n  lockdown install --venv /srv/app/.venv\n"
        "  lockdown install --python /usr/bin/python3.11 --venv .venv --dry-run\n"
        "  lockdown install --venv .venv --extra postgres --require-signature\n"
        "  lockdown install --venv .venv --level artifacts   # also repair edited files",
    )
    install.add_argument("--venv", type=Path, metavar="DIR", help="the venv (created if missing)")
    install.add_argument("--python", metavar="EXE", help="the interpreter (for a new venv)")
    install.add_argument(
        "--prefix", type=Path, metavar="DIR", help="a conda environment (from conda-lock.yml)"
    )
    install.add_argument("--lock", type=Path, metavar="FILE", help="the lock to install")
    _selection_args(install, "install")
    install.add_argument(
        "--dry-run", action="store_true", help="print the plan; exit 1 if it would change"
    )
    install.add_argument(
        "--require-signature", action="store_true", help="refuse a lock whose signature fails"
    )
    install.add_argument(
        "--allow-build", action="store_true", help="build sdists when there is no wheel"
    )
    install.add_argument("--installer", choices=("uv", "pip"), help="what applies the files")
    install.add_argument(
        "--level",
        choices=("versions", "files", "artifacts"),
        default="versions",
        help="also reinstall packages whose files `check --level` finds drifted",
    )
    install.add_argument("--cache-dir", type=Path, metavar="DIR", help="the artifact cache")
    install.add_argument(
        "--insecure-no-verify-provenance",
        action="store_true",
        help="do not re-check the PEP 740 publishers the lock records before installing",
    )


def _add_check(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``check`` command's arguments."""
    check = sub.add_parser(
        "check",
        parents=[common],
        help="compare an installed environment with its lock (drift check)",
        description="Compare a venv (or interpreter) with the lock: packages (versions "
        "level), every installed file against its RECORD (files), or against the RECORD "
        "inside the locked, hash-verified wheel (artifacts). Exit code: 0 in sync, else a "
        "bitmask: 1 unexpected, 2 missing, 4 changed version or source, 8 modified files, "
        "32 (--audit) a known-vulnerable or malicious version installed.",
        epilog="examples:\n  lockdown check --venv /srv/app/.venv\n"
        "  lockdown check --python /srv/app/.venv/bin/python --level files\n"
        "  lockdown check --venv /srv/app/.venv --format prometheus \\\n"
        "      --output /var/lib/node_exporter/textfile_collector/lockdown.prom\n"
        "  lockdown check --venv /srv/app/.venv --format json | jq .\n"
        "  lockdown check --venv /srv/app/.venv --audit --db /srv/advisories",
    )
    check.add_argument("--venv", type=Path, metavar="DIR", help="the venv to check")
    check.add_argument("--python", metavar="EXE", help="the interpreter to check")
    check.add_argument(
        "--prefix", type=Path, metavar="DIR", help="a conda environment (against conda-lock.yml)"
    )
    check.add_argument("--lock", type=Path, metavar="FILE", help="the lock to compare with")
    check.add_argument("--level", choices=("versions", "files", "artifacts"), default="versions")
    check.add_argument("--format", choices=("text", "json", "prometheus", "junit"), default="text")
    check.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report here")
    _selection_args(check, "expect")
    check.add_argument(
        "--require-signature", action="store_true", help="refuse a lock that does not verify"
    )
    check.add_argument("--cache-dir", type=Path, metavar="DIR", help="the artifact cache")
    check.add_argument(
        "--audit",
        action="store_true",
        help="also audit the installed versions against the advisories of "
        "[tool.lockdown.audit] (exit bit 32: a known-vulnerable or malicious version)",
    )
    check.add_argument(
        "--db", type=Path, metavar="PATH", help="with --audit: this OSV database (implies --audit)"
    )


def _add_audit(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``audit`` command's arguments."""
    from lockdown.config.audit import DEFAULT_API_URL  # noqa: PLC0415

    audit = sub.add_parser(
        "audit",
        parents=[common],
        help="known vulnerabilities and malicious packages in a lock or an environment",
        description="Match every pinned (or installed) name and version against OSV "
        "advisories: a local database (--db: a directory of OSV files or an OSV export zip, "
        "offline), the OSV API (--api-url) or the configured [tool.lockdown.audit] source. "
        "Says which database it used and how old it is. Exit code: 0 nothing found, "
        "1 a finding that is not ignored, 70 no usable database (missing, empty, too old).",
        epilog="examples:\n  lockdown audit --db /srv/advisories\n"
        "  lockdown audit --venv /srv/app/.venv --db osv-pypi.zip --max-db-age 7d\n"
        "  lockdown audit --lock conda-lock.yml --format sarif -o audit.sarif",
    )
    target = audit.add_mutually_exclusive_group()
    target.add_argument("--lock", type=Path, metavar="FILE", help="the lock to audit")
    target.add_argument("--venv", type=Path, metavar="DIR", help="a venv to audit")
    target.add_argument("--python", metavar="EXE", help="an interpreter's environment to audit")
    target.add_argument("--prefix", type=Path, metavar="DIR", help="a conda prefix to audit")
    audit.add_argument(
        "--db", type=Path, metavar="PATH", help="OSV database: a directory or an export zip"
    )
    audit.add_argument(
        "--api-url",
        nargs="?",
        const=DEFAULT_API_URL,
        metavar="URL",
        help=f"ask this OSV API (a mirror; alone: {DEFAULT_API_URL}); answers are cached",
    )
    audit.add_argument(
        "--max-db-age", metavar="AGE", help="refuse a database older than this (7d, 12h)"
    )
    audit.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    audit.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report here")
    audit.add_argument("--cache-dir", type=Path, metavar="DIR", help="where the index is cached")


def _add_guard(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``guard`` command's arguments."""
    guard = sub.add_parser(
        "guard",
        parents=[common],
        help="constrain pip in a venv to the lock's pins",
        description="Write the venv's pip.conf so pip there uses a constraints file made "
        "from the lock: `pip install -U <locked package>` then keeps the locked version and "
        "asking for any other version fails. --remove undoes it.",
        epilog="examples:\n  lockdown guard --venv /srv/app/.venv\n"
        "  lockdown guard --venv /srv/app/.venv --remove",
    )
    guard.add_argument("--venv", type=Path, metavar="DIR", required=True)
    guard.add_argument("--lock", type=Path, metavar="FILE", help="the lock to pin to")
    _selection_args(guard, "pin")
    guard.add_argument(
        "--require-signature", action="store_true", help="refuse a lock that does not verify"
    )
    guard.add_argument("--remove", action="store_true", help="remove the guard")


def _add_init(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``init`` command's arguments."""
    init = sub.add_parser(
        "init",
        parents=[common],
        help="write a starter [tool.lockdown] (environments, trust, policy)",
        description="Add a commented [tool.lockdown] to pyproject.toml (or write lockdown.toml "
        "with --standalone): environments, trust and the upgrade policy. Existing content "
        "is left as it was; existing lockdown settings are never overwritten.",
        epilog="examples:\n  lockdown init\n  lockdown init --standalone",
    )
    init.add_argument(
        "--standalone", action="store_true", help="write lockdown.toml instead of pyproject.toml"
    )


def _add_diff(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``diff`` command's arguments."""
    diff = sub.add_parser(
        "diff",
        parents=[common],
        help="the changes between two locks, judged by policy (exit 3 if any is blocked)",
        description="Compare two locks (or the lock with its version at a git revision) and "
        "judge every change by [tool.lockdown.policy] and the approvals file, offline.",
        epilog="examples:\n  lockdown diff --base origin/main\n"
        "  lockdown diff old/pylock.toml pylock.toml --format markdown",
    )
    diff.add_argument("old", nargs="?", type=Path, help="the old lock (or the new one with --base)")
    diff.add_argument("new", nargs="?", type=Path, help="the new lock (default: the project's)")
    diff.add_argument("--base", metavar="REV", help="the old lock is the one at this git revision")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    diff.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report here")


def _add_approve(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``approve`` command's arguments."""
    approve = sub.add_parser(
        "approve",
        parents=[common],
        help="approve a package version for the upgrade gate",
        description="Add an approval to the approvals file (lockdown-approvals.toml): the "
        "next lock admits matching versions until the approval expires.",
        epilog='examples:\n  lockdown approve urllib3==2.6.0 --reason "CVE-2026-1234 fix"\n'
        '  lockdown approve requests==2.33.0 --reason "needed by #412" --by alice '
        "--expires 14d",
    )
    approve.add_argument("target", metavar="NAME==VERSION", help="the package and version")
    approve.add_argument("--reason", required=True, help="why (recorded, and in the lock)")
    approve.add_argument("--by", help="who approves (default: git user.email, else login name)")
    approve.add_argument(
        "--expires", default="30d", help="how long it counts: 14d, 12h, 2w or never (default 30d)"
    )


#: Each command's name and the function adding its arguments, in ``--help`` order.
_COMMANDS: dict[str, Callable[[Any, argparse.ArgumentParser], None]] = {
    "init": _add_init,
    "lock": _add_lock,
    "diff": _add_diff,
    "approve": _add_approve,
    "export": _add_export,
    "keygen": _add_keygen,
    "sign": _add_sign,
    "verify": _add_verify,
    "install": _add_install,
    "guard": _add_guard,
    "check": _add_check,
    "audit": _add_audit,
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command, or only ``command`` (start-up cost for cron runs).

    The full parser is what ``--help`` and any argv not naming a known command
    get; with ``command`` the other commands' parsers are not built at all.
    """
    common = _common()
    parser = _Parser(
        prog="lockdown",
        description="Hashed, signed lockfiles; exact installs; drift checks; gated upgrades.",
    )
    parser.add_argument("--version", action="version", version=f"lockdown {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, add in _COMMANDS.items():
        if command is None or command not in _COMMANDS or name == command:
            add(sub, common)
    return parser
