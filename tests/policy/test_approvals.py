"""The approvals file: targets, matching, reading (exact errors) and appending without damage.

Every moment is an explicit UTC datetime; nothing here reads the clock.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lockdown.errors import ConfigError, InputError, LockdownError, UsageError
from lockdown.policy.approvals import (
    HEADER,
    Approval,
    append_approval,
    find_approval,
    parse_target,
    read_approvals,
)

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def approval(
    package: str = "urllib3",
    version: str = "==2.6.0",
    *,
    reason: str = "CVE-2026-1234 fix",
    by: str = "alice",
    at: datetime = T0,
    expires: datetime | None = None,
) -> Approval:
    return Approval(
        package=package,
        version=version,
        reason=reason,
        approved_by=by,
        approved_at=at,
        expires=expires,
    )


# --- parse_target ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("urllib3==2.6.0", ("urllib3", "==2.6.0")),
        ("Foo_Bar==1.0", ("foo-bar", "==1.0")),
        ("foo.bar>=1,<2", ("foo-bar", "<2,>=1")),
        ("pkg ~= 1.4", ("pkg", "~=1.4")),
        ("pkg==2.0.0rc1", ("pkg", "==2.0.0rc1")),
    ],
)
def test_parse_target(text: str, expected: tuple[str, str]) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "urllib3",
            "'urllib3' names no version; an approval is for specific versions; "
            "write it like urllib3==1.2.3",
        ),
        (
            "Foo_Bar",
            "'Foo_Bar' names no version; an approval is for specific versions; "
            "write it like Foo_Bar==1.2.3",
        ),
        (
            "==2.6.0",
            "'==2.6.0' is not a package and version: Expected package name at the start of "
            "dependency specifier; write it like urllib3==2.6.0",
        ),
        (
            "urllib3==",
            "'urllib3==' is not a package and version: Expected semicolon (after name with no "
            "version specifier) or end; write it like urllib3==2.6.0",
        ),
        (
            "urllib3[socks]==2.6.0",
            "'urllib3[socks]==2.6.0': give only a name and a version specifier; urllib3==2.6.0",
        ),
        (
            "urllib3==2.6.0; python_version > '3.9'",
            "\"urllib3==2.6.0; python_version > '3.9'\": give only a name and a version "
            "specifier; urllib3==2.6.0",
        ),
        (
            "urllib3 @ https://example.org/urllib3-2.6.0-py3-none-any.whl",
            "'urllib3 @ https://example.org/urllib3-2.6.0-py3-none-any.whl': give only a name "
            "and a version specifier; urllib3==2.6.0",
        ),
    ],
)
def test_parse_target_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_target(text)
    assert str(caught.value) == message


# --- Approval.admits ---


@pytest.mark.parametrize("name", ["foo-bar", "Foo_Bar", "foo.bar", "FOO__BAR", "foo-_.bar"])
def test_admits_any_spelling_of_the_name(name: str) -> None:
    assert approval("foo-bar", "==1.0").admits(name, "1.0", T0)


def test_does_not_admit_another_package() -> None:
    assert not approval("foo-bar", "==1.0").admits("foo-baz", "1.0", T0)
    assert not approval("foo-bar", "==1.0").admits("foobar", "1.0", T0)


def test_counts_from_approved_at() -> None:
    given = approval(at=T0)
    assert not given.admits("urllib3", "2.6.0", T0 - timedelta(seconds=1))
    assert given.admits("urllib3", "2.6.0", T0)
    assert given.admits("urllib3", "2.6.0", T0 + DAY)


def test_stops_counting_at_expires() -> None:
    given = approval(at=T0, expires=T0 + 14 * DAY)
    assert given.admits("urllib3", "2.6.0", T0 + 14 * DAY - timedelta(seconds=1))
    assert not given.admits("urllib3", "2.6.0", T0 + 14 * DAY)
    assert not given.admits("urllib3", "2.6.0", T0 + 15 * DAY)


def test_without_expiry_counts_forever() -> None:
    assert approval(at=T0, expires=None).admits("urllib3", "2.6.0", T0 + 3650 * DAY)


@pytest.mark.parametrize(
    ("specifier", "version", "admitted"),
    [
        ("==2.6.0", "2.6.0", True),
        ("==2.6.0", "2.6", True),
        ("==2.6.0", "2.6.1", False),
        (">=2.6,<2.7", "2.6.0", True),
        (">=2.6,<2.7", "2.6.9", True),
        (">=2.6,<2.7", "2.7.0", False),
        (">=2.6,<2.7", "2.5.9", False),
        ("~=2.6.0", "2.6.4", True),
        ("~=2.6.0", "2.7.0", False),
        ("==2.*", "2.9.1", True),
        ("==2.0.0rc1", "2.0.0rc1", True),
        ("==2.0.0rc1", "2.0.0", False),
        (">=2.0.0rc1", "2.0.0rc1", True),
        (">=2.0.0rc1", "2.0.0rc2", True),
        (">=2.0.0rc1", "2.0.0", True),
        (">=2.0.0rc1", "2.0.0b1", False),
        (">=1.0", "2.0.0rc1", True),
        ("==2.6.0", "not-a-version", False),
    ],
)
def test_admits_by_specifier(specifier: str, version: str, admitted: bool) -> None:
    assert approval("pkg", specifier).admits("pkg", version, T0) is admitted


# --- find_approval ---


def test_find_approval_picks_the_most_recent() -> None:
    older = approval(version=">=2.0", reason="older", at=T0 - 10 * DAY)
    newest = approval(version="==2.6.0", reason="newest", at=T0 - DAY)
    middle = approval(version="<3", reason="middle", at=T0 - 5 * DAY)
    for order in ([older, newest, middle], [newest, middle, older], [middle, older, newest]):
        assert find_approval(order, "urllib3", "2.6.0", T0) is newest


def test_find_approval_ignores_those_that_do_not_admit() -> None:
    valid = approval(reason="valid", at=T0 - 10 * DAY)
    candidates = [
        valid,
        approval(reason="expired", at=T0 - 2 * DAY, expires=T0 - DAY),
        approval(reason="not yet", at=T0 + DAY),
        approval(version="==2.6.1", reason="other version", at=T0 - DAY),
        approval(package="requests", reason="other package", at=T0 - DAY),
    ]
    assert find_approval(candidates, "urllib3", "2.6.0", T0) is valid
    assert find_approval(candidates[1:], "urllib3", "2.6.0", T0) is None
    assert find_approval([], "urllib3", "2.6.0", T0) is None


# --- read_approvals ---

VALID_ENTRY = """\
[[approval]]
package = "ok"
version = "==1.0"
reason = "fine"
approved-by = "alice"
approved-at = 2026-01-01T00:00:00Z

