"""``[tool.lockdown.trust]`` into typed :class:`TrustSettings`: who must have signed the lock.

``[tool.lockdown.trust]``::

    require = true            # install / check refuse a lock that does not verify
    staging = false           # keyless: Sigstore's staging instance instead of production
    trusted-root = "root.json"   # keyless: a private Sigstore deployment's trusted root
    signers = [
      { identity = "https://github.com/acme/svc/.github/workflows/lock.yml@refs/heads/main",
        issuer = "https://token.actions.githubusercontent.com" },
      { identity-regex = "https://github\\.com/acme/[^/]+/\\.github/workflows/lock\\.yml@.*",
        issuer = "https://token.actions.githubusercontent.com" },
      { public-key = "keys/release.pub" },
    ]

Pure data: the signers and the Sigstore instance they are checked against.
:class:`lockdown.sign.trust.TrustPolicy` is these settings with the one method
that checks a signature against them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockdown.config.fields import reject_unknown
from lockdown.errors import ConfigError, UsageError

TRUST_KEYS = frozenset({"require", "staging", "trusted-root", "trust-config", "signers"})
SIGNER_KEYS = frozenset({"identity", "identity-regex", "issuer", "public-key"})


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityRule:
    """A trusted keyless signer: a certificate identity issued through one OIDC issuer."""

    #: The certificate identity (its SAN: a workflow URI, an email address, ...); with
    #: ``regex``, a Python regular expression that must match the whole identity.
    identity: str
    #: The OIDC issuer URL, always matched exactly
    #: (e.g. ``https://token.actions.githubusercontent.com``).
    issuer: str
    #: ``identity`` is a pattern (``re.fullmatch``), not a literal.
    regex: bool = False

    def __post_init__(self) -> None:
        if not self.identity:
            raise UsageError("a keyless signer has an empty identity")
        # An empty issuer would make sigstore skip the issuer check entirely: refuse it.
        if not self.issuer:
            raise UsageError(
                f"keyless signer {self.identity} has no issuer",
                hint="an identity is only trusted together with its OIDC issuer URL",
            )
        if self.regex:
            try:
                re.compile(self.identity)
            except re.error as exc:
                raise UsageError(f"invalid identity regex {self.identity!r}: {exc}") from None

    def describe(self) -> str:
        """For messages: ``identity I (issuer U)`` or ``identity matching regex P (issuer U)``."""
        if self.regex:
            return f"identity matching regex {self.identity} (issuer {self.issuer})"
        return f"identity {self.identity} (issuer {self.issuer})"


@dataclass(frozen=True, slots=True, kw_only=True)
class SigstoreInstance:
    """Which Sigstore deployment's trusted root keyless signatures are checked against."""

    #: Sigstore's staging instance instead of the public-good production one.
    staging: bool = False
    #: A private deployment's ``trusted_root.json``.
    trusted_root: Path | None = None
    #: A private deployment's client trust config (trusted root + signing config).
    trust_config: Path | None = None
    #: Refresh production's or staging's trusted root over TUF (network) first.
    online: bool = False

    def __post_init__(self) -> None:
        chosen = [
            flag
            for flag, on in (
                ("--staging", self.staging),
                ("--trusted-root", self.trusted_root is not None),
                ("--trust-config", self.trust_config is not None),
            )
            if on
        ]
        if len(chosen) > 1:
            raise UsageError(
                f"{' and '.join(chosen)} name different Sigstore roots of trust",
                hint="choose one of --staging, --trusted-root, --trust-config",
            )
        if self.online and (self.trusted_root is not None or self.trust_config is not None):
            raise UsageError(
                "--online refreshes Sigstore's own trusted roots over TUF; it does not apply "
                "to --trusted-root or --trust-config",
                hint="drop --online",
            )

    def describe(self) -> str:
        """For messages: ``Sigstore production``, ``trusted root FILE``, ..."""
        if self.trusted_root is not None:
            return f"trusted root {self.trusted_root}"
        if self.trust_config is not None:
            return f"trust config {self.trust_config}"
        return "Sigstore staging" if self.staging else "Sigstore production"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRule:
    """Trust bundles signed with the private half of this public key."""

    public_key: Path

    def describe(self) -> str:
        """For messages: the key file."""
        return f"key {self.public_key}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustSettings:
    """Accepted signers and where keyless signatures are checked."""

    identities: tuple[IdentityRule, ...] = ()
    keys: tuple[KeyRule, ...] = ()
    #: install / check --require-signature refuse an unsigned lock when set.
    require: bool = False
    instance: SigstoreInstance = field(default_factory=SigstoreInstance)

    @property
    def empty(self) -> bool:
        """True when no signer at all is trusted."""
        return not self.identities and not self.keys


def parse_trust(table: Mapping[str, Any], *, source: Path, base: Path) -> TrustSettings:
    """Validate ``[tool.lockdown.trust]``; relative paths are relative to ``base``."""
    where = "[tool.lockdown.trust]"
    reject_unknown(table, TRUST_KEYS, source=source, where=where)
    require = table.get("require", False)
    staging = table.get("staging", False)
    for key, value in (("require", require), ("staging", staging)):
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {where} {key} must be true or false")
    signers = table.get("signers", [])
    if not isinstance(signers, list):
        raise ConfigError(f"{source}: {where} signers must be a list of tables")
    identities: list[IdentityRule] = []
    keys: list[KeyRule] = []
    for index, signer in enumerate(signers):
        rule = parse_signer(signer, source=source, where=f"{where} signers[{index}]", base=base)
        if isinstance(rule, KeyRule):
            keys.append(rule)
        else:
            identities.append(rule)
    try:
        instance = SigstoreInstance(
            staging=staging,
            trusted_root=_path(table.get("trusted-root"), "trusted-root", source, base),
            trust_config=_path(table.get("trust-config"), "trust-config", source, base),
        )
    except UsageError as exc:
        raise ConfigError(f"{source}: {where}: {exc.message}", hint=exc.hint) from None
    return TrustSettings(
        identities=tuple(identities), keys=tuple(keys), require=require, instance=instance
    )


def parse_signer(signer: object, *, source: Path, where: str, base: Path) -> IdentityRule | KeyRule:
    """One entry of ``signers``: an identity (exact or regex) with its issuer, or a public key."""
    if not isinstance(signer, dict):
        raise ConfigError(f"{source}: {where} must be a table")
    reject_unknown(signer, SIGNER_KEYS, source=source, where=where)
    if "public-key" in signer:
        if set(signer) != {"public-key"}:
            raise ConfigError(f"{source}: {where}: public-key stands alone")
        path = _path(signer["public-key"], "public-key", source, base)
        assert path is not None  # noqa: S101 - _path returns None only for None
        return KeyRule(public_key=path)
    exact, pattern = signer.get("identity"), signer.get("identity-regex")
    issuer = signer.get("issuer")
    if (exact is None) == (pattern is None):
        raise ConfigError(
            f"{source}: {where}: give exactly one of identity, identity-regex or public-key"
        )
    if not isinstance(issuer, str) or not issuer:
        raise ConfigError(f"{source}: {where}: an identity needs its issuer (the OIDC issuer URL)")
    value = exact if exact is not None else pattern
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{source}: {where}: identity must be a non-empty string")
    if pattern is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ConfigError(
                f"{source}: {where}: invalid identity-regex {value!r}: {exc}"
            ) from None
    return IdentityRule(identity=value, issuer=issuer, regex=pattern is not None)


def _path(value: object, key: str, source: Path, base: Path) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{source}: [tool.lockdown.trust] {key} must be a path string")
    path = Path(value)
    return path if path.is_absolute() else base / path
