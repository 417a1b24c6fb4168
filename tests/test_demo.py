"""``make demo``'s script, run offline against the test index with the example swapped.

The same ``examples/demo.py`` that ``make demo`` runs against the default
index: every step, every asserted exit code. A second run proves the
assertions bite: when a step's behaviour changes, the demo fails and says
which command exited with what.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CATALOG_PROJECT
from tests.support.isolation import isolated_env
from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"

#: The catalog project without an index (the demo's ``--index-url`` points it at
#: one), and, like examples/webapp's psycopg-binary, an extra whose only files
#: are wheels for every default platform but Windows on ARM64.
EXAMPLE = CATALOG_PROJECT.replace('index-url = "{index}"\n', "").replace(
    'fast = ["speedup"]', 'fast = ["speedup"]\npg = ["pgbin"]'
)
PGBIN_TAGS = (
    "py3-none-manylinux_2_17_x86_64",
    "py3-none-manylinux_2_17_aarch64",
    "py3-none-macosx_11_0_x86_64",
    "py3-none-macosx_11_0_arm64",
    "py3-none-win_amd64",
)


def _example(root: Path, index: PackageIndex) -> Path:
    index.add("pgbin", "3.0", wheel_tags=PGBIN_TAGS, sdist=False)
    root.mkdir()
    (root / "pyproject.toml").write_text(EXAMPLE, encoding="utf-8")
    (root / "README.md").write_text("a swapped-in example\n", encoding="utf-8")
    return root


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _demo(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), *(str(a) for a in args)],
        env=isolated_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_demo_walks_every_step_against_the_local_index(
    tmp_path: Path, catalog: PackageIndex
) -> None:
    example = _example(tmp_path / "svc", catalog)
    before = _tree(example)
    work = tmp_path / "work"

    transcript = tmp_path / "session.txt"
    proc = _demo(
        "--example",
        example,
        "--index-url",
        catalog.url,
        "--hold",
        "beta<1.1",
        "--workdir",
        work,
        "--transcript",
        transcript,
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    titles = [line for line in out.splitlines() if line.startswith("== ")]
    assert [t.split(".", 1)[0] for t in titles] == [f"== {n}" for n in range(1, 13)]
    # The expected failures, each asserted by the demo itself.
    for what in (
        "lockdown: dropped win32/ARM64: pgbin 3.0 publishes no wheel for it and no sdist",
        "for 5 environment(s)",
        "S.5......  lib/python",  # the edited file, rpm -V style
        "beta/__init__.py",
        "!! the installed RECORD does not match the locked wheel's",
        "~ beta 1.0 -> 1.0 (reinstall: 1 file differs from the locked wheel)",
        "BLOCKED  beta 1.0 → 1.1 (minor upgrade; needs approval)",
        "| ok | `beta` | 1.0 → 1.1 |",
        "the file changed after signing",
        'lockdown_drift_packages{kind="version"} 1',
        "lockdown_lock_signature_valid 1",
        "~ beta 1.0 -> 1.1",
    ):
        assert what in out, what
    assert out.count("(exit 8, as expected)") == 2
    assert out.count("(exit 16, as expected)") == 2  # verify, and install, of the stale signature
    for code in (3, 4):
        assert f"(exit {code}, as expected)" in out
    assert out.rstrip().endswith("is as committed.")
    # The example is untouched; the scratch copy holds the approved, signed lock.
    assert _tree(example) == before
    lock = (work / "svc" / "pylock.toml").read_text(encoding="utf-8")
    assert 'name = "beta"\nversion = "1.1"' in lock
    assert (work / "svc" / "pylock.toml.sigstore.json").is_file()
    assert not (example / "pylock.toml").exists()
    # The transcript is the session as printed, the random scratch path named $SCRATCH.
    assert transcript.read_text(encoding="utf-8") == out.replace(str(work), "$SCRATCH")
    assert "$SCRATCH/svc/pylock.toml" in transcript.read_text(encoding="utf-8")


def test_the_demo_fails_loudly_when_a_step_does_not_do_what_it_shows(
    tmp_path: Path, catalog: PackageIndex
) -> None:
    # A hold that holds nothing back: the "blocked" upgrade has nothing to upgrade.
    example = _example(tmp_path / "svc", catalog)
    before = _tree(example)

    proc = _demo(
        "--example",
        example,
        "--index-url",
        catalog.url,
        "--hold",
        "beta<99",
        "--workdir",
        tmp_path / "work",
    )

    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "demo FAILED: `lockdown lock --upgrade-package beta` exited 0, expected 3"
    )
    assert "is as committed" not in proc.stdout
    assert _tree(example) == before


def test_the_demo_refuses_a_workdir_that_is_not_empty(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep-me.txt").write_text("mine\n", encoding="utf-8")

    proc = _demo("--workdir", work)

    assert proc.returncode == 2
    assert f"--workdir {work} is not empty" in proc.stderr
    assert [p.name for p in work.iterdir()] == ["keep-me.txt"]
    assert (work / "keep-me.txt").read_text(encoding="utf-8") == "mine\n"
