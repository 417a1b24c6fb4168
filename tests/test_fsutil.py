"""Atomic writes and the per-project run lock."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from lockdown.errors import LockdownError
from lockdown.fsutil import atomic_write, run_lock


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
