"""The gate inside ``lockdown lock``, against the local test index, with a frozen clock.

Every block must leave the previous lock byte-identical; every admission must
say why, and an approval that admitted a change is recorded in the lock.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lockdown._compat import tomllib
from lockdown.commands.approve import approve
from lockdown.commands.lock import lock_project
from lockdown.report.outcomes import LockOutcome
from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.slow

#: The gate's "now" in every test here: the catalog's files are weeks older.
FROZEN = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def lock(project: Path, **options: object) -> LockOutcome:
    return lock_project(project, clock=lambda: FROZEN, **options)  # type: ignore[arg-type]


def with_policy(project: Path, policy: str, *, replace: tuple[str, str] | None = None) -> None:
    path = project / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    if replace is not None:
        text = text.replace(*replace)
    path.write_text(text + "\n[tool.lockdown.policy]\n" + policy, encoding="utf-8")


def edit(project: Path, old: str, new: str) -> None:
    path = project / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def add_extra_index(project: Path, catalog: PackageIndex, url: str) -> None:
    """Make ``url`` the project's extra index, after the catalog."""
    edit(
        project,
        f'index-url = "{catalog.url}"',
        f'index-url = "{catalog.url}"\nextra-index-urls = ["{url}"]',
    )


def versions(project: Path) -> dict[str, str]:
    data = tomllib.loads((project / "pylock.toml").read_text(encoding="utf-8"))
    return {p["name"]: p["version"] for p in data["packages"]}


def blocked(outcome: LockOutcome) -> list[tuple[str, str | None, str]]:
    return [(v.name, v.version, v.reason) for v in outcome.gate.blocked]


def test_a_new_release_does_not_move_a_lock_without_upgrade(
    project: Path, catalog: PackageIndex
) -> None:
    first = lock(project)
    assert first.gate.changes is None  # a first lock: nothing to compare with
    before = (project / "pylock.toml").read_bytes()
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"])
    again = lock(project)
    assert again.gate.changes == ()
    assert not again.changed
    assert (project / "pylock.toml").read_bytes() == before


@pytest.mark.parametrize(
    ("version", "kind"), [("1.1.1", "patch"), ("1.2", "minor"), ("2.0", "major")]
)
def test_an_upgrade_nobody_approved_is_blocked(
    project: Path, catalog: PackageIndex, version: str, kind: str
) -> None:
    lock(project)
    before = (project / "pylock.toml").read_bytes()
    catalog.add("alpha", version, dependencies=["beta>=1.0"])
    outcome = lock(project, upgrade_packages=["alpha"])
    assert outcome.blocked
    assert blocked(outcome) == [("alpha", version, f"{kind} upgrade; needs approval")]
    assert outcome.gate.blocked[0].fix == (
        f'lockdown approve alpha=={version} --reason "\N{HORIZONTAL ELLIPSIS}"'
    )
    assert (project / "pylock.toml").read_bytes() == before


def test_upgrade_package_moves_only_that_package(project: Path, catalog: PackageIndex) -> None:
    with_policy(project, 'upgrades = "allow"\n')
    lock(project)
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"])
    catalog.add("beta", "1.2")
    outcome = lock(project, upgrade_packages=["alpha"])
    assert [(c.name, c.old_version, c.new_version) for c in outcome.gate.changes or ()] == [
        ("alpha", "1.1", "1.2")
    ]
    assert versions(project)["beta"] == "1.1"
    lock(project, upgrade=True)
    assert (versions(project)["alpha"], versions(project)["beta"]) == ("1.2", "1.2")


def test_auto_approve_patch_admits_patches_only(project: Path, catalog: PackageIndex) -> None:
    with_policy(project, 'auto-approve = ["patch"]\n')
    lock(project)
    catalog.add("alpha", "1.1.1", dependencies=["beta>=1.0"])
    admitted = lock(project, upgrade=True)
    assert not admitted.blocked
    assert [(v.name, v.reason) for v in admitted.gate.verdicts] == [
        ("alpha", "patch upgrade; auto-approved")
    ]
    assert versions(project)["alpha"] == "1.1.1"
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"])
    assert blocked(lock(project, upgrade=True)) == [
        ("alpha", "1.2", "minor upgrade; needs approval")
    ]


