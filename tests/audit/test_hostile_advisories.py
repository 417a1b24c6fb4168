"""Hostile advisory files: a database reader that skips what it cannot read, in one line.

Arbitrary documents shaped like OSV (and arbitrary bytes) go through the
parser and the database's file reader: the only outcomes allowed are an
advisory, or :class:`~lockdown.audit.osv.AdvisoryError` (one line) — which the
reader turns into one ``unreadable`` entry — never another exception.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockdown.audit.osv import AdvisoryError, parse_advisory
from lockdown.audit.sources import _Built, open_database

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.text(max_size=30)
    | st.sampled_from(["0", "1.0", "2.31.0", "2024-07-11T17:21:37Z", "9999-99-99T99:99:99+99:99"])
)
KEYS = st.sampled_from(
    [
        "id",
        "aliases",
        "summary",
        "details",
        "modified",
        "published",
        "withdrawn",
        "severity",
        "type",
        "score",
        "affected",
        "package",
        "ecosystem",
        "name",
        "ranges",
        "events",
        "introduced",
        "fixed",
        "last_affected",
        "limit",
        "versions",
        "references",
        "url",
        "database_specific",
    ]
)
DOCUMENTS: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=30,
)


@given(st.dictionaries(KEYS, DOCUMENTS, max_size=8))
def test_arbitrary_osv_shaped_documents(doc: dict[str, Any]) -> None:
    message = None
    try:
        advisory = parse_advisory(doc)
    except AdvisoryError as exc:
        message = str(exc)
    if message is None:
        assert advisory.id
    else:
        assert message
        assert "\n" not in message


@given(st.binary(max_size=600), st.sampled_from(["a.json", "a.yaml"]))
def test_arbitrary_bytes_are_read_or_skipped_in_one_line(data: bytes, name: str) -> None:
    built = _Built()
    built.add(name, data)
    assert built.advisories + len(built.unreadable) <= 1
    for line in built.unreadable:
        assert line.startswith(f"{name}: ")
        assert "\n" not in line


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000),
        ("deep.yaml", b"[" * 50_000 + b"]" * 50_000),
        (
            "laughs.yaml",
            b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
            + b"".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode()
                for i in range(8)
            )
            + b"id: LAUGHS\naffected: *i\n",
        ),
        ("nul.json", b'{"id": "X\x00", "affected": [\x00]}'),
        ("latin1.yaml", "id: caf\xe9\n".encode("latin-1")),
    ],
)
def test_crafted_files_are_skipped_and_the_rest_is_read(
    tmp_path: Path, name: str, data: bytes
) -> None:
    db = tmp_path / "db"
    db.mkdir()
    (db / name).write_bytes(data)
    good = {
        "id": "GOOD-1",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": ["1.0"]}],
    }
    (db / "good.json").write_text(json.dumps(good))
    database = open_database(db, cache_dir=tmp_path / "cache")
    assert database.info.advisories == 1
    assert [line.split(":", 1)[0] for line in database.info.unreadable] == [name]
    assert all("\n" not in line for line in database.info.unreadable)
    assert [a.id for a in database.lookup("PyPI", "x")] == ["GOOD-1"]
