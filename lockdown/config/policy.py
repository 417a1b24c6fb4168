"""``[tool.lockdown.policy]`` into a typed :class:`Policy`.

Every key is checked and an unknown one is an error, as everywhere in the
config: a typo must never silently turn a rule off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from lockdown.config.fields import duration, parse_index_url, reject_unknown, string_list
from lockdown.errors import ConfigError
from lockdown.names import normalize_name

#: The approvals file unless ``approvals`` says otherwise.
DEFAULT_APPROVALS = "lockdown-approvals.toml"

POLICY_KEYS = frozenset(
    {
        "upgrades",
        "auto-approve",
        "min-release-age",
        "cooldown-exempt",
        "allowed-indexes",
        "yanked",
        "require-wheels",
        "deny",
        "approvals",
        "allowed-channels",
        "provenance",
        "provenance-exempt",
        "provenance-trusted-root",
        "vulnerable",
    }
)
#: ``provenance``: ``pin`` (trust on first use, then no publisher change or loss
#: without an approval), ``require`` (every package attested), ``off``.
PROVENANCE_MODES = ("pin", "require", "off")
#: What ``auto-approve`` may list: every change class except ``removed`` (always
#: admitted: a removal adds no code, and follows from a change that was judged).
AUTO_APPROVABLE = ("patch", "minor", "major", "pre-release", "downgrade", "new", "source")


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """What the gate admits; the defaults admit nothing without an approval."""

    #: ``approve``: every change needs an approval (or ``auto-approve``); ``allow``: none do.
    upgrades: Literal["approve", "allow"] = "approve"
    #: Change classes admitted without an approval.
    auto_approve: frozenset[str] = frozenset()
    #: Cooldown: no artifact uploaded more recently than this; ``None``: no cooldown.
    min_release_age: timedelta | None = None
    #: Packages the cooldown does not apply to (normalized names).
    cooldown_exempt: frozenset[str] = frozenset()
    #: Indexes packages may come from (simple-API URLs, ending in ``/``); empty: any.
    allowed_indexes: tuple[str, ...] = ()
    #: Conda channels packages may come from (channel URLs); empty: any.
    allowed_channels: tuple[str, ...] = ()
    #: ``deny``: a changed or new package whose version is yanked is blocked.
    yanked: Literal["deny", "allow"] = "deny"
    #: No sdist-only packages.
    require_wheels: bool = False
    #: Requirements no locked package may match (``name`` or ``name<1.2``).
    deny: tuple[str, ...] = ()
    #: The approvals file, relative to the project directory.
    approvals: str = DEFAULT_APPROVALS
    #: PEP 740 provenance: ``pin``, ``require`` or ``off`` (see PROVENANCE_MODES).
    provenance: Literal["pin", "require", "off"] = "pin"
    #: Packages ``provenance = "require"`` does not apply to (normalized names).
    provenance_exempt: frozenset[str] = frozenset()
    #: A private Sigstore deployment's ``trusted_root.json`` (relative to the project)
    #: that attestations are verified against; ``None``: Sigstore production's.
    provenance_trusted_root: str | None = None
    #: A new or changed version with a known vulnerability: ``deny`` blocks it (an
    #: approval or an ignore admits it), ``warn`` admits it saying so, ``off`` does
    #: not look. A known-malicious version is blocked unless ``off``.
    vulnerable: Literal["deny", "warn", "off"] = "deny"
    #: Whether ``vulnerable`` was written (then a missing database fails closed).
    vulnerable_set: bool = False


def parse_policy(table: Mapping[str, Any], *, source: Path, where: str) -> Policy:
    """Validate ``[tool.lockdown.policy]``."""
    reject_unknown(table, POLICY_KEYS, source=source, where=where)
    upgrades = table.get("upgrades", "approve")
    if upgrades not in ("approve", "allow"):
        raise ConfigError(
            f"{source}: {where} upgrades must be 'approve' or 'allow', not {upgrades!r}"
        )
    auto = string_list(table.get("auto-approve", []), f"{where} auto-approve", source)
    for item in auto:
        if item not in AUTO_APPROVABLE:
            raise ConfigError(
                f"{source}: {where} auto-approve: unknown change class {item!r}",
                hint=f"use some of: {', '.join(AUTO_APPROVABLE)}",
            )
    age_raw = table.get("min-release-age")
    age = None if age_raw is None else duration(age_raw, f"{where} min-release-age", source)
    yanked = table.get("yanked", "deny")
    if yanked not in ("deny", "allow"):
        raise ConfigError(f"{source}: {where} yanked must be 'deny' or 'allow', not {yanked!r}")
    require_wheels = table.get("require-wheels", False)
    if not isinstance(require_wheels, bool):
        raise ConfigError(f"{source}: {where} require-wheels must be true or false")
    deny = string_list(table.get("deny", []), f"{where} deny", source)
    for index, text in enumerate(deny):
        _deny_rule(text, f"{source}: {where} deny[{index}]")
    trusted_root = table.get("provenance-trusted-root")
    if trusted_root is not None and (not isinstance(trusted_root, str) or not trusted_root):
        raise ConfigError(f"{source}: {where} provenance-trusted-root must be a file name")
    provenance = table.get("provenance", "pin")
    if provenance not in PROVENANCE_MODES:
        raise ConfigError(
            f"{source}: {where} provenance must be 'pin', 'require' or 'off', not {provenance!r}"
        )
    vulnerable = table.get("vulnerable", "deny")
    if vulnerable not in ("deny", "warn", "off"):
        raise ConfigError(
            f"{source}: {where} vulnerable must be 'deny', 'warn' or 'off', not {vulnerable!r}"
        )
    approvals = table.get("approvals", DEFAULT_APPROVALS)
    if not isinstance(approvals, str) or not approvals:
        raise ConfigError(f"{source}: {where} approvals must be a file name")
    return Policy(
        upgrades=upgrades,
        auto_approve=frozenset(auto),
        min_release_age=age,
        cooldown_exempt=frozenset(
            normalize_name(n)
            for n in string_list(
                table.get("cooldown-exempt", []), f"{where} cooldown-exempt", source
            )
        ),
        allowed_indexes=tuple(
            parse_index_url(u, f"{where} allowed-indexes", source)
            for u in string_list(
                table.get("allowed-indexes", []), f"{where} allowed-indexes", source
            )
        ),
        allowed_channels=tuple(
            parse_index_url(u, f"{where} allowed-channels", source)
            for u in string_list(
                table.get("allowed-channels", []), f"{where} allowed-channels", source
            )
        ),
        yanked=yanked,
        require_wheels=require_wheels,
        deny=tuple(deny),
        approvals=approvals,
        provenance=provenance,
        provenance_trusted_root=trusted_root,
        provenance_exempt=frozenset(
            normalize_name(n)
            for n in string_list(
                table.get("provenance-exempt", []), f"{where} provenance-exempt", source
            )
        ),
        vulnerable=vulnerable,
        vulnerable_set="vulnerable" in table,
    )


def _deny_rule(text: str, where: str) -> tuple[str, Any]:
    """``name`` or ``name<spec>`` into (normalized name, SpecifierSet)."""
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise ConfigError(f"{where}: invalid rule {text!r}: {str(exc).splitlines()[0]}") from None
    if req.marker is not None or req.url or req.extras:
        raise ConfigError(f"{where}: {text!r}: only a name and a version specifier are allowed")
    return normalize_name(req.name), req.specifier


def deny_rules(policy: Policy) -> list[tuple[str, str, Any]]:
    """``(rule text, normalized name, SpecifierSet)`` for each ``deny`` entry."""
    return [(text, *_deny_rule(text, "deny")) for text in policy.deny]