def test_an_approval_admits_the_change_and_the_lock_records_it(
    project: Path, catalog: PackageIndex
) -> None:
    lock(project)
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"])
    approved_at = FROZEN - timedelta(hours=2)
    path, _approval = approve(
        project,
        "alpha==1.2",
        reason="CVE-2026-1234 fix",
        by="alice",
        expires="14d",
        clock=lambda: approved_at,
    )
    assert path == project / "lockdown-approvals.toml"
    outcome = lock(project, upgrade_packages=["alpha"])
    assert not outcome.blocked
    assert outcome.gate.verdicts[0].reason == (
        "minor upgrade; approved by alice on 2025-03-01 (until 2025-03-15): CVE-2026-1234 fix"
    )
    data = tomllib.loads((project / "pylock.toml").read_text(encoding="utf-8"))
    alpha = next(p for p in data["packages"] if p["name"] == "alpha")
    assert alpha["tool"]["lockdown"]["approval"] == {
        "version": "==1.2",
        "reason": "CVE-2026-1234 fix",
        "approved-by": "alice",
        "approved-at": approved_at,
        "expires": approved_at + timedelta(days=14),
    }
    # A later re-lock with nothing moving keeps the record: the lock still says why.
    before = (project / "pylock.toml").read_bytes()
    assert not lock(project).changed
    assert (project / "pylock.toml").read_bytes() == before


def test_an_expired_approval_does_not_count(project: Path, catalog: PackageIndex) -> None:
    lock(project)
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"])
    approve(
        project,
        "alpha==1.2",
        reason="was fine then",
        by="bob",
        expires="1d",
        clock=lambda: FROZEN - timedelta(days=10),
    )
    assert blocked(lock(project, upgrade=True)) == [
        ("alpha", "1.2", "minor upgrade; needs approval")
    ]


def test_an_approval_for_another_version_does_not_count(
    project: Path, catalog: PackageIndex
) -> None:
    lock(project)
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"])
    approve(project, "alpha==1.3", reason="the next one", by="bob", clock=lambda: FROZEN)
    assert blocked(lock(project, upgrade=True)) == [
        ("alpha", "1.2", "minor upgrade; needs approval")
    ]


def test_a_downgrade_is_detected_and_needs_approval(project: Path) -> None:
    lock(project)
    before = (project / "pylock.toml").read_bytes()
    edit(project, '"alpha>=1"', '"alpha==1.0"')
    outcome = lock(project)
    assert blocked(outcome) == [("alpha", "1.0", "downgrade; needs approval")]
    assert (project / "pylock.toml").read_bytes() == before


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_a_fresh_release_is_not_chosen_under_a_cooldown(
    project: Path, catalog: PackageIndex, resolver: str
) -> None:
    with_policy(project, 'min-release-age = "7 days"\n')
    lock(project, resolver=resolver)
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"], upload_time=FROZEN - timedelta(hours=1))
    outcome = lock(project, upgrade=True, resolver=resolver)
    assert outcome.gate.changes == ()
    assert versions(project)["alpha"] == "1.1"
    tool = tomllib.loads((project / "pylock.toml").read_text(encoding="utf-8"))["tool"]
    assert tool["lockdown"]["min-release-age"] == "7 days"
    assert tool["lockdown"]["cooldown-cutoff"] == FROZEN - timedelta(days=7)


