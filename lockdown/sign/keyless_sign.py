"""Sigstore keyless signing: an OIDC identity, a Fulcio certificate, a Rekor entry.

Signing needs Fulcio and Rekor; when they or an OIDC identity token are not
available it fails with one line and exit 70 and writes nothing (the caller
writes the bundle, atomically, only after :func:`sign_keyless` returned it).

sigstore is imported inside the functions that need it, so importing this
module costs nothing for commands that never sign.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import UsageError
from lockdown.sign import _sigstore_private
from lockdown.sign.interface import SigningError, SigstoreUnreachableError
from lockdown.sign.keyless_verify import PRODUCTION_TUF_URL, STAGING_TUF_URL, read_trust_file
from lockdown.sign.sigstore_errors import (
    fulcio_reason,
    is_unreachable,
    network_reason,
    one_line,
    request_url,
)

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken

#: Environment variables holding an identity token: cosign's name, then sigstore-python's.
TOKEN_ENV_VARS = ("SIGSTORE_ID_TOKEN", "SIGSTORE_IDENTITY_TOKEN")

NO_IDENTITY_MESSAGE = (
    "no OIDC identity token: run in CI with id-token permission, pass --identity-token, "
    "or set SIGSTORE_ID_TOKEN"
)


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
            f"cannot get the CI's ambient OIDC credential: {one_line(exc)}", hint=hint
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
            reason = f"it is not a well-formed JWT ({one_line(cause)})"
        elif isinstance(cause, jwt.InvalidTokenError):
            reason = f"its claims are invalid ({one_line(cause)})"
        elif "validity period" in str(exc):
            reason = "it is outside its validity period (nbf/exp)"
        else:
            reason = one_line(exc)
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
            return ClientTrustConfig.from_json(read_trust_file(trust_config, "trust config"))
        except (SigstoreError, ValueError) as exc:
            raise UsageError(
                f"{trust_config}: not a Sigstore client trust config: {one_line(exc)}",
                hint="pass the deployment's trust config JSON",
            ) from None
    # Signing talks to Sigstore anyway: refresh the service list over TUF, as
    # sigstore's own `sign` does, so rotated services are found.
    url = STAGING_TUF_URL if staging else PRODUCTION_TUF_URL
    try:
        return ClientTrustConfig.staging() if staging else ClientTrustConfig.production()
    except (SigstoreError, OSError, ValueError) as exc:
        # The same words either way (the repository did not give us a usable
        # configuration); the class says whether the network was the cause.
        error = SigstoreUnreachableError if is_unreachable(exc) else SigningError
        raise error(
            f"cannot reach Sigstore (TUF repository {url}) to load its signing "
            f"configuration: {network_reason(exc)}",
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
            f"the signing configuration names no OIDC issuer: {one_line(exc)}",
            hint="pass --identity-token",
        ) from None
    try:
        return Issuer(url).identity_token()
    except (NetworkError, requests.RequestException) as exc:
        error = SigstoreUnreachableError if is_unreachable(exc) else SigningError
        raise error(
            f"cannot reach Sigstore's OIDC issuer {url}: {network_reason(exc)}",
            hint="check network access, or pass --identity-token",
        ) from None
    except (IssuerError, SigstoreError) as exc:
        raise SigningError(
            f"browser sign-in at {url} failed: {one_line(exc)}",
            hint="try again, or pass --identity-token",
        ) from None


def _sign(data: bytes, token: IdentityToken, config: ClientTrustConfig) -> bytes:
    """Fulcio certificate, signature, Rekor entry → the bundle's JSON bytes."""
    import requests  # noqa: PLC0415
    from sigstore.errors import Error as SigstoreError  # noqa: PLC0415
    from sigstore.errors import NetworkError  # noqa: PLC0415
    from sigstore.oidc import ExpiredIdentity  # noqa: PLC0415
    from sigstore.sign import SigningContext  # noqa: PLC0415

    expired_certificate, fulcio_error, rekor_error = _sigstore_private.signing_client_errors()
    try:
        context = SigningContext.from_trust_config(config)
    except (SigstoreError, ValueError) as exc:
        raise SigningError(
            f"unusable Sigstore signing configuration: {one_line(exc)}",
            hint="check --trust-config, or update sigstore",
        ) from None
    try:
        with context.signer(token, cache=True) as signer:
            bundle = signer.sign_artifact(data)
    except (NetworkError, requests.ConnectionError, requests.Timeout) as exc:
        cause = exc.__cause__ if isinstance(exc, NetworkError) and exc.__cause__ else exc
        where = request_url(cause)
        raise SigstoreUnreachableError(
            f"cannot reach Sigstore (Fulcio/Rekor){where}: {network_reason(cause)}",
            hint="check network access to Sigstore, or sign with --key where it is unreachable",
        ) from None
    except fulcio_error as exc:
        raise SigningError(
            f"Sigstore's Fulcio refused a signing certificate: {fulcio_reason(exc)}",
            hint="the identity token was not accepted: get a fresh one",
        ) from None
    except rekor_error as exc:
        raise SigningError(
            f"Sigstore's Rekor refused the log entry: {one_line(exc)}", hint="try again later"
        ) from None
    except ExpiredIdentity:
        raise SigningError(
            "the OIDC identity token expired before signing", hint="get a fresh token"
        ) from None
    except expired_certificate:
        raise SigningError(
            "the Fulcio signing certificate expired before signing", hint="try again"
        ) from None
    except requests.RequestException as exc:
        raise SigningError(
            f"Sigstore answered an error{request_url(exc)}: {one_line(exc)}",
            hint="try again later",
        ) from None
    except SigstoreError as exc:
        raise SigningError(f"Sigstore signing failed: {one_line(exc)}") from None
    return bundle.to_json().encode()
