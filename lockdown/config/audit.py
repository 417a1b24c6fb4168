"""``[tool.lockdown.audit]`` into typed :class:`AuditSettings`; every key checked.

```toml
[tool.lockdown.audit]
db = "vendor/advisories"          # a directory of OSV files or an export zip (offline)
api-url = "https://osv.internal"  # or: ask this OSV API (a mirror) for new versions
max-db-age = "7 days"             # older than this fails closed

[[tool.lockdown.audit.ignore]]
id = "PYSEC-2023-74"              # or any alias: CVE-…, GHSA-…
reason = "no proxies in production"
expires = 2026-12-31              # through that day (UTC); then the finding returns
package = "requests"              # optional: only for this package
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from lockdown.config.fields import duration, parse_index_url, reject_unknown
from lockdown.errors import ConfigError
from lockdown.names import normalize_name

AUDIT_KEYS = frozenset({"db", "api-url", "max-db-age", "ignore"})
IGNORE_KEYS = frozenset({"id", "reason", "expires", "package"})
#: The public OSV API; a mirror speaking the same API can be configured instead.
DEFAULT_API_URL = "https://api.osv.dev"


@dataclass(frozen=True, slots=True, kw_only=True)
class Ignore:
    """One ``[[tool.lockdown.audit.ignore]]``: an advisory accepted for a while, and why."""

    #: An advisory id or any of its aliases (``PYSEC-…``, ``GHSA-…``, ``CVE-…``).
    id: str
    reason: str
    #: From this moment on the ignore no longer counts (aware, UTC).
    expires: datetime
    #: Only for this package (normalized), or for every package when ``None``.
    package: str | None = None

    def active(self, now: datetime) -> bool:
        """Whether it still counts at ``now``."""
        return now < self.expires


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditSettings:
    """Where advisories come from, how old they may be, and what is accepted until when."""

    #: A local database (absolute, resolved against the project directory).
    db: Path | None = None
    #: An OSV API to ask; ``None`` when not configured.
    api_url: str | None = None
    #: A database older than this is refused (fails closed); ``None``: any age.
    max_db_age: timedelta | None = None
    ignores: tuple[Ignore, ...] = ()

    @property
    def configured(self) -> bool:
        """Whether a database is configured (the lock gate needs one)."""
        return self.db is not None or self.api_url is not None


def parse_audit(
    table: Mapping[str, Any], *, source: Path, project_dir: Path, where: str
) -> AuditSettings:
    """Validate ``[tool.lockdown.audit]``."""
    reject_unknown(table, AUDIT_KEYS, source=source, where=where)
    db_raw = table.get("db")
    db = None
    if db_raw is not None:
        if not isinstance(db_raw, str) or not db_raw:
            raise ConfigError(f"{source}: {where} db must be a path")
        db = (project_dir / db_raw).absolute()
    api = table.get("api-url")
    api_url = None
    if api is not None:
        api_url = parse_index_url(api, f"{where} api-url", source).rstrip("/")
    if db is not None and api_url is not None:
        raise ConfigError(
            f"{source}: {where} has both db and api-url", hint="configure one source of advisories"
        )
    age_raw = table.get("max-db-age")
    max_age = None if age_raw is None else duration(age_raw, f"{where} max-db-age", source)
    raw_ignores = table.get("ignore", [])
    if not isinstance(raw_ignores, list):
        raise ConfigError(f"{source}: {where} ignore must be an array of tables ([[...ignore]])")
    ignores = tuple(
        _ignore(item, source=source, where=f"{where} ignore[{index}]")
        for index, item in enumerate(raw_ignores)
    )
    return AuditSettings(db=db, api_url=api_url, max_db_age=max_age, ignores=ignores)


def _ignore(raw: object, *, source: Path, where: str) -> Ignore:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {where} must be a table")
    reject_unknown(raw, IGNORE_KEYS, source=source, where=where)
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise ConfigError(f"{source}: {where} needs an id (an advisory id or alias)")
    ident = ident.strip()
    if ident.startswith("MAL-"):
        raise ConfigError(
            f"{source}: {where}: {ident} is a malicious-package entry; it cannot be ignored",
            hint="remove the package from the lock instead",
        )
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{source}: {where} ({ident}) needs a reason")
    if "expires" not in raw:
        raise ConfigError(
            f"{source}: {where} ({ident}) needs expires (a date such as 2026-12-31)",
            hint="an ignore must end; renew it when it does",
        )
    package = raw.get("package")
    if package is not None and (not isinstance(package, str) or not package.strip()):
        raise ConfigError(f"{source}: {where} ({ident}) package must be a package name")
    return Ignore(
        id=ident,
        reason=reason.strip(),
        expires=_expiry(raw["expires"], f"{source}: {where} ({ident}) expires"),
        package=normalize_name(package) if package is not None else None,
    )


def _expiry(value: object, where: str) -> datetime:
    """A TOML date (counts through that day, UTC) or date-time (exact; local means UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1), time(0), tzinfo=timezone.utc)
    raise ConfigError(f"{where} must be a TOML date such as 2026-12-31 (not quoted)")
