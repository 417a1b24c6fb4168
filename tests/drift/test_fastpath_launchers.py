"""The fast path's cache and interpreter launchers: a pyenv-style shim never serves a stale answer.

A shim is a shell script that execs whichever interpreter its environment
picks (``PYENV_VERSION``, ``.python-version``). Its own file never changes,
so a cache keyed on it would keep answering for the first interpreter.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from lockdown.commands.check import run_check
from lockdown.drift import fastpath
from lockdown.drift.fastpath import CachedTarget
from lockdown.env.python_env import TargetInfo
from lockdown.lock.pylock import LockFile
from tests.support.venvs import make_venv

pytestmark = pytest.mark.slow


def _shim(directory: Path, choices: dict[str, Path]) -> Path:
    """A pyenv-like ``python3``: execs the interpreter ``$PYENV_VERSION`` names."""
    arms = "".join(f'  {name}) exec "{python}" "$@" ;;\n' for name, python in choices.items())
    shim = directory / "shims" / "python3"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\ncase "$PYENV_VERSION" in\n{arms}esac\nexit 127\n')
    shim.chmod(0o755)
    return shim


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "check").glob("*.txt"))


def test_switching_the_shims_version_is_never_served_from_the_cache(
    project: Path, env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = make_venv(tmp_path / "empty")
    shim = _shim(tmp_path, {"app": env / "bin" / "python", "empty": empty})
    cache = tmp_path / "cache"
    lock = project / "pylock.toml"
    monkeypatch.setenv("PYENV_VERSION", "app")
    first = run_check(lock, python=str(shim), cache_dir=cache)
    assert first.in_sync
    assert first.target == str(env)
    monkeypatch.setenv("PYENV_VERSION", "empty")
    second = run_check(lock, python=str(shim), cache_dir=cache)
    assert second.target == str(tmp_path / "empty")
    assert sorted((p.name, p.kind) for p in second.packages) == [
        ("alpha", "missing"),
        ("beta", "missing"),
        ("gamma", "missing"),
    ]
    assert _entries(cache) == []  # a launcher's answer is never stored
    # The interpreter itself is cached as before, and served.
    assert run_check(lock, python=str(env / "bin" / "python"), cache_dir=cache).in_sync
    assert len(_entries(cache)) == 1
    assert run_check(lock, python=str(env / "bin" / "python"), cache_dir=cache).in_sync


def test_an_entry_that_another_interpreter_answered_is_not_used(
    project: Path, env: Path, tmp_path: Path
) -> None:
    python = str(env / "bin" / "python")
    lock = project / "pylock.toml"
    cache = tmp_path / "cache"
    key = fastpath.cache_key(
        hashlib.sha256(lock.read_bytes()).hexdigest(), python, extras=(), groups=None
    )
    assert key is not None
    # Stored by some earlier run for this key, but answered by another binary.
    stale = CachedTarget(
        expected={"stale": ("1.0", True)},
        site_packages=(str(tmp_path / "nowhere"),),
        prefix=str(tmp_path),
        executable="/bin/sh",
        in_venv=True,
        python_version="3.0.0",
    )
    fastpath.store(cache, key, stale)
    assert fastpath.load(cache, key) == stale
    calls: list[str] = []

    def compute(lock_file: LockFile, target: TargetInfo) -> CachedTarget:
        calls.append(str(target.executable))
        return CachedTarget(
            expected={"alpha": ("1.1", True)},
            site_packages=tuple(str(p) for p in target.site_packages),
            prefix=str(target.prefix),
            executable=str(target.executable),
            in_venv=target.in_venv,
            python_version="3.11",
        )

    entry, _sha = fastpath.cached(
        lock, python, extras=(), groups=None, cache_dir=cache, purpose="check", compute=compute
    )
    assert calls == [python]
    assert entry.expected == {"alpha": ("1.1", True)}
    assert fastpath.load(cache, key) == entry  # replaced by the interpreter's own answer
