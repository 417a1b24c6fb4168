"""PEP 740 provenance, verified: which Trusted Publisher signed each pinned file's sha256.

A provenance object (what an index's provenance URL answers) holds one or
more attestation bundles, each naming a publisher and carrying Sigstore
attestations. :func:`verify_provenance` checks every attestation with
``pypi-attestations`` against the file's name and the sha256 being pinned,
with the bundle's publisher as the identity policy, offline against the
trusted root embedded in sigstore (or a private deployment's
``trusted_root.json``, ``provenance-trusted-root``). It returns the verified
publishers, or raises :class:`~lockdown.errors.IntegrityError` (exit 16)
naming the file.

Verified results are cached under the cache directory by (file sha256,
provenance sha256): the same bytes verify the same way, so a re-lock or a
second project pays nothing. A cache hit imports neither pypi-attestations
nor sigstore (they cost ~0.4 s to import); both are imported only inside the
function that verifies.

:func:`check_provenance` is the later check (``verify --provenance``,
``install``): each file's verified publishers must be the ones the lock records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockdown.errors import IntegrityError
from lockdown.fsutil import is_sha256
from lockdown.lock.attestation import Publisher, describe_publishers

if TYPE_CHECKING:
    from pypi_attestations import Attestation, Distribution

    from lockdown.resolve.provenance import FetchedProvenance

__all__ = ["ProvenanceCache", "check_provenance", "preload", "verify_provenance"]

_CACHE_VERSION = 1


class ProvenanceCache:
    """Verified publishers under ``root/provenance/<file sha256>/<provenance sha256>.json``.

    Results verified against a private trusted root live apart, under
    ``root/provenance/root-<its sha256>/``: what one root admits, another need not.
    """

    def __init__(self, root: Path, *, trusted_root: Path | None = None) -> None:
        self.root = root / "provenance"
        if trusted_root is not None:
            try:
                digest = hashlib.sha256(trusted_root.read_bytes()).hexdigest()
            except OSError:
                digest = "unreadable"  # verification will say why; nothing is cached
            self.root = self.root / f"root-{digest}"

    def _path(self, sha256: str, document_digest: str) -> Path | None:
        # Only real digests name paths (a hostile lock's "../x" never reaches the disk).
        if not (is_sha256(sha256) and is_sha256(document_digest)):
            return None
        return self.root / sha256 / f"{document_digest}.json"

    def get(self, sha256: str, document_digest: str) -> frozenset[Publisher] | None:
        """The publishers verified before for these bytes, or ``None`` (miss or unreadable)."""
        path = self._path(sha256, document_digest)
        if path is None:
            return None
        try:
            data = json.loads(path.read_bytes())
            if data.get("version") != _CACHE_VERSION:
                return None
            publishers = frozenset(Publisher.from_table(t) for t in data["publishers"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # a damaged entry is a miss: verify again
        return publishers or None

    def put(self, sha256: str, document_digest: str, publishers: Iterable[Publisher]) -> None:
        """Remember a verified result (best effort: a read-only cache only costs time)."""
        path = self._path(sha256, document_digest)
        if path is None:
            return
        body = {"version": _CACHE_VERSION, "publishers": [p.table() for p in sorted(publishers)]}
        import os  # noqa: PLC0415
        import tempfile  # noqa: PLC0415

        # Renamed into place, not fsynced: a cache entry lost or cut short by a
        # crash reads as a miss (verified again), and fsync doubled the cold cost.
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".entry.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(json.dumps(body, sort_keys=True).encode("utf-8"))
                os.replace(tmp, path)
            except OSError:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return


def preload() -> None:
    """Import what verifying provenance needs (pydantic, pypi-attestations, sigstore) now.

    ~0.25 s of imports that a lock would otherwise pay after the resolver has
    returned; ``lock`` runs this on a thread of its own while the resolver
    works, once an index is seen to carry provenance. Nothing is raised: an
    import that fails here fails again, with its message, where it is used.
    """
    try:
        import pydantic  # noqa: F401, PLC0415
        import pypi_attestations  # noqa: F401, PLC0415
        import sigstore.errors  # noqa: PLC0415
        import sigstore.verify  # noqa: F401, PLC0415

        import lockdown.sign._sigstore_private  # noqa: PLC0415
        import lockdown.sign.keyless_verify  # noqa: F401, PLC0415
    except Exception:  # noqa: S110 - see the docstring
        pass


def verify_provenance(
    filename: str,
    sha256: str,
    document: bytes,
    *,
    cache: ProvenanceCache | None = None,
    where: str = "",
    trusted_root: Path | None = None,
) -> frozenset[Publisher]:
    """The publishers whose attestations over (``filename``, ``sha256``) verify.

    Every attestation in the object must verify; any that does not is an
    :class:`IntegrityError` naming the file (``where`` says which lock or
    index it came from). ``trusted_root``: a private Sigstore deployment's
    root instead of production's (the cache must be one made for it too).
    """
    # 1. Seen these exact bytes for this exact digest before: the same answer.
    document_digest = hashlib.sha256(document).hexdigest()
    if cache is not None:
        cached = cache.get(sha256, document_digest)
        if cached is not None:
            return cached
    publishers = _verify(filename, sha256, document, where=where, trusted_root=trusted_root)
    if cache is not None:
        cache.put(sha256, document_digest, publishers)
    return publishers


def _verify(
    filename: str, sha256: str, document: bytes, *, where: str, trusted_root: Path | None
) -> frozenset[Publisher]:
    import pydantic  # noqa: PLC0415 - pypi-attestations' models are pydantic models
    from pypi_attestations import (  # noqa: PLC0415 - heavy: only when verifying
        AttestationError,
        Distribution,
        Provenance,
    )

    from lockdown.sign._sigstore_private import quiet_offline_tuf_warning  # noqa: PLC0415

    def fail(problem: str) -> IntegrityError:
        place = f" ({where})" if where else ""
        return IntegrityError(
            f"provenance of {filename}{place} does not verify: {problem}",
            hint="the file or its attestation is not what its publisher signed; "
            "do not use it, and tell the index's operators",
        )

    # 2. The object must be a PEP 740 provenance object.
    try:
        provenance = Provenance.model_validate_json(document)
    except (pydantic.ValidationError, ValueError) as exc:
        raise fail(f"not a PEP 740 provenance object ({_first_line(exc)})") from None
    if not provenance.attestation_bundles:
        raise fail("the provenance object holds no attestation bundles")
    # 3. The distribution being pinned: its file name and the sha256 in the lock.
    try:
        distribution = Distribution(name=filename, digest=sha256)
    except (pydantic.ValidationError, ValueError) as exc:
        raise fail(f"{filename!r} is not a distribution file name ({_first_line(exc)})") from None
    publishers = set()
    for number, bundle in enumerate(provenance.attestation_bundles):
        publisher = Publisher.from_table(bundle.publisher.model_dump(mode="json"))
        # 4. A publisher with nothing signed by it vouches for nothing.
        if not bundle.attestations:
            raise fail(f"bundle {number} ({publisher.describe()}) holds no attestations")
        # 5. Each attestation: the Sigstore signature chains to the embedded
        #    trusted root, its certificate matches the bundle's publisher, and
        #    its statement names exactly this file and this sha256.
        for attestation in bundle.attestations:
            try:
                if trusted_root is None:
                    with quiet_offline_tuf_warning():
                        attestation.verify(bundle.publisher, distribution, offline=True)
                else:
                    _verify_with_root(attestation, bundle.publisher, distribution, trusted_root)
            except AttestationError as exc:
                raise fail(f"{_first_line(exc)} (publisher {publisher.describe()})") from None
        publishers.add(publisher)
    return frozenset(publishers)


def _verify_with_root(
    attestation: Attestation, publisher: Any, distribution: Distribution, trusted_root: Path
) -> None:
    """``Attestation.verify`` against a private trusted root (the library takes only
    production or staging): the same Sigstore procedure and subject checks.

    The publisher's verification policy is pypi-attestations' private API, reached
    through sign/_sigstore_private.py (tests/sign/test_sigstore_private.py).
    """
    import sigstore.errors  # noqa: PLC0415
    from pypi_attestations import AttestationType, VerificationError  # noqa: PLC0415

    from lockdown.config.trust import SigstoreInstance  # noqa: PLC0415
    from lockdown.sign._sigstore_private import publisher_policy  # noqa: PLC0415
    from lockdown.sign.keyless_verify import _verifier  # noqa: PLC0415

    verifier = _verifier(SigstoreInstance(trusted_root=trusted_root))
    # 1. Signature, certificate chain, transparency log, and the publisher's
    #    identity policy over the certificate, by sigstore.
    try:
        kind, payload = verifier.verify_dsse(attestation.to_bundle(), publisher_policy(publisher))
    except sigstore.errors.VerificationError as exc:
        raise VerificationError(str(exc)) from exc
    # 2. An in-toto statement naming exactly this file and this digest.
    try:
        statement = json.loads(payload)
        subjects = statement["subject"]
        predicate_type = statement["predicateType"]
    except (ValueError, KeyError, TypeError):
        raise VerificationError("invalid statement") from None
    if kind != "application/vnd.in-toto+json" or not isinstance(subjects, list):
        raise VerificationError(f"expected an in-toto statement, got {kind}")
    if len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise VerificationError("the statement must name exactly one subject")
    subject = subjects[0]
    if subject.get("name") != distribution.name:
        raise VerificationError(
            f"subject does not match distribution name: {subject.get('name')} != "
            f"{distribution.name}"
        )
    digest = subject.get("digest")
    if not isinstance(digest, dict) or digest.get("sha256") != distribution.digest:
        raise VerificationError("subject does not match distribution digest")
    if predicate_type not in {t.value for t in AttestationType}:
        raise VerificationError(f"unknown attestation type: {predicate_type}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_provenance(
    fetched: Sequence[FetchedProvenance],
    recorded: Mapping[str, frozenset[Publisher]],
    *,
    cache: ProvenanceCache | None = None,
    where: str,
    trusted_root: Path | None = None,
) -> int:
    """Each fetched file's provenance against the publishers its package records.

    ``recorded`` maps file name → the lock's ``attestation-identities`` for its
    package. A file must still be listed, still offer provenance, verify
    against its pinned sha256, and be attested by exactly the recorded
    publishers; the first that is not raises :class:`IntegrityError`. Returns
    how many files were checked.
    """
    for item in fetched:
        file = item.file
        expected = recorded.get(file.filename, frozenset())
        if not item.listed:
            raise IntegrityError(
                f"{where}: {file.filename} is no longer listed on {file.index}, so its "
                f"provenance ({describe_publishers(expected)}) cannot be checked",
                hint="lock again to see what changed",
            )
        if item.document is None:
            raise IntegrityError(
                f"{where}: {file.filename} lost its attestations: the lock records "
                f"{describe_publishers(expected)}, the index now offers no provenance",
                hint="do not install it; find out why the index dropped them",
            )
        found = verify_provenance(
            file.filename,
            file.sha256,
            item.document,
            cache=cache,
            where=where,
            trusted_root=trusted_root,
        )
        if found != expected:
            raise IntegrityError(
                f"{where}: {file.filename} is attested by {describe_publishers(found)}, "
                f"but the lock records {describe_publishers(expected)}",
                hint="do not install it; lock again and review the publisher change",
            )
    return len(fetched)
