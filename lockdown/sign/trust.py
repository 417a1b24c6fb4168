"""The trust policy: which signers a lock file must be signed by, from config or flags.

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

A policy is one object with one method, :meth:`TrustPolicy.verify`, that
raises or returns who signed. A policy with no signers is an error, never a
pass. The bundle says which kind of signature it carries (a certificate or a
public-key hint); only the signers of that kind are tried, and the first that
verifies wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockdown.config import reject_unknown
from lockdown.errors import ConfigError, UsageError
from lockdown.sign.interface import SignatureError, Verified
from lockdown.sign.keyless_verify import IdentityRule, SigstoreInstance

TRUST_KEYS = frozenset({"require", "staging", "trusted-root", "trust-config", "signers"})
SIGNER_KEYS = frozenset({"identity", "identity-regex", "issuer", "public-key"})


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRule:
    """Trust bundles signed with the private half of this public key."""

    public_key: Path

    def describe(self) -> str:
        """For messages: the key file."""
        return f"key {self.public_key}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustPolicy:
    """Accepted signers and how to check them."""

    identities: tuple[IdentityRule, ...] = ()
    keys: tuple[KeyRule, ...] = ()
    #: install / check --require-signature refuse an unsigned lock when set.
    require: bool = False
    instance: SigstoreInstance = field(default_factory=SigstoreInstance)

    @property
    def empty(self) -> bool:
        """True when no signer at all is trusted."""
        return not self.identities and not self.keys

    def verify(self, data: bytes, bundle_json: bytes, *, where: str) -> Verified:
        """Verify ``bundle_json`` over ``data`` against the trusted signers.

        1. An empty policy is an error, not a pass.
        2. The bundle must be JSON; its verification material says its kind.
        3. Only signers of that kind are tried; the first that verifies wins. A
           key that cannot be loaded counts as one signer that failed.
        4. If none does, the error lists why each failed (a usage error when not
           one trusted key could be loaded, so nothing was checked at all).
        """
        # 1. Nothing trusted: refuse.
        if self.empty:
            raise UsageError(
                "no trusted signers: add signers to [tool.lockdown.trust]",
                hint="or pass --identity/--issuer or --key",
            )
        # 2. The bundle's kind.
        kind = bundle_kind(bundle_json, where=where)
        if kind == "key":
            # 3. Key bundles: each trusted key in turn.
            if not self.keys:
                raise SignatureError(
                    f"{where}: signed with a key, but the trust policy lists no public keys",
                    hint="add { public-key = ... } to [tool.lockdown.trust] signers or pass --key",
                )
            from lockdown.sign.keys import load_public_key, verify_with_key  # noqa: PLC0415

            reasons = []
            loaded = 0
            for rule in self.keys:
                # A key that cannot be loaded (missing, unreadable, not a P-256
                # public key) is one signer that failed, not the end of the run:
                # the policy passes if ANY listed signer verifies.
                try:
                    public_key = load_public_key(rule.public_key)
                except UsageError as exc:
                    reasons.append(exc.message)
                    continue
                loaded += 1
                try:
                    return verify_with_key(
                        data, bundle_json, public_key, key_label=str(rule.public_key), where=where
                    )
                except SignatureError as exc:
                    reasons.append(exc.message.removeprefix(f"{where}: "))
            # 4. None verified. When not one trusted key could even be loaded,
            #    nothing was checked: that is the policy's (or a flag's) fault.
            if not loaded:
                raise UsageError(
                    f"{where}: no trusted public key could be loaded: {'; '.join(reasons)}",
                    hint="fix the public-key paths in [tool.lockdown.trust] signers or --key",
                )
            raise SignatureError(f"{where}: no trusted key verifies it: {'; '.join(reasons)}")
        if not self.identities:
            raise SignatureError(
                f"{where}: signed keylessly (Sigstore certificate), but the trust policy "
                "lists no identities",
                hint="add { identity = ..., issuer = ... } to [tool.lockdown.trust] signers",
            )
        from lockdown.sign.keyless_verify import verify_keyless  # noqa: PLC0415

        return verify_keyless(data, bundle_json, self.identities, self.instance, where=where)


def bundle_kind(bundle_json: bytes, *, where: str) -> str:
    """``"key"`` for a public-key bundle, ``"keyless"`` otherwise; malformed JSON is refused."""
    try:
        document = json.loads(bundle_json)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise SignatureError(
            f"{where}: signature bundle is not valid JSON", hint="re-sign the file"
        ) from None
    if not isinstance(document, dict):
        raise SignatureError(f"{where}: signature bundle is not a JSON object")
    material = document.get("verificationMaterial")
    if isinstance(material, dict) and "publicKey" in material:
        return "key"
    return "keyless"


def parse_trust(table: Mapping[str, Any], *, source: Path, base: Path) -> TrustPolicy:
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
    return TrustPolicy(
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


def policy_from_flags(
    *,
    identities: Sequence[str],
    issuer: str | None,
    identity_regex: Sequence[str],
    keys: Sequence[Path],
    instance: SigstoreInstance,
    require: bool = True,
) -> TrustPolicy:
    """A policy from ``verify`` flags (they replace the configured signers entirely)."""
    if (identities or identity_regex) and not issuer:
        raise UsageError("--identity needs --issuer (the OIDC issuer URL)")
    if issuer and not (identities or identity_regex):
        raise UsageError("--issuer needs --identity or --identity-regex")
    rules = [IdentityRule(identity=i, issuer=issuer or "", regex=False) for i in identities]
    for pattern in identity_regex:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"invalid --identity-regex {pattern!r}: {exc}") from None
        rules.append(IdentityRule(identity=pattern, issuer=issuer or "", regex=True))
    return TrustPolicy(
        identities=tuple(rules),
        keys=tuple(KeyRule(public_key=k) for k in keys),
        require=require,
        instance=instance,
    )