def test_a_fresh_release_forced_by_the_inputs_is_blocked(
    project: Path, catalog: PackageIndex
) -> None:
    with_policy(project, 'min-release-age = "7 days"\nauto-approve = ["minor"]\n')
    lock(project)
    before = (project / "pylock.toml").read_bytes()
    fresh = FROZEN - timedelta(hours=1)
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"], upload_time=fresh)
    edit(project, '"alpha>=1"', '"alpha==1.2"')
    outcome = lock(project)
    assert blocked(outcome) == [
        (
            "alpha",
            "1.2",
            "alpha-1.2-py3-none-any.whl was uploaded 2025-03-01 11:00 UTC, after the cooldown "
            "cutoff 2025-02-22 12:00 UTC (min-release-age = '7 days')",
        )
    ]
    assert (project / "pylock.toml").read_bytes() == before


def test_cooldown_exempt_packages_may_be_fresh(project: Path, catalog: PackageIndex) -> None:
    with_policy(
        project,
        'min-release-age = "7 days"\ncooldown-exempt = ["alpha"]\nauto-approve = ["minor"]\n',
    )
    lock(project)
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"], upload_time=FROZEN - timedelta(hours=1))
    outcome = lock(project, upgrade=True)
    assert not outcome.blocked
    assert versions(project)["alpha"] == "1.2"


def test_an_artifact_without_upload_time_is_blocked_under_a_cooldown(tmp_path: Path) -> None:
    with PackageIndex(tmp_path / "index", upload_times=False) as index:
        index.add("alpha", "1.0")
        project = tmp_path / "proj"
        project.mkdir()
        (project / "pyproject.toml").write_text(
            '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.10"\n'
            'dependencies = ["alpha"]\n'
            f'[tool.lockdown]\nindex-url = "{index.url}"\n'
            '[tool.lockdown.policy]\nmin-release-age = "7 days"\n',
            encoding="utf-8",
        )
        outcome = lock(project)
        assert [(n, v) for n, v, _r in blocked(outcome)] == [("alpha", "1.0")]
        assert blocked(outcome)[0][2].endswith(
            "has no upload time, so its age is unknown (min-release-age = '7 days'; "
            "list the package in cooldown-exempt)"
        )
        assert not (project / "pylock.toml").exists()


def test_a_package_appearing_on_another_index_keeps_its_locked_index(
    project: Path, catalog: PackageIndex, tmp_path: Path
) -> None:
    lock(project)
    with PackageIndex(tmp_path / "second") as second:
        # The same name on an extra index (which uv prefers): dependency confusion.
        second.add("alpha", "1.1", dependencies=["beta>=1.0"])
        other = second.url
        add_extra_index(project, catalog, other)
        outcome = lock(project)
    # The previous lock pins alpha to its index: not blocked, reported.
    assert blocked(outcome) == []
    assert outcome.gate.findings == (
        f"alpha 1.1 is also published on {other}; ignored, locked 1.1 from {catalog.url} "
        "(kept from the lock)",
    )
    data = tomllib.loads((project / "pylock.toml").read_text(encoding="utf-8"))
    alpha = next(p for p in data["packages"] if p["name"] == "alpha")
    assert alpha["index"] == catalog.url
    assert alpha["tool"]["lockdown"]["also-served-by"] == [other]


def test_an_upgrade_offered_only_by_another_index_is_not_taken(
    project: Path, catalog: PackageIndex, tmp_path: Path
) -> None:
    lock(project)
    with PackageIndex(tmp_path / "second") as second:
        # A newer alpha that exists only on the extra index: taking it would be
        # an upgrade and a switch of index at once.
        second.add("alpha", "1.2", dependencies=["beta>=1.0"])
        other = second.url
        add_extra_index(project, catalog, other)
        with_policy(project, 'upgrades = "allow"\nauto-approve = ["patch", "minor", "major"]\n')
        outcome = lock(project, upgrade=True)
    assert blocked(outcome) == []
    assert versions(project)["alpha"] == "1.1"
    assert outcome.gate.findings == (
        f"alpha 1.2 is also published on {other}; ignored, locked 1.1 from {catalog.url} "
        "(kept from the lock)",
    )


