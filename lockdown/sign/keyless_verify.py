"""Sigstore keyless verification: a signature by a trusted OIDC identity, checked offline.

Verification is offline by default: the trusted root embedded in sigstore (or
cached by an earlier ``--online`` refresh) for Sigstore's production or staging
instance, or a private deployment's ``trusted_root.json`` / client trust
config. A signature is accepted when one of the trust policy's
:class:`IdentityRule` s matches its certificate and the whole Sigstore
procedure passes (chain to the instance's CA, SCT, transparency log entry,
signing time, signature over exactly these bytes).

sigstore is imported inside the functions that need it, so importing this
module costs nothing for commands that never verify.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.config.trust import IdentityRule, SigstoreInstance
from lockdown.errors import LockdownError, UsageError
from lockdown.sign import _sigstore_private
from lockdown.sign.interface import SignatureError, Verified
from lockdown.sign.sigstore_errors import (
    bundle_reason,
    failure_reason,
    network_reason,
    one_line,
)

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

#: The TUF repositories of Sigstore's production and staging instances.
PRODUCTION_TUF_URL = "https://tuf-repo-cdn.sigstore.dev"
STAGING_TUF_URL = "https://tuf-repo-cdn.sigstage.dev"


def verify_keyless(
    data: bytes,
    bundle_json: bytes,
    rules: Sequence[IdentityRule],
    instance: SigstoreInstance,
    *,
    where: str = "",
) -> Verified:
    """Verify that ``bundle_json`` is a Sigstore signature over ``data`` by a trusted identity.

    Returns who signed (the first rule that verifies); raises :class:`SignatureError`
    naming, for each rule, why it did not. Never touches the network unless
    ``instance.online``.
    """
    prefix = f"{where}: " if where else ""
    # 0. An empty policy is an error, never a pass.
    if not rules:
        raise SignatureError(
            f"{prefix}no keyless signer (identity and issuer) in the trust policy",
            hint="add { identity = ..., issuer = ... } to [tool.lockdown.trust] signers, "
            "or pass --identity and --issuer",
        )

    from sigstore.errors import Error as SigstoreError  # noqa: PLC0415 - heavy, lazy
    from sigstore.models import Bundle  # noqa: PLC0415

    # 1. Parse the bundle; sigstore checks its shape (media type, certificate, one
    #    log entry with an inclusion proof, a source of signing time) on the way.
    try:
        bundle = Bundle.from_json(bundle_json)
    except (SigstoreError, ValueError) as exc:
        raise SignatureError(
            f"{prefix}invalid Sigstore bundle: {bundle_reason(exc)}",
            hint="re-sign the file (lockdown sign)",
        ) from None

    # 2. It must sign this file's bytes (a message signature), not carry a DSSE
    #    envelope: an attestation's subject digest is not a signature over the file.
    #    (sigstore 4.x has no public accessor for the bundle's content variant.)
    if _sigstore_private.has_dsse_envelope(bundle):
        raise SignatureError(
            f"{prefix}the bundle holds a DSSE envelope (an attestation), "
            "not a signature over this file",
            hint="sign the file itself with lockdown sign",
        )

    verifier = _verifier(instance)
    failures: list[_Failure] = []
    for rule in rules:
        # 3. One sigstore VerificationPolicy per rule: exact (sigstore's Identity) or
        #    regex (full match of the certificate's SAN); the issuer always exactly.
        policy = _RulePolicy(rule)
        # 4. sigstore's whole procedure: time, chain to the instance's CA, SCT, this
        #    policy, log entry, signature over exactly `data`, log entry consistency.
        try:
            verifier.verify_artifact(data, bundle, policy)
        except Exception as exc:  # any failure at all means "not verified"
            # A malformed bundle can surface as a non-VerificationError (pydantic,
            # cryptography); every one of them fails closed with a short reason.
            if policy.mismatch is not None:
                failures.append(_Failure(rule, policy.mismatch, _IDENTITY_HINT, mismatch=True))
            else:
                failures.append(_Failure(rule, *failure_reason(exc, instance)))
            continue
        # 5. The first rule that verifies wins.
        signer = f"identity {policy.matched} (issuer {rule.issuer})"
        return Verified(data=data, signer=signer)

    # 6. None verified: say why, per rule, compactly.
    message = _summary(failures, signed_by=_signed_by(bundle.signing_certificate))
    raise SignatureError(prefix + message, hint=failures[0].hint)


# --- verification: the trusted root ---

_VERIFIERS: dict[SigstoreInstance, Verifier] = {}


def _verifier(instance: SigstoreInstance) -> Verifier:
    """The instance's verifier, built once per process."""
    verifier = _VERIFIERS.get(instance)
    if verifier is None:
        verifier = _VERIFIERS[instance] = _build_verifier(instance)
    return verifier


