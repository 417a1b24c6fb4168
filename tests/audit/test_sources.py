"""Local advisory databases: directories at any depth, export zips, the index cache, bad files.

Each database here is made of the real advisories of ``../shared/fixtures/advisories``
(copied, or converted to JSON as osv.dev exports them).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from lockdown.audit.match import match
from lockdown.audit.model import Package
from lockdown.audit.sources import AdvisoryDatabaseError, check_database, open_database
from lockdown.errors import UsageError

ADVISORIES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "advisories"
VULNS = ADVISORIES / "pypa" / "vulns"
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def copy_packages(dest: Path, *names: str) -> Path:
    for name in names:
        shutil.copytree(VULNS / name, dest / "vulns" / name)
    return dest


def found(database_path: Path, cache: Path, name: str, version: str) -> list[str]:
    database = open_database(database_path, cache_dir=cache)
    package = Package(ecosystem="PyPI", name=name, version=version)
    return [f.id for f in match([package], database.lookup, now=NOW)]


def test_a_directory_at_any_depth_other_files_ignored(tmp_path: Path) -> None:
    db = copy_packages(tmp_path / "db", "requests", "idna")
    deep = db / "a" / "b" / "c"
    deep.mkdir(parents=True)
    shutil.copy(ADVISORIES / "malicious" / "MAL-2026-15859.json", deep)
    (db / "README.md").write_text("not an advisory\n")
    (db / "vulns" / ".id-allocator").write_text("x\n")
    hidden = db / ".git"
    hidden.mkdir()
    (hidden / "junk.json").write_text("{not json")
    database = open_database(db, cache_dir=tmp_path / "cache")
    info = database.info
    assert info.kind == "directory"
    assert info.advisories == len(list((db / "vulns").rglob("*.yaml"))) + 1
    assert info.unreadable == ()
    assert info.newest == datetime(2026, 9, 4, 0, 47, 46, 156672, tzinfo=timezone.utc)
    assert found(db, tmp_path / "cache", "0requests", "0.0.1") == ["MAL-2026-15859"]
    assert found(db, tmp_path / "cache", "idna", "3.6") == ["PYSEC-2024-60"]


def test_the_index_is_built_once_and_cached_by_digest(tmp_path: Path) -> None:
    db = copy_packages(tmp_path / "db", "requests")
    cache = tmp_path / "cache"
    first = open_database(db, cache_dir=cache)
    assert not first.info.cached
    [index_file] = (cache / "audit").iterdir()
    second = open_database(db, cache_dir=cache)
    assert second.info.cached
    assert second.info == dataclasses.replace(first.info, cached=True)
    # A changed advisory changes the listing: a new index, with the new content.
    target = db / "vulns" / "requests" / "PYSEC-2023-74.yaml"
    text = target.read_text().replace("fixed: 2.31.0", "fixed: 2.32.0")
    target.write_text(text)
    os.utime(target, ns=(1, 1))
    third = open_database(db, cache_dir=cache)
    assert not third.info.cached
    assert third.info.digest != first.info.digest
    assert len(list((cache / "audit").iterdir())) == 2
    assert index_file.exists()
    package = Package(ecosystem="PyPI", name="requests", version="2.31.0")
    assert [f.id for f in match([package], third.lookup, now=NOW)] == ["PYSEC-2023-74"]


def test_a_damaged_file_is_one_line_and_the_rest_is_still_read(tmp_path: Path) -> None:
    db = copy_packages(tmp_path / "db", "requests", "idna")
    broken = db / "vulns" / "idna" / "PYSEC-2024-60.yaml"
    broken.write_text("id: PYSEC-2024-60\naffected: [\n  - oops: {\n")
    not_osv = db / "vulns" / "idna" / "NOT-OSV.json"
    not_osv.write_text(json.dumps({"id": "NOT-OSV", "affected": "everything"}))
    heard: list[str] = []
    database = open_database(db, cache_dir=tmp_path / "cache", notify=heard.append)
    assert len(database.info.unreadable) == 2
    assert all("\n" not in line for line in heard)
    assert heard[0].startswith(f"advisory database {db}: vulns/idna/NOT-OSV.json: NOT-OSV: ")
    assert heard[0].endswith("affected is not a list; skipped")
    assert heard[1].startswith(
        f"advisory database {db}: vulns/idna/PYSEC-2024-60.yaml: invalid YAML"
    )
    # The rest is still read.
    assert found(db, tmp_path / "cache", "requests", "2.30.0") == ["PYSEC-2023-74"]
    # And a warm run from the cache still says it.
    again: list[str] = []
    assert open_database(db, cache_dir=tmp_path / "cache", notify=again.append).info.cached
    assert again == heard


def test_an_empty_database_is_said_not_passed(tmp_path: Path) -> None:
    db = tmp_path / "empty"
    db.mkdir()
    (db / "README.md").write_text("nothing here\n")
    database = open_database(db, cache_dir=tmp_path / "cache")
    assert database.info.advisories == 0
    with pytest.raises(AdvisoryDatabaseError) as caught:
        check_database(database.info, now=NOW, max_age=None)
    assert str(caught.value) == (
        f"the advisory database {db} holds no advisories: nothing can be checked against it; "
        "point --db at a directory of OSV files or an OSV export zip"
    )


def test_max_age_fails_closed(tmp_path: Path) -> None:
    db = copy_packages(tmp_path / "db", "idna")
    info = open_database(db, cache_dir=tmp_path / "cache").info
    assert info.newest is not None
    check_database(info, now=info.newest + timedelta(days=6), max_age=timedelta(days=7))
    with pytest.raises(AdvisoryDatabaseError) as caught:
        check_database(info, now=info.newest + timedelta(days=8), max_age=timedelta(days=7))
    assert str(caught.value) == (
        f"the advisory database {db} is 8 days old (newest entry {info.newest:%Y-%m-%d}), "
        "older than the maximum age of 7 days; update the database (or raise max-db-age)"
    )


def make_export_zip(path: Path, *sources: Path) -> Path:
    """An export as osv.dev publishes one: one JSON document per advisory, at the top."""
    with zipfile.ZipFile(path, "w") as archive:
        for source in sources:
            if source.suffix == ".json":
                document = json.loads(source.read_text())
            else:
                document = yaml.safe_load(source.read_text())
            archive.writestr(f"{document['id']}.json", json.dumps(document, default=str))
    return path


def test_an_export_zip(tmp_path: Path) -> None:
    export = make_export_zip(
        tmp_path / "all.zip",
        *sorted((VULNS / "jinja2").glob("*.yaml")),
        ADVISORIES / "malicious" / "MAL-2024-9934.json",
    )
    database = open_database(export, cache_dir=tmp_path / "cache")
    assert database.info.kind == "zip"
    assert database.info.advisories == len(list((VULNS / "jinja2").glob("*.yaml"))) + 1
    assert found(export, tmp_path / "cache", "jinja2", "2.10") == [
        "PYSEC-2019-217",
        "PYSEC-2021-66",
    ]
    assert found(export, tmp_path / "cache", "3web-py", "1.0.0") == ["MAL-2024-9934"]


def test_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or directory"):
        open_database(tmp_path / "missing")
    text = tmp_path / "advisories.txt"
    text.write_text("PYSEC-2023-74\n")
    with pytest.raises(UsageError) as caught:
        open_database(text)
    assert str(caught.value) == (
        f"--db {text}: neither a directory of OSV files nor an OSV export zip; "
        "pass a directory of OSV .json/.yaml files or a zip such as all.zip"
    )
