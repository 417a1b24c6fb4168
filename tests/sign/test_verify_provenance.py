"""``verify --provenance`` and ``install``: a lock's publishers, checked again against the index.

The lock is made by the real lock pipeline from the real GCB attestation
(see tests/lock/test_lock_provenance.py for why the resolver pins it); the
index then changes under it in each way the check must catch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.support.attestations import (
    GCB_EMAIL,
    GCB_FILE,
    attested_project,
    gcb_with_flipped_signature,
    lock_pinned,
    serve_attested,
)
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]


@pytest.fixture
def attested(package_index: PackageIndex) -> PackageIndex:
    return serve_attested(package_index)


@pytest.fixture
def svc(tmp_path: Path, attested: PackageIndex) -> Path:
    project = attested_project(tmp_path / "svc", attested)
    lock_pinned(project, attested, GCB_FILE)
    return project


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_verify_provenance_passes_while_the_index_still_attests(svc: Path, cli: Cli) -> None:
    result = cli("verify", "--provenance", "--project", svc)
    assert result.code == 0, result.err
    assert result.out == (
        f"verified {svc / 'pylock.toml'} provenance: 1 attested package (1 file) still "
        "attested by the publishers the lock records (signature not checked: no trust policy)\n"
    )


def test_verify_provenance_with_a_signature_checks_both(
    svc: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKDOWN_KEY_PASSWORD", "correct horse battery staple")
    key = tmp_path / "keys" / "release.key"
    key.parent.mkdir()
    assert cli("keygen", key).code == 0
    assert cli("sign", "--project", svc, "--key", key).code == 0
    result = cli("verify", "--provenance", "--project", svc, "--key", key.with_suffix(".pub"))
    assert result.code == 0, result.err
    first, second = result.out.splitlines()
    assert first.startswith(f"verified {svc / 'pylock.toml'}: signed by ")
    assert second == (
        f"verified {svc / 'pylock.toml'} provenance: 1 attested package (1 file) still "
        "attested by the publishers the lock records"
    )


def refused(cli: Cli, svc: Path, *argv: str) -> str:
    before = snapshot(svc)
    result = cli(*argv, "--project", svc)
    assert result.code == 16, (result.out, result.err)
    assert snapshot(svc) == before
    return result.err


def test_tampered_provenance_fails_verify(svc: Path, attested: PackageIndex, cli: Cli) -> None:
    attested.set_provenance(GCB_FILE, gcb_with_flipped_signature())
    err = refused(cli, svc, "verify", "--provenance")
    assert err.startswith(
        f"lockdown: error: provenance of {GCB_FILE} ({svc / 'pylock.toml'}) does not verify: "
    )
    assert "invalid signature" in err


def test_lost_attestations_fail_verify(svc: Path, attested: PackageIndex, cli: Cli) -> None:
    attested.set_provenance(GCB_FILE, None)
    assert refused(cli, svc, "verify", "--provenance") == (
        f"lockdown: error: {svc / 'pylock.toml'}: {GCB_FILE} lost its attestations: the lock "
        f"records Google (email={GCB_EMAIL}), the index now offers no provenance; do not "
        "install it; find out why the index dropped them\n"
    )


def test_a_file_gone_from_the_index_fails_verify(
    svc: Path, attested: PackageIndex, cli: Cli
) -> None:
    attested.remove(GCB_FILE)
    err = refused(cli, svc, "verify", "--provenance")
    assert f"{GCB_FILE} is no longer listed on {attested.url}" in err


def test_another_publisher_than_the_lock_records_fails_verify(
    svc: Path, attested: PackageIndex, cli: Cli
) -> None:
    path = svc / "pylock.toml"
    path.write_text(
        path.read_text().replace(
            f'email = "{GCB_EMAIL}"', 'email = "release@acme.iam.gserviceaccount.com"'
        )
    )
    assert refused(cli, svc, "verify", "--provenance") == (
        f"lockdown: error: {path}: {GCB_FILE} is attested by Google (email={GCB_EMAIL}), but "
        "the lock records Google (email=release@acme.iam.gserviceaccount.com); do not install "
        "it; lock again and review the publisher change\n"
    )


def test_verify_provenance_of_a_lock_without_identities_says_so(
    tmp_path: Path, attested: PackageIndex, cli: Cli
) -> None:
    project = attested_project(tmp_path / "plain", attested)
    lock_pinned(project, attested, "gcb_attestation_test-0.0.1.tar.gz")
    attested.requests.clear()
    result = cli("verify", "--provenance", "--project", project)
    assert result.code == 0
    assert result.out == (
        f"{project / 'pylock.toml'}: records no attestation identities; no provenance to check "
        "(signature not checked: no trust policy)\n"
    )
    assert attested.requests == []


def test_verify_without_provenance_never_asks_the_index(
    svc: Path, attested: PackageIndex, cli: Cli
) -> None:
    attested.requests.clear()
    result = cli("verify", "--project", svc)
    assert result.code == 64  # no trust policy: nothing to verify the signature with
    assert attested.requests == []


@pytest.mark.slow
def test_install_refuses_tampered_provenance_before_changing_anything(
    svc: Path, attested: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    attested.set_provenance(GCB_FILE, gcb_with_flipped_signature())
    venv = tmp_path / "venv"
    result = cli("install", "--project", svc, "--venv", venv, "--allow-build")
    assert result.code == 16, result.err
    assert "invalid signature" in result.err
    assert not venv.exists()
    assert not any(r.startswith("/files/") for r in attested.requests)  # nothing downloaded


@pytest.mark.slow
def test_install_checks_provenance_then_fetches(
    svc: Path, attested: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    # The provenance still verifies, so install goes on to download the sdist,
    # whose bytes the fixtures do not have: the index answers 404 (exit 70).
    venv = tmp_path / "venv"
    attested.requests.clear()
    result = cli("install", "--project", svc, "--venv", venv, "--allow-build")
    assert result.code == 70
    assert f"/files/{GCB_FILE}" in attested.requests
    provenance = next(i for i, r in enumerate(attested.requests) if r.startswith("/integrity/"))
    assert provenance < attested.requests.index(f"/files/{GCB_FILE}")
    assert not venv.exists()


@pytest.mark.slow
def test_install_insecure_no_verify_provenance_skips_it_and_says_so(
    svc: Path, attested: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    attested.set_provenance(GCB_FILE, gcb_with_flipped_signature())
    attested.requests.clear()
    result = cli(
        "install",
        "--project",
        svc,
        "--venv",
        tmp_path / "venv",
        "--allow-build",
        "--insecure-no-verify-provenance",
        "--quiet",
    )
    assert result.code == 70  # got as far as the download
    assert (
        "lockdown: warning: PEP 740 provenance not checked (--insecure-no-verify-provenance)"
        in result.err
    )
    assert not any(r.startswith("/integrity/") for r in attested.requests)


def test_check_reports_the_locks_attested_share(
    svc: Path, attested: PackageIndex, cli: Cli, python_exe: str, tmp_path: Path
) -> None:
    # Two packages, one attested: the second is a listed release without provenance.
    other = attested_project(tmp_path / "two", attested)
    lock_pinned(other, attested, GCB_FILE, "gcb_attestation_test-0.0.1.tar.gz")
    attested.requests.clear()
    for project, share in ((svc, 1.0), (other, 0.5)):
        # Twice: the second answer comes from the fast path's cache.
        for _ in range(2):
            result = cli("check", "--project", project, "--python", python_exe, "--format", "json")
            data = json.loads(result.out)
            packages = 1 if project == svc else 2
            assert data["provenance"] == {
                "packages": packages,
                "attested": 1,
                "attested_share": share,
            }
        prom = cli("check", "--project", project, "--python", python_exe, "--format", "prometheus")
        assert f"\nlockdown_lock_attested_ratio {share:g}\n" in prom.out
        assert "\nlockdown_lock_packages_attested 1\n" in prom.out
    assert attested.requests == []  # check never asks the index