def _build_verifier(instance: SigstoreInstance) -> Verifier:
    from sigstore.errors import Error as SigstoreError  # noqa: PLC0415
    from sigstore.errors import TUFError  # noqa: PLC0415
    from sigstore.models import ClientTrustConfig, TrustedRoot  # noqa: PLC0415
    from sigstore.verify import Verifier  # noqa: PLC0415

    if instance.trusted_root is not None:
        path = instance.trusted_root
        try:
            root = TrustedRoot.from_file(str(path))
        except FileNotFoundError:
            raise UsageError(f"{path}: trusted root not found") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read trusted root: {exc.strerror}") from None
        except (SigstoreError, ValueError) as exc:
            raise UsageError(
                f"{path}: not a Sigstore trusted root: {one_line(exc)}",
                hint="pass the deployment's trusted_root.json",
            ) from None
        return _verifier_from_root(root, instance)
    if instance.trust_config is not None:
        path = instance.trust_config
        try:
            config = ClientTrustConfig.from_json(read_trust_file(path, "trust config"))
        except (SigstoreError, ValueError) as exc:
            raise UsageError(
                f"{path}: not a Sigstore client trust config: {one_line(exc)}",
                hint="pass the deployment's trust config JSON",
            ) from None
        return _verifier_from_root(config.trusted_root, instance)

    # Production or staging through sigstore's TUF client: offline, it uses the
    # trusted root cached by an earlier refresh, else the one embedded in sigstore.
    factory = Verifier.staging if instance.staging else Verifier.production
    try:
        with _sigstore_private.quiet_offline_tuf_warning():
            return factory(offline=not instance.online)
    except TUFError as exc:
        raise LockdownError(
            f"cannot refresh {instance.describe()}'s trusted root over TUF: {network_reason(exc)}",
            hint="check network access, or verify offline without --online",
        ) from None
    except OSError as exc:
        if instance.online:
            raise LockdownError(
                f"cannot store {instance.describe()}'s TUF metadata: {exc.strerror or exc}",
                hint="make the user cache directory writable, or verify without --online",
            ) from None
        # The TUF cache directory cannot be written (read-only home under cron, ...):
        # the root embedded in this sigstore release is the same offline trust.
        return _verifier_from_root(_embedded_root(instance), instance)


