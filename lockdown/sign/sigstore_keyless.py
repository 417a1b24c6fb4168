"""Sigstore keyless signatures: an OIDC identity, a Fulcio certificate, a Rekor entry.

Verification is offline by default: the trusted root embedded in sigstore (or
cached by an earlier ``--online`` refresh) for Sigstore's production or staging
instance, or a private deployment's ``trusted_root.json`` / client trust
config. A signature is accepted when one of the trust policy's
:class:`IdentityRule` s matches its certificate and the whole Sigstore
procedure passes (chain to the instance's CA, SCT, transparency log entry,
signing time, signature over exactly these bytes).

Signing needs Fulcio and Rekor; when they or an OIDC identity token are not
available it fails with one line and exit 70 and writes nothing (the caller
writes the bundle, atomically, only after :func:`sign_keyless` returned it).

sigstore is imported inside the functions that need it, so importing this
module costs nothing for commands that never sign or verify.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import LockdownError, UsageError
from lockdown.sign.interface import (
    SignatureError,
    SigningError,
    SigstoreUnreachableError,
    Verified,
)

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.models import ClientTrustConfig, TrustedRoot
    from sigstore.oidc import IdentityToken
    from sigstore.verify import Verifier

#: Environment variables holding an identity token: cosign's name, then sigstore-python's.
TOKEN_ENV_VARS = ("SIGSTORE_ID_TOKEN", "SIGSTORE_IDENTITY_TOKEN")

NO_IDENTITY_MESSAGE = (
    "no OIDC identity token: run in CI with id-token permission, pass --identity-token, "
    "or set SIGSTORE_ID_TOKEN"
)

_PRODUCTION_TUF_URL = "https://tuf-repo-cdn.sigstore.dev"
_STAGING_TUF_URL = "https://tuf-repo-cdn.sigstage.dev"
_INSTANCE_HINT = (
    "check the Sigstore instance: --staging for staging signatures, "
    "--trusted-root or --trust-config for a private deployment"
)
_RESIGN_HINT = "the bundle cannot be trusted: sign the file again"


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
            f"{prefix}invalid Sigstore bundle: {_bundle_reason(exc)}",
            hint="re-sign the file (lockdown sign)",
        ) from None

    # 2. It must sign this file's bytes (a message signature), not carry a DSSE
    #    envelope: an attestation's subject digest is not a signature over the file.
    #    (sigstore 4.x has no public accessor for the bundle's content variant.)
    if bundle._inner.dsse_envelope is not None:
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
                failures.append(_Failure(rule, *_failure_reason(exc, instance)))
            continue
        # 5. The first rule that verifies wins.
        signer = f"identity {policy.matched} (issuer {rule.issuer})"
        return Verified(data=data, signer=signer)

    # 6. None verified: say why, per rule, compactly.
    message = _summary(failures, signed_by=_signed_by(bundle.signing_certificate))
    raise SignatureError(prefix + message, hint=failures[0].hint)


def sign_keyless(
    data: bytes,
    *,
    identity_token: str | None,
    staging: bool = False,
    trust_config: Path | None = None,
    interactive: bool = False,
) -> bytes:
    """Sign ``data`` with Sigstore (Fulcio certificate + Rekor entry); return the bundle JSON.

    The identity token comes from ``identity_token``, else ``$SIGSTORE_ID_TOKEN``
    (or ``$SIGSTORE_IDENTITY_TOKEN``), else the CI's ambient credential (GitHub
    Actions, GitLab, Buildkite, CircleCI, GCP), else — when ``interactive`` — the
    browser sign-in. The result is a v0.3 bundle; nothing is written here.
    """
    if staging and trust_config is not None:
        raise UsageError(
            "--staging and --trust-config name different Sigstore instances",
            hint="choose one",
        )
    # 1. An identity token we were given or can find without asking anyone.
    token = _given_or_ambient_token(identity_token)
    if token is None and not interactive:
        raise SigningError(NO_IDENTITY_MESSAGE)
    # 2. The instance's services (Fulcio, Rekor, TSA, OIDC) and trust root.
    config = _signing_trust_config(staging=staging, trust_config=trust_config)
    # 3. A person at a terminal: the browser flow against the instance's OIDC issuer.
    if token is None:
        token = _browser_token(config)
    # 4. Certificate from Fulcio, signature over `data`, entry in Rekor.
    return _sign(data, token, config)


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
                f"{path}: not a Sigstore trusted root: {_one_line(exc)}",
                hint="pass the deployment's trusted_root.json",
            ) from None
        return _verifier_from_root(root, instance)
    if instance.trust_config is not None:
        path = instance.trust_config
        try:
            config = ClientTrustConfig.from_json(_read_trust_file(path, "trust config"))
        except (SigstoreError, ValueError) as exc:
            raise UsageError(
                f"{path}: not a Sigstore client trust config: {_one_line(exc)}",
                hint="pass the deployment's trust config JSON",
            ) from None
        return _verifier_from_root(config.trusted_root, instance)

    # Production or staging through sigstore's TUF client: offline, it uses the
    # trusted root cached by an earlier refresh, else the one embedded in sigstore.
    factory = Verifier.staging if instance.staging else Verifier.production
    try:
        with _quiet_offline_tuf_warning():
            return factory(offline=not instance.online)
    except TUFError as exc:
        raise LockdownError(
            f"cannot refresh {instance.describe()}'s trusted root over TUF: {_network_reason(exc)}",
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


def _read_trust_file(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"{path}: cannot read {what}: {reason}") from None


def _embedded_root(instance: SigstoreInstance) -> TrustedRoot:
    from sigstore._utils import read_embedded  # noqa: PLC0415
    from sigstore.models import TrustedRoot  # noqa: PLC0415
    from sigstore_models.trustroot.v1 import TrustedRoot as RawTrustedRoot  # noqa: PLC0415

    url = _STAGING_TUF_URL if instance.staging else _PRODUCTION_TUF_URL
    return TrustedRoot(RawTrustedRoot.from_json(read_embedded("trusted_root.json", url)))


def _verifier_from_root(root: TrustedRoot, instance: SigstoreInstance) -> Verifier:
    from sigstore.errors import Error as SigstoreError  # noqa: PLC0415
    from sigstore.verify import Verifier  # noqa: PLC0415

    try:
        return Verifier(trusted_root=root)
    except SigstoreError as exc:
        raise UsageError(
            f"{instance.describe()} cannot verify anything: {_one_line(exc)}",
            hint="it needs Fulcio CAs and transparency logs",
        ) from None


@contextmanager
def _quiet_offline_tuf_warning() -> Iterator[None]:
    """Silence sigstore's "TUF repository is loaded in offline mode" warning.

    Offline is lockdown's documented default, not a condition to warn about on
    every ``verify`` (and it would break the one-line output).
    """
    import logging  # noqa: PLC0415 - sigstore imports it anyway; lockdown need not

    logger = logging.getLogger("sigstore._internal.tuf")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


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
    from sigstore.verify.policy import _OTHERNAME_OID  # noqa: PLC0415

    try:
        san = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
    except ExtensionNotFound:
        return []
    found = set(san.get_values_for_type(RFC822Name))
    found.update(san.get_values_for_type(UniformResourceIdentifier))
    found.update(
        name.value.decode(errors="replace")
        for name in san.get_values_for_type(OtherName)
        if name.type_id == _OTHERNAME_OID
    )
    return sorted(found)


def certificate_issuer(cert: Certificate) -> str | None:
    """The OIDC issuer Fulcio recorded in the certificate (the extension sigstore checks)."""
    from cryptography.x509 import ExtensionNotFound, UnrecognizedExtension  # noqa: PLC0415
    from sigstore.verify.policy import _OIDC_ISSUER_OID  # noqa: PLC0415

    try:
        value = cert.extensions.get_extension_for_oid(_OIDC_ISSUER_OID).value
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


#: sigstore's VerificationError texts (prefixes) → a short reason and what to do.
_KNOWN_FAILURES: tuple[tuple[str, str, str], ...] = (
    (
        "Bundle message digest mismatch",
        "signature does not match the file (digest mismatch)",
        "the file changed after it was signed: restore the signed file or sign it again",
    ),
    (
        "Signature is invalid for input",
        "signature does not match the file (invalid signature)",
        "the file changed after it was signed: restore the signed file or sign it again",
    ),
    (
        "not enough sources of verified time",
        "no signing time verifiable with {instance} (no trusted log promise or timestamp)",
        _INSTANCE_HINT,
    ),
    (
        "failed to verify SCT",
        "certificate's SCT is not from {instance}'s certificate transparency log",
        _INSTANCE_HINT,
    ),
    (
        "transparency log entry is inconsistent",
        "transparency log entry does not match the signature and certificate",
        _RESIGN_HINT,
    ),
    ("invalid log entry", "transparency log entry does not verify ({detail})", _INSTANCE_HINT),
    ("duplicate timestamp", "bundle has duplicate signed timestamps", _RESIGN_HINT),
    ("too many signed timestamp", "bundle has too many signed timestamps ({detail})", _RESIGN_HINT),
    (
        "no Timestamp Authorities",
        "bundle has signed timestamps but {instance} has no timestamp authority",
        _INSTANCE_HINT,
    ),
    (
        "invalid signing cert: expired",
        "signing certificate had expired at the signing time",
        _RESIGN_HINT,
    ),
    ("Key usage", "certificate is not a code-signing certificate", _RESIGN_HINT),
    ("Extended usage", "certificate is not a code-signing certificate", _RESIGN_HINT),
)


def _failure_reason(exc: BaseException, instance: SigstoreInstance) -> tuple[str, str]:
    """A short reason and hint for a failure that is not an identity mismatch."""
    from sigstore.errors import CertValidationError  # noqa: PLC0415

    text = _one_line(exc)
    if isinstance(exc, CertValidationError):
        # The certificate chain, built at each verified signing time.
        if "not valid at validation time" in text:
            return (
                "signing certificate was not valid at the signed timestamp's time",
                _RESIGN_HINT,
            )
        return f"not signed by {instance.describe()}'s CA", _INSTANCE_HINT
    for start, reason, hint in _KNOWN_FAILURES:
        if text.startswith(start):
            detail = text.partition(": ")[2] or text
            return reason.format(instance=instance.describe(), detail=detail), hint
    if not text or text == type(exc).__name__:
        text = f"{type(exc).__name__} while verifying"
    return text[0].lower() + text[1:], _RESIGN_HINT


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


def _bundle_reason(exc: BaseException) -> str:
    """sigstore's reason a bundle does not load, in one line."""
    # sigstore wraps pydantic's multi-line report into its message; use the original.
    if _is_pydantic(exc.__context__):
        return _pydantic_line(exc.__context__)
    return _one_line(exc)


