"""Reading a target environment from outside: interpreter facts and dist-info."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lockdown.env.python_env import (
    inspect_interpreter,
    installed_distributions,
    read_dist_info,
)
from tests.support.venvs import make_venv


def test_probe_of_a_venv_and_its_base(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    info = inspect_interpreter(python)
    assert info.in_venv
    assert info.prefix == tmp_path / "venv"
    assert info.site_packages[0].is_relative_to(tmp_path / "venv")
    assert info.environment["python_full_version"] == ".".join(map(str, sys.version_info[:3]))
    assert info.tags[0].startswith(f"cp{sys.version_info[0]}{sys.version_info[1]}")


def test_probe_runs_isolated_without_site(tmp_path: Path) -> None:
    # A .pth file in the target runs code at every normal interpreter start;
    # lockdown's probe must not run it (the same binary is probed in-process,
    # so use a copy-free check: the separate-process path via a shell wrapper).
    python = make_venv(tmp_path / "venv")
    site = inspect_interpreter(python).site_packages[0]
    marker = tmp_path / "pth-ran"
    (site / "evil.pth").write_text(f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n")
    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text(f'#!/bin/sh\nexec "{python}" "$@"\n')
    wrapper.chmod(0o755)
    info = inspect_interpreter(wrapper)
    assert info.site_packages[0] == site
    assert not marker.exists()


def test_dist_info_reading(tmp_path: Path) -> None:
    info = tmp_path / "Demo_Pkg-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.2\n\nName: not-a-header\n"
    )
    (info / "INSTALLER").write_text("uv\n")
    (info / "direct_url.json").write_text(json.dumps({"url": "file:///src", "dir_info": {}}))
    dist = read_dist_info(info)
    assert dist is not None
    assert (dist.name, dist.version, dist.installer()) == ("demo-pkg", "1.2", "uv")
    assert dist.direct_url == {"url": "file:///src", "dir_info": {}}
    (info / "direct_url.json").write_bytes(b"\xff not json")
    assert read_dist_info(info).direct_url == {"url": "<unreadable direct_url.json>"}  # type: ignore[union-attr]
    (info / "direct_url.json").write_text("[]")
    assert read_dist_info(info).direct_url == {"url": "<unreadable direct_url.json>"}  # type: ignore[union-attr]
    (info / "INSTALLER").unlink()
    assert read_dist_info(info).installer() is None  # type: ignore[union-attr]
    broken = tmp_path / "broken-1.0.dist-info"
    broken.mkdir()
    assert read_dist_info(broken) is None
    assert [d.name for d in installed_distributions([tmp_path])] == ["demo-pkg"]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_metadata_whose_description_splits_a_character_at_the_read_boundary(
    tmp_path: Path, newline: str
) -> None:
    headers = newline.join(["Metadata-Version: 2.1", "Name: wide", "Version: 3.0", "", ""])
    head = headers.encode()
    # The description puts a 3-byte character across byte 16384, where the first read ends.
    filler = b"x" * (16383 - len(head))
    info = tmp_path / "wide-3.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(head + filler + "\u20ac and more".encode())
    dist = read_dist_info(info)
    assert dist is not None
    assert (dist.name, dist.version) == ("wide", "3.0")


def test_metadata_with_headers_longer_than_one_read(tmp_path: Path) -> None:
    classifiers = "".join(f"Classifier: Topic :: Item {i}\n" for i in range(1500))
    info = tmp_path / "long-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\n{classifiers}Name: long\nVersion: 1.0\n\nbody\n"
    )
    assert len((info / "METADATA").read_bytes()) > 2 * 16384
    dist = read_dist_info(info)
    assert dist is not None
    assert (dist.name, dist.version) == ("long", "1.0")


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ("Metadata-Version: 2.1\nName: quick\nVersion: 1.0\n\nbody\n", ("quick", "1.0")),
        ("Metadata-Version: 2.1\r\nName: crlf\r\nVersion: 2.0\r\n\r\nbody\r\n", ("crlf", "2.0")),
        # Another spelling of the keys: the full header parse reads them.
        ("Metadata-Version: 2.1\nname: lower\nversion: 3.0\n\n", ("lower", "3.0")),
        # "Name:" only in the description: not a header.
        ("Metadata-Version: 2.1\nVersion: 1.0\n\nName: body\n", None),
        # Far down the headers, past the first read.
        (
            "Metadata-Version: 2.1\n" + "Classifier: x\n" * 400 + "Name: far\nVersion: 9\n\n",
            ("far", "9"),
        ),
    ],
)
def test_name_and_version_however_metadata_is_laid_out(
    tmp_path: Path, metadata: str, expected: tuple[str, str] | None
) -> None:
    info = tmp_path / "x-1.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(metadata.encode())
    dist = read_dist_info(info)
    assert (None if dist is None else (dist.name, dist.version)) == expected
