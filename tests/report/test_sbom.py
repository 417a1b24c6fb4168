"""``lockdown export --format cyclonedx|spdx``: SBOMs of pylock.toml and conda-lock.yml.

Every document is checked by its format's own validator (cyclonedx-python-lib's
JSON schema validator, spdx-tools' validation) and compared with the lock it
came from: components, files, digests, the dependency graph.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from lockdown._compat import tomllib
from tests.conftest import CliResult, populate_catalog
from tests.support.isolation import isolated_env
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]


def cyclonedx_valid(text: str) -> dict[str, Any]:
    """The document, after cyclonedx-python-lib's strict JSON schema validator accepted it."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    document: dict[str, Any] = json.loads(text)
    assert document["specVersion"] == "1.6"
    return document


def spdx_valid(path: Path) -> dict[str, Any]:
    """The document, after spdx-tools parsed it and its validation found nothing."""
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    messages = validate_full_spdx_document(parse_file(str(path)))
    assert messages == [], [m.validation_message for m in messages]
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert document["spdxVersion"] == "SPDX-2.3"
    return document


def lock_files(lock: Path) -> dict[str, set[tuple[str, str]]]:
    """purl → {(url, sha256)} of every file the pylock pins."""
    raw = tomllib.loads(lock.read_text(encoding="utf-8"))
    files: dict[str, set[tuple[str, str]]] = {}
    for package in raw["packages"]:
        purl = f"pkg:pypi/{package['name']}@{package['version']}"
        entries = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        files[purl] = {(e["url"], e["hashes"]["sha256"]) for e in entries}
    return files


def lock_graph(lock: Path) -> dict[str, list[str]]:
    """purl → sorted purls of its recorded dependencies (packages recording none left out)."""
    packages = tomllib.loads(lock.read_text(encoding="utf-8"))["packages"]

    def purl(package: dict[str, Any]) -> str:
        return f"pkg:pypi/{package['name']}@{package['version']}"

    return {
        purl(package): sorted(
            purl(target)
            for entry in package["dependencies"]
            for target in packages
            if all(target.get(k) == v for k, v in entry.items())
        )
        for package in packages
        if "dependencies" in package
    }


def cyclonedx_graph(document: dict[str, Any]) -> dict[str, list[str]]:
    return {d["ref"]: sorted(d.get("dependsOn", [])) for d in document.get("dependencies", [])}


def spdx_graph(document: dict[str, Any]) -> dict[str, list[str]]:
    """purl → sorted purls it DEPENDS_ON (every described package, with or without edges)."""
    purls = {
        p["SPDXID"]: p["externalRefs"][0]["referenceLocator"]
        for p in document["packages"]
        if p.get("externalRefs")
    }
    edges: dict[str, list[str]] = {purl: [] for purl in purls.values()}
    for rel in document["relationships"]:
        if rel["relationshipType"] == "DEPENDS_ON":
            edges[purls[rel["spdxElementId"]]].append(purls[rel["relatedSpdxElement"]])
    return {k: sorted(v) for k, v in edges.items()}