def _one_line(exc: BaseException) -> str:
    """An exception's text on one line (never a multi-line pydantic report)."""
    if _is_pydantic(exc):
        return _pydantic_line(exc)
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _is_pydantic(exc: BaseException | None) -> bool:
    return isinstance(exc, ValueError) and callable(getattr(exc, "errors", None))


def _pydantic_line(exc: BaseException | None) -> str:
    """The first error of a pydantic ``ValidationError``; the input itself is not echoed."""
    first = exc.errors(include_url=False)[0]  # type: ignore[union-attr]
    location = ".".join(str(part) for part in first.get("loc", ()))
    message = " ".join(str(first.get("msg", "")).split())
    if first.get("type") == "json_invalid":
        return f"not valid JSON ({message.removeprefix('Invalid JSON: ')})"
    if location == "mediaType" and first.get("type") != "missing":
        return f"unsupported media type {first.get('input')!r}"
    return f"{location}: {message}" if location else message


# --- signing ---


def _given_or_ambient_token(explicit: str | None) -> IdentityToken | None:
    """The token passed in, from the environment, or from the CI's ambient credential."""
    from sigstore.oidc import IdentityError, detect_credential  # noqa: PLC0415

    if explicit is not None:
        return _parse_token(explicit, source="--identity-token")
    for name in TOKEN_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return _parse_token(value, source=f"${name}")
    try:
        ambient = detect_credential()
    except IdentityError as exc:
        hint = "fix the CI job's OIDC setup, or pass --identity-token"
        if "GitHub" in str(exc):
            hint = (
                "give the job `permissions: id-token: write` (pull requests from forks "
                "cannot get one), or pass --identity-token"
            )
        raise SigningError(
            f"cannot get the CI's ambient OIDC credential: {_one_line(exc)}", hint=hint
        ) from None
    if ambient is None:
        return None
    return _parse_token(ambient, source="the CI's ambient credential")


