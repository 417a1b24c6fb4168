"""PEP 740 provenance verification with the real attestations, and every invalid case.

The real fixtures verify offline against the trusted root embedded in
sigstore; each broken variant is the real bytes changed in one way.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from lockdown.errors import IntegrityError
from lockdown.lock.attestation import Publisher
from lockdown.sign.provenance import ProvenanceCache, verify_provenance
from tests.support.attestations import (
    GCB_FILE,
    GCB_PUBLISHER,
    GCB_SHA256,
    JKU_FILE,
    JKU_SHA256,
    OTHER_SHA256,
    gcb_provenance,
    gcb_with_flipped_signature,
    gcb_with_publisher,
    jku_provenance,
)

GOOGLE = Publisher.from_table(GCB_PUBLISHER)
GITHUB = {"kind": "GitHub", "repository": "pypi/pypi-attestations", "workflow": "release.yml"}


def test_the_real_provenance_verifies_to_its_publisher() -> None:
    assert verify_provenance(GCB_FILE, GCB_SHA256, gcb_provenance()) == {GOOGLE}
    assert GOOGLE.table() == GCB_PUBLISHER
    assert GOOGLE.describe() == f"Google (email={GCB_PUBLISHER['email']})"


def refused(filename: str, sha256: str, document: bytes) -> str:
    with pytest.raises(IntegrityError) as caught:
        verify_provenance(filename, sha256, document, where="from http://index/simple/")
    assert caught.value.exit_code == 16
    message = caught.value.message
    assert message.startswith(f"provenance of {filename} (from http://index/simple/) ")
    return message


def test_another_sha256_is_refused() -> None:
    message = refused(GCB_FILE, OTHER_SHA256, gcb_provenance())
    assert "subject does not match distribution digest" in message


def test_a_file_name_it_does_not_name_is_refused() -> None:
    message = refused("gcb_attestation_test-0.0.1.tar.gz", GCB_SHA256, gcb_provenance())
    assert "subject does not match distribution name" in message


def test_a_name_that_is_no_distribution_is_refused() -> None:
    message = refused("gcb_attestation_test.txt", GCB_SHA256, gcb_provenance())
    assert "is not a distribution file name" in message


def test_one_changed_byte_of_the_signature_is_refused() -> None:
    assert "invalid signature" in refused(GCB_FILE, GCB_SHA256, gcb_with_flipped_signature())


def test_one_changed_byte_of_the_statement_is_refused() -> None:
    data = json.loads(gcb_provenance())
    envelope = data["attestation_bundles"][0]["attestations"][0]["envelope"]
    statement = bytearray(base64.b64decode(envelope["statement"]))
    statement[statement.index(b"461317")] = ord("5")  # the digest it signs, one byte off
    envelope["statement"] = base64.b64encode(bytes(statement)).decode()
    message = refused(GCB_FILE, GCB_SHA256, json.dumps(data).encode())
    assert "invalid signature" in message


def test_another_publisher_than_the_certificates_is_refused() -> None:
    message = refused(GCB_FILE, GCB_SHA256, gcb_with_publisher(GITHUB))
    assert "publisher GitHub (repository=pypi/pypi-attestations, workflow=release.yml)" in message
    other_google = {"kind": "Google", "email": "someone-else@developer.gserviceaccount.com"}
    assert "someone-else" in refused(GCB_FILE, GCB_SHA256, gcb_with_publisher(other_google))


@pytest.mark.parametrize(
    "publisher",
    [
        GITHUB,
        {"kind": "Google", "email": "jku@goto.fi"},
        {"kind": "GitLab", "repository": "jku/x", "workflow_filepath": ".gitlab-ci.yml"},
    ],
    ids=["github", "google", "gitlab"],
)
def test_the_email_signed_attestation_matches_no_trusted_publisher(
    publisher: dict[str, str],
) -> None:
    # Signed by jku@goto.fi through GitHub OAuth: a real signature over the real
    # file, but no Trusted Publisher's certificate; offered as any, it is refused.
    message = refused(JKU_FILE, JKU_SHA256, jku_provenance(publisher))
    assert f"publisher {Publisher.from_table(publisher).describe()}" in message


def test_the_email_signed_attestation_for_another_file_is_refused() -> None:
    message = refused(GCB_FILE, GCB_SHA256, jku_provenance(GITHUB))
    assert "does not verify" in message


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (b"not json", "not a PEP 740 provenance object"),
        (b'{"version": 1}', "not a PEP 740 provenance object"),
        (b'{"version": 1, "attestation_bundles": []}', "holds no attestation bundles"),
        (
            json.dumps(
                {"version": 1, "attestation_bundles": [{"publisher": GITHUB, "attestations": []}]}
            ).encode(),
            "bundle 0 (GitHub (repository=pypi/pypi-attestations, workflow=release.yml)) "
            "holds no attestations",
        ),
    ],
    ids=["not-json", "no-bundles-key", "no-bundles", "empty-bundle"],
)
def test_a_malformed_provenance_object_is_refused(document: bytes, problem: str) -> None:
    assert problem in refused(GCB_FILE, GCB_SHA256, document)


def test_a_verified_result_is_cached_by_file_and_provenance_digest(tmp_path: Path) -> None:
    cache = ProvenanceCache(tmp_path)
    assert verify_provenance(GCB_FILE, GCB_SHA256, gcb_provenance(), cache=cache) == {GOOGLE}
    entries = list((tmp_path / "provenance" / GCB_SHA256).iterdir())
    assert len(entries) == 1
    # The entry is what a second run answers from (rewritten here to prove it is read).
    marker = {"kind": "GitHub", "repository": "cached/answer", "workflow": "w.yml"}
    entries[0].write_text(json.dumps({"version": 1, "publishers": [marker]}))
    again = verify_provenance(GCB_FILE, GCB_SHA256, gcb_provenance(), cache=cache)
    assert again == {Publisher.from_table(marker)}
    # Other provenance bytes for the same file are not a hit: verified, and refused.
    with pytest.raises(IntegrityError, match="invalid signature"):
        verify_provenance(GCB_FILE, GCB_SHA256, gcb_with_flipped_signature(), cache=cache)
    # Nor is the same provenance for another digest.
    with pytest.raises(IntegrityError, match="distribution digest"):
        verify_provenance(GCB_FILE, OTHER_SHA256, gcb_provenance(), cache=cache)


def test_a_damaged_cache_entry_is_verified_again(tmp_path: Path) -> None:
    cache = ProvenanceCache(tmp_path)
    verify_provenance(GCB_FILE, GCB_SHA256, gcb_provenance(), cache=cache)
    (entry,) = (tmp_path / "provenance" / GCB_SHA256).iterdir()
    entry.write_text("{not json")
    assert verify_provenance(GCB_FILE, GCB_SHA256, gcb_provenance(), cache=cache) == {GOOGLE}
    assert json.loads(entry.read_text())["publishers"] == [GCB_PUBLISHER]


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    # A file where the cache's directory should be (the tests run as root, so a
    # read-only mode would not stop them): every write fails, nothing else does.
    (tmp_path / "provenance").write_text("not a directory")
    cache = ProvenanceCache(tmp_path)
    for _ in range(2):
        assert verify_provenance(GCB_FILE, GCB_SHA256, gcb_provenance(), cache=cache) == {GOOGLE}
    assert (tmp_path / "provenance").read_text() == "not a directory"


# --- a private Sigstore deployment's trusted root ---


def embedded_root(instance: str) -> Path:
    """sigstore's embedded trusted root of ``sigstore.dev`` or ``sigstage.dev``, as a file."""
    import sigstore

    store = Path(sigstore.__file__).parent / "_store"
    return store / f"https%3A%2F%2Ftuf-repo-cdn.{instance}" / "trusted_root.json"


