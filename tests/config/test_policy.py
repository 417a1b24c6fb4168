"""``[tool.lockdown.policy]`` validation (exact messages) and durations such as ``7 days``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lockdown.config.fields import format_duration, parse_duration
from lockdown.config.policy import (
    AUTO_APPROVABLE,
    DEFAULT_APPROVALS,
    Policy,
    deny_rules,
    parse_policy,
)
from lockdown.errors import ConfigError, UsageError

SOURCE = Path("pyproject.toml")
WHERE = "[tool.lockdown] policy"
PREFIX = f"{SOURCE}: {WHERE}"


def parse(table: dict[str, Any]) -> Policy:
    return parse_policy(table, source=SOURCE, where=WHERE)


def test_an_empty_table_gives_the_defaults() -> None:
    policy = parse({})
    assert policy == Policy()
    assert policy.upgrades == "approve"
    assert policy.auto_approve == frozenset()
    assert policy.min_release_age is None
    assert policy.cooldown_exempt == frozenset()
    assert policy.allowed_indexes == ()
    assert policy.yanked == "deny"
    assert policy.require_wheels is False
    assert policy.deny == ()
    assert policy.approvals == DEFAULT_APPROVALS == "lockdown-approvals.toml"


def test_every_key() -> None:
    policy = parse(
        {
            "upgrades": "allow",
            "auto-approve": [
                "patch",
                "minor",
                "major",
                "pre-release",
                "downgrade",
                "new",
                "source",
            ],
            "min-release-age": "7 days",
            "cooldown-exempt": ["Foo_Bar", "internal.pkg"],
            "allowed-indexes": ["https://index.example/simple", "file:///srv/index/"],
            "yanked": "allow",
            "require-wheels": True,
            "deny": ["evil", "old<1.2"],
            "approvals": "ops/approvals.toml",
        }
    )
    assert policy == Policy(
        upgrades="allow",
        auto_approve=frozenset(AUTO_APPROVABLE),
        min_release_age=timedelta(days=7),
        cooldown_exempt=frozenset({"foo-bar", "internal-pkg"}),
        allowed_indexes=("https://index.example/simple/", "file:///srv/index/"),
        yanked="allow",
        require_wheels=True,
        deny=("evil", "old<1.2"),
        approvals="ops/approvals.toml",
    )


def test_deny_rules_are_normalized() -> None:
    rules = deny_rules(parse({"deny": ["Evil_Pkg", "old.lib<1.2,>=1.0"]}))
    assert [(text, name, str(spec)) for text, name, spec in rules] == [
        ("Evil_Pkg", "evil-pkg", ""),
        ("old.lib<1.2,>=1.0", "old-lib", "<1.2,>=1.0"),
    ]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        pytest.param(
            {"auto-aprove": ["patch"]},
            f"{SOURCE}: unknown key 'auto-aprove' in {WHERE}; known keys: allowed-channels, "
            "allowed-indexes, approvals, auto-approve, cooldown-exempt, deny, min-release-age, "
            "provenance, provenance-exempt, provenance-trusted-root, require-wheels, upgrades, "
            "vulnerable, yanked",
            id="unknown-key",
        ),
        pytest.param(
            {"upgrades": "yes"},
            f"{PREFIX} upgrades must be 'approve' or 'allow', not 'yes'",
            id="upgrades",
        ),
        pytest.param(
            {"upgrades": True},
            f"{PREFIX} upgrades must be 'approve' or 'allow', not True",
            id="upgrades-bool",
        ),
        pytest.param(
            {"auto-approve": ["patch", "tiny"]},
            f"{PREFIX} auto-approve: unknown change class 'tiny'; "
            "use some of: patch, minor, major, pre-release, downgrade, new, source",
            id="auto-approve-unknown",
        ),
        pytest.param(
            {"auto-approve": ["removed"]},
            f"{PREFIX} auto-approve: unknown change class 'removed'; "
            "use some of: patch, minor, major, pre-release, downgrade, new, source",
            id="auto-approve-removed",
        ),
        pytest.param(
            {"auto-approve": "patch"},
            f"{PREFIX} auto-approve must be a list of strings",
            id="auto-approve-not-list",
        ),
        pytest.param(
            {"min-release-age": 7},
            f"{PREFIX} min-release-age must be a string such as '7 days'",
            id="age-not-string",
        ),
        pytest.param(
            {"min-release-age": "a week"},
            f"{PREFIX} min-release-age: 'a week' is not a duration; "
            "write it like '7 days', '14d', '12h' or '2 weeks'",
            id="age-not-duration",
        ),
        pytest.param(
            {"yanked": "warn"},
            f"{PREFIX} yanked must be 'deny' or 'allow', not 'warn'",
            id="yanked",
        ),
        pytest.param(
            {"require-wheels": "yes"},
            f"{PREFIX} require-wheels must be true or false",
            id="require-wheels",
        ),
        pytest.param(
            {"require-wheels": 1},
            f"{PREFIX} require-wheels must be true or false",
            id="require-wheels-int",
        ),
        pytest.param(
            {"deny": ["fine", "foo<<1"]},
            f"{PREFIX} deny[1]: invalid rule 'foo<<1': "
            "Expected semicolon (after name with no version specifier) or end",
            id="deny-invalid",
        ),
        pytest.param(
            {"deny": ["foo; python_version < '3.12'"]},
            f"{PREFIX} deny[0]: \"foo; python_version < '3.12'\": "
            "only a name and a version specifier are allowed",
            id="deny-marker",
        ),
        pytest.param(
            {"deny": ["foo[extra]"]},
            f"{PREFIX} deny[0]: 'foo[extra]': only a name and a version specifier are allowed",
            id="deny-extras",
        ),
        pytest.param(
            {"deny": ["foo @ https://example.org/foo-1.0.whl"]},
            f"{PREFIX} deny[0]: 'foo @ https://example.org/foo-1.0.whl': "
            "only a name and a version specifier are allowed",
            id="deny-url",
        ),
        pytest.param({"deny": "foo"}, f"{PREFIX} deny must be a list of strings", id="deny-str"),
        pytest.param(
            {"cooldown-exempt": ["a", 1]},
            f"{PREFIX} cooldown-exempt must be a list of strings",
            id="cooldown-exempt",
        ),
        pytest.param(
            {"allowed-indexes": ["ftp://mirror.example/simple"]},
            f"{PREFIX} allowed-indexes 'ftp://mirror.example/simple' is not an http(s) or "
            "file URL; give the simple API URL of the index",
            id="allowed-indexes-scheme",
        ),
        pytest.param(
            {"allowed-indexes": ["index.example/simple"]},
            f"{PREFIX} allowed-indexes 'index.example/simple' is not an http(s) or file URL; "
            "give the simple API URL of the index",
            id="allowed-indexes-no-scheme",
        ),
        pytest.param(
            {"vulnerable": "block"},
            f"{PREFIX} vulnerable must be 'deny', 'warn' or 'off', not 'block'",
            id="vulnerable-unknown",
        ),
        pytest.param(
            {"approvals": ""}, f"{PREFIX} approvals must be a file name", id="approvals-empty"
        ),
        pytest.param(
            {"approvals": 3}, f"{PREFIX} approvals must be a file name", id="approvals-int"
        ),
    ],
)
def test_a_bad_value_is_a_config_error(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(table)
    assert str(caught.value) == message


def test_a_duration_too_long_for_timedelta_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse({"min-release-age": "1000000000 days"})
    assert str(caught.value) == (
        f"{PREFIX} min-release-age: '1000000000 days' is too long a duration; "
        "give at most a few years"
    )


# --- durations ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 days", timedelta(days=7)),
        ("7d", timedelta(days=7)),
        ("7days", timedelta(days=7)),
        ("1 day", timedelta(days=1)),
        ("2 weeks", timedelta(weeks=2)),
        ("1w", timedelta(weeks=1)),
        ("12h", timedelta(hours=12)),
        ("1 hour", timedelta(hours=1)),
        ("36 hours", timedelta(hours=36)),
        ("30 minutes", timedelta(minutes=30)),
        ("1 minute", timedelta(minutes=1)),
        ("5 min", timedelta(minutes=5)),
        ("10m", timedelta(minutes=10)),
        (" 3 D ", timedelta(days=3)),
        ("14 DAYS", timedelta(days=14)),
        ("0d", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "7", "days", "7 dayz", "seven days", "-1d", "1.5d", "7 d 2 h", "7 seconds", "7 months"],
)
def test_a_bad_duration_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_duration(text)
    assert str(caught.value) == (
        f"{text!r} is not a duration; write it like '7 days', '14d', '12h' or '2 weeks'"
    )


def test_a_duration_too_long_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as caught:
        parse_duration("1000000000 days")
    assert caught.value.message == "'1000000000 days' is too long a duration"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(days=7), "7 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(weeks=2), "14 days"),
        (timedelta(hours=12), "12 hours"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(minutes=90), "90 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(seconds=30), "30 seconds"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


def test_format_duration_of_one_second_is_singular() -> None:
    assert format_duration(timedelta(seconds=1)) == "1 second"


@pytest.mark.parametrize(
    "text", ["7 days", "7d", "1 day", "2 weeks", "12h", "30 minutes", "90m", "25 hours", " 3 D "]
)
def test_format_duration_round_trips(text: str) -> None:
    value = parse_duration(text)
    formatted = format_duration(value)
    assert parse_duration(formatted) == value
    assert format_duration(parse_duration(formatted)) == formatted