def _parse_token(raw: str, *, source: str) -> IdentityToken:
    """sigstore's view of the token (claims, validity period); never echoes the token."""
    import jwt  # noqa: PLC0415
    from sigstore.oidc import IdentityError, IdentityToken  # noqa: PLC0415

    try:
        return IdentityToken(raw.strip())
    except IdentityError as exc:
        cause = exc.__cause__
        if isinstance(cause, jwt.ExpiredSignatureError):
            reason = "it has expired"
        elif isinstance(cause, jwt.ImmatureSignatureError):
            reason = "it is not valid yet"
        elif isinstance(cause, jwt.InvalidAudienceError):
            reason = "its audience is not 'sigstore'"
        elif isinstance(cause, jwt.MissingRequiredClaimError):
            reason = f"it has no {cause.claim!r} claim"
        elif isinstance(cause, jwt.DecodeError):
            reason = f"it is not a well-formed JWT ({_one_line(cause)})"
        elif isinstance(cause, jwt.InvalidTokenError):
            reason = f"its claims are invalid ({_one_line(cause)})"
        elif "validity period" in str(exc):
            reason = "it is outside its validity period (nbf/exp)"
        else:
            reason = _one_line(exc)
        raise SigningError(
            f"invalid OIDC identity token from {source}: {reason}",
            hint="get a fresh token for the audience 'sigstore'",
        ) from None


