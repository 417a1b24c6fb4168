"""The publisher as part of a package's state: changes, the gate's verdicts, and diff's order.

Pure: states with and without PEP 740 publishers, a frozen clock, exact reasons.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

from lockdown.config.policy import Policy
from lockdown.lock.attestation import Publisher
from lockdown.lock.model import LockedPackage
from lockdown.policy.approvals import Approval
from lockdown.policy.changes import change_set, publisher_move
from lockdown.policy.gate import judge
from lockdown.report.gate import render_json, render_markdown, render_text
from tests.policy.test_changes import state

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)
GITHUB = Publisher(kind="GitHub", fields=(("repository", "acme/lib"), ("workflow", "release.yml")))
FORK = Publisher(kind="GitHub", fields=(("repository", "evil/lib"), ("workflow", "release.yml")))
GOOGLE = Publisher(kind="Google", fields=(("email", "ci@acme.iam.gserviceaccount.com"),))
ALLOW_ALL = Policy(upgrades="allow", auto_approve=frozenset({"patch", "minor", "major", "new"}))


def attested(name: str, version: str, *publishers: Publisher) -> LockedPackage:
    return dataclasses.replace(state(name, version), attestation_identities=frozenset(publishers))


def approval(name: str, version: str) -> Approval:
    return Approval(
        package=name,
        version=f"=={version}",
        reason="new CI",
        approved_by="alice",
        approved_at=NOW - timedelta(hours=1),
        expires=None,
    )


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ((), (), None),
        ((), (GITHUB,), None),  # trust on first use
        ((GITHUB,), (GITHUB,), None),
        ((GITHUB, GOOGLE), (GITHUB,), None),  # fewer of the known publishers
        ((GITHUB,), (), f"attestations lost (was {GITHUB.describe()})"),
        (
            (GITHUB,),
            (FORK,),
            "publisher changed from GitHub (repository=acme/lib, workflow=release.yml) "
            "to GitHub (repository=evil/lib, workflow=release.yml)",
        ),
        (
            (GITHUB,),
            (GITHUB, GOOGLE),
            "publisher changed from GitHub (repository=acme/lib, workflow=release.yml) to "
            "GitHub (repository=acme/lib, workflow=release.yml), "
            "Google (email=ci@acme.iam.gserviceaccount.com)",
        ),
    ],
    ids=["never", "first-use", "same", "subset", "lost", "changed", "added-one"],
)
def test_publisher_move(
    before: tuple[Publisher, ...], after: tuple[Publisher, ...], expected: str | None
) -> None:
    assert publisher_move(frozenset(before), frozenset(after)) == expected


def test_a_publisher_change_is_blocked_whatever_upgrades_and_auto_approve_say() -> None:
    result = judge(
        [attested("lib", "1.0", GITHUB)],
        [attested("lib", "1.0.1", FORK)],
        policy=ALLOW_ALL,
        approvals=[],
        now=NOW,
        cutoff=None,
    )
    (verdict,) = result.blocked
    assert verdict.reason == (
        "patch upgrade; publisher changed from GitHub (repository=acme/lib, "
        "workflow=release.yml) to GitHub (repository=evil/lib, workflow=release.yml); "
        "needs approval (a package keeps its publisher)"
    )
    assert verdict.fix == 'lockdown approve lib==1.0.1 --reason "\u2026"'


def test_only_an_approval_naming_the_version_admits_it() -> None:
    old, new = [attested("lib", "1.0", GITHUB)], [attested("lib", "2.0")]
    for wrong in (approval("lib", "1.9"), approval("other", "2.0")):
        assert judge(old, new, policy=ALLOW_ALL, approvals=[wrong], now=NOW, cutoff=None).blocked
    result = judge(
        old, new, policy=ALLOW_ALL, approvals=[approval("lib", "2.0")], now=NOW, cutoff=None
    )
    assert not result.blocked
    assert result.approval_for("lib", "2.0") == approval("lib", "2.0")


def test_a_new_version_beside_the_old_one_is_judged_against_its_publishers() -> None:
    result = judge(
        [attested("lib", "1.0", GITHUB)],
        [attested("lib", "1.0", GITHUB), attested("lib", "2.0", GOOGLE)],
        policy=ALLOW_ALL,
        approvals=[],
        now=NOW,
        cutoff=None,
    )
    assert [v.reason.split(";")[1].strip()[:24] for v in result.blocked] == [
        "publisher changed from G"
    ]


def test_the_same_files_with_other_identities_are_a_source_change() -> None:
    (change,) = change_set([attested("lib", "1.0", GITHUB)], [attested("lib", "1.0", FORK)])
    assert (change.kind, change.detail.split(";")[0]) == ("source", "same version, same artifacts")
    assert change.publisher_change is not None


def test_provenance_off_leaves_publisher_changes_to_the_other_rules() -> None:
    off = dataclasses.replace(ALLOW_ALL, provenance="off")
    result = judge(
        [attested("lib", "1.0", GITHUB)],
        [attested("lib", "1.1")],
        policy=off,
        approvals=[],
        now=NOW,
        cutoff=None,
    )
    assert not result.blocked
    (verdict,) = result.verdicts
    assert verdict.reason.endswith("; upgrades = 'allow'")


def test_require_blocks_unattested_packages_except_the_exempt() -> None:
    policy = Policy(provenance="require", provenance_exempt=frozenset({"legacy"}))
    new = [attested("lib", "1.0", GITHUB), attested("plain", "1.0"), attested("legacy", "1.0")]
    result = judge(None, new, policy=policy, approvals=[], now=NOW, cutoff=None)
    assert [(v.name, v.reason) for v in result.blocked] == [
        (
            "plain",
            "not attested: no verified PEP 740 provenance "
            "(provenance = 'require'; list it in provenance-exempt)",
        )
    ]


def mixed() -> tuple[list[LockedPackage], list[LockedPackage]]:
    old = [state("aaa", "1.0"), attested("zzz", "1.0", GITHUB), state("mmm", "1.0")]
    new = [state("aaa", "1.1"), attested("zzz", "1.1"), state("mmm", "1.0.1")]
    return old, new


def test_diff_shows_publisher_changes_and_losses_first() -> None:
    old, new = mixed()
    policy = Policy(auto_approve=frozenset({"patch"}))
    result = judge(old, new, policy=policy, approvals=[], now=NOW, cutoff=None)
    text = render_text(result).splitlines()
    assert text[0].startswith("  BLOCKED  zzz 1.0 \u2192 1.1 (minor upgrade; attestations lost")
    assert text[2].startswith("  BLOCKED  aaa 1.0 \u2192 1.1 (minor upgrade")
    markdown = render_markdown(result).splitlines()
    assert markdown[0] == "**lockdown: 2 blocked** (3 changes, 1 publisher change or loss)"
    assert markdown[4].startswith("| **BLOCKED** | `zzz` |")
    data = json.loads(render_json(result))
    assert data["publisher_changes"] == 1
    assert [c["name"] for c in data["changes"]] == ["zzz", "aaa", "mmm"]
    assert data["changes"][0]["publisher_change"] == (
        "attestations lost (was GitHub (repository=acme/lib, workflow=release.yml))"
    )
    assert data["verdicts"][0]["name"] == "zzz"
