"""Colors in the text report: on a terminal only, and never with NO_COLOR."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.isolation import isolated_env

ESC = "\x1b["


def _check_output(locked: Path, env_dir: Path, *, tty: bool, **extra: str) -> str:
    argv = [sys.executable, "-m", "lockdown", "check", "--project", str(locked)]
    argv += ["--venv", str(env_dir)]
    env = isolated_env(**extra)
    if not tty:
        return subprocess.run(argv, env=env, capture_output=True, text=True, check=False).stdout
    main, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(argv, env=env, stdout=secondary, stderr=subprocess.DEVNULL)
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the other end closed (EIO on Linux)
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    finally:
        os.close(main)
    return b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_colors_only_on_a_terminal(env: Path, locked: Path) -> None:
    on_terminal = _check_output(locked, env, tty=True)
    assert "in sync" in on_terminal
    assert ESC in on_terminal
    piped = _check_output(locked, env, tty=False)
    assert "in sync" in piped
    assert ESC not in piped
    refused = _check_output(locked, env, tty=True, NO_COLOR="1")
    assert "in sync" in refused
    assert ESC not in refused
