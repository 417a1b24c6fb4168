"""The one locked-package type: a PEP 751 lock read as the model, and what it derives.

Pure: a lock's bytes parsed in memory; entries from an index, a direct URL, an
archive, a directory and a VCS commit, each read as the gate reads them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from lockdown.lock.attestation import Publisher
from lockdown.lock.condalock import conda_entry
from lockdown.lock.model import Artifact, CondaBuild, LockedPackage
from lockdown.lock.pylock import LockFile, locked_packages, parse_lock_bytes

A = "a" * 64
B = "b" * 64
C = "c" * 64
INDEX = "https://index.example/simple/"

LOCK = f"""\
lock-version = "1.0"
created-by = "another-tool"

[[packages]]
name = "acme-lib"
version = "2.0"
marker = "sys_platform == 'linux'"
index = "{INDEX}"
attestation-identities = [{{ kind = "GitHub", repository = "acme/lib" }}]
sdist = {{ url = "https://files.example/acme_lib-2.0.tar.gz", hashes = {{ sha256 = "{A}" }} }}
wheels = [
  {{ name = "acme_lib-2.0-py3-none-any.whl", url = "https://files.example/w/x.whl", \
upload-time = 2026-01-02T03:04:05Z, size = 10, hashes = {{ sha256 = "{B}" }} }},
]

[packages.tool.lockdown]
also-served-by = ["https://mirror.example/simple/"]

[packages.tool.lockdown.approval]
reason = "needed"

[[packages]]
name = "direct"
version = "1.0"
wheels = [{{ url = "https://files.example/direct-1.0-py3-none-any.whl", \
hashes = {{ sha256 = "{C}" }} }}]

[[packages]]
name = "tarball"
version = "1.0"
archive = {{ url = "https://files.example/tarball-1.0.tar.gz", hashes = {{ sha256 = "{A}" }} }}

[[packages]]
name = "local-tree"
directory = {{ path = "src/local" }}

[[packages]]
name = "from-git"
vcs = {{ type = "git", url = "https://git.example/r.git", commit-id = "0123abcd" }}
"""


def lock_of(text: str) -> LockFile:
    data = text.encode()
    raw, model = parse_lock_bytes(data, Path("pylock.toml"))
    return LockFile(path=Path("pylock.toml"), data=data, raw=raw, pylock=model)


def test_every_kind_of_entry_is_read_as_the_gate_reads_it() -> None:
    packages = {p.name: p for p in locked_packages(lock_of(LOCK))}
    assert list(packages) == ["acme-lib", "direct", "tarball", "local-tree", "from-git"]

    lib = packages["acme-lib"]
    # The marker as packaging writes it (double quotes).
    assert (lib.version, lib.marker, lib.index) == ("2.0", 'sys_platform == "linux"', INDEX)
    # The wheels first, then the sdist; the file name is the entry's ``name``, else the URL's.
    assert [a.filename for a in lib.artifacts] == [
        "acme_lib-2.0-py3-none-any.whl",
        "acme_lib-2.0.tar.gz",
    ]
    assert lib.wheels[0] == Artifact(
        url="https://files.example/w/x.whl",
        filename="acme_lib-2.0-py3-none-any.whl",
        sha256=B,
        size=10,
        upload_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    )
    assert lib.has_wheels is True
    assert lib.hashes == frozenset({A, B})
    assert lib.attestation_identities == frozenset(
        {Publisher(kind="GitHub", fields=(("repository", "acme/lib"),))}
    )
    assert lib.approval == {"reason": "needed"}
    assert lib.also_served_by == ("https://mirror.example/simple/",)

    direct = packages["direct"]
    assert (direct.index, direct.has_wheels) == (None, True)
    assert [a.filename for a in direct.artifacts] == ["direct-1.0-py3-none-any.whl"]

    # An archive is one of its artifacts, but not a wheel.
    tarball = packages["tarball"]
    assert tarball.archive is not None
    assert [a.filename for a in tarball.artifacts] == ["tarball-1.0.tar.gz"]
    assert (tarball.has_wheels, tarball.hashes) == (False, frozenset({A}))

    # A directory or a VCS commit: no version, no file, no wheel.
    for name in ("local-tree", "from-git"):
        entry = packages[name]
        assert (entry.version, entry.artifacts, entry.has_wheels) == ("", (), False)
        assert (entry.approval, entry.also_served_by) == (None, ())


def test_a_conda_entry_has_its_build_and_one_file() -> None:
    archive = conda_entry(
        name="zlib",
        version="1.3",
        build="h0_0",
        platform="linux-64",
        url="https://conda.example/main/linux-64/zlib-1.3-h0_0.conda",
        md5="0" * 32,
        sha256=A,
        dependencies={"libgcc": ">=13"},
        channel="https://conda.example/main",
    )
    assert archive.conda == CondaBuild(
        platform="linux-64", manager="conda", build="h0_0", md5="0" * 32, depends={"libgcc": ">=13"}
    )
    assert archive.file.filename == "zlib-1.3-h0_0.conda"
    assert (archive.archive, archive.wheels, archive.index) == (
        archive.file,
        (),
        "https://conda.example/main",
    )
    # require-wheels is a Python rule: a conda archive is a binary.
    assert archive.has_wheels is True
    wheel = conda_entry(
        name="attrs",
        version="24.2.0",
        build="",
        platform="linux-64",
        url="https://files.example/attrs-24.2.0-py3-none-any.whl",
        md5="",
        sha256=B,
        dependencies={},
        channel=INDEX,
        manager="pip",
    )
    assert (wheel.wheels, wheel.archive, wheel.conda.manager) == ((wheel.file,), None, "pip")


def test_only_conda_entries_have_a_conda_build() -> None:
    package = LockedPackage(
        name="plain", version="1.0", marker=None, index=INDEX, wheels=(), sdist=None
    )
    with pytest.raises(TypeError, match=r"^plain 1\.0 is not a conda-lock entry$"):
        _ = package.conda
