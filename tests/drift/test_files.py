"""The file pass of ``check`` on a hand-built site-packages: serial and threaded agree."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from lockdown.drift.files import RecordEntry, _look_at_all, check_files
from lockdown.env.python_env import installed_distributions
from lockdown.errors import UsageError


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _site(root: Path, dists: int, files: int) -> Path:
    """``dists`` distributions of ``files`` modules each, every RECORD row correct."""
    site = root / "lib" / "python3.11" / "site-packages"
    for d in range(dists):
        name = f"pkg{d}"
        info = site / f"{name}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        rows = [f"{name}-1.0.dist-info/METADATA,,", f"{name}-1.0.dist-info/RECORD,,"]
        (site / name).mkdir()
        for f in range(files):
            data = f"# {name} module {f}\n".encode() * (f + 1) * 200  # some > 2 KiB
            (site / name / f"m{f}.py").write_bytes(data)
            rows.append(f"{name}/m{f}.py,{_digest(data)},{len(data)}")
        (info / "RECORD").write_text("\n".join(rows) + "\n")
    return site


def _found(site: Path, root: Path, workers: int | None) -> list[tuple[str, str, str]]:
    result = check_files(installed_distributions([site]), root, workers=workers)
    return sorted((f.path.split("site-packages/")[-1], f.kind, f.flags) for f in result.drift)


def test_serial_and_threaded_passes_find_the_same_drift(tmp_path: Path) -> None:
    site = _site(tmp_path, dists=6, files=5)
    clean = check_files(installed_distributions([site]), tmp_path, workers=4)
    assert (clean.drift, clean.checked) == ([], 30)
    same_size = site / "pkg1" / "m2.py"
    same_size.write_bytes(same_size.read_bytes().replace(b"module", b"MODULE"))
    (site / "pkg3" / "m0.py").write_bytes(b"longer than before" * 100)
    (site / "pkg5" / "m4.py").unlink()
    expected = [
        ("pkg1/m2.py", "modified", "5"),
        ("pkg3/m0.py", "modified", "S5"),
        ("pkg5/m4.py", "missing", ""),
    ]
    assert _found(site, tmp_path, workers=1) == expected
    assert _found(site, tmp_path, workers=4) == expected
    assert _found(site, tmp_path, workers=None) == expected  # threads chosen by file size


def test_a_file_gone_before_it_is_hashed_is_missing(tmp_path: Path) -> None:
    present = tmp_path / "present.py"
    present.write_bytes(b"x")
    gone = (str(tmp_path / "gone.py"), RecordEntry("gone.py", "0" * 64, 1), "pkg")
    jobs = [(str(present), RecordEntry("present.py", hashlib.sha256(b"x").hexdigest(), 1), "pkg")]
    assert _look_at_all([*jobs, gone], str(tmp_path), workers=1) == [(gone, "missing", "")]


def test_an_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    directory = tmp_path / "not-a-file.py"
    directory.mkdir()  # reading it fails with EISDIR whoever runs the test
    job = (str(directory), RecordEntry("not-a-file.py", "0" * 64, None), "pkg")
    with pytest.raises(UsageError) as caught:
        _look_at_all([job] * 8, str(tmp_path), workers=2)
    assert str(caught.value) == (
        f"{directory}: cannot read: Is a directory; "
        "run the check as a user who can read the whole environment"
    )


@pytest.mark.parametrize(
    ("path", "plain"),
    [
        ("pkg/mod.py", True),
        ("pkg-1.0.dist-info/RECORD", True),
        ("../../etc/passwd", False),
        ("pkg/../../outside.py", False),
        ("pkg/./mod.py", False),
        ("pkg//mod.py", False),
        ("/etc/passwd", False),
        ("pkg/.hidden", False),  # normalized the slow way; same answer
        ("pkg/", False),
        ("", False),
    ],
)
def test_only_paths_normpath_would_keep_skip_it(path: str, plain: bool) -> None:
    import os

    from lockdown.drift.files import _plain

    assert _plain(path) is plain
    if plain:
        assert os.path.normpath(path) == path
