"""Real locks and venvs holding the versions the real advisories name.

The local test index publishes wheels under the advisories' package names
and versions (``requests 2.30.0``, ``idna 3.6``, ``0requests 0.0.1``...); a
project depending on them is locked with ``lockdown lock`` once per module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lockdown.commands.lock import lock_project
from tests.support.pkgindex import PackageIndex

ADVISORIES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "advisories"

#: What the vulnerable project pins, and what the README of the advisories says matches.
PINNED = {
    "requests": "2.30.0",  # PYSEC-2023-74
    "idna": "3.6",  # PYSEC-2024-60
    "jinja2": "2.10",  # PYSEC-2019-217, PYSEC-2021-66
    "0requests": "0.0.1",  # MAL-2026-15859
    "certifi-safe": "1.0",  # no advisory has this name
}

PROJECT = """\
[project]
name = "svc"
version = "1.0"
requires-python = ">=3.10"
dependencies = [{dependencies}]

[tool.lockdown]
index-url = "{index}"
environments = ["sys_platform == 'linux'"]
{extra}"""


def publish_advisory_names(index: PackageIndex) -> None:
    """Wheels under the advisories' names: every version the tests lock or upgrade to."""
    for name, version in PINNED.items():
        index.add(name, version, sdist=False)
    for name, version in (("requests", "2.31.0"), ("idna", "3.7"), ("3web-py", "1.0.0")):
        index.add(name, version, sdist=False)


def write_project(root: Path, index: PackageIndex, pins: dict[str, str], extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    dependencies = ", ".join(f'"{n}=={v}"' for n, v in sorted(pins.items()))
    (root / "pyproject.toml").write_text(
        PROJECT.format(dependencies=dependencies, index=index.url, extra=extra), encoding="utf-8"
    )
    return root


@pytest.fixture(scope="module")
def advisory_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    """A running local index with wheels under the advisories' names."""
    with PackageIndex(tmp_path_factory.mktemp("advisory-index")) as index:
        publish_advisory_names(index)
        yield index


@pytest.fixture(scope="module")
def vulnerable_project(
    tmp_path_factory: pytest.TempPathFactory, advisory_index: PackageIndex
) -> Path:
    """A project whose pylock.toml (written by lockdown lock) pins :data:`PINNED`."""
    root = write_project(tmp_path_factory.mktemp("vulnerable") / "svc", advisory_index, PINNED)
    outcome = lock_project(root, cache_dir=tmp_path_factory.mktemp("lock-cache"))
    assert not outcome.blocked
    return root
