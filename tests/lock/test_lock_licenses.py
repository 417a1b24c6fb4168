"""``lock`` records each package's declared license, read from its verified PEP 658 metadata.

Against the local index serving ``<wheel>.metadata`` files (PEP 658/714): the
record is in ``[packages.tool.lockdown]``, an unchanged package costs no
request, a changed one is read again, altered metadata is refused, and the
SBOM comes from the lock alone (an empty artifact cache gives the same bytes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lockdown._compat import tomllib
from lockdown.resolve.index import IndexClient
from tests.conftest import CliResult
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]


def records(lock: Path) -> dict[str, dict[str, Any]]:
    raw = tomllib.loads(lock.read_text(encoding="utf-8"))
    return {p["name"]: p.get("tool", {}).get("lockdown", {}) for p in raw["packages"]}


def metadata_sha256(index: PackageIndex, name: str, version: str) -> str:
    """The sha256 of the served METADATA of the package's wheel, computed by the test."""
    files = IndexClient(index.url).project_files(name)
    wheel = next(f for f in files if f.filename.startswith(f"{name}-{version}-"))
    import urllib.request

    with urllib.request.urlopen(wheel.url + ".metadata") as response:
        return hashlib.sha256(response.read()).hexdigest()


@pytest.fixture
def served(package_index: PackageIndex) -> PackageIndex:
    package_index.serve_metadata = True
    package_index.add("expr", "1.0", metadata=["License-Expression: MIT OR Apache-2.0"])
    package_index.add(
        "classic",
        "1.0",
        metadata=["License: BSD-3-Clause", "Classifier: License :: OSI Approved :: BSD License"],
    )
    package_index.add("silent", "1.0")
    return package_index


@pytest.fixture
def project(tmp_path: Path, served: PackageIndex) -> Path:
    root = tmp_path / "lic"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "lic"\nversion = "1"\nrequires-python = ">=3.10"\n'
        'dependencies = ["expr", "classic", "silent"]\n'
        f'[tool.lockdown]\nindex-url = "{served.url}"\n',
        encoding="utf-8",
    )
    return root


def test_the_lock_records_what_the_metadata_declares(
    project: Path, served: PackageIndex, cli: Cli
) -> None:
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    assert records(project / "pylock.toml") == {
        "expr": {
            "license-metadata-sha256": metadata_sha256(served, "expr", "1.0"),
            "license": "MIT OR Apache-2.0",
        },
        "classic": {
            "license-metadata-sha256": metadata_sha256(served, "classic", "1.0"),
            "license-field": "BSD-3-Clause",
            "license-classifiers": ["BSD License"],
        },
        # Read, declaring nothing: the record says so, and no license is made up.
        "silent": {"license-metadata-sha256": metadata_sha256(served, "silent", "1.0")},
    }
    # Only lockdown read the metadata files, one each (uv had no need to).
    read = sorted(r.path for r in served.served_to("lockdown/") if r.path.endswith(".metadata"))
    assert [p.rsplit("/", 1)[-1].split("-")[0] for p in read] == ["classic", "expr", "silent"]


def test_a_no_change_relock_makes_no_request_and_keeps_the_bytes(
    project: Path, served: PackageIndex, cli: Cli
) -> None:
    assert cli("lock", "--project", project).code == 0
    before = (project / "pylock.toml").read_bytes()
    asked = len(served.served_to("lockdown/"))
    assert cli("lock", "--project", project).code == 0
    assert (project / "pylock.toml").read_bytes() == before
    assert served.served_to("lockdown/")[asked:] == []


def test_a_changed_package_alone_is_read_again(
    project: Path, served: PackageIndex, cli: Cli
) -> None:
    assert cli("lock", "--project", project).code == 0
    served.add("expr", "1.0.1", metadata=["License-Expression: Apache-2.0"])
    assert cli("approve", "--project", project, "expr==1.0.1", "--reason", "test").code == 0
    asked = len(served.served_to("lockdown/"))
    result = cli("lock", "--project", project, "--upgrade-package", "expr")
    assert result.code == 0, result.err
    new = [r.path for r in served.served_to("lockdown/")[asked:] if r.path.endswith(".metadata")]
    assert [p.rsplit("/", 1)[-1] for p in new] == ["expr-1.0.1-py3-none-any.whl.metadata"]
    lic = records(project / "pylock.toml")
    assert lic["expr"]["license"] == "Apache-2.0"
    assert lic["classic"]["license-field"] == "BSD-3-Clause"  # kept from the previous lock


