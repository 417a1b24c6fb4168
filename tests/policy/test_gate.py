"""The gate: each package rule and each change rule on its own, with exact reasons.

``now`` and ``cutoff`` are always explicit; nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

import pytest

from lockdown.config.policy import Policy
from lockdown.lock.model import LockedPackage
from lockdown.policy.approvals import Approval
from lockdown.policy.changes import change_set
from lockdown.policy.gate import GateResult, Verdict, judge
from tests.policy.test_changes import MIRROR, PYPI, artifact, state

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
WEEK = timedelta(days=7)
CUTOFF = NOW - WEEK  # 2026-02-22 09:30 UTC
COOLDOWN = Policy(min_release_age=WEEK)
ELLIPSIS = "\u2026"


def run(
    old: Sequence[LockedPackage] | None,
    new: Sequence[LockedPackage],
    policy: Policy | None = None,
    approvals: Sequence[Approval] = (),
    *,
    cutoff: datetime | None = None,
    yanked: Mapping[tuple[str, str], str] | None = None,
) -> GateResult:
    return judge(
        old,
        new,
        policy=policy or Policy(),
        approvals=approvals,
        now=NOW,
        cutoff=cutoff,
        yanked=yanked,
    )


def reasons(result: GateResult) -> list[tuple[str, str | None, bool, str]]:
    return [(v.name, v.version, v.admitted, v.reason) for v in result.verdicts]


def approval(
    package: str,
    version: str,
    *,
    at: datetime = NOW - timedelta(days=1),
    expires: datetime | None = None,
) -> Approval:
    return Approval(
        package=package,
        version=version,
        reason="needed for the CVE fix",
        approved_by="alice",
        approved_at=at,
        expires=expires,
    )


def fix(name: str, version: str) -> str:
    return f'lockdown approve {name}=={version} --reason "{ELLIPSIS}"'


# --- first lock ---


def test_a_first_lock_has_no_change_verdicts() -> None:
    result = run(None, [state("a", "1.0"), state("b", "2.0")])
    assert result.changes is None
    assert result.verdicts == ()
    assert result.blocked == ()


def test_a_first_lock_still_applies_the_package_rules() -> None:
    result = run(None, [state("a", "1.0"), state("evil", "2.0")], Policy(deny=("evil",)))
    assert result.changes is None
    assert result.verdicts == (
        Verdict(
            name="evil",
            version="2.0",
            change=None,
            admitted=False,
            reason="denied by policy (deny: 'evil')",
        ),
    )
    assert result.blocked == result.verdicts


# --- rules for every package ---


def test_deny_by_name_blocks_any_version_even_unchanged() -> None:
    locked = [state("evil-pkg", "1.0"), state("good", "1.0")]
    result = run(locked, locked, Policy(deny=("Evil_Pkg",), upgrades="allow"))
    assert result.changes == ()
    assert reasons(result) == [
        ("evil-pkg", "1.0", False, "denied by policy (deny: 'Evil_Pkg')"),
    ]


@pytest.mark.parametrize(
    ("version", "blocked"),
    [("1.1", True), ("1.1.9", True), ("0.1", True), ("1.2", False), ("2.0", False)],
)
def test_deny_with_a_specifier(version: str, blocked: bool) -> None:
    result = run(None, [state("old", version), state("older", "1.0")], Policy(deny=("old<1.2",)))
    expected = [("old", version, False, "denied by policy (deny: 'old<1.2')")] if blocked else []
    assert reasons(result) == expected


def test_deny_is_not_lifted_by_an_approval_or_by_upgrades_allow() -> None:
    result = run(
        [state("old", "1.0")],
        [state("old", "1.1")],
        Policy(deny=("old<1.2",), upgrades="allow"),
        [approval("old", "==1.1")],
    )
    assert [(v.version, v.reason) for v in result.blocked] == [
        ("1.1", "denied by policy (deny: 'old<1.2')")
    ]


def test_require_wheels_blocks_an_sdist_only_package() -> None:
    sdist_only = state("slow", "1.0", artifacts=(artifact("slow", "1.0", kind="sdist"),))
    both = state(
        "fine", "1.0", artifacts=(artifact("fine", "1.0"), artifact("fine", "1.0", kind="sdist"))
    )
    assert sdist_only.has_wheels is False
    result = run(None, [sdist_only, both], Policy(require_wheels=True))
    assert reasons(result) == [("slow", "1.0", False, "no wheel (require-wheels = true)")]
    assert run(None, [sdist_only, both], Policy(require_wheels=False)).verdicts == ()


def test_one_verdict_per_package_version_and_reason() -> None:
    """Two entries of one version (other markers) break a rule once, not twice."""
    entries = [
        state("slow", "1.0", has_wheels=False, marker="sys_platform == 'linux'"),
        state("slow", "1.0", has_wheels=False, marker="sys_platform == 'win32'"),
    ]
    result = run(None, entries, Policy(require_wheels=True))
    assert reasons(result) == [("slow", "1.0", False, "no wheel (require-wheels = true)")]


def test_allowed_indexes() -> None:
    policy = Policy(allowed_indexes=(PYPI,))
    result = run(
        None,
        [
            state("ok", "1.0", index=PYPI),
            state("ok-no-slash", "1.0", index=PYPI.rstrip("/")),
            state("other", "1.0", index=MIRROR),
            state("local", "1.0", index=None),
        ],
        policy,
    )
    assert reasons(result) == [
        ("other", "1.0", False, f"from {MIRROR}, which is not in allowed-indexes"),
        ("local", "1.0", False, "not from a package index (allowed-indexes is set)"),
    ]


def test_no_allowed_indexes_allows_any() -> None:
    result = run(None, [state("other", "1.0", index=MIRROR), state("local", "1.0", index=None)])
    assert result.verdicts == ()


def young(name: str, version: str, uploaded: datetime | None) -> LockedPackage:
    return state(name, version, artifacts=(artifact(name, version, upload_time=uploaded),))


def test_cooldown_blocks_an_artifact_uploaded_after_the_cutoff() -> None:
    result = run(
        None, [young("fresh", "1.0", CUTOFF + timedelta(hours=1))], COOLDOWN, cutoff=CUTOFF
    )
    assert reasons(result) == [
        (
            "fresh",
            "1.0",
            False,
            "fresh-1.0-py3-none-any.whl was uploaded 2026-02-22 10:30 UTC, after the cooldown "
            "cutoff 2026-02-22 09:30 UTC (min-release-age = '7 days')",
        )
    ]


def test_cooldown_admits_an_artifact_uploaded_at_or_before_the_cutoff() -> None:
    packages = [young("at", "1.0", CUTOFF), young("before", "1.0", CUTOFF - timedelta(days=30))]
    assert run(None, packages, COOLDOWN, cutoff=CUTOFF).verdicts == ()


def test_cooldown_blocks_an_artifact_without_upload_time() -> None:
    result = run(None, [young("mystery", "1.0", None)], COOLDOWN, cutoff=CUTOFF)
    assert reasons(result) == [
        (
            "mystery",
            "1.0",
            False,
            "mystery-1.0-py3-none-any.whl has no upload time, so its age is unknown "
            "(min-release-age = '7 days'; list the package in cooldown-exempt)",
        )
    ]


def test_cooldown_names_the_first_artifact_too_young() -> None:
    old_wheel = artifact("mixed", "1.0", upload_time=CUTOFF - WEEK)
    new_sdist = artifact("mixed", "1.0", kind="sdist", upload_time=CUTOFF + timedelta(days=1))
    newer_sdist = artifact(
        "mixed", "1.0", kind="sdist", sha="f" * 64, upload_time=CUTOFF + timedelta(days=2)
    )
    mixed = state("mixed", "1.0", artifacts=(old_wheel, new_sdist, newer_sdist))
    result = run(None, [mixed], COOLDOWN, cutoff=CUTOFF)
    assert len(result.verdicts) == 1
    assert result.verdicts[0].reason.startswith("mixed-1.0.tar.gz was uploaded 2026-02-23 09:30")


def test_cooldown_exempt_package_passes() -> None:
    policy = Policy(min_release_age=WEEK, cooldown_exempt=frozenset({"internal-lib"}))
    packages = [
        young("internal-lib", "1.0", None),
        young("internal-lib", "1.1", CUTOFF + timedelta(hours=1)),
        young("public", "1.0", None),
    ]
    result = run(None, packages, policy, cutoff=CUTOFF)
    assert [(v.name, v.version) for v in result.verdicts] == [("public", "1.0")]


def test_no_min_release_age_ignores_the_cutoff() -> None:
    packages = [young("fresh", "1.0", CUTOFF + timedelta(hours=1)), young("mystery", "1.0", None)]
    assert run(None, packages, Policy(), cutoff=CUTOFF).verdicts == ()


def test_no_cutoff_means_no_cooldown_check() -> None:
    packages = [young("fresh", "1.0", NOW), young("mystery", "1.0", None)]
    assert run(None, packages, COOLDOWN, cutoff=None).verdicts == ()


def test_cooldown_applies_to_unchanged_packages_too() -> None:
    locked = [young("fresh", "1.0", CUTOFF + timedelta(hours=1))]
    result = run(locked, locked, COOLDOWN, cutoff=CUTOFF)
    assert result.changes == ()
    assert [(v.name, v.change, v.admitted) for v in result.verdicts] == [("fresh", None, False)]


# --- rules for every change ---


def test_the_default_policy_blocks_a_minor_upgrade() -> None:
    result = run([state("a", "1.0")], [state("a", "1.1")])
    (change,) = change_set([state("a", "1.0")], [state("a", "1.1")])
    assert result.changes == (change,)
    assert result.verdicts == (
        Verdict(
            name="a",
            version="1.1",
            change=change,
            admitted=False,
            reason="minor upgrade; needs approval",
            fix=fix("a", "1.1"),
        ),
    )
    assert result.verdicts[0].fix == 'lockdown approve a==1.1 --reason "\u2026"'
    assert result.blocked == result.verdicts
    assert result.approval_for("a", "1.1") is None


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ([], [state("b", "1.0")], "new package; needs approval"),
        ([state("a", "2.0")], [state("a", "1.0")], "downgrade; needs approval"),
        ([state("a", "1.0")], [state("a", "2.0")], "major upgrade; needs approval"),
        (
            [state("a", "1.0", artifacts=(artifact("a", "1.0", sha="1" * 64),))],
            [state("a", "1.0", artifacts=(artifact("a", "1.0", sha="2" * 64),))],
            "same version, different artifacts (hashes changed); needs approval",
        ),
    ],
    ids=["new", "downgrade", "major", "hashes"],
)
def test_the_default_policy_blocks_every_kind_of_change(
    old: list[LockedPackage], new: list[LockedPackage], reason: str
) -> None:
    result = run(old, new)
    (verdict,) = result.blocked
    assert verdict.reason == reason
    assert verdict.fix == fix(new[0].name, new[0].version)


def test_auto_approve_patch_admits_a_patch_but_not_a_minor() -> None:
    result = run(
        [state("a", "1.0"), state("b", "1.0"), state("c", "1.0")],
        [state("a", "1.0.1"), state("b", "1.1"), state("c", "1.0.1rc1")],
        Policy(auto_approve=frozenset({"patch"})),
    )
    assert reasons(result) == [
        ("a", "1.0.1", True, "patch upgrade; auto-approved"),
        ("b", "1.1", False, "minor upgrade; needs approval"),
        ("c", "1.0.1rc1", False, "upgrade to a pre-release; needs approval"),
    ]
    assert result.verdicts[0].fix is None
    assert result.verdicts[0].approval is None


def test_auto_approve_source_admits_a_hash_change() -> None:
    result = run(
        [state("a", "1.0", artifacts=(artifact("a", "1.0", sha="1" * 64),))],
        [state("a", "1.0", artifacts=(artifact("a", "1.0", sha="2" * 64),))],
        Policy(auto_approve=frozenset({"source"})),
    )
    assert reasons(result) == [
        ("a", "1.0", True, "same version, different artifacts (hashes changed); auto-approved")
    ]


def test_upgrades_allow_admits() -> None:
    result = run(
        [state("a", "1.0"), state("b", "1.0")],
        [state("a", "2.0"), state("b", "0.9"), state("c", "1.0")],
        Policy(upgrades="allow"),
    )
    assert reasons(result) == [
        ("a", "2.0", True, "major upgrade; upgrades = 'allow'"),
        ("b", "0.9", True, "downgrade; upgrades = 'allow'"),
        ("c", "1.0", False, "new package; needs approval"),
    ]
    assert [v.name for v in result.blocked] == ["c"]


def test_upgrades_allow_does_not_admit_new_packages_or_new_artifacts() -> None:
    """New packages and source changes always need an approval unless auto-approve lists them."""
    changed = state("a", "1.0", artifacts=(artifact("a", "1.0", sha="2" * 64),))
    result = run([state("a", "1.0")], [changed, state("n", "1.0")], Policy(upgrades="allow"))
    assert reasons(result) == [
        ("a", "1.0", False, "same version, different artifacts (hashes changed); needs approval"),
        ("n", "1.0", False, "new package; needs approval"),
    ]
    listed = run(
        [state("a", "1.0")],
        [changed, state("n", "1.0")],
        Policy(upgrades="allow", auto_approve=frozenset({"new", "source"})),
    )
    assert listed.blocked == ()


@pytest.mark.parametrize(
    "policy",
    [
        Policy(upgrades="allow"),
        Policy(auto_approve=frozenset({"patch", "minor", "major", "new"})),
    ],
    ids=["allow", "auto-approve-everything"],
)
def test_an_upgrade_that_also_changes_index_needs_an_approval(policy: Policy) -> None:
    """Dependency confusion rides on a version bump as easily as on the same version."""
    old = [state("a", "1.1", index=PYPI)]
    new = [state("a", "1.2", index=MIRROR)]
    result = run(old, new, policy)
    assert reasons(result) == [
        (
            "a",
            "1.2",
            False,
            f"minor upgrade; index changed from {PYPI} to {MIRROR}; "
            "needs approval (a package keeps its first index)",
        )
    ]
    admitted = run(old, new, policy, [approval("a", "==1.2")])
    assert admitted.blocked == ()


def test_another_version_from_another_index_needs_an_approval() -> None:
    """A name locked at one version gains a second one (another marker) from another index."""
    old = [state("a", "1.0", index=PYPI)]
    new = [state("a", "1.0", index=PYPI), state("a", "2.0", index=MIRROR, marker="x")]
    result = run(old, new, Policy(auto_approve=frozenset({"new"})))
    assert reasons(result) == [
        (
            "a",
            "2.0",
            False,
            f"new package; index changed from {PYPI} to {MIRROR}; "
            "needs approval (a package keeps its first index)",
        )
    ]


def test_a_matching_approval_admits() -> None:
    given = approval("a", "==1.1", at=datetime(2026, 2, 28, 15, 0, tzinfo=timezone.utc))
    other = approval("a", "==1.2")
    result = run([state("a", "1.0")], [state("a", "1.1")], Policy(), [other, given])
    assert reasons(result) == [
        ("a", "1.1", True, "minor upgrade; approved by alice on 2026-02-28: needed for the CVE fix")
    ]
    assert result.verdicts[0].approval is given
    assert result.verdicts[0].fix is None
    assert result.approval_for("a", "1.1") is given
    assert result.approval_for("a", "1.0") is None
    assert result.approval_for("b", "1.1") is None


def test_the_approval_that_admits_says_until_when() -> None:
    given = approval("a", ">=1.1,<2", expires=NOW + timedelta(days=9))
    result = run([state("a", "1.0")], [state("a", "1.1")], Policy(), [given])
    assert reasons(result) == [
        (
            "a",
            "1.1",
            True,
            "minor upgrade; approved by alice on 2026-02-28 (until 2026-03-10): "
            "needed for the CVE fix",
        )
    ]


@pytest.mark.parametrize(
    "given",
    [
        approval("a", "==1.1", at=NOW - WEEK, expires=NOW),
        approval("a", "==1.1", at=NOW - WEEK, expires=NOW - timedelta(days=1)),
        approval("a", "==1.1", at=NOW + timedelta(seconds=1)),
        approval("a", "==1.2"),
        approval("b", "==1.1"),
    ],
    ids=["expires-now", "expired", "not-yet", "other-version", "other-package"],
)
def test_an_approval_that_does_not_match_does_not_admit(given: Approval) -> None:
    result = run([state("a", "1.0")], [state("a", "1.1")], Policy(), [given])
    assert reasons(result) == [("a", "1.1", False, "minor upgrade; needs approval")]
    assert result.approval_for("a", "1.1") is None


def test_a_removal_is_always_admitted() -> None:
    result = run([state("a", "1.0"), state("gone", "3.0")], [state("a", "1.0")])
    (change,) = result.changes or ()
    assert result.verdicts == (
        Verdict(name="gone", version="3.0", change=change, admitted=True, reason="removed"),
    )
    assert result.blocked == ()


def test_a_yanked_version_is_blocked_when_yanked_is_deny() -> None:
    result = run(
        [state("a", "1.0"), state("b", "1.0")],
        [state("a", "1.1"), state("b", "1.1")],
        Policy(upgrades="allow"),
        [approval("a", "==1.1"), approval("b", "==1.1")],
        yanked={("a", "1.1"): "broken wheel", ("b", "1.1"): ""},
    )
    assert [(v.name, v.version, v.change, v.fix, v.reason) for v in result.blocked] == [
        ("a", "1.1", None, None, "version 1.1 is yanked: broken wheel (yanked = 'deny')"),
        ("b", "1.1", None, None, "version 1.1 is yanked (yanked = 'deny')"),
    ]
    # The change itself is admitted; the yank alone blocks, and no approval lifts it.
    assert [(v.name, v.reason) for v in result.verdicts if v.admitted] == [
        ("a", "minor upgrade; upgrades = 'allow'"),
        ("b", "minor upgrade; upgrades = 'allow'"),
    ]


def test_a_yanked_new_package_is_blocked_in_a_first_lock() -> None:
    result = run(None, [state("a", "1.1")], yanked={("a", "1.1"): "broken"})
    assert reasons(result) == [
        ("a", "1.1", False, "version 1.1 is yanked: broken (yanked = 'deny')")
    ]


def test_a_yanked_version_is_admitted_when_yanked_is_allow() -> None:
    result = run(
        [state("a", "1.0")],
        [state("a", "1.1")],
        Policy(upgrades="allow", yanked="allow"),
        yanked={("a", "1.1"): "broken wheel"},
    )
    assert reasons(result) == [("a", "1.1", True, "minor upgrade; upgrades = 'allow'")]


def test_yanked_allow_still_needs_the_change_admitted() -> None:
    result = run(
        [state("a", "1.0")],
        [state("a", "1.1")],
        Policy(yanked="allow"),
        yanked={("a", "1.1"): "broken wheel"},
    )
    assert reasons(result) == [("a", "1.1", False, "minor upgrade; needs approval")]


def test_a_yank_of_a_version_no_longer_locked_is_ignored() -> None:
    result = run(
        [state("a", "1.0")],
        [state("a", "1.1")],
        Policy(upgrades="allow"),
        yanked={("a", "1.0"): "the old one was yanked", ("zzz", "1.0"): "not locked at all"},
    )
    assert result.blocked == ()


INDEX_DETAIL = f"index changed from {PYPI} to {MIRROR}"


def test_an_index_change_needs_an_approval_whatever_the_policy() -> None:
    result = run(
        [state("a", "1.0", index=PYPI)],
        [state("a", "1.0", index=MIRROR)],
        Policy(upgrades="allow", auto_approve=frozenset({"source", "new", "patch"})),
    )
    (change,) = result.changes or ()
    assert change.index_changed
    assert result.verdicts == (
        Verdict(
            name="a",
            version="1.0",
            change=change,
            admitted=False,
            reason=f"{INDEX_DETAIL}; needs approval (a package keeps its first index)",
            fix=fix("a", "1.0"),
        ),
    )


def test_an_approval_admits_an_index_change() -> None:
    given = approval("a", "==1.0")
    result = run(
        [state("a", "1.0", index=PYPI)], [state("a", "1.0", index=MIRROR)], Policy(), [given]
    )
    assert reasons(result) == [
        (
            "a",
            "1.0",
            True,
            f"{INDEX_DETAIL}; approved by alice on 2026-02-28: needed for the CVE fix",
        )
    ]
    assert result.approval_for("a", "1.0") is given


def test_blocked_lists_every_blocking_verdict_in_order() -> None:
    old = [state("keep", "1.0"), state("up", "1.0"), state("patchy", "1.0"), state("gone", "1.0")]
    new = [
        state("keep", "1.0"),
        state("up", "2.0"),
        state("patchy", "1.0.1"),
        state("newbie", "0.1", has_wheels=False),
        state("moved", "1.0", index=MIRROR),
    ]
    result = run(
        old,
        new,
        Policy(auto_approve=frozenset({"patch"}), require_wheels=True, allowed_indexes=(PYPI,)),
    )
    assert [(v.name, v.version, v.reason) for v in result.blocked] == [
        ("newbie", "0.1", "no wheel (require-wheels = true)"),
        ("moved", "1.0", f"from {MIRROR}, which is not in allowed-indexes"),
        ("moved", "1.0", "new package; needs approval"),
        ("newbie", "0.1", "new package; needs approval"),
        ("up", "2.0", "major upgrade; needs approval"),
    ]
    assert all(not v.admitted for v in result.blocked)
    admitted = [(v.name, v.reason) for v in result.verdicts if v.admitted]
    assert admitted == [("gone", "removed"), ("patchy", "patch upgrade; auto-approved")]
    assert [c.name for c in result.changes or ()] == ["gone", "moved", "newbie", "patchy", "up"]


def test_changes_are_the_change_set() -> None:
    old = [state("a", "1.0"), state("b", "1.0")]
    new = [state("a", "1.1"), state("c", "1.0")]
    assert run(old, new).changes == tuple(change_set(old, new))


def test_allowed_indexes_compare_scheme_and_host_case_insensitively() -> None:
    from lockdown.names import index_key

    assert index_key("HTTPS://Mirror.Example/simple") == "https://mirror.example/simple/"
    assert index_key("https://mirror.example/Simple/") != index_key(
        "https://mirror.example/simple/"
    )
    assert index_key(None) is None
