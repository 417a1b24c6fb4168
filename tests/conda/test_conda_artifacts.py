"""``check --prefix`` against the locked archives: placeholders, forged records, unowned files,
channels as conda writes them, and the command without the conda extra.

Real packages from a local channel, installed by rattler; conda-meta records are
edited the way an attacker (or conda) would write them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lockdown.commands.check import run_conda_check
from lockdown.commands.install import install_conda
from lockdown.commands.lock import lock_conda
from lockdown.drift.compare import channel_key, same_channel
from lockdown.drift.placeholder import binary_replace, installed_candidates
from lockdown.env.conda_meta import current_platform
from tests.conda.test_conda import tree
from tests.conftest import CliResult
from tests.support.condachannel import PREFIX_PLACEHOLDER, CondaChannel, PlaceholderFile

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]
HERE = current_platform()
#: A long placeholder, as conda-build writes into binaries (any test prefix fits in it).
LONG = "/opt/" + "_placehold" * 24
BINARY = b"\x7fELF\x02\x01\x00" + LONG.encode() + b"/lib\x00rpath:" + LONG.encode() + b"\x00end"
SCRIPT = f"#!{PREFIX_PLACEHOLDER}/bin/python -E\nprint('tool')\n".encode()


@pytest.fixture
def channel(tmp_path: Path) -> CondaChannel:
    """tool 1.0: a text placeholder file, a script with a placeholder shebang, a binary one,
    and a module in site-packages; helper 1.0: plain files."""
    chan = CondaChannel(tmp_path / "channel")
    chan.add(
        "tool",
        "1.0",
        files={
            "share/tool/tool.txt": b"tool 1.0\n",
            "lib/python3.11/site-packages/tool/__init__.py": b"VERSION = '1.0'\n",
        },
        prefix_files={
            "bin/tool": PlaceholderFile(SCRIPT),
            "lib/libtool.so": PlaceholderFile(BINARY, mode="binary", placeholder=LONG),
        },
    )
    chan.add("helper", "1.0")
    chan.index()
    return chan


def project(root: Path, channel_url: str) -> Path:
    root.mkdir(parents=True)
    (root / "environment.yml").write_text(
        f"channels: [{channel_url}]\ndependencies: [tool, helper]\nplatforms: [{HERE}]\n",
        encoding="utf-8",
    )
    lock_conda(root)
    return root


@pytest.fixture
def locked(tmp_path: Path, channel: CondaChannel) -> Path:
    return project(tmp_path / "svc", channel.file_url) / "conda-lock.yml"


@pytest.fixture
def prefix(locked: Path, tmp_path: Path) -> Path:
    target = tmp_path / "prefix"
    install_conda(locked, target)
    return target


def record_of(prefix: Path, name: str) -> tuple[Path, dict[str, Any]]:
    meta = next((prefix / "conda-meta").glob(f"{name}-*.json"))
    return meta, json.loads(meta.read_text())


def entry_of(record: dict[str, Any], path: str) -> dict[str, Any]:
    return next(e for e in record["paths_data"]["paths"] if e["_path"] == path)


def findings(report: Any) -> list[tuple[str, str, str, str]]:
    return sorted((f.path, f.kind, f.severity, f.detail) for f in report.files)


# --- a. files with a prefix placeholder -------------------------------------------


def test_placeholder_files_as_rattler_wrote_them_are_in_sync(prefix: Path, locked: Path) -> None:
    installed = (prefix / "lib" / "libtool.so").read_bytes()
    assert len(installed) == len(BINARY)  # binary mode: padded, never resized
    assert installed == binary_replace(BINARY, LONG, str(prefix))
    assert (prefix / "bin" / "tool").read_bytes().startswith(f"#!{prefix}/bin/python".encode())
    report = run_conda_check(locked, prefix, level="artifacts")
    assert report.in_sync, report.files
    assert report.files_checked >= 6


def test_an_edited_placeholder_file_with_a_forged_record_is_caught(
    prefix: Path, locked: Path
) -> None:
    target = prefix / "share" / "tool" / "prefix.txt"
    edited = b"prefix=/somewhere/else\n"
    target.write_bytes(edited)
    binary = prefix / "lib" / "libtool.so"
    patched = bytearray(binary.read_bytes())
    patched[-1] ^= 0xFF  # same length, other bytes
    binary.write_bytes(bytes(patched))
    # The record is forged to match: the files level, which trusts conda-meta, sees nothing.
    meta, record = record_of(prefix, "tool")
    entry_of(record, "share/tool/prefix.txt")["sha256_in_prefix"] = hashlib.sha256(
        edited
    ).hexdigest()
    entry_of(record, "lib/libtool.so")["sha256_in_prefix"] = hashlib.sha256(patched).hexdigest()
    meta.write_text(json.dumps(record))
    assert run_conda_check(locked, prefix, level="files").in_sync
    report = run_conda_check(locked, prefix, level="artifacts")
    forged = (
        "conda-meta's sha256_in_prefix is not the locked archive's file with this prefix written in"
    )
    assert findings(report) == [
        ("lib/libtool.so", "modified", "normal", ""),
        ("lib/libtool.so", "record", "high", forged),
        ("share/tool/prefix.txt", "modified", "normal", ""),
        ("share/tool/prefix.txt", "record", "high", forged),
    ]
    assert {f.flags for f in report.files if f.kind == "modified"} == {"5", "S5"}
    assert report.exit_code() == 8


def test_a_long_prefix_gets_its_shebang_rewritten_and_is_still_in_sync(
    locked: Path, tmp_path: Path
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "prefix"
    install_conda(locked, deep)
    first_line = (deep / "bin" / "tool").read_bytes().split(b"\n", 1)[0]
    assert str(deep).encode() not in first_line  # the installer shortened it
    report = run_conda_check(locked, deep, level="artifacts")
    assert report.in_sync, report.files
    # ... and an edited shebang is still an edit.
    script = deep / "bin" / "tool"
    script.write_bytes(b"#!/tmp/evil\n" + script.read_bytes().split(b"\n", 1)[1])
    edited = run_conda_check(locked, deep, level="artifacts")
    assert [(f.path, f.kind) for f in edited.files] == [("bin/tool", "modified")]


def test_a_relative_prefix_is_installed_and_checked_as_an_absolute_one(
    locked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    install_conda(locked, Path("relative"))
    text = (tmp_path / "relative" / "share" / "tool" / "prefix.txt").read_text()
    assert text == f"prefix={tmp_path / 'relative'}\n"
    assert run_conda_check(locked, Path("relative"), level="artifacts").in_sync


def test_a_prefix_reached_through_a_symlink_is_in_sync(prefix: Path, locked: Path) -> None:
    link = prefix.parent / "via-link"
    link.symlink_to(prefix)
    assert run_conda_check(locked, link, level="artifacts").in_sync


# --- b. records that list what the archive does not ship ---------------------------


def test_a_file_added_to_a_record_is_reported(prefix: Path, locked: Path) -> None:
    planted = prefix / "bin" / "backdoor"
    planted.write_bytes(b"#!/bin/sh\nexec nc -l 4444\n")
    digest = hashlib.sha256(planted.read_bytes()).hexdigest()
    meta, record = record_of(prefix, "helper")
    record["files"] += ["bin/backdoor", "etc/only-in-files"]
    record["paths_data"]["paths"].append(
        {
            "_path": "bin/backdoor",
            "path_type": "hardlink",
            "sha256": digest,
            "size_in_bytes": planted.stat().st_size,
        }
    )
    meta.write_text(json.dumps(record))
    # Listed with its true digest: the files level has nothing to say.
    assert run_conda_check(locked, prefix, level="files").in_sync
    report = run_conda_check(locked, prefix, level="artifacts")
    not_shipped = "conda-meta lists it; the locked archive does not ship it"
    assert findings(report) == [
        ("bin/backdoor", "record", "high", not_shipped),
        ("etc/only-in-files", "record", "high", not_shipped),
    ]


# --- c. files nobody owns ---------------------------------------------------------------


def test_unowned_files_in_site_packages_are_reported_startup_hooks_high(
    prefix: Path, locked: Path
) -> None:
    before = run_conda_check(locked, prefix, level="files")
    assert before.in_sync, before.files  # tool's own module there is owned
    site = prefix / "lib" / "python3.11" / "site-packages"
    (site / "zz-evil.pth").write_text("import os; os.system('id')\n")
    (site / "sitecustomize.py").write_text("print('hooked')\n")
    (site / "tool" / "notes.txt").write_text("left behind\n")
    for level in ("files", "artifacts"):
        report = run_conda_check(locked, prefix, level=level)
        assert sorted((f.path, f.kind, f.severity) for f in report.files) == [
            ("lib/python3.11/site-packages/sitecustomize.py", "unowned", "high"),
            ("lib/python3.11/site-packages/tool/notes.txt", "unowned", "normal"),
            ("lib/python3.11/site-packages/zz-evil.pth", "unowned", "high"),
        ]
        assert report.exit_code() == 8


# --- without the conda extra ------------------------------------------------------------

#: Runs the CLI with py-rattler unimportable, as if the conda extra were not installed.
WITHOUT_RATTLER = """
import runpy, sys