"""


def approvals_file(tmp_path: Path) -> Path:
    """The approvals file's path, alone in a directory of its own (it may not exist yet)."""
    directory = tmp_path / "project"
    directory.mkdir(exist_ok=True)
    return directory / "lockdown-approvals.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = approvals_file(tmp_path)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_file_has_no_approvals(tmp_path: Path) -> None:
    assert read_approvals(approvals_file(tmp_path)) == []


def test_an_empty_file_has_no_approvals(tmp_path: Path) -> None:
    assert read_approvals(write(tmp_path, HEADER)) == []


def test_read_approvals(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + """
[[approval]]
package = "Foo_Bar"          # normalized
version = ">=1.0, <2"
reason = "  security fix  "
approved-by = " alice "
approved-at = 2026-11-26T12:00:00+02:00
expires = 2026-12-10T10:00:00Z

[[approval]]
package = "urllib3"
version = "==2.6.0"
reason = "CVE"
approved-by = "bob"
approved-at = 2026-11-27T10:00:00Z
""",
    )
    assert read_approvals(path) == [
        Approval(
            package="foo-bar",
            version="<2,>=1.0",
            reason="security fix",
            approved_by="alice",
            approved_at=T0,
            expires=datetime(2026, 12, 10, 10, 0, tzinfo=timezone.utc),
        ),
        Approval(
            package="urllib3",
            version="==2.6.0",
            reason="CVE",
            approved_by="bob",
            approved_at=T0 + DAY,
            expires=None,
        ),
    ]
    assert read_approvals(path)[0].approved_at.tzinfo is timezone.utc


