"""Atomic writes and the per-project run lock."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from lockdown.errors import LockdownError
from lockdown.fsutil import atomic_write, prune_directory, run_lock


def test_atomic_write_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "pylock.toml"
    target.write_bytes(b"old")
    target.chmod(0o640)
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["pylock.toml"]


def test_failed_write_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "pylock.toml"
    target.write_bytes(b"old")

    def broken_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise OSError(28, "No space left on device")

    # The filesystem is the edge we cannot make fail on demand; the code under
    # test (clean-up and leaving the old file) is real.
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(LockdownError, match="No space left on device; the previous version"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["pylock.toml"]


def test_run_lock_serializes_writers(tmp_path: Path) -> None:
    target = tmp_path / "pylock.toml"
    order: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with run_lock(target):
            first_in.set()
            order.append("first-start")
            time.sleep(0.3)
            order.append("first-end")

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with run_lock(target):
        order.append("second")
    thread.join()
    assert order == ["first-start", "first-end", "second"]


def test_run_lock_times_out_with_a_clear_message(tmp_path: Path) -> None:
    target = tmp_path / "pylock.toml"
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with run_lock(target):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    try:
        with pytest.raises(LockdownError) as info, run_lock(target, timeout=0.2):
            pass
        assert str(info.value) == (
            f"another lockdown run has held the lock on {target} for 0s; "
            "wait for it to finish or stop it"
        )
    finally:
        release.set()
        thread.join()


def test_run_locks_live_in_a_directory_only_this_user_owns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stat
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with run_lock(tmp_path / "pylock.toml"):
        pass
    private = tmp_path / f"lockdown-{os.getuid()}"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert len(list(private.glob("*.lock"))) == 1


@pytest.mark.parametrize("planted", ["world-writable", "symlink"])
def test_a_planted_run_lock_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, planted: str
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    private = tmp_path / f"lockdown-{os.getuid()}"
    if planted == "symlink":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        private.symlink_to(tmp_path / "elsewhere")
    else:
        private.mkdir()
        private.chmod(0o777)
    with pytest.raises(LockdownError) as info, run_lock(tmp_path / "pylock.toml"):
        pass
    assert str(info.value) == (
        f"{private} is not a private directory of this user (owner, mode or type is wrong); "
        "remove it; another user may have created it to interfere with lockdown"
    )
    assert info.value.exit_code == 64


def test_prune_directory_keeps_the_newest_and_drops_the_old(tmp_path: Path) -> None:
    now = 1_000_000.0
    for number in range(6):
        path = tmp_path / f"state-{number}"
        path.write_bytes(b"x")
        os.utime(path, (now - number * 10, now - number * 10))  # state-0 is the newest
    (tmp_path / ".state-9.abc.tmp").write_bytes(b"being written")
    os.utime(tmp_path / ".state-9.abc.tmp", (0, 0))
    (tmp_path / "a-directory").mkdir()
    removed = prune_directory(tmp_path, keep=4, max_age=35, now=now)
    assert sorted(p.name for p in removed) == ["state-4", "state-5"]
    # state-4 is beyond both bounds; an old file within the newest four goes by age:
    removed = prune_directory(tmp_path, keep=4, max_age=15, now=now)
    assert sorted(p.name for p in removed) == ["state-2", "state-3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".state-9.abc.tmp",
        "a-directory",
        "state-0",
        "state-1",
    ]


def test_prune_directory_of_a_missing_directory_removes_nothing(tmp_path: Path) -> None:
    assert prune_directory(tmp_path / "absent", keep=1, max_age=1, now=0) == []