def _signing_trust_config(*, staging: bool, trust_config: Path | None) -> ClientTrustConfig:
    """The instance's trust root and signing config (service URLs), from a file or TUF."""
    from sigstore.errors import Error as SigstoreError  # noqa: PLC0415
    from sigstore.models import ClientTrustConfig  # noqa: PLC0415

    if trust_config is not None:
        try:
            return ClientTrustConfig.from_json(_read_trust_file(trust_config, "trust config"))
        except (SigstoreError, ValueError) as exc:
            raise UsageError(
                f"{trust_config}: not a Sigstore client trust config: {_one_line(exc)}",
                hint="pass the deployment's trust config JSON",
            ) from None
    # Signing talks to Sigstore anyway: refresh the service list over TUF, as
    # sigstore's own `sign` does, so rotated services are found.
    url = _STAGING_TUF_URL if staging else _PRODUCTION_TUF_URL
    try:
        return ClientTrustConfig.staging() if staging else ClientTrustConfig.production()
    except (SigstoreError, OSError, ValueError) as exc:
        # The same words either way (the repository did not give us a usable
        # configuration); the class says whether the network was the cause.
        error = SigstoreUnreachableError if _is_unreachable(exc) else SigningError
        raise error(
            f"cannot reach Sigstore (TUF repository {url}) to load its signing "
            f"configuration: {_network_reason(exc)}",
            hint="check network access to Sigstore, or sign with --key where it is unreachable",
        ) from None


def _browser_token(config: ClientTrustConfig) -> IdentityToken:
    """The interactive OAuth flow against the instance's OIDC issuer."""
    import requests  # noqa: PLC0415
    from sigstore.errors import Error as SigstoreError  # noqa: PLC0415
    from sigstore.errors import NetworkError  # noqa: PLC0415
    from sigstore.oidc import Issuer, IssuerError  # noqa: PLC0415

    try:
        url = config.signing_config.get_oidc_url()
    except (SigstoreError, ValueError) as exc:
        raise SigningError(
            f"the signing configuration names no OIDC issuer: {_one_line(exc)}",
            hint="pass --identity-token",
        ) from None
    try:
        return Issuer(url).identity_token()
    except (NetworkError, requests.RequestException) as exc:
        error = SigstoreUnreachableError if _is_unreachable(exc) else SigningError
        raise error(
            f"cannot reach Sigstore's OIDC issuer {url}: {_network_reason(exc)}",
            hint="check network access, or pass --identity-token",
        ) from None
    except (IssuerError, SigstoreError) as exc:
        raise SigningError(
            f"browser sign-in at {url} failed: {_one_line(exc)}",
            hint="try again, or pass --identity-token",
        ) from None