KNOWN = "approved-at, approved-by, expires, package, reason, version"
TZ_HINT = "e.g. 2026-11-26T10:00:00Z"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param(
            VALID_ENTRY.replace("reason", "expire = 2026-01-02T00:00:00Z\nreason"),
            "approval[1]: unknown key 'expire'; known keys: " + KNOWN,
            id="unknown-key",
        ),
        pytest.param(
            VALID_ENTRY.replace('reason = "fine"', 'reason = "   "'),
            "approval[1]: reason must be a non-empty string",
            id="empty-reason",
        ),
        pytest.param(
            VALID_ENTRY.replace('reason = "fine"\n', ""),
            "approval[1]: reason must be a non-empty string",
            id="missing-reason",
        ),
        pytest.param(
            VALID_ENTRY.replace('package = "ok"', "package = 3"),
            "approval[1]: package must be a non-empty string",
            id="package-not-string",
        ),
        pytest.param(
            VALID_ENTRY.replace('approved-by = "alice"', 'approved-by = ""'),
            "approval[1]: approved-by must be a non-empty string",
            id="empty-approved-by",
        ),
        pytest.param(
            VALID_ENTRY.replace("==1.0", "1.0"),
            "approval[1]: version '1.0' is not a version specifier; write it like '==2.6.0'",
            id="bare-version",
        ),
        pytest.param(
            VALID_ENTRY.replace("==1.0", "=>1.0"),
            "approval[1]: version '=>1.0' is not a version specifier; write it like '==2.6.0'",
            id="bad-specifier",
        ),
        pytest.param(
            VALID_ENTRY.replace("2026-01-01T00:00:00Z", "2026-01-01T00:00:00"),
            f"approval[1]: approved-at must be a date-time with a time zone; {TZ_HINT}",
            id="approved-at-no-timezone",
        ),
        pytest.param(
            VALID_ENTRY.replace("2026-01-01T00:00:00Z", "2026-01-01"),
            f"approval[1]: approved-at must be a date-time with a time zone; {TZ_HINT}",
            id="approved-at-date",
        ),
        pytest.param(
            VALID_ENTRY.replace("2026-01-01T00:00:00Z", '"2026-01-01T00:00:00Z"'),
            f"approval[1]: approved-at must be a date-time with a time zone; {TZ_HINT}",
            id="approved-at-string",
        ),
        pytest.param(
            VALID_ENTRY + "expires = 2026-02-01T00:00:00\n",
            f"approval[1]: expires must be a date-time with a time zone; {TZ_HINT}",
            id="expires-no-timezone",
        ),
        pytest.param(
            VALID_ENTRY.replace("approved-at = 2026-01-01T00:00:00Z\n", ""),
            "approval[1]: approved-at is missing",
            id="approved-at-missing",
        ),
    ],
)
def test_a_bad_entry_names_its_index_and_key(tmp_path: Path, entry: str, message: str) -> None:
    path = write(tmp_path, VALID_ENTRY + entry)
    with pytest.raises(ConfigError) as caught:
        read_approvals(path)
    assert str(caught.value) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "version = 1\n\n" + VALID_ENTRY,
            "unknown key 'version'; approvals are [[approval]] tables",
            id="top-level-unknown-key",
        ),
        pytest.param(
            "[approvals]\n" + VALID_ENTRY.replace("[[approval]]\n", ""),
            "unknown key 'approvals'; approvals are [[approval]] tables",
            id="top-level-typo",
        ),
        pytest.param(
            'approval = "urllib3==2.6.0"\n',
            "approval must be an array of tables ([[approval]])",
            id="approval-string",
        ),
        pytest.param(
            VALID_ENTRY.replace("[[approval]]", "[approval]"),
            "approval must be an array of tables ([[approval]])",
            id="approval-table",
        ),
        pytest.param(
            'approval = ["urllib3==2.6.0"]\n',
            "approval[0] must be a table",
            id="entry-not-table",
        ),
    ],
)
def test_a_bad_file_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        read_approvals(path)
    assert str(caught.value) == f"{path}: {message}"


