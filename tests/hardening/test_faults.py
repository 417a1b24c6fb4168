"""Faults: processes killed mid-write, disks that fill up, two runs at once.

Every file lockdown writes is either the old version or the complete new one,
never a mix and never a leftover temp file.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lockdown.errors import LockdownError
from lockdown.fsutil import atomic_write
from lockdown.policy.approvals import Approval, append_approval, read_approvals

pytestmark = pytest.mark.slow

WRITER = """\
import sys
from collections.abc import Iterator
from pathlib import Path
from lockdown.fsutil import atomic_write
target, size = Path(sys.argv[1]), int(sys.argv[2])
atomic_write(target, b"0" * size)
print("ready", flush=True)  # the target exists: every kill below lands on a rewrite
for round in range(1, 10_000):
    atomic_write(target, (str(round % 10) * size).encode())
"""


def test_a_writer_killed_at_random_points_leaves_old_or_new_never_a_mix(tmp_path: Path) -> None:
    target = tmp_path / "report.prom"
    chooser = random.Random(7)  # noqa: S311 - reproducible timings, not secrets
    for trial in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target), str(256 << 10)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(chooser.uniform(0.0, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        # The writer wrote the target once before "ready", so a kill always lands while
        # it rewrites a file that exists: the target must be one whole version.
        data = target.read_bytes()
        assert len(data) == 256 << 10, trial
        assert len(set(data)) == 1, trial  # one complete version, never two halves
    # Temp files of killed writers may remain (they are never the target); none is the target.
    assert all(p.name.startswith(".report.prom.") for p in tmp_path.iterdir() if p != target)


def test_a_full_disk_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "pylock.toml"
    target.write_bytes(b"old\n")
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(LockdownError) as caught:
        atomic_write(target, b"new\n" * 1000)
    assert str(caught.value) == (
        f"cannot write {target}: No space left on device; the previous version is unchanged; "
        "free some space or check the file system"
    )
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pylock.toml"]


def test_two_approvals_at_once_both_land(tmp_path: Path) -> None:
    path = tmp_path / "lockdown-approvals.toml"
    moment = datetime(2026, 11, 26, tzinfo=timezone.utc)
    errors: list[BaseException] = []

    def approve(who: str) -> None:
        try:
            for n in range(8):
                append_approval(
                    path,
                    Approval(
                        package=f"pkg-{who}-{n}",
                        version="==1.0",
                        reason="load",
                        approved_by=who,
                        approved_at=moment,
                        expires=None,
                    ),
                )
        except (LockdownError, OSError) as exc:  # pragma: no cover - the failure being tested
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(read_approvals(path)) == 16


def test_a_read_only_target_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "lockdown.prom"
    target.write_bytes(b"old\n")

    def read_only(src: object, dst: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(LockdownError) as caught:
        atomic_write(target, b"new\n")
    assert str(caught.value) == (
        f"cannot write {target}: Read-only file system; the previous version is unchanged; "
        "check the file system and the path"
    )
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lockdown.prom"]


def _full_run_seconds(argv: list[str], cwd: Path) -> float:
    """How long one uninterrupted run of ``lockdown *argv`` takes here, now.

    Kill windows are multiples of it, so kill points span whole runs (some cut
    off early, some after the write) however loaded the machine is.
    """
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "lockdown", *argv],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.monotonic() - started


def _kill_at_random(
    argv: list[str], cwd: Path, chooser: random.Random, longest: float = 0.25
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lockdown", *argv],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(chooser.uniform(0.0, longest))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_approve_killed_at_random_points(tmp_path: Path) -> None:
    (tmp_path / "lockdown.toml").write_text("")
    path = tmp_path / "lockdown-approvals.toml"
    chooser = random.Random(11)  # noqa: S311 - reproducible timings, not secrets
    # One run to completion first: it writes the file, and its duration on this machine,
    # now, sets the kill window, so the kills span the whole run however loaded it is.
    first = ["approve", "pkg==1.0", "--reason", "r", "--by", "t", "-q"]
    window = 2 * _full_run_seconds(first, tmp_path)
    count = len(read_approvals(path))
    assert count == 1
    completed = killed_early = 0
    for trial in range(15):
        _kill_at_random(
            ["approve", f"pkg{trial}==1.0", "--reason", "r", "--by", "t", "-q"],
            tmp_path,
            chooser,
            longest=window,
        )
        entries = read_approvals(path)  # always a valid file, never a torn one
        assert len(entries) in (count, count + 1), trial
        completed += len(entries) - count
        killed_early += len(entries) == count
        count = len(entries)
    # The kill points spanned the run: some runs were cut off, some got through the write.
    assert completed > 0
    assert killed_early > 0


def test_check_output_killed_at_random_points(env: Path, locked: Path, tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    report = tmp_path / "lockdown.prom"
    chooser = random.Random(13)  # noqa: S311 - reproducible timings, not secrets
    argv = [
        "check",
        "--project",
        str(locked),
        "--venv",
        str(env),
        "--format",
        "prometheus",
        "--output",
        str(report),
        "--level",
        "files",
    ]
    window = 2 * _full_run_seconds(argv, tmp_path)
    report.unlink()  # the timing run wrote one; every report below is a killed run's
    written = 0
    for trial in range(12):
        _kill_at_random(argv, tmp_path, chooser, longest=window)
        if report.exists():
            written += 1
            # A complete report, parsed strictly: the last metric written is there too.
            families = {f.name for f in text_string_to_metric_families(report.read_text())}
            assert {"lockdown_in_sync", "lockdown_last_check_timestamp_seconds"} <= families, trial
    assert written > 0  # some runs got as far as writing (the kill points span the run)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert all(name.startswith(".lockdown.prom.") for name in leftovers)


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs (needs the right to mount; skipped elsewhere)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True, check=False)


def test_a_really_full_file_system(tiny_fs: Path) -> None:
    target = tiny_fs / "pylock.toml"
    atomic_write(target, b"old\n")
    with pytest.raises(LockdownError) as caught:
        atomic_write(target, b"x" * (256 << 10))
    assert str(caught.value) == (
        f"cannot write {target}: No space left on device; the previous version is unchanged; "
        "free some space or check the file system"
    )
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tiny_fs.iterdir()) == ["pylock.toml"]


def test_a_really_read_only_file_system(tiny_fs: Path) -> None:
    target = tiny_fs / "lockdown.prom"
    atomic_write(target, b"old\n")
    remounted = subprocess.run(
        ["mount", "-o", "remount,ro", str(tiny_fs)], capture_output=True, check=False
    )
    assert remounted.returncode == 0, remounted.stderr
    with pytest.raises(LockdownError) as caught:
        atomic_write(target, b"new\n")
    # The temp file cannot even be created there: refused before anything is written.
    assert str(caught.value) == f"cannot write {target}: Read-only file system"
    assert target.read_bytes() == b"old\n"


def test_lock_killed_at_random_points_leaves_a_valid_lock(locked: Path, tmp_path: Path) -> None:
    from lockdown.lock.pylock import read_lock

    pyproject = locked / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.lockdown.policy]\nupgrades = "allow"\n')
    original = pyproject.read_text()
    chooser = random.Random(17)  # noqa: S311 - reproducible timings, not secrets
    seen = {read_lock(locked / "pylock.toml").data}
    window = 3 * _full_run_seconds(["lock", "--project", str(locked), "-q"], tmp_path)
    assert {read_lock(locked / "pylock.toml").data} == seen  # the timing run changed nothing
    for trial in range(8):
        # Alternate the inputs so every run has a different lock to write.
        pin = '"alpha==1.0"' if trial % 2 == 0 else '"alpha>=1"'
        pyproject.write_text(original.replace('"alpha>=1"', pin))
        _kill_at_random(["lock", "--project", str(locked), "-q"], tmp_path, chooser, longest=window)
        seen.add(read_lock(locked / "pylock.toml").data)  # old or new: always whole
    # Some runs got as far as writing (else this tested nothing but early kills).
    assert len(seen) >= 2
    # A killed writer may leave its temp file; it is never mistaken for the lock.
    leftovers = [p.name for p in locked.iterdir() if p.name.endswith(".tmp")]
    assert all(name.startswith(".pylock.toml.") for name in leftovers)


def test_install_killed_at_random_points_never_leaves_a_half_verified_artifact(
    locked: Path, tmp_path: Path, artifact_cache: Path
) -> None:
    import hashlib

    from lockdown.commands.check import run_check

    venv = tmp_path / "killed-venv"
    chooser = random.Random(19)  # noqa: S311 - reproducible timings, not secrets
    for _trial in range(6):
        _kill_at_random(
            ["install", "--project", str(locked), "--venv", str(venv), "-q"],
            tmp_path,
            chooser,
            longest=2.0,
        )
        # Every artifact under its final name is exactly the bytes its name says
        # (a kill mid-download may leave a `.download-*` temp file, never a final name).
        stored_files = [
            path
            for path in (artifact_cache / "sha256").glob("*/*")
            if not path.name.startswith(".download-")
        ]
        for stored in stored_files:
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == stored.name
    # Whatever state the kills left, the next install completes it exactly.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lockdown",
            "install",
            "--project",
            str(locked),
            "--venv",
            str(venv),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert run_check(locked / "pylock.toml", venv=venv, level="files").in_sync


def test_two_installs_at_once_into_one_new_venv(locked: Path, tmp_path: Path) -> None:
    from lockdown.commands.check import run_check

    venv = tmp_path / "shared-venv"
    argv = [sys.executable, "-m", "lockdown", "install", "--project", str(locked), "-q"]
    procs = [
        subprocess.Popen(
            [*argv, "--venv", str(venv)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    assert run_check(locked / "pylock.toml", venv=venv, level="files").in_sync