@pytest.fixture
def production_root(tmp_path: Path) -> Path:
    """Production's root shipped as a deployment's own file: the private path, real data."""
    root = tmp_path / "private-root.json"
    root.write_bytes(embedded_root("sigstore.dev").read_bytes())
    return root


@pytest.fixture
def staging_root(tmp_path: Path) -> Path:
    """A root the real attestations do not chain to."""
    root = tmp_path / "staging-root.json"
    root.write_bytes(embedded_root("sigstage.dev").read_bytes())
    return root


def test_a_configured_trusted_root_is_what_verifies(production_root: Path) -> None:
    found = verify_provenance(GCB_FILE, GCB_SHA256, gcb_provenance(), trusted_root=production_root)
    assert found == {GOOGLE}


def test_a_trusted_root_the_attestation_does_not_chain_to_is_refused(staging_root: Path) -> None:
    with pytest.raises(IntegrityError) as caught:
        verify_provenance(GCB_FILE, GCB_SHA256, gcb_provenance(), trusted_root=staging_root)
    assert caught.value.message.startswith(f"provenance of {GCB_FILE} does not verify: ")


@pytest.mark.parametrize(
    ("filename", "sha256", "document", "problem"),
    [
        (GCB_FILE, OTHER_SHA256, gcb_provenance(), "subject does not match distribution digest"),
        (
            "gcb_attestation_test-0.0.1.tar.gz",
            GCB_SHA256,
            gcb_provenance(),
            "subject does not match distribution name",
        ),
        (GCB_FILE, GCB_SHA256, gcb_with_flipped_signature(), "invalid signature"),
        (GCB_FILE, GCB_SHA256, gcb_with_publisher(GITHUB), "publisher GitHub"),
    ],
    ids=["digest", "name", "signature", "publisher"],
)
def test_the_private_root_path_refuses_what_the_library_refuses(
    production_root: Path, filename: str, sha256: str, document: bytes, problem: str
) -> None:
    with pytest.raises(IntegrityError) as caught:
        verify_provenance(filename, sha256, document, trusted_root=production_root)
    assert problem in caught.value.message


def test_results_under_one_root_are_not_reused_under_another(
    tmp_path: Path, staging_root: Path
) -> None:
    verify_provenance(GCB_FILE, GCB_SHA256, gcb_provenance(), cache=ProvenanceCache(tmp_path))
    other = ProvenanceCache(tmp_path, trusted_root=staging_root)
    with pytest.raises(IntegrityError):
        verify_provenance(
            GCB_FILE, GCB_SHA256, gcb_provenance(), cache=other, trusted_root=staging_root
        )


def test_a_missing_trusted_root_is_a_usage_error(tmp_path: Path) -> None:
    from lockdown.errors import UsageError

    missing = tmp_path / "nowhere.json"
    with pytest.raises(UsageError) as caught:
        verify_provenance(GCB_FILE, GCB_SHA256, gcb_provenance(), trusted_root=missing)
    assert caught.value.message == f"{missing}: trusted root not found"
