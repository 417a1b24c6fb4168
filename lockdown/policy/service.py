"""``lockdown approve``, ``lockdown diff`` and ``lockdown init``: the steps behind each.

Each writes at most one file, atomically, and only after everything it will
write has been checked; a refusal leaves every file as it was.
"""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from lockdown.config import PYPROJECT, STANDALONE, Config, load_config, parse_config
from lockdown.config.fields import parse_duration
from lockdown.config.policy import Policy
from lockdown.errors import ConfigError, InputError, LockFileError, UsageError
from lockdown.lock.pylock import LockFile, parse_lock_bytes, read_lock
from lockdown.policy.approvals import Approval, append_approval, parse_target, read_approvals
from lockdown.policy.changes import states_from_lock
from lockdown.policy.gate import GateResult, judge
from lockdown.policy.origins import OriginResult, shadows_in_lock, with_origins

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current moment, in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def approve(
    project_dir: Path,
    target: str,
    *,
    reason: str,
    by: str | None = None,
    expires: str = "30d",
    clock: Clock = utc_now,
) -> tuple[Path, Approval]:
    """Record an approval for ``target`` (``name==version``) in the project's approvals file."""
    name, specifier = parse_target(target)
    if not reason.strip():
        raise UsageError("an approval needs a reason", hint='pass --reason "why this version"')
    now = clock()
    if expires == "never":
        until = None
    else:
        try:
            until = now + parse_duration(expires)
        except UsageError as exc:
            raise UsageError(f"--expires: {exc.message}", hint=exc.hint) from None
        if until <= now:
            raise UsageError("--expires must be in the future", hint="e.g. --expires 14d")
    config, _ = load_config(project_dir)
    approval = Approval(
        package=name,
        version=specifier,
        reason=reason.strip(),
        approved_by=(by or _who()).strip(),
        approved_at=now,
        expires=until,
    )
    if not approval.approved_by:
        raise UsageError("an approval needs an approver", hint="pass --by NAME")
    append_approval(config.approvals_path, approval)
    return config.approvals_path, approval


def _who() -> str:
    """The approver by default: git's user.email, else the login name."""
    try:
        proc = subprocess.run(
            ["git", "config", "user.email"], capture_output=True, text=True, check=False
        )
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip()
    except OSError:
        pass
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def diff(
    project_dir: Path,
    *,
    old: Path | None = None,
    new: Path | None = None,
    base: str | None = None,
    clock: Clock = utc_now,
    notify: Callable[[str], None] | None = None,
) -> GateResult:
    """Judge the change from ``old`` (or the lock at git revision ``base``) to ``new``.

    Offline: the approvals come from the project, the cooldown's cutoff from
    the new lock (never later than ``now - min-release-age``); yanks are
    judged when ``lock`` runs, since only the index knows them. The policy is
    the project's — except with ``base``, where it is the policy as it was at
    ``base`` when there was one: a change cannot relax the gate that judges it
    (``notify`` hears when the two differ). Known vulnerabilities of the new
    and changed versions are judged from ``[tool.lockdown.audit] db`` (or the
    API answers already cached), offline too.
    """
    if (old is None) == (base is None):
        raise UsageError("give the old lock as a file or as --base REV (one of them)")
    config = _optional_config(project_dir)
    policy = config.policy if config is not None else Policy()
    new_path = new or (config.output_path if config else project_dir / "pylock.toml")
    new_lock = read_lock(new_path)
    old_lock = read_lock(old) if old is not None else _lock_at(base or "", new_path)
    if base is not None:
        before = _policy_at(base, project_dir)
        if before is not None:
            if before != policy and notify is not None:
                notify(
                    f"the policy differs from the one at {base}; judged by the policy at {base} "
                    "(a change cannot relax the gate that judges it)"
                )
            policy = before
    approvals = read_approvals(config.approvals_path) if config is not None else []
    now = clock()
    cutoff = None
    if policy.min_release_age is not None:
        cutoff = now - policy.min_release_age
        recorded = new_lock.tool.get("cooldown-cutoff")
        if isinstance(recorded, datetime) and recorded.tzinfo is not None:
            cutoff = min(cutoff, recorded.astimezone(timezone.utc))
    new_states = states_from_lock(new_lock)
    result = judge(
        states_from_lock(old_lock) if old_lock is not None else None,
        new_states,
        policy=policy,
        approvals=approvals,
        now=now,
        cutoff=cutoff,
    )
    # The shadows the new lock recorded (asking the indexes is lock's job, not diff's).
    recorded = new_lock.tool.get("sources")
    shadows = shadows_in_lock(new_states, recorded if isinstance(recorded, dict) else {})
    result = with_origins(result, OriginResult(verdicts=(), shadows=shadows))
    # Known vulnerabilities of the new and changed versions, offline (lockdown.policy.advisories).
    from lockdown.policy.advisories import packages_of, vulnerability_gate  # noqa: PLC0415

    result, vulnerabilities = vulnerability_gate(
        result,
        packages_of(new_states),
        policy=policy,
        settings=config.audit if config is not None else None,
        approvals=approvals,
        now=now,
        notify=notify,
        offline=True,
    )
    if notify is not None and vulnerabilities.database is not None:
        notify(vulnerabilities.line(now))
    return result


def _optional_config(project_dir: Path) -> Config | None:
    if not (project_dir / PYPROJECT).is_file() and not (project_dir / STANDALONE).is_file():
        return None
    return load_config(project_dir)[0]


def _git_show(revision: str, path: Path) -> bytes | None:
    """``path`` as it is at git ``revision``; ``None`` when it did not exist there."""
    where = f"{revision}:{path.name}"
    try:
        proc = subprocess.run(
            ["git", "show", f"{revision}:./{path.name}"],
            cwd=path.parent,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise UsageError(f"cannot run git to read {where}: {exc.strerror}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = message[-1] if message else "git show failed"
        if "exists on disk, but not in" in first or "does not exist in" in first:
            return None
        raise UsageError(f"cannot read {where}: {first}", hint="fetch the revision first")
    return proc.stdout


def _lock_at(revision: str, path: Path) -> LockFile | None:
    """The lock as it is at git ``revision``; ``None`` (a first lock) when it did not exist."""
    data = _git_show(revision, path)
    if data is None:
        return None
    where = f"{revision}:{path.name}"
    try:
        raw, model = parse_lock_bytes(data, Path(where))
    except LockFileError as exc:
        raise LockFileError(f"the lock at {revision}: {exc.message}") from None
    return LockFile(path=Path(where), data=data, raw=raw, pylock=model)


def _policy_at(revision: str, project_dir: Path) -> Policy | None:
    """The upgrade policy as the project's settings had it at ``revision``, if they existed."""
    from lockdown._compat import tomllib  # noqa: PLC0415

    for name in (STANDALONE, PYPROJECT):
        data = _git_show(revision, project_dir / name)
        if data is None:
            continue
        where = f"{revision}:{name}"
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
            raise ConfigError(f"{where}: cannot read the settings: {exc}") from None
        if name == PYPROJECT:
            tool = document.get("tool")
            table = tool.get("lockdown") if isinstance(tool, dict) else None
            if table is None:
                return None
        else:
            table = document
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: tool.lockdown must be a table")
        return parse_config(table, source=Path(where), project_dir=project_dir, where=where).policy
    return None


#: The template's environments block: from this line to the first ``# ]``.
_ENVIRONMENTS_BLOCK = "# The platforms the lock covers"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedEnvironments:
    """What a lock of the project would serve of the default environments."""

    served: tuple[str, ...]
    #: One line per environment dropped or narrowed, saying why.
    reasons: tuple[str, ...]


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
