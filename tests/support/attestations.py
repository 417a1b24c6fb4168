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
from pathlib import Path
from typing import Final

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
