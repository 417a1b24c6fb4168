"""What signing and verification backends share: errors, bundle location, results.

Two backends produce and check the same artifact, a Sigstore bundle
(``application/vnd.dev.sigstore.bundle.v0.3+json``) stored next to the signed
file as ``<file>.sigstore.json``:

* keyless (``keyless_sign`` / ``keyless_verify``) — Fulcio certificate + Rekor
  entry, identity from OIDC;
* ``keys`` — an ECDSA P-256 key pair for sites without Sigstore access
  (``verificationMaterial.publicKey.hint``, no tlog entry).

Every verification failure is a :class:`SignatureError` (exit 16) whose message
says what failed and for which file; signing failures that are the
environment's fault (no OIDC credential, Fulcio unreachable) are
:class:`SigningError` (exit 70); of those, the ones where Sigstore could not be
reached over the network at all are :class:`SigstoreUnreachableError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lockdown.errors import EXIT_INTEGRITY, EXIT_INTERNAL, LockdownError

BUNDLE_SUFFIX = ".sigstore.json"
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"


class SignatureError(LockdownError):
    """A signature does not verify, is missing or malformed, or no trusted signer made it."""

    exit_code = EXIT_INTEGRITY


class SigningError(LockdownError):
    """Signing could not be done here (no credential, Sigstore unreachable)."""

    exit_code = EXIT_INTERNAL


class SigstoreUnreachableError(SigningError):
    """Sigstore (its TUF repository, OIDC issuer, Fulcio or Rekor) could not be reached at all.

    A connection refused, a name that does not resolve, a timeout: the network,
    not an answer. An error answer (Fulcio refusing the token, an HTTP 500) is a
    plain :class:`SigningError`.
    """


def bundle_path_for(path: Path) -> Path:
    """Where the bundle for ``path`` lives: ``pylock.toml`` → ``pylock.toml.sigstore.json``."""
    return path.with_name(path.name + BUNDLE_SUFFIX)


@dataclass(frozen=True, slots=True, kw_only=True)
class Verified:
    """A successful verification: who signed, and the exact bytes that were verified."""

    #: The verified file's bytes; callers parse these, never re-read the file.
    data: bytes
    #: Human description of the signer that matched, e.g.
    #: ``identity https://github.com/acme/svc/... (issuer https://token.actions...)``
    #: or ``key keys/release.pub (SHA256:...)``.
    signer: str
