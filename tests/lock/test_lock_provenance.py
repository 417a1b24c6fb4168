"""``lock`` with PEP 740 provenance: verified at lock, recorded, and the publisher gated.

The real attestations name files whose bytes are not in the fixtures, so the
local index lists them by their attested name and digest and the resolver is
replaced by one that pins exactly those files (:class:`PinnedResolver`, the
real Resolver interface); everything after the resolver is the real lock:
the index client over HTTP, provenance fetch and offline Sigstore
verification, the gate, approvals and the PEP 751 writer. The one run with
real uv (``test_real_uv_lock_refuses_provenance_for_other_bytes``) locks a
file built by the fixtures under the attested name: its digest is not the one
attested, so the lock must fail with exit 16.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown._compat import tomllib
from lockdown.commands.approve import approve
from lockdown.errors import IntegrityError, PackageIndexError
from lockdown.report.lock_summary import summarize
from tests.conftest import CliResult
from tests.support.attestations import (
    GCB_EMAIL,
    GCB_FILE,
    GCB_PROJECT,
    GCB_PUBLISHER,
    GCB_SHA256,
    NEXT_FILE,
    NOW,
    attested_project,
    gcb_provenance,
    gcb_with_flipped_signature,
    serve_attested,
)
from tests.support.attestations import (
    lock_pinned as lock,
)
from tests.support.pkgindex import PackageIndex


@pytest.fixture
def attested(package_index: PackageIndex) -> PackageIndex:
    return serve_attested(package_index)


@pytest.fixture
def svc(tmp_path: Path, attested: PackageIndex) -> Path:
    return attested_project(tmp_path / "svc", attested)


def locked_package(project: Path) -> dict[str, object]:
    data = tomllib.loads((project / "pylock.toml").read_text(encoding="utf-8"))
    (package,) = data["packages"]
    assert isinstance(package, dict)
    return package


def add_policy(project: Path, text: str) -> None:
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + "\n[tool.lockdown.policy]\n" + text, encoding="utf-8")


@pytest.mark.parametrize("json_api", [True, False], ids=["json", "html"])
def test_lock_records_the_verified_publisher(
    svc: Path, attested: PackageIndex, json_api: bool
) -> None:
    attested.json_api = json_api
    outcome = lock(svc, attested, GCB_FILE)
    assert outcome.changed
    package = locked_package(svc)
    assert package["attestation-identities"] == [GCB_PUBLISHER]
    assert package["sdist"]["hashes"] == {"sha256": GCB_SHA256}  # type: ignore[index]
    assert summarize(outcome).splitlines()[-1] == (
        f"provenance: 1 of 1 packages attested (PEP 740): Google (email={GCB_EMAIL}) 1"
    )


def test_a_relock_with_nothing_changed_fetches_no_provenance(
    svc: Path, attested: PackageIndex
) -> None:
    lock(svc, attested, GCB_FILE)
    before = (svc / "pylock.toml").read_bytes()
    attested.requests.clear()
    again = lock(svc, attested, GCB_FILE)
    assert not again.changed
    assert (svc / "pylock.toml").read_bytes() == before
    assert attested.requests == []  # the previous lock's verified publishers carry over
    assert again.attestations is not None
    assert (again.attestations.attested, again.attestations.verified_files) == (1, 0)


def test_a_relock_of_an_unattested_package_fetches_nothing_either(
    svc: Path, attested: PackageIndex
) -> None:
    lock(svc, attested, NEXT_FILE)
    before = (svc / "pylock.toml").read_bytes()
    attested.requests.clear()
    again = lock(svc, attested, NEXT_FILE)
    assert (svc / "pylock.toml").read_bytes() == before
    assert attested.requests == []  # same files: no provenance can have appeared
    assert again.attestations is not None
    assert again.attestations.attested == 0


def test_a_second_project_reuses_the_cached_verification(
    svc: Path, attested: PackageIndex, artifact_cache: Path
) -> None:
    lock(svc, attested, GCB_FILE)
    entries = list((artifact_cache / "provenance" / GCB_SHA256).iterdir())
    assert len(entries) == 1
    (svc / "pylock.toml").unlink()
    again = lock(svc, attested, GCB_FILE)
    assert again.attestations is not None
    assert again.attestations.verified_files == 1
    assert locked_package(svc)["attestation-identities"] == [GCB_PUBLISHER]


def test_invalid_provenance_is_exit_16_naming_the_file_and_nothing_is_written(
    svc: Path, attested: PackageIndex
) -> None:
    attested.set_provenance(GCB_FILE, gcb_with_flipped_signature())
    with pytest.raises(IntegrityError) as caught:
        lock(svc, attested, GCB_FILE)
    assert caught.value.exit_code == 16
    assert caught.value.message.startswith(
        f"provenance of {GCB_FILE} (from {attested.url}) does not verify: "
    )
    assert "invalid signature" in caught.value.message
    assert not (svc / "pylock.toml").exists()


def test_invalid_provenance_leaves_the_previous_lock_byte_identical(
    svc: Path, attested: PackageIndex
) -> None:
    lock(svc, attested, NEXT_FILE)
    before = (svc / "pylock.toml").read_bytes()
    attested.set_provenance(GCB_FILE, gcb_with_flipped_signature())
    with pytest.raises(IntegrityError, match=GCB_FILE):
        lock(svc, attested, GCB_FILE)
    assert (svc / "pylock.toml").read_bytes() == before


def test_attestations_lost_on_upgrade_are_blocked_until_approved(
    svc: Path, attested: PackageIndex
) -> None:
    add_policy(svc, 'upgrades = "allow"\nauto-approve = ["patch", "minor", "major"]\n')
    lock(svc, attested, GCB_FILE)
    before = (svc / "pylock.toml").read_bytes()
    blocked = lock(svc, attested, NEXT_FILE)
    assert [v.reason for v in blocked.gate.blocked] == [
        f"patch upgrade; attestations lost (was Google (email={GCB_EMAIL})); "
        "needs approval (a package keeps its publisher)"
    ]
    assert blocked.gate.blocked[0].fix == (
        'lockdown approve gcb-attestation-test==0.0.1 --reason "\u2026"'
    )
    assert (svc / "pylock.toml").read_bytes() == before
    approve(
        svc,
        "gcb-attestation-test==0.0.1",
        reason="moved to a self-hosted CI",
        by="ops",
        clock=lambda: NOW,
    )
    admitted = lock(svc, attested, NEXT_FILE)
    assert not admitted.blocked
    assert admitted.changed
    package = locked_package(svc)
    assert "attestation-identities" not in package
    assert package["tool"]["lockdown"]["approval"]["reason"] == (  # type: ignore[index]
        "moved to a self-hosted CI"
    )


def write_previous_lock(svc: Path, index: PackageIndex, identity: dict[str, str]) -> bytes:
    """A lock as lockdown writes it, pinning 0.0.0a1 attested by ``identity``."""
    old_file = "gcb_attestation_test-0.0.0a1.tar.gz"
    index.list_file(old_file, "ef" * 32)
    lock(svc, index, old_file)
    text = (svc / "pylock.toml").read_text(encoding="utf-8")
    table = ", ".join(f'{k} = "{v}"' for k, v in identity.items())
    text = text.replace(
        "[packages.sdist]", f"attestation-identities = [{{ {table} }}]\n\n[packages.sdist]"
    )
    (svc / "pylock.toml").write_text(text, encoding="utf-8")
    return text.encode()


def test_a_publisher_change_is_blocked_like_an_index_change(
    svc: Path, attested: PackageIndex
) -> None:
    add_policy(svc, 'upgrades = "allow"\n')
    github = {"kind": "GitHub", "repository": "acme/gcb", "workflow": "release.yml"}
    before = write_previous_lock(svc, attested, github)
    assert locked_package(svc)["attestation-identities"] == [github]
    blocked = lock(svc, attested, GCB_FILE)
    assert [v.reason for v in blocked.gate.blocked] == [
        "patch upgrade; publisher changed from GitHub (repository=acme/gcb, "
        f"workflow=release.yml) to Google (email={GCB_EMAIL}); "
        "needs approval (a package keeps its publisher)"
    ]
    assert (svc / "pylock.toml").read_bytes() == before
    # An approval for another version does not admit it; one naming this one does.
    approve(svc, "gcb-attestation-test==0.0.2", reason="not this one", by="ops", clock=lambda: NOW)
    assert lock(svc, attested, GCB_FILE).blocked
    approve(
        svc,
        "gcb-attestation-test==0.0.0",
        reason="moved to Cloud Build",
        by="ops",
        clock=lambda: NOW,
    )
    admitted = lock(svc, attested, GCB_FILE)
    assert not admitted.blocked
    assert locked_package(svc)["attestation-identities"] == [GCB_PUBLISHER]


def test_provenance_off_verifies_nothing_and_gates_nothing(
    svc: Path, attested: PackageIndex
) -> None:
    add_policy(svc, 'upgrades = "allow"\nprovenance = "off"\n')
    attested.set_provenance(GCB_FILE, gcb_with_flipped_signature())
    outcome = lock(svc, attested, GCB_FILE)
    assert outcome.attestations is None
    assert "attestation-identities" not in locked_package(svc)
    assert not lock(svc, attested, NEXT_FILE).blocked


def test_require_blocks_every_unattested_package_unless_exempt(
    svc: Path, attested: PackageIndex
) -> None:
    add_policy(svc, 'provenance = "require"\n')
    blocked = lock(svc, attested, NEXT_FILE)
    assert [(v.name, v.reason) for v in blocked.gate.blocked] == [
        (
            GCB_PROJECT,
            "not attested: no verified PEP 740 provenance "
            "(provenance = 'require'; list it in provenance-exempt)",
        )
    ]
    assert not (svc / "pylock.toml").exists()
    assert not lock(svc, attested, GCB_FILE).blocked
    path = svc / "pyproject.toml"
    path.write_text(
        path.read_text().replace(
            'provenance = "require"\n',
            'provenance = "require"\nprovenance-exempt = ["GCB_attestation.test"]\n',
        )
    )
    (svc / "pylock.toml").unlink()
    assert not lock(svc, attested, NEXT_FILE).blocked


def test_a_bad_provenance_setting_is_refused(svc: Path, attested: PackageIndex) -> None:
    from lockdown.errors import ConfigError

    add_policy(svc, 'provenance = "sometimes"\n')
    with pytest.raises(ConfigError) as caught:
        lock(svc, attested, GCB_FILE)
    assert caught.value.message.endswith(
        "provenance must be 'pin', 'require' or 'off', not 'sometimes'"
    )
    assert not (svc / "pylock.toml").exists()


@pytest.mark.slow
def test_real_uv_lock_refuses_provenance_for_other_bytes(
    svc: Path, attested: PackageIndex, cli: Callable[..., CliResult]
) -> None:
    # A real sdist and wheel under the attested project and version: uv resolves and
    # lockdown hashes them; the real provenance names other bytes (and, for the
    # wheel, another file), so nothing may be written.
    attested.remove(GCB_FILE)
    attested.remove(NEXT_FILE)
    attested.add(GCB_PROJECT, "0.0.0")
    real = attested.file(GCB_FILE)
    assert real.sha256 != GCB_SHA256
    attested.set_provenance(GCB_FILE, gcb_provenance())
    result = cli("lock", "--project", svc)
    assert result.code == 16
    assert result.err.startswith(
        f"lockdown: error: provenance of {GCB_FILE} (from {attested.url}) does not verify: "
        "Verification failed: subject does not match distribution digest"
    )
    assert not (svc / "pylock.toml").exists()


def test_diff_of_two_real_locks_shows_the_lost_attestation_first(
    svc: Path, attested: PackageIndex, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    lock(svc, attested, GCB_FILE)
    old = tmp_path / "old.toml"
    old.write_bytes((svc / "pylock.toml").read_bytes())
    add_policy(svc, 'upgrades = "allow"\nprovenance = "off"\n')  # let the new lock be written
    lock(svc, attested, NEXT_FILE)
    reviewer = tmp_path / "reviewer"  # no config: the default policy, provenance = "pin"
    reviewer.mkdir()
    new = svc / "pylock.toml"
    text = cli("diff", old, new, "--project", reviewer)
    assert text.code == 3
    assert text.out.splitlines()[0] == (
        f"  BLOCKED  {GCB_PROJECT} 0.0.0 \u2192 0.0.1 (patch upgrade; attestations lost (was "
        f"Google (email={GCB_EMAIL})); needs approval (a package keeps its publisher))"
    )
    data = json.loads(cli("diff", old, new, "--project", reviewer, "--format", "json").out)
    assert data["publisher_changes"] == 1
    assert data["changes"][0]["publisher_change"] == (
        f"attestations lost (was Google (email={GCB_EMAIL}))"
    )
    markdown = cli("diff", old, new, "--project", reviewer, "--format", "markdown").out
    assert markdown.startswith("**lockdown: 1 blocked** (1 change, 1 publisher change or loss)")


def test_lock_verifies_against_the_configured_trusted_root(
    svc: Path, attested: PackageIndex
) -> None:
    import sigstore

    store = Path(sigstore.__file__).parent / "_store"
    staging = store / "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev" / "trusted_root.json"
    production = store / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev" / "trusted_root.json"
    (svc / "keys").mkdir()
    (svc / "keys" / "other.json").write_bytes(staging.read_bytes())
    (svc / "keys" / "root.json").write_bytes(production.read_bytes())
    # A root the real attestation does not chain to: refused, nothing written.
    add_policy(svc, 'provenance-trusted-root = "keys/other.json"\n')
    with pytest.raises(IntegrityError, match=f"provenance of {GCB_FILE}"):
        lock(svc, attested, GCB_FILE)
    assert not (svc / "pylock.toml").exists()
    # The deployment's own copy of the root it does chain to: verified.
    pyproject = svc / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("keys/other.json", "keys/root.json"))
    lock(svc, attested, GCB_FILE)
    assert locked_package(svc)["attestation-identities"] == [GCB_PUBLISHER]


def test_a_bad_provenance_trusted_root_setting_is_refused(
    svc: Path, attested: PackageIndex
) -> None:
    from lockdown.errors import ConfigError

    add_policy(svc, "provenance-trusted-root = 3\n")
    with pytest.raises(ConfigError) as caught:
        lock(svc, attested, GCB_FILE)
    assert caught.value.message.endswith("provenance-trusted-root must be a file name")
    assert not (svc / "pylock.toml").exists()


# --- the pages, read once and early (while the resolver runs) ---


def page_reads(index: PackageIndex, project: str) -> list[str | None]:
    """The faults of lockdown's reads of ``project``'s page (None: answered)."""
    return [s.fault for s in index.served_to("lockdown/", f"/simple/{project}/")]


def test_a_first_lock_reads_each_page_once(svc: Path, attested: PackageIndex) -> None:
    lock(svc, attested, GCB_FILE)
    # Read early (a direct requirement) and used by the provenance step: one read.
    assert page_reads(attested, GCB_PROJECT) == [None]
    assert locked_package(svc)["attestation-identities"] == [GCB_PUBLISHER]


def test_a_failed_early_read_changes_nothing_in_the_lock(
    tmp_path: Path, attested: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = attested_project(tmp_path / "clean", attested)
    lock(clean, attested, GCB_FILE)
    monkeypatch.setenv("LOCKDOWN_HTTP_RETRIES", "0")
    attested.served.clear()
    attested.fail(f"/simple/{GCB_PROJECT}/", "500", agent="lockdown/")
    flaky = attested_project(tmp_path / "flaky", attested)
    outcome = lock(flaky, attested, GCB_FILE)
    assert page_reads(attested, GCB_PROJECT) == ["500", None]  # early failed, read again
    assert outcome.changed
    assert (flaky / "pylock.toml").read_bytes() == (clean / "pylock.toml").read_bytes()


def test_an_early_read_of_a_page_never_needed_fails_nothing(
    svc: Path, attested: PackageIndex
) -> None:
    path = svc / "pyproject.toml"
    path.write_text(
        path.read_text().replace('["gcb-attestation-test"]', '["gcb-attestation-test", "gone"]')
    )
    outcome = lock(svc, attested, GCB_FILE)  # the resolver takes nothing named gone
    assert outcome.changed
    assert page_reads(attested, "gone") == [None]  # asked early: the index's 404
    assert locked_package(svc)["attestation-identities"] == [GCB_PUBLISHER]


def test_a_needed_page_that_cannot_be_read_fails_the_lock_clearly(
    svc: Path, attested: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKDOWN_HTTP_RETRIES", "0")
    attested.fail(f"/simple/{GCB_PROJECT}/", forever="500", agent="lockdown/")
    with pytest.raises(PackageIndexError) as caught:
        lock(svc, attested, GCB_FILE)
    assert str(caught.value) == (
        f"package index {attested.url} answered HTTP 500 Internal Server Error for "
        f"{attested.url}{GCB_PROJECT}/; check the index URL or try again later"
    )
    assert page_reads(attested, GCB_PROJECT) == ["500", "500"]  # early, then when needed
    assert not (svc / "pylock.toml").exists()
