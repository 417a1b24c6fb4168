"""``lock`` reads provenance only where the index's simple API can carry it (PEP 740: 1.3).

Against the local index over HTTP, whose pages declare API 1.1 until some
file has provenance (then 1.3). The pages lockdown itself reads are counted:
an index that cannot carry provenance has its new packages' pages left
unread, and a package the previous lock records publishers for is read and
judged whatever the index declares (an index that stops serving provenance
is a publisher loss, blocked as before).
"""

from __future__ import annotations

from pathlib import Path

from lockdown._compat import tomllib
from lockdown.commands.approve import approve
from lockdown.report.lock_summary import summarize
from tests.lock.test_lock_provenance import add_policy, write_previous_lock
from tests.support.attestations import (
    GCB_EMAIL,
    GCB_FILE,
    GCB_PUBLISHER,
    GCB_SHA256,
    NEXT_FILE,
    NEXT_SHA256,
    NOW,
    attested_project,
    gcb_provenance,
)
from tests.support.attestations import lock_pinned as lock
from tests.support.pkgindex import PackageIndex

#: A second project on the same index, which the project reaches only through a dependency.
OTHER_FILE = "other_dependency-1.0.tar.gz"


def pages_read(index: PackageIndex, project: str) -> int:
    """The times lockdown itself (not a resolver) read ``project``'s page."""
    return len(index.served_to("lockdown/", f"/simple/{project}/"))


def test_an_index_serving_api_1_1_has_no_more_pages_read_for_provenance(
    tmp_path: Path, package_index: PackageIndex
) -> None:
    package_index.list_file(NEXT_FILE, NEXT_SHA256)
    package_index.list_file(OTHER_FILE, "ab" * 32)
    svc = attested_project(tmp_path / "svc", package_index)
    outcome = lock(svc, package_index, NEXT_FILE, OTHER_FILE)
    assert outcome.changed
    # The direct requirement's page, read while resolving, said 1.1; the other
    # package's page was never asked for.
    assert pages_read(package_index, "gcb-attestation-test") == 1
    assert pages_read(package_index, "other-dependency") == 0
    assert outcome.attestations is not None
    assert outcome.attestations.no_provenance == ((package_index.url, "1.1"),)
    assert summarize(outcome).splitlines()[-2:] == [
        "provenance: 0 of 2 packages attested (PEP 740)",
        f"provenance: {package_index.url} serves simple API 1.1, which carries no provenance "
        "(PEP 740 needs 1.2 or later); none recorded for its new packages",
    ]


def test_an_index_serving_api_1_3_is_read_for_every_new_package(
    tmp_path: Path, package_index: PackageIndex
) -> None:
    package_index.list_file(GCB_FILE, GCB_SHA256)
    package_index.set_provenance(GCB_FILE, gcb_provenance())
    package_index.list_file(OTHER_FILE, "ab" * 32)
    svc = attested_project(tmp_path / "svc", package_index)
    outcome = lock(svc, package_index, GCB_FILE, OTHER_FILE)
    assert pages_read(package_index, "gcb-attestation-test") == 1
    assert pages_read(package_index, "other-dependency") == 1
    assert outcome.attestations is not None
    assert outcome.attestations.no_provenance == ()
    assert outcome.attestations.attested == 1
    assert summarize(outcome).splitlines()[-1] == (
        f"provenance: 1 of 2 packages attested (PEP 740): Google (email={GCB_EMAIL}) 1"
    )


def test_a_previously_attested_package_is_still_read_and_its_loss_blocks(
    tmp_path: Path, package_index: PackageIndex
) -> None:
    # The index serves no provenance at all (API 1.1), as if it had downgraded
    # since the previous lock recorded a publisher for the package.
    svc = attested_project(tmp_path / "svc", package_index)
    add_policy(svc, 'upgrades = "allow"\nauto-approve = ["patch", "minor", "major"]\n')
    before = write_previous_lock(svc, package_index, GCB_PUBLISHER)
    package_index.list_file(NEXT_FILE, NEXT_SHA256)
    package_index.list_file(OTHER_FILE, "ab" * 32)
    reads = pages_read(package_index, "gcb-attestation-test")
    blocked = lock(svc, package_index, NEXT_FILE, OTHER_FILE)
    # The attested package's page was read (and told the API version); the
    # new unattested package's was not.
    assert pages_read(package_index, "gcb-attestation-test") == reads + 1
    assert pages_read(package_index, "other-dependency") == 0
    assert blocked.blocked  # the CLI's exit 3
    assert {v.name: v.reason for v in blocked.gate.blocked} == {
        "gcb-attestation-test": "patch upgrade; attestations lost "
        f"(was Google (email={GCB_EMAIL})); needs approval (a package keeps its publisher)",
        "other-dependency": "new package; needs approval",
    }
    assert (svc / "pylock.toml").read_bytes() == before


def test_a_previously_attested_package_is_read_even_when_other_pages_say_1_1(
    tmp_path: Path, package_index: PackageIndex
) -> None:
    # HTML pages: each says 1.1, and only files with provenance carry
    # data-provenance. The new direct requirement's page (read early) offers
    # none; the package the previous lock records a publisher for is read anyway.
    package_index.json_api = False
    svc = attested_project(tmp_path / "svc", package_index)
    add_policy(svc, 'upgrades = "allow"\nauto-approve = ["patch", "minor", "major"]\n')
    write_previous_lock(svc, package_index, GCB_PUBLISHER)
    package_index.list_file(GCB_FILE, GCB_SHA256)
    package_index.set_provenance(GCB_FILE, gcb_provenance())
    package_index.list_file(OTHER_FILE, "ab" * 32)
    pyproject = svc / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'dependencies = ["gcb-attestation-test"]',
            'dependencies = ["gcb-attestation-test", "other-dependency"]',
        ),
        encoding="utf-8",
    )
    approve(svc, "other-dependency==1.0", reason="new", by="ops", clock=lambda: NOW)
    reads = pages_read(package_index, "gcb-attestation-test")
    outcome = lock(svc, package_index, GCB_FILE, OTHER_FILE)
    assert not outcome.blocked
    assert pages_read(package_index, "other-dependency") == 1  # early, said 1.1
    assert pages_read(package_index, "gcb-attestation-test") == reads + 1
    assert outcome.attestations is not None
    assert outcome.attestations.no_provenance == ((package_index.url, "1.1"),)
    assert locked_package_named(svc, "gcb-attestation-test")["attestation-identities"] == [
        GCB_PUBLISHER
    ]


def locked_package_named(project: Path, name: str) -> dict[str, object]:
    data = tomllib.loads((project / "pylock.toml").read_text(encoding="utf-8"))
    (package,) = [p for p in data["packages"] if p["name"] == name]
    assert isinstance(package, dict)
    return package