def test_invalid_toml_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[[approval]\n")
    with pytest.raises(InputError) as caught:
        read_approvals(path)
    assert str(caught.value).startswith(f"{path}: invalid TOML: ")
    assert str(caught.value).endswith("; fix the file and retry")


# --- append_approval ---

NEW = approval(
    "urllib3",
    "==2.6.0",
    reason="CVE-2026-1234 fix",
    by="alice",
    at=T0,
    expires=T0 + 14 * DAY,
)
NEW_TABLE = """\
[[approval]]
package = "urllib3"
version = "==2.6.0"
reason = "CVE-2026-1234 fix"
approved-by = "alice"
approved-at = 2026-11-26T10:00:00Z
expires = 2026-12-10T10:00:00Z
"""

USER_FILE = """\
# Our approvals. Ask #security before adding one.

[[approval]]
# the old pin broke on 3.13
approved-at = 2026-01-01T00:00:00Z
package = "Foo_Bar"   # spelled as upstream does
version = "==1.0"
approved-by = "bob"
reason = 'literal "quoted" reason'


# keep this blank space above
"""


def test_append_creates_the_file_with_the_header(tmp_path: Path) -> None:
    path = approvals_file(tmp_path)
    append_approval(path, NEW)
    assert path.read_text(encoding="utf-8") == HEADER + NEW_TABLE
    assert read_approvals(path) == [NEW]
    assert os.listdir(path.parent) == [path.name]


def test_append_without_expiry_writes_no_expires(tmp_path: Path) -> None:
    path = approvals_file(tmp_path)
    forever = approval(expires=None)
    append_approval(path, forever)
    assert "expires" not in path.read_text(encoding="utf-8").replace(HEADER, "")
    assert read_approvals(path) == [forever]


def test_append_keeps_the_existing_text_byte_for_byte(tmp_path: Path) -> None:
    path = write(tmp_path, USER_FILE)
    before = path.read_bytes()
    append_approval(path, NEW)
    after = path.read_bytes()
    assert after.startswith(before)
    assert after[len(before) :].decode("utf-8") == NEW_TABLE
    assert [a.package for a in read_approvals(path)] == ["foo-bar", "urllib3"]
    assert read_approvals(path)[1] == NEW


def test_append_twice_keeps_both(tmp_path: Path) -> None:
    path = approvals_file(tmp_path)
    second = approval("requests", "<3,>=2.32", reason='quotes " and \\ backslash', at=T0 + DAY)
    append_approval(path, NEW)
    first_text = path.read_text(encoding="utf-8")
    append_approval(path, second)
    assert path.read_text(encoding="utf-8").startswith(first_text)
    assert read_approvals(path) == [NEW, second]


def test_append_to_a_file_of_comments_only(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing approved yet\n\n")
    append_approval(path, NEW)
    assert path.read_text(encoding="utf-8") == "# nothing approved yet\n\n" + NEW_TABLE
    assert read_approvals(path) == [NEW]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("[[approval]\npackage = 'x'\n", InputError, id="invalid-toml"),
        pytest.param(
            USER_FILE.replace('version = "==1.0"', 'version = "1.0"'), ConfigError, id="bad-entry"
        ),
        pytest.param("approvals = []\n" + USER_FILE, ConfigError, id="unknown-top-level-key"),
    ],
)
def test_append_refuses_an_invalid_file(
    tmp_path: Path, text: str, error: type[LockdownError]
) -> None:
    path = write(tmp_path, text)
    before = path.read_bytes()
    with pytest.raises(error) as caught:
        append_approval(path, NEW)
    assert str(caught.value).startswith(f"{path}: ")
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]
    assert not list(path.parent.glob("*.tmp"))


def test_append_to_a_file_without_a_final_newline(tmp_path: Path) -> None:
    old = VALID_ENTRY.rstrip("\n")
    path = write(tmp_path, old)
    assert len(read_approvals(path)) == 1
    append_approval(path, NEW)
    assert path.read_text(encoding="utf-8").startswith(old)
    assert [a.package for a in read_approvals(path)] == ["ok", "urllib3"]


def test_append_to_an_empty_inline_array(tmp_path: Path) -> None:
    path = write(tmp_path, "approval = []\n")
    assert read_approvals(path) == []
    append_approval(path, NEW)
    assert read_approvals(path) == [NEW]