def read_trust_file(path: Path, what: str) -> str:
    """A trust file's text; a missing or unreadable file is a usage error naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"{path}: cannot read {what}: {reason}") from None


def _embedded_root(instance: SigstoreInstance) -> TrustedRoot:
    from sigstore.models import TrustedRoot  # noqa: PLC0415
    from sigstore_models.trustroot.v1 import TrustedRoot as RawTrustedRoot  # noqa: PLC0415

    url = STAGING_TUF_URL if instance.staging else PRODUCTION_TUF_URL
    return TrustedRoot(RawTrustedRoot.from_json(_sigstore_private.embedded_trusted_root(url)))


def _verifier_from_root(root: TrustedRoot, instance: SigstoreInstance) -> Verifier:
    from sigstore.errors import Error as SigstoreError  # noqa: PLC0415
    from sigstore.verify import Verifier  # noqa: PLC0415

    try:
        return Verifier(trusted_root=root)
    except SigstoreError as exc:
        raise UsageError(
            f"{instance.describe()} cannot verify anything: {one_line(exc)}",
            hint="it needs Fulcio CAs and transparency logs",
        ) from None


# --- verification: policies and reasons ---

_IDENTITY_HINT = (
    "someone else signed it: if you trust that signer, add it to [tool.lockdown.trust] signers"
)


class _RulePolicy:
    """sigstore's ``VerificationPolicy`` protocol for one :class:`IdentityRule`.

    Records which identity matched, or a short reason when the certificate is
    someone else's, so the failure message need not parse sigstore's text.
    """

    def __init__(self, rule: IdentityRule) -> None:
        self._rule = rule
        self.matched: str | None = None
        self.mismatch: str | None = None

    def verify(self, cert: Certificate) -> None:
        """Raise sigstore's ``VerificationError`` unless ``cert`` is the rule's signer."""
        from sigstore.errors import VerificationError  # noqa: PLC0415
        from sigstore.verify.policy import Identity, OIDCIssuer  # noqa: PLC0415

        rule = self._rule
        try:
            if rule.regex:
                # sigstore's Identity logic, with a full match instead of equality:
                # the issuer extension exactly, then any SAN (URI, email, other-name).
                OIDCIssuer(rule.issuer).verify(cert)
                pattern = re.compile(rule.identity)
                matching = [san for san in certificate_identities(cert) if pattern.fullmatch(san)]
                if not matching:
                    raise VerificationError(f"no certificate identity matches {rule.identity}")
                self.matched = matching[0]
            else:
                Identity(identity=rule.identity, issuer=rule.issuer).verify(cert)
                self.matched = rule.identity
        except VerificationError:
            self.mismatch = _mismatch_reason(rule, cert)
            raise


def certificate_identities(cert: Certificate) -> list[str]:
    """The certificate's identities as sigstore's ``Identity`` policy sees them, sorted."""
    from cryptography.x509 import (  # noqa: PLC0415
        ExtensionNotFound,
        OtherName,
        RFC822Name,
        SubjectAlternativeName,
        UniformResourceIdentifier,
    )

    othername = _sigstore_private.othername_oid()
    try:
        san = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
    except ExtensionNotFound:
        return []
    found = set(san.get_values_for_type(RFC822Name))
    found.update(san.get_values_for_type(UniformResourceIdentifier))
    found.update(
        name.value.decode(errors="replace")
        for name in san.get_values_for_type(OtherName)
        if name.type_id == othername
    )
    return sorted(found)


def certificate_issuer(cert: Certificate) -> str | None:
    """The OIDC issuer Fulcio recorded in the certificate (the extension sigstore checks)."""
    from cryptography.x509 import ExtensionNotFound, UnrecognizedExtension  # noqa: PLC0415

    try:
        value = cert.extensions.get_extension_for_oid(_sigstore_private.oidc_issuer_oid()).value
    except ExtensionNotFound:
        return None
    if not isinstance(value, UnrecognizedExtension):
        return None
    return value.value.decode(errors="replace")


def _mismatch_reason(rule: IdentityRule, cert: Certificate) -> str:
    identities = certificate_identities(cert)
    actual = ", ".join(identities) or "(none)"
    issuer = certificate_issuer(cert)
    parts = []
    if rule.regex:
        pattern = re.compile(rule.identity)
        if not any(pattern.fullmatch(san) for san in identities):
            parts.append(f"certificate identity {actual} does not match regex {rule.identity}")
    elif rule.identity not in identities:
        parts.append(f"certificate identity is {actual}, not {rule.identity}")
    if issuer != rule.issuer:
        parts.append(f"issuer is {issuer or '(none)'}, not {rule.issuer}")
    return " and ".join(parts) or "certificate does not match"


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why one rule did not verify."""

    rule: IdentityRule
    reason: str
    hint: str
    #: The certificate is valid so far but names someone else.
    mismatch: bool = False


def _summary(failures: list[_Failure], *, signed_by: str) -> str:
    if len(failures) == 1:
        only = failures[0]
        return f"keyless signature does not verify for {only.rule.describe()}: {only.reason}"
    if all(failure.mismatch for failure in failures):
        trusted = "; ".join(failure.rule.describe() for failure in failures)
        return f"signed by {signed_by}, which is not a trusted signer (trusted: {trusted})"
    if len({failure.reason for failure in failures}) == 1:
        return (
            f"keyless signature does not verify for any of {len(failures)} trusted "
            f"identities: {failures[0].reason}"
        )
    listed = "; ".join(f"{failure.rule.describe()}: {failure.reason}" for failure in failures)
    return f"no trusted keyless signer verifies it: {listed}"


def _signed_by(cert: Certificate) -> str:
    identities = ", ".join(certificate_identities(cert)) or "(no identity)"
    return f"identity {identities} (issuer {certificate_issuer(cert) or '(none)'})"