def _sign(data: bytes, token: IdentityToken, config: ClientTrustConfig) -> bytes:
    """Fulcio certificate, signature, Rekor entry → the bundle's JSON bytes."""
    import requests  # noqa: PLC0415
    from sigstore._internal.fulcio.client import (  # noqa: PLC0415
        ExpiredCertificate,
        FulcioClientError,
    )
    from sigstore._internal.rekor import RekorClientError  # noqa: PLC0415
    from sigstore.errors import Error as SigstoreError  # noqa: PLC0415
    from sigstore.errors import NetworkError  # noqa: PLC0415
    from sigstore.oidc import ExpiredIdentity  # noqa: PLC0415
    from sigstore.sign import SigningContext  # noqa: PLC0415

    try:
        context = SigningContext.from_trust_config(config)
    except (SigstoreError, ValueError) as exc:
        raise SigningError(
            f"unusable Sigstore signing configuration: {_one_line(exc)}",
            hint="check --trust-config, or update sigstore",
        ) from None
    try:
        with context.signer(token, cache=True) as signer:
            bundle = signer.sign_artifact(data)
    except (NetworkError, requests.ConnectionError, requests.Timeout) as exc:
        cause = exc.__cause__ if isinstance(exc, NetworkError) and exc.__cause__ else exc
        where = _request_url(cause)
        raise SigstoreUnreachableError(
            f"cannot reach Sigstore (Fulcio/Rekor){where}: {_network_reason(cause)}",
            hint="check network access to Sigstore, or sign with --key where it is unreachable",
        ) from None
    except FulcioClientError as exc:
        raise SigningError(
            f"Sigstore's Fulcio refused a signing certificate: {_fulcio_reason(exc)}",
            hint="the identity token was not accepted: get a fresh one",
        ) from None
    except RekorClientError as exc:
        raise SigningError(
            f"Sigstore's Rekor refused the log entry: {_one_line(exc)}", hint="try again later"
        ) from None
    except ExpiredIdentity:
        raise SigningError(
            "the OIDC identity token expired before signing", hint="get a fresh token"
        ) from None
    except ExpiredCertificate:
        raise SigningError(
            "the Fulcio signing certificate expired before signing", hint="try again"
        ) from None
    except requests.RequestException as exc:
        raise SigningError(
            f"Sigstore answered an error{_request_url(exc)}: {_one_line(exc)}",
            hint="try again later",
        ) from None
    except SigstoreError as exc:
        raise SigningError(f"Sigstore signing failed: {_one_line(exc)}") from None
    return bundle.to_json().encode()


def _fulcio_reason(exc: BaseException) -> str:
    """Fulcio's own message (sigstore drops it for 4xx answers: a 4xx Response is falsy)."""
    if str(exc):
        return _one_line(exc)
    response = getattr(exc.__cause__, "response", None)
    status = getattr(response, "status_code", None)
    try:
        message = response.json().get("message") if response is not None else None
    except ValueError:
        message = None
    if isinstance(message, str) and message:
        return f"HTTP {status}: {' '.join(message.split())}"
    return _one_line(exc.__cause__ or exc)


def _request_url(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    return f" at {url}" if isinstance(url, str) else ""


#: errno values of a network that is not there (ECONNREFUSED and the timeouts
#: arrive as ConnectionError / TimeoutError subclasses).
_UNREACHABLE_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.ETIMEDOUT}
)


def _is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the network failing, not a server's answer.

    Connection refused or reset, a name that does not resolve, no route, a
    timeout: yes. An HTTP error status, a malformed answer, expired metadata: no.
    """
    import socket  # noqa: PLC0415

    import requests  # noqa: PLC0415
    import urllib3.exceptions  # noqa: PLC0415
    from sigstore.errors import NetworkError  # noqa: PLC0415
    from tuf.api.exceptions import SlowRetrievalError  # noqa: PLC0415

    network = (
        ConnectionError,
        TimeoutError,
        socket.gaierror,
        socket.herror,
        requests.ConnectionError,
        requests.Timeout,
        urllib3.exceptions.NewConnectionError,
        urllib3.exceptions.ConnectTimeoutError,
        urllib3.exceptions.ReadTimeoutError,
        NetworkError,
        SlowRetrievalError,
    )
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        if isinstance(current, network):
            return True
        if isinstance(current, OSError) and current.errno in _UNREACHABLE_ERRNOS:
            return True
        current = current.__cause__ or current.__context__
    return False


def _network_reason(exc: BaseException) -> str:
    """``Connection refused`` rather than urllib3's nested repr of the pool and its retries."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for link in reversed(chain):
        if isinstance(link, OSError) and link.strerror:
            return link.strerror
        errno_text = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(link))
        if errno_text:
            return errno_text.group(1).strip()
    texts = [" ".join(str(link).split()) for link in chain]
    for marker in ("Read timed out", "timed out"):
        if any(marker in text for text in texts):
            return marker
    return next((text for text in reversed(texts) if text), type(exc).__name__)
