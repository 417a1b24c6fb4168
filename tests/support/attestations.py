"""The real PEP 740 attestations in ``../shared/fixtures/attestations/``, and what they attest.

Two real Sigstore-signed fixtures (see that folder's README): a provenance
object for ``gcb_attestation_test-0.0.0.tar.gz`` by the Google Trusted
Publisher, and a single publish attestation for ``pypi_attestations-0.0.19.tar.gz``
by ``jku@goto.fi``. The distributions themselves are not there: tests list
the attested names and digests on the local index (``PackageIndex.list_file``).

The invalid variants below are derived from the real bytes, each broken in
exactly one way the README lists.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Final

from lockdown.commands.lock import lock_project
from lockdown.lock.model import Artifact, LockedPackage, Resolution
from lockdown.report.outcomes import LockOutcome
from lockdown.resolve.interface import ResolveRequest
from tests.support.pkgindex import PackageIndex

FIXTURES: Final = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "attestations"

GCB_FILE: Final = "gcb_attestation_test-0.0.0.tar.gz"
GCB_SHA256: Final = "461317362419124b6012e855423a9078d6de8aed3e74fa78cc74d669b23dc6cf"
GCB_PROJECT: Final = "gcb-attestation-test"
GCB_EMAIL: Final = "919436158236-compute@developer.gserviceaccount.com"
#: The publisher as PEP 751 ``attestation-identities`` records it.
GCB_PUBLISHER: Final = {"kind": "Google", "email": GCB_EMAIL}

JKU_FILE: Final = "pypi_attestations-0.0.19.tar.gz"
JKU_SHA256: Final = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"

OTHER_SHA256: Final = "0" * 63 + "1"
#: A later release of the attested project, listed without provenance.
NEXT_FILE: Final = "gcb_attestation_test-0.0.1.tar.gz"
NEXT_SHA256: Final = "cd" * 32
#: The clock of the lock tests: after every listed upload.
NOW: Final = datetime(2025, 6, 1, tzinfo=timezone.utc)

PROJECT: Final = """\
[project]
name = "svc"
version = "1.0"
requires-python = ">=3.10"
dependencies = ["gcb-attestation-test"]

[tool.lockdown]
index-url = "{index}"
"""


def _fixture_dir() -> Path:
    if not FIXTURES.is_dir():
        raise FileNotFoundError(f"attestation fixtures not found at {FIXTURES}")
    return FIXTURES


def gcb_provenance() -> bytes:
    """The real provenance object, unchanged."""
    return (_fixture_dir() / f"{GCB_FILE}.provenance").read_bytes()


def jku_attestation() -> dict[str, object]:
    """The real single publish attestation, as JSON data."""
    data: dict[str, object] = json.loads(
        (_fixture_dir() / f"{JKU_FILE}.publish.attestation").read_bytes()
    )
    return data


def jku_provenance(publisher: dict[str, str]) -> bytes:
    """The real jku attestation in a provenance object naming ``publisher``.

    It has no Trusted Publisher of its own (an email identity via GitHub
    OAuth), so any publisher named here does not match its certificate.
    """
    bundle = {"publisher": publisher, "attestations": [jku_attestation()]}
    return json.dumps({"version": 1, "attestation_bundles": [bundle]}).encode("utf-8")


def gcb_with_publisher(publisher: dict[str, str]) -> bytes:
    """The real GCB provenance claiming another publisher than its certificate's."""
    data = json.loads(gcb_provenance())
    data["attestation_bundles"][0]["publisher"] = publisher
    return json.dumps(data).encode("utf-8")


def gcb_with_flipped_signature() -> bytes:
    """The real GCB provenance with one byte of the envelope's signature changed."""
    data = json.loads(gcb_provenance())
    envelope = data["attestation_bundles"][0]["attestations"][0]["envelope"]
    signature: str = envelope["signature"]
    # A base64 character swapped for another decodes to a different byte.
    position = 20
    replacement = "A" if signature[position] != "A" else "B"
    envelope["signature"] = signature[:position] + replacement + signature[position + 1 :]
    return json.dumps(data).encode("utf-8")


class PinnedResolver:
    """Pins the files it is given, as the index lists them (their bytes are not here)."""

    name = "uv"
    refuses_yanked_dependencies = True

    def __init__(self, index: PackageIndex, *files: str) -> None:
        self.index = index
        self.files = files

    def version(self) -> str:
        return "pinned"

    def resolve(self, request: ResolveRequest) -> Resolution:
        packages = []
        for filename in self.files:
            listed = self.index.file(filename)
            sdist = Artifact(
                url=self.index.files_url + filename,
                filename=filename,
                sha256=listed.advertised_sha256,
                size=listed.size,
                upload_time=listed.upload_time,
            )
            packages.append(
                LockedPackage(
                    name=listed.project,
                    version=listed.version,
                    marker=None,
                    index=request.index_url,
                    wheels=(),
                    sdist=sdist,
                )
            )
        return Resolution(
            packages=tuple(packages),
            environments=request.environments,
            resolver="pinned",
            resolver_version="1",
        )


def serve_attested(index: PackageIndex) -> PackageIndex:
    """List the GCB file (with its real provenance) and an unattested later release."""
    index.list_file(GCB_FILE, GCB_SHA256)
    index.list_file(NEXT_FILE, NEXT_SHA256)
    index.set_provenance(GCB_FILE, gcb_provenance())
    return index


def attested_project(root: Path, index: PackageIndex) -> Path:
    """A project depending on the attested project, locked from ``index``."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PROJECT.format(index=index.url), encoding="utf-8")
    return root


def lock_pinned(project: Path, index: PackageIndex, *files: str) -> LockOutcome:
    """``lock`` the project with :class:`PinnedResolver` pinning ``files``."""
    return lock_project(
        project,
        backend=PinnedResolver(index, *files),
        # The default: the declared digests are pinned, no bytes are fetched
        # (the fixtures have only the digests).
        clock=lambda: NOW,
    )