class NoRattler:
    def find_spec(self, name, path=None, target=None):
        if name == "rattler" or name.startswith("rattler."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoRattler())
runpy.run_module("lockdown", run_name="__main__", alter_sys=True)
"""


def test_artifacts_level_without_the_conda_extra_says_how_to_get_it(
    prefix: Path, locked: Path, artifact_cache: Path
) -> None:
    before = tree(prefix)
    cached = tree(artifact_cache) if artifact_cache.exists() else {}
    base = [sys.executable, "-c", WITHOUT_RATTLER, "check", "--lock", str(locked)]
    proc = subprocess.run(
        [*base, "--prefix", str(prefix), "--level", "artifacts"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 64, proc.stderr
    assert proc.stderr.strip() == (
        "lockdown: error: conda support needs py-rattler and conda-lock (rattler is missing); "
        "pip install 'lockdown[conda]'"
    )
    assert tree(prefix) == before
    assert (tree(artifact_cache) if artifact_cache.exists() else {}) == cached
    # The levels that read only conda-meta and the files need no rattler.
    files = subprocess.run(
        [*base, "--prefix", str(prefix), "--level", "files"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (files.returncode, files.stderr) == (0, "")


# --- channels as conda and rattler write them ----------------------------------------


@pytest.mark.parametrize(
    ("installed", "locked", "same"),
    [
        ("https://example.invalid/channel/linux-64", "https://example.invalid/channel", True),
        ("https://example.invalid/channel/noarch/", "https://example.invalid/channel", True),
        ("https://example.invalid/channel/", "https://example.invalid/channel", True),
        ("HTTPS://Example.Invalid/channel", "https://example.invalid/channel", True),
        (
            "https://example.invalid/t/tk-123/channel/osx-arm64",
            "https://example.invalid/channel",
            True,
        ),
        ("https://user:pw@example.invalid/channel", "https://example.invalid/channel", True),
        ("channel", "https://example.invalid/channel", True),
        ("channel/win-64", "https://example.invalid/channel", True),
        ("pkgs/main", "https://example.invalid/pkgs/main", True),
        ("https://example.invalid/other/linux-64", "https://example.invalid/channel", False),
        ("https://elsewhere.invalid/channel", "https://example.invalid/channel", False),
        ("nnel", "https://example.invalid/channel", False),
        ("other", "https://example.invalid/channel", False),
        ("https://example.invalid/channel/linux-64x", "https://example.invalid/channel", False),
    ],
)
def test_channels_compare_as_conda_writes_them(installed: str, locked: str, same: bool) -> None:
    assert same_channel(installed, locked) is same


def test_only_a_final_subdir_is_stripped() -> None:
    assert channel_key("https://example.invalid/mirror/win-64") == "https://example.invalid/mirror"
    assert channel_key("https://example.invalid/noarch") == "https://example.invalid"
    assert channel_key("conda-forge") == "conda-forge"
    assert channel_key("noarch") == "noarch"
    assert channel_key("https://example.invalid/c/linux-65") == "https://example.invalid/c/linux-65"
    # The record's own subdir, even one this list does not know yet.
    assert channel_key("https://example.invalid/c/plan9-64", "plan9-64") == (
        "https://example.invalid/c"
    )


def test_records_written_in_conda_s_style_are_not_source_drift(
    prefix: Path, locked: Path, channel: CondaChannel
) -> None:
    def rewrite(channel_value: str) -> None:
        for meta in (prefix / "conda-meta").glob("*.json"):
            record = json.loads(meta.read_text())
            record["channel"] = channel_value
            record["url"] = f"{channel.file_url}/{record['subdir']}/{record['fn']}"
            meta.write_text(json.dumps(record))

    rewrite(f"{channel.file_url}/noarch")  # conda: the channel URL with the subdir
    assert run_conda_check(locked, prefix).in_sync
    rewrite(channel.root.name)  # a canonical name
    assert run_conda_check(locked, prefix).in_sync
    rewrite("https://example.invalid/channel/noarch")  # really another channel
    report = run_conda_check(locked, prefix)
    assert sorted((p.name, p.kind) for p in report.packages) == [
        ("helper", "source"),
        ("tool", "source"),
    ]
    assert report.packages[0].detail == (
        f"installed from channel https://example.invalid/channel/noarch; the lock says "
        f"{channel.file_url}"
    )


# --- the placeholder rules themselves (pure) ------------------------------------------


def test_binary_replacement_pads_each_string_and_keeps_the_length() -> None:
    data = b"A/opt/ph/lib\x00B/opt/ph:/opt/ph/x\x00C/opt/ph"
    out = binary_replace(data, "/opt/ph", "/p")
    assert (
        out
        == b"A/p/lib\x00\x00\x00\x00\x00\x00B/p:/p/x\x00"
        + b"\x00" * 10
        + b"C/p\x00\x00\x00\x00\x00"
    )
    assert len(out) == len(data)
    # A prefix longer than the placeholder cannot be written: left as it is.
    assert binary_replace(data, "/opt/ph", "/a/much/longer/prefix") == data


def test_text_candidates_follow_conda_and_rattler_shebang_rules() -> None:
    long_prefix = "/p" + "x" * 130
    script = b"#!/opt/ph/bin/python3.11 -E\nimport sys  # /opt/ph\n"
    got = installed_candidates(script, "/opt/ph", "text", [long_prefix], "linux-64")
    assert got == [
        script.replace(b"/opt/ph", long_prefix.encode()),
        b"#!/usr/bin/env python3.11 -E\nimport sys  # " + long_prefix.encode() + b"\n",
        (
            f"#!/bin/sh\n'''exec' \"{long_prefix}/bin/python3.11\" -E \"$0\" \"$@\" #'''\n"
            f"import sys  # {long_prefix}\n"
        ).encode(),
    ]
    short = installed_candidates(script, "/opt/ph", "text", ["/p"], "linux-64")
    assert short == [b"#!/p/bin/python3.11 -E\nimport sys  # /p\n"]
    assert installed_candidates(b"a /opt/ph b", "/opt/ph", "text", ["C:\\p"], "win-64") == [
        b"a C:\\p b",
        b"a C:/p b",
    ]


def test_a_site_packages_symlinked_out_of_the_prefix_is_not_walked(
    prefix: Path, locked: Path, tmp_path: Path
) -> None:
    # A site-packages reached through a symlink out of the prefix is not walked.
    outside = tmp_path / "outside-site"
    outside.mkdir()
    (outside / "x.pth").write_text("import os\n")
    (prefix / "lib" / "python3.12").mkdir()
    os.symlink(outside, prefix / "lib" / "python3.12" / "site-packages")
    report = run_conda_check(locked, prefix, level="files")
    assert report.in_sync, report.files


def test_a_recorded_file_replaced_by_a_symlink_is_drift_at_both_levels(
    tmp_path: Path,
) -> None:
    """The attacker's file lives inside the prefix; the link points at it."""
    from lockdown.commands.check import run_conda_check
    from lockdown.commands.install import install_conda
    from lockdown.commands.lock import lock_conda
    from tests.support.condachannel import CondaChannel

    chan = CondaChannel(tmp_path / "channel")
    chan.add("alpha", "1.0")
    chan.index()
    project = tmp_path / "svc"
    project.mkdir()
    (project / "environment.yml").write_text(
        f"channels: [{chan.file_url}]\ndependencies: [alpha]\n", encoding="utf-8"
    )
    lock_conda(project)
    prefix = tmp_path / "prefix"
    install_conda(project / "conda-lock.yml", prefix)
    lock = project / "conda-lock.yml"
    assert run_conda_check(lock, prefix, level="files").in_sync
    record = json.loads(next((prefix / "conda-meta").glob("alpha-*.json")).read_text())
    victim = next(
        p["_path"] for p in record["paths_data"]["paths"] if p.get("path_type") != "softlink"
    )
    evil = prefix / "share" / "evil"
    evil.parent.mkdir(parents=True, exist_ok=True)
    evil.write_bytes((prefix / victim).read_bytes())  # even identical content
    (prefix / victim).unlink()
    (prefix / victim).symlink_to(evil)
    for level in ("files", "artifacts"):
        report = run_conda_check(lock, prefix, level=level)
        assert not report.in_sync, level
        found = [f.kind for f in report.files if f.path.endswith(victim.split("/")[-1])]
        assert found[:1] == ["modified"], (level, report.files)
