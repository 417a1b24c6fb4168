"""The gate's verdicts as text, Markdown and JSON: exact lines, blocked first, fixes under them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from lockdown.config.policy import Policy
from lockdown.policy.approvals import Approval
from lockdown.policy.gate import GateResult, Verdict, judge
from lockdown.report.gate import (
    FORMATS,
    SCHEMA_VERSION,
    render,
    render_json,
    render_markdown,
    render_text,
)
from tests.policy.test_changes import state

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
APPROVED_AT = datetime(2026, 2, 28, 15, 0, tzinfo=timezone.utc)
APPROVAL = Approval(
    package="b",
    version="==2.0",
    reason="fixes a | b",
    approved_by="alice",
    approved_at=APPROVED_AT,
    expires=APPROVED_AT + timedelta(days=14),
)


def mixed() -> GateResult:
    """Two blocked changes, a broken rule, an approval, an auto-approval and a removal."""
    return judge(
        [state("a", "1.0"), state("b", "1.0"), state("gone", "1.0"), state("p", "1.0")],
        [
            state("p", "1.0.1"),
            state("n", "0.1", has_wheels=False),
            state("b", "2.0"),
            state("a", "1.1"),
        ],
        policy=Policy(auto_approve=frozenset({"patch"}), require_wheels=True),
        approvals=[APPROVAL],
        now=NOW,
        cutoff=None,
    )


def unchanged() -> GateResult:
    locked = [state("a", "1.0")]
    return judge(locked, locked, policy=Policy(), approvals=[], now=NOW, cutoff=None)


def first_lock() -> GateResult:
    return judge(None, [state("a", "1.0")], policy=Policy(), approvals=[], now=NOW, cutoff=None)


FIX_A = '           lockdown approve a==1.1 --reason "\u2026"'
FIX_N = '           lockdown approve n==0.1 --reason "\u2026"'
BLOCKED_LINES = [
    "  BLOCKED  a 1.0 \u2192 1.1 (minor upgrade; needs approval)",
    FIX_A,
    "  BLOCKED  n 0.1 (no wheel (require-wheels = true))",
    "  BLOCKED  n (new) 0.1 (new package; needs approval)",
    FIX_N,
]
OK_LINES = [
    "  ok       b 1.0 \u2192 2.0 (major upgrade; approved by alice on 2026-02-28 "
    "(until 2026-03-14): fixes a | b)",
    "  ok       gone 1.0 (removed) (removed)",
    "  ok       p 1.0 \u2192 1.0.1 (patch upgrade; auto-approved)",
]


# --- text ---


def test_text_puts_blocked_first_with_the_fix_under_each() -> None:
    assert render_text(mixed()) == "\n".join(BLOCKED_LINES + OK_LINES) + "\n"


def test_text_without_admitted_shows_only_what_blocks() -> None:
    text = render_text(mixed(), admitted=False)
    assert text == "\n".join(BLOCKED_LINES) + "\n"
    assert "ok " not in text


def test_text_no_changes() -> None:
    assert render_text(unchanged()) == "  no changes\n"
    assert render_text(unchanged(), admitted=False) == "  no changes\n"


def test_text_first_lock() -> None:
    assert render_text(first_lock()) == "  first lock\n"


def test_text_first_lock_with_a_broken_rule() -> None:
    result = judge(
        None,
        [state("evil", "1.0")],
        policy=Policy(deny=("evil",)),
        approvals=[],
        now=NOW,
        cutoff=None,
    )
    assert render_text(result) == "  BLOCKED  evil 1.0 (denied by policy (deny: 'evil'))\n"


# --- markdown ---


def test_markdown_summary_and_table() -> None:
    assert render_markdown(mixed()).splitlines() == [
        "**lockdown: 3 blocked** (5 changes)",
        "",
        "| verdict | package | change | why |",
        "|---|---|---|---|",
        "| **BLOCKED** | `a` | 1.0 \u2192 1.1 | minor upgrade; needs approval"
        ' \u2014 `lockdown approve a==1.1 --reason "\u2026"` |',
        "| **BLOCKED** | `n` | 0.1 | no wheel (require-wheels = true) |",
        "| **BLOCKED** | `n` | (new) 0.1 | new package; needs approval"
        ' \u2014 `lockdown approve n==0.1 --reason "\u2026"` |',
        "| ok | `b` | 1.0 \u2192 2.0 | major upgrade; approved by alice on 2026-02-28"
        " (until 2026-03-14): fixes a \\| b |",
        "| ok | `gone` | 1.0 (removed) | removed |",
        "| ok | `p` | 1.0 \u2192 1.0.1 | patch upgrade; auto-approved |",
    ]
    assert render_markdown(mixed()).endswith("|\n")


def test_markdown_every_change_admitted() -> None:
    result = judge(
        [state("a", "1.0")],
        [state("a", "1.0.1")],
        policy=Policy(upgrades="allow"),
        approvals=[],
        now=NOW,
        cutoff=None,
    )
    assert render_markdown(result) == (
        "**lockdown: every change admitted** (1 change)\n"
        "\n"
        "| verdict | package | change | why |\n"
        "|---|---|---|---|\n"
        "| ok | `a` | 1.0 \u2192 1.0.1 | patch upgrade; upgrades = 'allow' |\n"
    )


def test_markdown_no_changes() -> None:
    assert render_markdown(unchanged()) == (
        "**lockdown: every change admitted** (0 changes)\n\nNo changes.\n"
    )
    assert render_markdown(first_lock()) == (
        "**lockdown: every change admitted** (0 changes)\n\nNo changes.\n"
    )


def test_markdown_escapes_pipes_and_newlines_in_cells() -> None:
    result = GateResult(
        changes=None,
        verdicts=(
            Verdict(
                name="we|rd",
                version="1|0",
                change=None,
                admitted=False,
                reason="first | second\nthird",
            ),
        ),
    )
    rows = render_markdown(result).splitlines()
    assert rows[0] == "**lockdown: 1 blocked** (0 changes)"
    assert rows[-1] == "| **BLOCKED** | `we\\|rd` | 1\\|0 | first \\| second third |"
    assert len(rows) == 5


# --- json ---


def test_json_parses_back() -> None:
    text = render_json(mixed())
    assert text.endswith("}\n")
    data = json.loads(text)
    assert list(data) == [
        "schema_version",
        "blocked",
        "first_lock",
        "publisher_changes",
        "origin_changes",
        "changes",
        "verdicts",
        "findings",
    ]
    assert data["publisher_changes"] == 0
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert data["blocked"] == 3
    assert data["first_lock"] is False
    assert data["changes"] == [
        {
            "name": "a",
            "kind": "upgraded",
            "class": "minor",
            "old_version": "1.0",
            "new_version": "1.1",
            "detail": "minor upgrade",
            "publisher_change": None,
            "origin_change": None,
        },
        {
            "name": "b",
            "kind": "upgraded",
            "class": "major",
            "old_version": "1.0",
            "new_version": "2.0",
            "detail": "major upgrade",
            "publisher_change": None,
            "origin_change": None,
        },
        {
            "name": "gone",
            "kind": "removed",
            "class": "removed",
            "old_version": "1.0",
            "new_version": None,
            "detail": "no longer locked",
            "publisher_change": None,
            "origin_change": None,
        },
        {
            "name": "n",
            "kind": "added",
            "class": "new",
            "old_version": None,
            "new_version": "0.1",
            "detail": "new package",
            "publisher_change": None,
            "origin_change": None,
        },
        {
            "name": "p",
            "kind": "upgraded",
            "class": "patch",
            "old_version": "1.0",
            "new_version": "1.0.1",
            "detail": "patch upgrade",
            "publisher_change": None,
            "origin_change": None,
        },
    ]
    verdicts = data["verdicts"]
    assert [(v["name"], v["admitted"], v["change"]) for v in verdicts] == [
        ("a", False, "upgraded"),
        ("n", False, None),
        ("n", False, "added"),
        ("b", True, "upgraded"),
        ("gone", True, "removed"),
        ("p", True, "upgraded"),
    ]
    assert verdicts[0] == {
        "name": "a",
        "version": "1.1",
        "admitted": False,
        "reason": "minor upgrade; needs approval",
        "change": "upgraded",
        "fix": 'lockdown approve a==1.1 --reason "\u2026"',
    }
    assert verdicts[3]["approval"] == {
        "version": "==2.0",
        "reason": "fixes a | b",
        "approved-by": "alice",
        "approved-at": "2026-02-28T15:00:00+00:00",
        "expires": "2026-03-14T15:00:00+00:00",
    }
    assert datetime.fromisoformat(verdicts[3]["approval"]["approved-at"]) == APPROVED_AT
    assert all("approval" not in v for i, v in enumerate(verdicts) if i != 3)


def test_json_approval_without_expiry_has_no_expires() -> None:
    forever = Approval(
        package="a",
        version="==1.1",
        reason="ok",
        approved_by="bob",
        approved_at=APPROVED_AT,
        expires=None,
    )
    result = judge(
        [state("a", "1.0")],
        [state("a", "1.1")],
        policy=Policy(),
        approvals=[forever],
        now=NOW,
        cutoff=None,
    )
    (verdict,) = json.loads(render_json(result))["verdicts"]
    assert verdict["approval"] == {
        "version": "==1.1",
        "reason": "ok",
        "approved-by": "bob",
        "approved-at": "2026-02-28T15:00:00+00:00",
    }


def test_json_first_lock_and_no_changes() -> None:
    first = json.loads(render_json(first_lock()))
    assert first == {
        "schema_version": 1,
        "blocked": 0,
        "first_lock": True,
        "publisher_changes": 0,
        "origin_changes": 0,
        "changes": [],
        "verdicts": [],
        "findings": [],
    }
    same = json.loads(render_json(unchanged()))
    assert (same["first_lock"], same["changes"], same["blocked"]) == (False, [], 0)


def test_json_keeps_non_ascii_text() -> None:
    text = render_json(mixed())
    assert 'lockdown approve a==1.1 --reason \\"\u2026\\"' in text
    assert "\\u2026" not in text


@pytest.mark.parametrize(
    ("fmt", "renderer"),
    [("text", render_text), ("markdown", render_markdown), ("json", render_json)],
)
def test_render_dispatches_by_format(fmt: str, renderer: Callable[[GateResult], str]) -> None:
    assert fmt in FORMATS
    assert render(mixed(), fmt) == renderer(mixed())


def test_text_with_nothing_blocked_says_so_when_only_blocks_are_shown() -> None:
    from lockdown.policy.gate import GateResult, Verdict

    admitted = Verdict(name="a", version="1.1", change=None, admitted=True, reason="fine")
    result = GateResult(changes=(), verdicts=(admitted,))
    assert render_text(result, admitted=False) == "  nothing blocked\n"