def test_altered_metadata_is_refused_and_nothing_is_written(
    project: Path, served: PackageIndex, cli: Cli
) -> None:
    # Altered for lockdown's requests only: uv, which checks too, resolves first.
    served.alter_metadata(
        "expr-1.0-py3-none-any.whl", b"Metadata-Version: 2.4\nName: expr\n", agent="lockdown/"
    )
    result = cli("lock", "--project", project)
    assert result.code == 16
    assert "expr-1.0-py3-none-any.whl.metadata: sha256 " in result.err
    assert "its index declares" in result.err
    assert not (project / "pylock.toml").exists()


def test_no_declared_metadata_no_record(
    project: Path, served: PackageIndex, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served.serve_metadata = False
    assert cli("lock", "--project", project).code == 0
    assert records(project / "pylock.toml") == {"expr": {}, "classic": {}, "silent": {}}
    assert not [r for r in served.served_to("lockdown/") if r.path.endswith(".metadata")]


def test_the_sbom_comes_from_the_lock_the_same_on_any_machine(
    project: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("cyclonedx")
    assert cli("lock", "--project", project).code == 0
    outputs = []
    for cache in ("empty-cache", "full-cache"):
        monkeypatch.setenv("LOCKDOWN_CACHE_DIR", str(tmp_path / cache))
        if cache == "full-cache":  # every wheel verified into this cache: nothing changes
            assert cli("lock", "--project", project, "--verify-artifacts", "all").code == 0
            assert list((tmp_path / cache).rglob("*"))
        out = tmp_path / f"{cache}.cdx.json"
        result = cli("export", "--format", "cyclonedx", "--project", project, "-o", out)
        assert result.err == f"lockdown: wrote {out}\n"  # no "no license" note
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    licenses = {c["name"]: c.get("licenses") for c in json.loads(outputs[0])["components"]}
    assert licenses == {
        "expr": [{"expression": "MIT OR Apache-2.0", "acknowledgement": "declared"}],
        "classic": [
            {"license": {"id": "BSD-3-Clause", "acknowledgement": "declared"}},
            {"license": {"name": "BSD License", "acknowledgement": "declared"}},
        ],
        "silent": None,
    }


@pytest.mark.parametrize("json_api", [True, False], ids=["pep691", "pep503"])
def test_the_index_client_reads_the_declared_digest(tmp_path: Path, json_api: bool) -> None:
    with PackageIndex(tmp_path / "index", json_api=json_api, serve_metadata=True) as index:
        index.add("expr", "1.0", metadata=["License-Expression: MIT"])
        (wheel,) = [
            f for f in IndexClient(index.url).project_files("expr") if f.filename.endswith(".whl")
        ]
        assert wheel.core_metadata == metadata_sha256(index, "expr", "1.0")
        index.serve_metadata = False
        (wheel,) = [
            f for f in IndexClient(index.url).project_files("expr") if f.filename.endswith(".whl")
        ]
        assert wheel.core_metadata is None


def test_an_index_declaring_no_metadata_has_no_more_pages_read_for_licenses(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    # No core metadata declared anywhere, and no provenance (API 1.1): the
    # direct requirement's page (read while uv resolves) says so, and the
    # page of the package only a dependency brings in is left to uv.
    package_index.add("expr", "1.0", dependencies=["deep"])
    package_index.add("deep", "1.0")
    root = tmp_path / "lic"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "lic"\nversion = "1"\nrequires-python = ">=3.10"\n'
        'dependencies = ["expr"]\n'
        f'[tool.lockdown]\nindex-url = "{package_index.url}"\n',
        encoding="utf-8",
    )
    result = cli("lock", "--project", root)
    assert result.code == 0, result.err
    assert records(root / "pylock.toml") == {"expr": {}, "deep": {}}
    mine = [r.path for r in package_index.served_to("lockdown/")]
    assert mine == ["/simple/expr/"]
    assert (
        f"licenses: {package_index.url} declares no core metadata files (PEP 658) on "
        "its pages; no license records for its new packages (export reads the artifact cache)\n"
    ) in result.out