def test_allowed_indexes_refuse_any_other(
    project: Path, catalog: PackageIndex, tmp_path: Path
) -> None:
    with PackageIndex(tmp_path / "second") as second:
        second.add("devtool", "0.5")
        other = second.url
        add_extra_index(project, catalog, other)
        with_policy(project, f'allowed-indexes = ["{catalog.url}"]\n')
        outcome = lock(project)
    # devtool is on both indexes: the pin suggested is to the allowed one.
    assert blocked(outcome) == [
        ("devtool", "0.5", f"from {other}, which is not in allowed-indexes"),
        (
            "devtool",
            "0.5",
            f"served by more than one index ({catalog.url} and {other}) and not pinned, so "
            "its origin is ambiguous (dependency confusion); pin it in "
            f'[tool.lockdown.sources]: devtool = "{catalog.url}"',
        ),
    ]
    assert not (project / "pylock.toml").exists()


@pytest.mark.parametrize("setting", ["deny", "allow"])
def test_a_yanked_release_is_blocked_unless_allowed(
    project: Path, catalog: PackageIndex, setting: str
) -> None:
    catalog.yank("beta", "1.1", reason="broken build")
    edit(project, '"gamma"', '"gamma", "beta==1.1"')
    with_policy(project, f'yanked = "{setting}"\n')
    outcome = lock(project)
    if setting == "deny":
        # A first lock is admitted, but not with a yanked release in it.
        assert (project / "pylock.toml").exists() is False
        assert blocked(outcome) == [
            ("beta", "1.1", "version 1.1 is yanked: broken build (yanked = 'deny')")
        ]
    else:
        assert not outcome.blocked
        assert versions(project)["beta"] == "1.1"


def test_a_first_lock_obeys_deny_and_require_wheels(project: Path, catalog: PackageIndex) -> None:
    catalog.add("sdistonly", "1.0", wheel_tags=(), sdist=True)
    edit(project, '"gamma"', '"gamma", "sdistonly"')
    with_policy(project, 'deny = ["gamma<2"]\nrequire-wheels = true\n')
    outcome = lock(project)
    assert blocked(outcome) == [
        ("gamma", "1.0", "denied by policy (deny: 'gamma<2')"),
        ("sdistonly", "1.0", "no wheel (require-wheels = true)"),
    ]
    assert not (project / "pylock.toml").exists()


def test_a_yanked_release_pinned_by_a_dependency_is_refused(
    project: Path, catalog: PackageIndex
) -> None:
    from lockdown.errors import ResolutionError

    catalog.yank("beta", "1.0", reason="data loss")
    catalog.add("pinner", "1.0", dependencies=["beta==1.0"])
    edit(project, '"gamma"', '"gamma", "pinner"')
    # uv honours a yank even for a transitive exact pin: nothing resolves, nothing is written.
    with pytest.raises(ResolutionError, match="yanked"):
        lock(project)
    assert not (project / "pylock.toml").exists()


def test_only_exactly_pinned_releases_are_asked_about(
    project: Path, catalog: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lockdown.resolve.index import IndexClient

    asked: list[str] = []
    original = IndexClient.many_project_files

    def recording(self: IndexClient, names: list[str], **kw: object) -> object:
        # The yank check's calls only: the license records read the new packages' pages too.
        if sys._getframe(1).f_code.co_name == "yanked_releases":
            asked.extend(names)
        return original(self, names, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(IndexClient, "many_project_files", recording)
    edit(project, '"gamma"', '"gamma", "beta==1.1"')
    # The provenance step reads every new package's page; this test is the yank check's.
    with_policy(project, 'provenance = "off"\n')
    lock(project)
    # A resolver never picks a yanked release it was not pinned to (PEP 592): only
    # beta, pinned exactly (and by nothing else), is worth asking the index about.
    assert asked == ["beta"]
