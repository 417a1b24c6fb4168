"""Every use of sigstore's private API, in one place.

sigstore has no public name for these, and lockdown needs them: the content
variant of a bundle, the trusted roots embedded in the release, the logger of
its TUF client, the certificate OIDs its identity policy checks, the Fulcio /
Rekor client exceptions, and (from pypi-attestations, a sigstore project) a
Trusted Publisher's verification policy. A release may rename or drop any of
them without notice; :data:`PRIVATE_SYMBOLS` lists them and
``tests/sign/test_sigstore_private.py`` fails naming the one that is gone and
the installed sigstore version.

sigstore is imported inside the functions, so importing this module is free.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.x509 import ObjectIdentifier
    from sigstore.models import Bundle
    from sigstore.verify.policy import VerificationPolicy

#: The logger of sigstore's TUF client (it warns when loaded offline).
TUF_LOGGER = "sigstore._internal.tuf"

#: (module, attribute) of each private name used below.
PRIVATE_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("sigstore._utils", "read_embedded"),
    ("sigstore._internal.tuf", "_logger"),
    ("sigstore.verify.policy", "_OTHERNAME_OID"),
    ("sigstore.verify.policy", "_OIDC_ISSUER_OID"),
    ("sigstore._internal.fulcio.client", "ExpiredCertificate"),
    ("sigstore._internal.fulcio.client", "FulcioClientError"),
    ("sigstore._internal.rekor", "RekorClientError"),
    ("pypi_attestations", "GitHubPublisher._as_policy"),
    ("pypi_attestations", "GitLabPublisher._as_policy"),
    ("pypi_attestations", "GooglePublisher._as_policy"),
    ("pypi_attestations", "CircleCIPublisher._as_policy"),
)


def has_dsse_envelope(bundle: Bundle) -> bool:
    """Whether the bundle carries a DSSE envelope rather than a message signature.

    sigstore 4.x has no public accessor for the bundle's content variant.
    """
    return bundle._inner.dsse_envelope is not None


def embedded_trusted_root(url: str) -> bytes:
    """The ``trusted_root.json`` this sigstore release ships for the TUF repository ``url``."""
    from sigstore._utils import read_embedded  # noqa: PLC0415

    return read_embedded("trusted_root.json", url)


def othername_oid() -> ObjectIdentifier:
    """The other-name SAN type sigstore's ``Identity`` policy accepts as an identity."""
    from sigstore.verify.policy import _OTHERNAME_OID  # noqa: PLC0415

    return _OTHERNAME_OID


def oidc_issuer_oid() -> ObjectIdentifier:
    """The certificate extension in which Fulcio records the OIDC issuer."""
    from sigstore.verify.policy import _OIDC_ISSUER_OID  # noqa: PLC0415

    return _OIDC_ISSUER_OID


def signing_client_errors() -> tuple[type[Exception], type[Exception], type[Exception]]:
    """sigstore's ``ExpiredCertificate``, ``FulcioClientError`` and ``RekorClientError``."""
    from sigstore._internal.fulcio.client import (  # noqa: PLC0415
        ExpiredCertificate,
        FulcioClientError,
    )
    from sigstore._internal.rekor import RekorClientError  # noqa: PLC0415

    return ExpiredCertificate, FulcioClientError, RekorClientError


def publisher_policy(publisher: Any) -> VerificationPolicy:
    """The sigstore verification policy of a pypi-attestations Trusted Publisher."""
    policy: VerificationPolicy = publisher._as_policy()
    return policy


@contextmanager
def quiet_offline_tuf_warning() -> Iterator[None]:
    """Silence sigstore's "TUF repository is loaded in offline mode" warning.

    Offline is lockdown's documented default, not a condition to warn about on
    every ``verify`` (and it would break the one-line output).
    """
    import logging  # noqa: PLC0415 - sigstore imports it anyway; lockdown need not

    logger = logging.getLogger(TUF_LOGGER)
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)
