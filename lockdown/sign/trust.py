"""The trust policy: which signers a lock file must be signed by, from config or flags.

The signers come from ``[tool.lockdown.trust]`` (read into
:class:`lockdown.config.trust.TrustSettings`) or from ``verify``'s flags.

A policy is one object with one method, :meth:`TrustPolicy.verify`, that
raises or returns who signed. A policy with no signers is an error, never a
pass. The bundle says which kind of signature it carries (a certificate or a
public-key hint); only the signers of that kind are tried, and the first that
verifies wins.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lockdown.config.trust import IdentityRule, KeyRule, SigstoreInstance, TrustSettings
from lockdown.errors import UsageError
from lockdown.sign.interface import SignatureError, Verified


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustPolicy(TrustSettings):
    """Accepted signers (the settings) and how to check a signature against them."""

    @classmethod
    def of(cls, settings: TrustSettings) -> TrustPolicy:
        """The policy of configured settings."""
        if isinstance(settings, TrustPolicy):
            return settings
        return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)})

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