def cyclonedx_files(document: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    return {
        c["purl"]: {
            (ref["url"], next(h["content"] for h in ref["hashes"] if h["alg"] == "SHA-256"))
            for ref in c.get("externalReferences", [])
            if ref["type"] == "distribution"
        }
        for c in document["components"]
    }


def spdx_files(document: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """purl → {(url, sha256)}: the package's own file, or those of the packages it CONTAINS."""
    by_id = {p["SPDXID"]: p for p in document["packages"]}
    contains: dict[str, list[str]] = {}
    for rel in document["relationships"]:
        if rel["relationshipType"] == "CONTAINS":
            contains.setdefault(rel["spdxElementId"], []).append(rel["relatedSpdxElement"])

    def where(package: dict[str, Any]) -> str:
        if package["downloadLocation"] != "NOASSERTION":
            return str(package["downloadLocation"])
        return str(package["sourceInfo"]).removeprefix("downloaded from ")

    def sha256(package: dict[str, Any]) -> str:
        sums = {c["algorithm"]: str(c["checksumValue"]) for c in package["checksums"]}
        return sums["SHA256"]

    files = {}
    for package in document["packages"]:
        refs = [r["referenceLocator"] for r in package.get("externalRefs", [])]
        if not refs:
            continue
        parts = [by_id[i] for i in contains.get(package["SPDXID"], [])] or [package]
        files[refs[0]] = {(where(p), sha256(p)) for p in parts}
    return files


def export(cli: Cli, tmp_path: Path, fmt: str, *args: str | Path) -> Path:
    out = tmp_path / f"sbom-{fmt}-{len(list(tmp_path.glob('sbom-*')))}.json"
    result = cli("export", "--format", fmt, "-o", out, *args)
    assert result.code == 0, result.err
    return out


# --- lockdown's own lock -----------------------------------------------------------


def test_cyclonedx_of_the_whole_lock(locked: Path, cli: Cli, tmp_path: Path) -> None:
    out = export(cli, tmp_path, "cyclonedx", "--project", locked)
    document = cyclonedx_valid(out.read_text(encoding="utf-8"))
    lock = locked / "pylock.toml"
    # Every package of the lock (the win32-only one and the extras' too), every file and digest.
    assert cyclonedx_files(document) == lock_files(lock)
    assert sorted(lock_files(lock)) == [
        "pkg:pypi/alpha@1.1",
        "pkg:pypi/beta@1.1",
        "pkg:pypi/devtool@0.5",
        "pkg:pypi/gamma@1.0",
        "pkg:pypi/speedup@2.0",
        "pkg:pypi/winonly@1.0",
    ]
    # The graph lockdown recorded in the lock, edge for edge.
    assert cyclonedx_graph(document) == lock_graph(lock)
    assert lock_graph(lock)["pkg:pypi/alpha@1.1"] == ["pkg:pypi/beta@1.1"]
    props = {p["name"]: p["value"] for p in document["metadata"]["properties"]}
    assert props["lockdown:scope"] == "the whole lock"
    assert props["lockdown:lock"] == "pylock.toml"
    assert document["metadata"]["tools"]["components"][0]["name"] == "lockdown"


def test_spdx_of_the_whole_lock(locked: Path, cli: Cli, tmp_path: Path) -> None:
    out = export(cli, tmp_path, "spdx", "--project", locked)
    document = spdx_valid(out)
    assert spdx_files(document) == lock_files(locked / "pylock.toml")
    assert spdx_graph(document) == lock_graph(locked / "pylock.toml")
    described = [
        r["relatedSpdxElement"]
        for r in document["relationships"]
        if r["relationshipType"] == "DESCRIBES"
    ]
    assert len(described) == 6


def test_same_lock_same_bytes_and_the_serial_follows_the_lock(
    locked: Path, cli: Cli, tmp_path: Path
) -> None:
    import hashlib
    import uuid

    first = export(cli, tmp_path, "cyclonedx", "--project", locked).read_bytes()
    again = export(cli, tmp_path, "cyclonedx", "--project", locked).read_bytes()
    assert first == again
    spdx = export(cli, tmp_path, "spdx", "--project", locked).read_bytes()
    assert spdx == export(cli, tmp_path, "spdx", "--project", locked).read_bytes()
    document = json.loads(first)
    lock = (locked / "pylock.toml").read_bytes()
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "urn:lockdown:sbom")
    digest = hashlib.sha256(lock).hexdigest()
    expected = uuid.uuid5(namespace, f"cyclonedx:{digest}:the whole lock")
    assert document["serialNumber"] == f"urn:uuid:{expected}"
    assert json.loads(spdx)["documentNamespace"] == (
        f"urn:uuid:{uuid.uuid5(namespace, f'spdx:{digest}:the whole lock')}"
    )
    # The lock's own moment: its newest upload (the test index's uploads are a minute apart).
    uploads = [
        f["upload-time"]
        for p in tomllib.loads(lock.decode())["packages"]
        for f in [*p.get("wheels", []), p.get("sdist", {})]
        if "upload-time" in f
    ]
    assert document["metadata"]["timestamp"] == max(uploads).isoformat()
    assert json.loads(spdx)["creationInfo"]["created"] == max(uploads).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    # Another lock, another serial.
    changed = tmp_path / "pylock.toml"
    changed.write_bytes(lock + b"\n")
    other = json.loads(export(cli, tmp_path, "cyclonedx", "--lock", changed).read_bytes())
    assert other["serialNumber"] != document["serialNumber"]


def test_an_sbom_signs_and_verifies_like_a_lock(
    locked: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKDOWN_KEY_PASSWORD", "sbom-test")
    assert cli("keygen", tmp_path / "release.key").code == 0
    sbom = export(cli, tmp_path, "cyclonedx", "--project", locked)
    assert cli("sign", sbom, "--key", tmp_path / "release.key").code == 0
    result = cli("verify", sbom, "--key", tmp_path / "release.pub")
    assert result.code == 0, result.err
    # A re-export of the same lock is the same bytes, so the signature still holds.
    again = export(cli, tmp_path, "cyclonedx", "--project", locked)
    again.rename(sbom)
    assert cli("verify", sbom, "--key", tmp_path / "release.pub").code == 0


def test_one_environment(locked: Path, cli: Cli, tmp_path: Path) -> None:
    out = export(cli, tmp_path, "cyclonedx", "--project", locked, "--extra", "fast")
    document = cyclonedx_valid(out.read_text(encoding="utf-8"))
    names = sorted(c["name"] for c in document["components"])
    assert names == ["alpha", "beta", "gamma", "speedup"]  # not winonly, not the dev group
    chosen = {c["purl"] for c in document["components"]}
    assert cyclonedx_graph(document) == {
        k: v for k, v in lock_graph(locked / "pylock.toml").items() if k in chosen
    }
    props = {p["name"]: p["value"] for p in document["metadata"]["properties"]}
    assert props["lockdown:scope"].startswith("Python ")
    assert props["lockdown:scope"].endswith("; extras fast")
    whole = json.loads(export(cli, tmp_path, "cyclonedx", "--project", locked).read_bytes())
    assert whole["serialNumber"] != document["serialNumber"]
    spdx = spdx_valid(export(cli, tmp_path, "spdx", "--project", locked, "--extra", "fast"))
    assert sorted(spdx_files(spdx)) == [
        f"pkg:pypi/{n}@{v}"
        for n, v in [("alpha", "1.1"), ("beta", "1.1"), ("gamma", "1.0"), ("speedup", "2.0")]
    ]


def test_without_the_lock_recording_dependencies_no_graph_is_claimed(
    locked: Path, cli: Cli, tmp_path: Path
) -> None:
    lock = locked / "pylock.toml"
    raw = tomllib.loads(lock.read_text(encoding="utf-8"))
    for package in raw["packages"]:
        package.pop("dependencies", None)
    bare = tmp_path / "pylock.toml"
    bare.write_text(tomli_w.dumps(raw), encoding="utf-8")
    document = cyclonedx_valid(export(cli, tmp_path, "cyclonedx", "--lock", bare).read_text())
    assert "dependencies" not in document  # unknown is not "depends on nothing"
    spdx = spdx_valid(export(cli, tmp_path, "spdx", "--lock", bare))
    assert not [r for r in spdx["relationships"] if r["relationshipType"] == "DEPENDS_ON"]


def test_a_recorded_graph_is_exported(locked: Path, cli: Cli, tmp_path: Path) -> None:
    lock = locked / "pylock.toml"
    raw = tomllib.loads(lock.read_text(encoding="utf-8"))
    graph = {"alpha": ["beta"], "speedup": ["beta"], "beta": [], "gamma": []}
    for package in raw["packages"]:
        package.pop("dependencies", None)
        if package["name"] in graph:
            package["dependencies"] = [{"name": n} for n in graph[package["name"]]]
    recorded = tmp_path / "pylock.toml"
    recorded.write_text(tomli_w.dumps(raw), encoding="utf-8")
    document = cyclonedx_valid(export(cli, tmp_path, "cyclonedx", "--lock", recorded).read_text())
    edges = {d["ref"]: sorted(d.get("dependsOn", [])) for d in document["dependencies"]}
    assert edges == {
        "pkg:pypi/alpha@1.1": ["pkg:pypi/beta@1.1"],
        "pkg:pypi/beta@1.1": [],
        "pkg:pypi/gamma@1.0": [],
        "pkg:pypi/speedup@2.0": ["pkg:pypi/beta@1.1"],
    }  # devtool and winonly record nothing: left out, not "no dependencies"
    spdx = spdx_valid(export(cli, tmp_path, "spdx", "--lock", recorded))
    assert {k: v for k, v in spdx_graph(spdx).items() if v} == {
        "pkg:pypi/alpha@1.1": ["pkg:pypi/beta@1.1"],
        "pkg:pypi/speedup@2.0": ["pkg:pypi/beta@1.1"],
    }


def test_publisher_identities_are_properties(locked: Path, cli: Cli, tmp_path: Path) -> None:
    lock = locked / "pylock.toml"
    raw = tomllib.loads(lock.read_text(encoding="utf-8"))
    identity = {"kind": "GitHub", "repository": "acme/alpha", "workflow": "release.yml"}
    for package in raw["packages"]:
        if package["name"] == "alpha":
            package["attestation-identities"] = [identity]
    attested = tmp_path / "pylock.toml"
    attested.write_text(tomli_w.dumps(raw), encoding="utf-8")
    document = cyclonedx_valid(export(cli, tmp_path, "cyclonedx", "--lock", attested).read_text())
    alpha = next(c for c in document["components"] if c["name"] == "alpha")
    assert alpha["properties"] == [
        {
            "name": "lockdown:attestation-identity",
            "value": '{"kind":"GitHub","repository":"acme/alpha","workflow":"release.yml"}',
        }
    ]
    assert all("properties" not in c for c in document["components"] if c["name"] != "alpha")
    spdx = spdx_valid(export(cli, tmp_path, "spdx", "--lock", attested))
    annotated = {p["name"]: p["annotations"] for p in spdx["packages"] if "annotations" in p}
    assert list(annotated) == ["alpha"]
    (annotation,) = annotated["alpha"]
    assert annotation["comment"] == (
        'lockdown:attestation-identity {"kind":"GitHub","repository":"acme/alpha",'
        '"workflow":"release.yml"}'
    )
    assert annotation["annotationType"] == "OTHER"


@pytest.mark.online
@pytest.mark.slow
def test_the_example_webapp_lock(tmp_path: Path, cli: Cli) -> None:
    """examples/webapp locked against the real default index: six platforms, extras, groups."""
    import shutil

    example = Path(__file__).resolve().parents[2] / "examples" / "webapp"
    root = tmp_path / "webapp"
    shutil.copytree(example, root, ignore=shutil.ignore_patterns(".venv*", "pylock.toml"))
    # --verify-artifacts host: this machine's files are downloaded and verified,
    # so their metadata (licenses) is there to read.
    result = cli("lock", "--project", root, "--verify-artifacts", "host")
    assert result.code == 0, result.err
    lock = root / "pylock.toml"
    cdx = cyclonedx_valid(export(cli, tmp_path, "cyclonedx", "--project", root).read_text())
    assert cyclonedx_files(cdx) == lock_files(lock)
    assert cyclonedx_graph(cdx) == lock_graph(lock)
    flask = next(p for p in lock_graph(lock) if p.startswith("pkg:pypi/flask@"))
    assert any(d.startswith("pkg:pypi/werkzeug@") for d in lock_graph(lock)[flask])
    # flask's verified wheel is in the artifact cache; its metadata declares a license.
    licensed = {c["name"] for c in cdx["components"] if c.get("licenses")}
    assert "flask" in licensed
    spdx = spdx_valid(export(cli, tmp_path, "spdx", "--project", root))
    assert spdx_files(spdx) == lock_files(lock)
    assert spdx_graph(spdx) == lock_graph(lock)
    # A real host is an SPDX download location (the test index's 127.0.0.1 is not).
    assert all(
        p["downloadLocation"].startswith("https://") for p in spdx["packages"] if p.get("checksums")
    )
    one = cyclonedx_valid(
        export(cli, tmp_path, "cyclonedx", "--project", root, "--extra", "postgres").read_text()
    )
    assert "psycopg" in {c["name"] for c in one["components"]}
    assert "ruff" not in {c["name"] for c in one["components"]}


# --- licenses, as the package metadata declares them ---------------------------------


@pytest.fixture
def licensed(tmp_path: Path, package_index: PackageIndex, cli: Cli) -> Path:
    """A lock of five packages declaring their licenses five ways (one declares none)."""
    package_index.add("expr", "1.0", metadata=["License-Expression: MIT OR Apache-2.0"])
    package_index.add(
        "classic",
        "1.0",
        metadata=["License: BSD-3-Clause", "Classifier: License :: OSI Approved :: BSD License"],
    )
    package_index.add("custom", "1.0", metadata=["License: Acme Internal Use 2.1"])
    package_index.add(
        "dual",
        "1.0",
        metadata=[
            "Classifier: License :: OSI Approved :: MIT License",
            "Classifier: License :: OSI Approved :: Apache Software License",
        ],
    )
    package_index.add("silent", "1.0")
    root = tmp_path / "licensed"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "lic"\nversion = "1"\nrequires-python = ">=3.10"\n'
        'dependencies = ["expr", "classic", "custom", "dual", "silent"]\n'
        f'[tool.lockdown]\nindex-url = "{package_index.url}"\n',
        encoding="utf-8",
    )
    # Every file downloaded and verified into the cache, where the SBOM reads licenses.
    assert cli("lock", "--project", root, "--verify-artifacts", "all").code == 0
    return root


def test_licenses_from_the_verified_files_metadata(
    licensed: Path, cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "sbom.cdx.json"
    result = cli("export", "--format", "cyclonedx", "--project", licensed, "-o", out)
    assert result.err == f"lockdown: wrote {out}\n"  # every package's metadata was read
    document = cyclonedx_valid(out.read_text())
    licenses = {c["name"]: c.get("licenses") for c in document["components"]}
    assert licenses == {
        "expr": [{"expression": "MIT OR Apache-2.0", "acknowledgement": "declared"}],
        "classic": [
            {"license": {"id": "BSD-3-Clause", "acknowledgement": "declared"}},
            {"license": {"name": "BSD License", "acknowledgement": "declared"}},
        ],
        "custom": [{"license": {"name": "Acme Internal Use 2.1", "acknowledgement": "declared"}}],
        "dual": [  # cyclonedx-python-lib sorts them
            {"license": {"name": "Apache Software License", "acknowledgement": "declared"}},
            {"license": {"name": "MIT License", "acknowledgement": "declared"}},
        ],
        "silent": None,
    }
    spdx = spdx_valid(export(cli, tmp_path, "spdx", "--project", licensed))
    declared = {
        p["name"]: (p["licenseDeclared"], p.get("licenseComments"))
        for p in spdx["packages"]
        if p.get("externalRefs")
    }
    assert declared == {
        "expr": ("MIT OR Apache-2.0", None),
        "classic": (
            "BSD-3-Clause",
            "declared by the package metadata: license: BSD-3-Clause; classifier: BSD License",
        ),
        "custom": ("LicenseRef-Acme-Internal-Use-2.1", None),
        "dual": (
            "NOASSERTION",
            "declared by the package metadata: classifier: MIT License; "
            "classifier: Apache Software License",
        ),
        "silent": ("NOASSERTION", None),
    }
    assert spdx["hasExtractedLicensingInfos"] == [
        {
            "licenseId": "LicenseRef-Acme-Internal-Use-2.1",
            "extractedText": "Acme Internal Use 2.1",
            "name": "Acme Internal Use 2.1",
            "comment": "as declared by the package metadata",
        }
    ]


def test_no_metadata_read_no_license(
    licensed: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An empty artifact cache: lockdown has read no package's metadata, so it says nothing.
    monkeypatch.setenv("LOCKDOWN_CACHE_DIR", str(tmp_path / "empty-cache"))
    out = tmp_path / "sbom.json"
    result = cli("export", "--format", "cyclonedx", "--project", licensed, "-o", out)
    assert result.code == 0
    assert result.err.splitlines()[0] == (
        "lockdown: no license for 5 of 5 packages: the lock records no licenses, and none "
        "of their files is in the artifact cache (lockdown install fetches them; lockdown "
        "lock records licenses), or they have only sdists"
    )
    document = cyclonedx_valid(out.read_text())
    assert [c.get("licenses") for c in document["components"]] == [None] * 5
    quiet = cli("export", "--format", "spdx", "--project", licensed, "-o", out, "--quiet")
    assert quiet.err == ""


# --- locks written by uv and pip ---------------------------------------------------


@pytest.fixture
def index(package_index: PackageIndex) -> PackageIndex:
    populate_catalog(package_index)
    return package_index


def _third_party_lock(tmp_path: Path, index: PackageIndex, tool: str) -> Path:
    work = tmp_path / tool
    work.mkdir()
    (work / "requirements.in").write_text("alpha\ngamma\nspeedup\n", encoding="utf-8")
    if tool == "uv":
        uv = Path(sys.executable).with_name("uv")
        cmd = [str(uv), "--no-config", "pip", "compile", "requirements.in", "--universal"]
        cmd += ["-o", "pylock.toml", "--index-url", index.url, "--no-header"]
    else:
        cmd = [sys.executable, "-m", "pip", "lock", "-r", "requirements.in", "-o", "pylock.toml"]
        cmd += ["--index-url", index.url, "--quiet"]
    proc = subprocess.run(
        cmd, cwd=work, env=isolated_env(), capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return work / "pylock.toml"


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["uv", "pip"])
def test_locks_written_by_uv_and_pip(
    tool: str, tmp_path: Path, index: PackageIndex, cli: Cli
) -> None:
    lock = _third_party_lock(tmp_path, index, tool)
    assert tomllib.loads(lock.read_text())["created-by"] == tool
    cdx = cyclonedx_valid(export(cli, tmp_path, "cyclonedx", "--lock", lock).read_text())
    assert cyclonedx_files(cdx) == lock_files(lock)
    assert sorted(lock_files(lock)) == [
        "pkg:pypi/alpha@1.1",
        "pkg:pypi/beta@1.1",
        "pkg:pypi/gamma@1.0",
        "pkg:pypi/speedup@2.0",
    ]
    spdx = spdx_valid(export(cli, tmp_path, "spdx", "--lock", lock))
    assert spdx_files(spdx) == lock_files(lock)
    assert "dependencies" not in cdx  # neither tool records the graph in pylock.toml


# --- bad input ---------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (b"not = [toml", 16, "pylock.toml: invalid TOML"),
        (b'lock-version = "1.0"\npackages = [{name = 3}]\n', 16, "not a valid PEP 751 lock"),
        (b'lock-version = "9.0"\ncreated-by = "x"\npackages = []\n', 16, "upgrade lockdown"),
    ],
)
@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
def test_bad_lock_writes_nothing(
    tmp_path: Path, cli: Cli, content: bytes, code: int, message: str, fmt: str
) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_bytes(content)
    out = tmp_path / "sbom.json"
    before = _snapshot(tmp_path)
    result = cli("export", "--format", fmt, "--lock", lock, "-o", out)
    assert result.code == code
    assert message in result.err
    assert result.err.startswith("lockdown: error: ")
    assert result.err.count("\n") == 1
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "linux-64"], "--platform selects from a conda lock"),
        (["--extra", "nope"], "extra 'nope' is not in the lock"),
        (["--python", "/nonexistent/python"], "cannot run interpreter /nonexistent/python"),
    ],
)
def test_bad_selection_writes_nothing(
    locked: Path, cli: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "sbom.json"
    result = cli("export", "--format", "cyclonedx", "--lock", locked / "pylock.toml", "-o", out)
    assert result.code == 0
    out.unlink()
    result = cli(
        "export", "--format", "cyclonedx", "--lock", locked / "pylock.toml", "-o", out, *args
    )
    assert result.code == 64
    assert message in result.err
    assert not out.exists()


def test_missing_lock(tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "sbom.json"
    result = cli("export", "--format", "spdx", "--lock", tmp_path / "pylock.toml", "-o", out)
    assert result.code == 64
    assert (
        result.err
        == f"lockdown: error: {tmp_path / 'pylock.toml'}: lock file not found; run lockdown lock\n"
    )
    assert not out.exists()


def test_platform_needs_an_sbom_format(locked: Path, cli: Cli) -> None:
    result = cli("export", "--project", locked, "--platform", "linux-64")
    assert result.code == 64
    assert "--platform selects a conda lock's platform for --format cyclonedx|spdx" in result.err


@pytest.mark.parametrize(
    ("missing", "fmt"),
    [("cyclonedx", "cyclonedx"), ("spdx_tools", "spdx"), ("packageurl", "cyclonedx")],
)
def test_without_the_sbom_extra_the_command_says_how_to_get_it(
    locked: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str, fmt: str
) -> None:
    for name in list(sys.modules):
        if name == missing or name.startswith(missing + "."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, missing, None)  # as if it were not installed
    out = tmp_path / "sbom.json"
    result = cli("export", "--project", locked, "--format", fmt, "-o", out)
    assert result.code == 64
    assert result.err == (
        "lockdown: error: SBOM export needs cyclonedx-python-lib and spdx-tools "
        f"({missing} is missing); pip install 'lockdown[sbom]'\n"
    )
    assert not out.exists()


# --- conda locks -------------------------------------------------------------------


@pytest.fixture
def conda_locked(tmp_path: Path) -> Path:
    """A conda lock from the local channel: alpha 1.1 → beta, for this platform and osx-arm64."""
    from lockdown.commands.lock import lock_conda
    from lockdown.env.conda_meta import current_platform
    from tests.support.condachannel import CondaChannel

    channel = CondaChannel(tmp_path / "channel")
    channel.add("alpha", "1.1", depends=["beta >=1"])
    channel.add("beta", "2.0", fmt="conda")
    channel.index()
    root = tmp_path / "env"
    root.mkdir()
    (root / "environment.yml").write_text(
        f"name: svc\nchannels:\n  - {channel.file_url}\ndependencies:\n  - alpha\n"
        f"platforms:\n  - {current_platform()}\n  - osx-arm64\n",
        encoding="utf-8",
    )
    lock_conda(root)
    return root / "conda-lock.yml"


def conda_entries(lock: Path) -> list[dict[str, Any]]:
    import yaml

    entries: list[dict[str, Any]] = yaml.safe_load(lock.read_text(encoding="utf-8"))["package"]
    return entries


@pytest.mark.slow
def test_conda_lock_as_cyclonedx(conda_locked: Path, cli: Cli, tmp_path: Path) -> None:
    from packageurl import PackageURL

    document = cyclonedx_valid(
        export(cli, tmp_path, "cyclonedx", "--lock", conda_locked).read_text()
    )
    entries = conda_entries(conda_locked)
    # noarch archives locked for two platforms are one component each.
    by_url = {c["externalReferences"][0]["url"]: c for c in document["components"]}
    assert set(by_url) == {e["url"] for e in entries}
    for entry in entries:
        component = by_url[entry["url"]]
        assert (component["name"], component["version"]) == (entry["name"], entry["version"])
        hashes = {h["alg"]: h["content"] for h in component["hashes"]}
        assert hashes == {"MD5": entry["hash"]["md5"], "SHA-256": entry["hash"]["sha256"]}
        reference = component["externalReferences"][0]
        assert {h["alg"]: h["content"] for h in reference["hashes"]} == hashes
        purl = PackageURL.from_string(component["purl"])
        assert purl.type == "conda"
        assert purl.qualifiers == {
            "build": entry["build"],
            "channel": entry["url"].rsplit("/", 2)[0],
            "subdir": "noarch",
            "type": "conda" if entry["url"].endswith(".conda") else "tar.bz2",
        }
    # The graph conda-lock.yml records, by name, for each platform: alpha needs beta.
    names = {c["bom-ref"]: c["name"] for c in document["components"]}
    edges = {
        names[d["ref"]]: sorted(names[r] for r in d.get("dependsOn", []))
        for d in document["dependencies"]
    }
    assert edges == {e["name"]: sorted(e["dependencies"]) for e in entries}
    assert edges == {"alpha": ["beta"], "beta": []}


@pytest.mark.slow
def test_conda_lock_as_spdx_with_licenses(conda_locked: Path, cli: Cli, tmp_path: Path) -> None:
    from lockdown.commands.install import install_conda

    # Installing verifies the archives into the artifact cache; their index.json declares MIT.
    install_conda(conda_locked, tmp_path / "prefix")
    document = spdx_valid(export(cli, tmp_path, "spdx", "--lock", conda_locked))
    packages = [p for p in document["packages"] if p.get("externalRefs")]
    assert sorted(p["name"] for p in packages) == ["alpha", "beta"]
    for package in packages:
        sums = {c["algorithm"] for c in package["checksums"]}
        assert sums == {"MD5", "SHA256"}
        assert package["licenseDeclared"] == "MIT"
        assert package["sourceInfo"].startswith("downloaded from file://")
    depends = [r for r in document["relationships"] if r["relationshipType"] == "DEPENDS_ON"]
    assert len(depends) == 1
    cdx = cyclonedx_valid(export(cli, tmp_path, "cyclonedx", "--lock", conda_locked).read_text())
    assert {c["name"]: c["licenses"] for c in cdx["components"]} == {
        "alpha": [{"license": {"id": "MIT", "acknowledgement": "declared"}}],
        "beta": [{"license": {"id": "MIT", "acknowledgement": "declared"}}],
    }


@pytest.mark.slow
def test_conda_platform_selection(conda_locked: Path, cli: Cli, tmp_path: Path) -> None:
    whole = json.loads(export(cli, tmp_path, "cyclonedx", "--lock", conda_locked).read_bytes())
    one = cyclonedx_valid(
        export(
            cli, tmp_path, "cyclonedx", "--lock", conda_locked, "--platform", "osx-arm64"
        ).read_text()
    )
    props = {p["name"]: p["value"] for p in one["metadata"]["properties"]}
    assert props["lockdown:scope"] == "conda platform osx-arm64"
    assert one["serialNumber"] != whole["serialNumber"]
    assert sorted(c["name"] for c in one["components"]) == ["alpha", "beta"]
    out = tmp_path / "bad.json"
    for args, message in [
        (["--platform", "win-arm64"], "platform 'win-arm64' is not in the lock (locked for "),
        (["--python", sys.executable], "for a conda lock use --platform"),
    ]:
        result = cli("export", "--format", "spdx", "--lock", conda_locked, "-o", out, *args)
        assert result.code == 64
        assert message in result.err
        assert not out.exists()


def test_bad_conda_lock_writes_nothing(tmp_path: Path, cli: Cli) -> None:
    lock = tmp_path / "conda-lock.yml"
    lock.write_text("version: 1\nmetadata: {platforms: [linux-64]}\npackage: [{name: x}]\n")
    out = tmp_path / "sbom.json"
    result = cli("export", "--format", "cyclonedx", "--lock", lock, "-o", out)
    assert result.code == 16
    assert result.err == (f"lockdown: error: {lock}: package[0].manager must be 'conda' or 'pip'\n")
    assert not out.exists()
