"""The test package index is real: pip and uv install from it (JSON and HTML, wheels and sdists).

Every installer runs in a scrubbed environment (``isolated_env``) against a
fresh target venv, so nothing but this index can satisfy a requirement.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from .isolation import isolated_env
from .pkgindex import (
    JSON_CONTENT_TYPE,
    PackageIndex,
    build_sdist,
    build_wheel,
    negotiate,
)

UV = Path(sys.executable).parent / "uv"
HTML_V1 = "application/vnd.pypi.simple.v1+html"


# --- helpers ---


def run(argv: list[str | Path], *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run an installer hermetically; never raise, so tests can assert on failures."""
    return subprocess.run(
        [str(arg) for arg in argv],
        env=isolated_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def new_venv(path: Path) -> Path:
    """Create an empty venv (no pip: nothing in it but what an installer puts there)."""
    result = run([sys.executable, "-m", "venv", "--without-pip", path])
    assert result.returncode == 0, result.stderr
    return path / "bin" / "python"


def installed_version(python: Path, module: str) -> str:
    """Import ``module`` in the target venv and return its ``__version__``."""
    code = f"import {module}; print({module}.__version__)"
    result = run([python, "-c", code])
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def uv_install(index: PackageIndex, python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cache = python.parent.parent.parent / f"{python.parent.parent.name}-uv-cache"
    return run(
        [
            *(UV, "pip", "install", "--no-config", "--cache-dir", cache, "--python", python),
            *("--index-url", index.url, *args),
        ]
    )


def get(url: str, accept: str | None = None) -> tuple[str, bytes]:
    """GET ``url``; return (Content-Type, body)."""
    headers = {} if accept is None else {"Accept": accept}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        return str(response.headers["Content-Type"]), response.read()


def status(url: str) -> int:
    """GET ``url`` and return the HTTP status, closing error responses too."""
    try:
        with urllib.request.urlopen(url) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def get_json(url: str) -> dict[str, object]:
    content_type, body = get(url, JSON_CONTENT_TYPE)
    assert content_type == JSON_CONTENT_TYPE
    document = json.loads(body)
    assert isinstance(document, dict)
    return document


def json_files(index: PackageIndex, project: str) -> dict[str, dict[str, object]]:
    files = get_json(index.url + f"{project}/")["files"]
    assert isinstance(files, list)
    return {entry["filename"]: entry for entry in files}


@pytest.fixture(scope="module")
def pip_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the pip bundled with Python (ensurepip: offline), made once per module."""
    path = tmp_path_factory.mktemp("pip-venv") / "venv"
    result = run([sys.executable, "-m", "venv", path])
    assert result.returncode == 0, result.stderr
    return path / "bin" / "python"


def pip_install(
    pip_python: Path, index: PackageIndex, target: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return run(
        [
            *(pip_python, "-m", "pip", "--python", target, "install", "--no-cache-dir"),
            *("--index-url", index.url, *args),
        ]
    )


@pytest.fixture
def released(package_index: PackageIndex) -> PackageIndex:
    """An index with ``app`` 1.0 depending on ``lib>=2``, ``lib`` 2.0 and a yanked ``lib`` 2.1."""
    package_index.add("app", "1.0", dependencies=["lib>=2"], console_scripts={"app": "app:main"})
    package_index.add("lib", "2.0")
    package_index.add("lib", "2.1", yanked="broken build")
    package_index.add("lib", "3.0", requires_python=">=4")
    return package_index


# --- artifacts ---


def test_wheel_is_a_deterministic_well_formed_wheel(tmp_path: Path) -> None:
    first, second = (
        build_wheel(
            tmp_path / directory,
            "Foo.Bar",
            "1.0",
            dependencies=["lib>=2", "other; python_version < '3.8'"],
            extras={"Fast_Mode": ["speedups>=1; sys_platform == 'linux'"]},
            requires_python=">=3.9",
            console_scripts={"foo-bar": "foo_bar:main"},
        )
        for directory in ("a", "b")
    )

    assert first.name == "foo_bar-1.0-py3-none-any.whl"
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        metadata = archive.read("foo_bar-1.0.dist-info/METADATA").decode()
        record = archive.read("foo_bar-1.0.dist-info/RECORD").decode()
        rows = list(csv.reader(io.StringIO(record)))
        for name, digest, size in rows[:-1]:
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert (digest, size) == (f"sha256={expected.decode()}", str(len(data)))
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        entry_points = archive.read("foo_bar-1.0.dist-info/entry_points.txt").decode()
    assert names[-1] == "foo_bar-1.0.dist-info/RECORD"
    assert rows[-1] == ["foo_bar-1.0.dist-info/RECORD", "", ""]
    assert sorted(row[0] for row in rows) == sorted(names)
    assert metadata.splitlines() == [
        "Metadata-Version: 2.1",
        "Name: Foo.Bar",
        "Version: 1.0",
        "Summary: Foo.Bar 1.0, built for lockdown's tests",
        "Requires-Python: >=3.9",
        "Requires-Dist: lib>=2",
        'Requires-Dist: other; python_version < "3.8"',
        "Provides-Extra: fast-mode",
        'Requires-Dist: speedups>=1; sys_platform == "linux" and extra == "fast-mode"',
    ]
    assert entry_points == "[console_scripts]\nfoo-bar = foo_bar:main\n"


def test_wheel_tags_and_extra_files(tmp_path: Path) -> None:
    wheel = build_wheel(
        tmp_path,
        "native",
        "2.0.0",
        tag="cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
        files={"native/data.txt": b"payload"},
    )
    assert wheel.name == "native-2.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("native/data.txt") == b"payload"
        assert archive.read("native/__init__.py").endswith(b'__version__ = "2.0.0"\n')
        assert archive.read("native-2.0.0.dist-info/WHEEL").decode().splitlines()[2:] == [
            "Root-Is-Purelib: false",
            "Tag: cp311-cp311-manylinux_2_17_x86_64",
            "Tag: cp311-cp311-manylinux2014_x86_64",
        ]


def test_sdist_is_deterministic_and_its_backend_rebuilds_the_served_wheel(
    tmp_path: Path,
) -> None:
    sdist = build_sdist(tmp_path / "a", "Foo.Bar", "1.0", dependencies=["lib"])
    again = build_sdist(tmp_path / "b", "Foo.Bar", "1.0", dependencies=["lib"])
    wheel = build_wheel(tmp_path / "w", "Foo.Bar", "1.0", dependencies=["lib"])

    assert sdist.name == "foo_bar-1.0.tar.gz"
    assert sdist.read_bytes() == again.read_bytes()
    with gzip.open(sdist) as compressed:
        assert compressed.read(1)  # a valid gzip stream
    assert sdist.read_bytes()[4:8] == b"\0\0\0\0"  # gzip header mtime
    with tarfile.open(sdist) as archive:
        assert {m.name for m in archive.getmembers() if m.isfile()} == {
            "foo_bar-1.0/PKG-INFO",
            "foo_bar-1.0/backend.py",
            "foo_bar-1.0/pyproject.toml",
            "foo_bar-1.0/src/foo_bar/__init__.py",
        }
        archive.extractall(tmp_path / "src", filter="data")
    tree = tmp_path / "src" / "foo_bar-1.0"
    out = tmp_path / "built"
    out.mkdir()
    # The same hooks a frontend calls, in a bare interpreter with only the tree on sys.path.
    code = (
        "import sys; sys.path.insert(0, '.'); import backend; "
        "assert backend.get_requires_for_build_wheel() == []; "
        "print(backend.prepare_metadata_for_build_wheel(sys.argv[1])); "
        "print(backend.build_wheel(sys.argv[1]))"
    )
    result = run([sys.executable, "-I", "-c", code, out], cwd=tree)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["foo_bar-1.0.dist-info", wheel.name]
    assert (out / wheel.name).read_bytes() == wheel.read_bytes()
    assert (out / "foo_bar-1.0.dist-info" / "METADATA").read_bytes() == (
        tree / "PKG-INFO"
    ).read_bytes()


# --- pages ---


def test_json_page_carries_hashes_sizes_upload_times_yanks(released: PackageIndex) -> None:
    document = get_json(released.url + "lib/")
    files = json_files(released, "lib")

    assert document["meta"] == {"api-version": "1.1"}
    assert document["name"] == "lib"
    assert document["versions"] == ["2.0", "2.1", "3.0"]
    wheel = released.file("lib-2.0-py3-none-any.whl")
    assert files["lib-2.0-py3-none-any.whl"] == {
        "filename": "lib-2.0-py3-none-any.whl",
        "url": "../../files/lib-2.0-py3-none-any.whl",
        "hashes": {"sha256": wheel.sha256},
        "size": wheel.size,
        "upload-time": "2025-01-01T00:01:00Z",
        "yanked": False,
    }
    assert wheel.sha256 == hashlib.sha256(wheel.path.read_bytes()).hexdigest()
    assert files["lib-2.1.tar.gz"]["yanked"] == "broken build"
    assert files["lib-3.0.tar.gz"]["requires-python"] == ">=4"
    assert files["lib-3.0.tar.gz"]["upload-time"] == "2025-01-01T00:03:00Z"


def test_html_page_is_pep_503(released: PackageIndex) -> None:
    released.yank("app", "1.0")
    content_type, body = get(released.url + "lib/")
    page = body.decode()

    assert content_type == "text/html; charset=utf-8"
    lib3 = released.file("lib-3.0-py3-none-any.whl")
    assert (
        f'<a href="../../files/lib-3.0-py3-none-any.whl#sha256={lib3.sha256}"'
        ' data-requires-python="&gt;=4">lib-3.0-py3-none-any.whl</a>'
    ) in page
    assert 'data-yanked="broken build">lib-2.1.tar.gz</a>' in page
    assert '<meta name="pypi:repository-version" content="1.1">' in page
    _, app_page = get(released.url + "app/", HTML_V1)
    assert app_page.count(b'data-yanked=""') == 2


def test_switches_drop_fields_and_json(released: PackageIndex) -> None:
    released.upload_times = False
    released.sizes = False
    entry = json_files(released, "lib")["lib-2.0.tar.gz"]
    assert "upload-time" not in entry
    assert "size" not in entry

    released.json_api = False
    content_type, body = get(released.url + "lib/", JSON_CONTENT_TYPE)
    assert content_type == "text/html; charset=utf-8"
    assert body.startswith(b"<!DOCTYPE html>")


def test_upload_time_hash_and_removal_controls(released: PackageIndex) -> None:
    moment = datetime(2024, 6, 1, 12, 30, 15, 250000, tzinfo=timezone.utc)
    released.set_upload_time("lib-2.0.tar.gz", moment)
    released.corrupt_hash("lib-2.0-py3-none-any.whl")
    released.remove("lib-3.0.tar.gz")
    files = json_files(released, "lib")

    assert files["lib-2.0.tar.gz"]["upload-time"] == "2024-06-01T12:30:15.250000Z"
    wheel = released.file("lib-2.0-py3-none-any.whl")
    assert files[wheel.filename]["hashes"] == {"sha256": wheel.advertised_sha256}
    assert wheel.advertised_sha256 != wheel.sha256
    _, page = get(released.url + "lib/")
    assert f"#sha256={wheel.advertised_sha256}".encode() in page
    assert "lib-3.0.tar.gz" not in files
    assert status(released.files_url + "lib-3.0.tar.gz") == 404
    with pytest.raises(ValueError, match="has no time zone"):
        released.set_upload_time("lib-2.0.tar.gz", datetime(2024, 1, 1))


def test_core_metadata_files(released: PackageIndex) -> None:
    assert "core-metadata" not in json_files(released, "lib")["lib-2.0-py3-none-any.whl"]
    assert status(released.files_url + "lib-2.0-py3-none-any.whl.metadata") == 404

    released.serve_metadata = True
    entry = json_files(released, "lib")["lib-2.0-py3-none-any.whl"]
    _, metadata = get(released.files_url + "lib-2.0-py3-none-any.whl.metadata")
    digest = hashlib.sha256(metadata).hexdigest()
    assert metadata.startswith(b"Metadata-Version: 2.1\nName: lib\nVersion: 2.0\n")
    assert entry["core-metadata"] == entry["dist-info-metadata"] == {"sha256": digest}
    assert "core-metadata" not in json_files(released, "lib")["lib-2.0.tar.gz"]
    _, page = get(released.url + "lib/")
    assert f'data-core-metadata="sha256={digest}"'.encode() in page


def test_root_listing_name_normalization_and_404(released: PackageIndex) -> None:
    released.add("Zope.Interface", "5.0")
    root = get_json(released.url)
    assert root["projects"] == [{"name": "app"}, {"name": "lib"}, {"name": "Zope.Interface"}]
    _, html_root = get(released.url)
    assert b'<a href="zope-interface/">Zope.Interface</a>' in html_root

    # urllib follows the redirect to the normalized name, as installers do.
    with urllib.request.urlopen(released.url + "Zope_Interface") as response:
        assert response.geturl() == released.url + "zope-interface/"
    assert released.requests[-2:] == ["/simple/Zope_Interface", "/simple/zope-interface/"]

    for missing in ("simple/nothing/", "simple/app/extra/", "other/", "files/nothing.whl"):
        assert status(f"{released.base_url}/{missing}") == 404, missing


@pytest.mark.parametrize(
    ("accept", "json_api", "expected"),
    [
        (None, True, "text/html"),
        ("*/*", True, "text/html"),
        ("text/html", True, "text/html"),
        (JSON_CONTENT_TYPE, True, JSON_CONTENT_TYPE),
        ("application/vnd.pypi.simple.latest+json", True, JSON_CONTENT_TYPE),
        (f"{JSON_CONTENT_TYPE}, {HTML_V1};q=0.1, text/html;q=0.01", True, JSON_CONTENT_TYPE),
        (f"{JSON_CONTENT_TYPE};q=0.5, {HTML_V1}", True, HTML_V1),
        (f"{JSON_CONTENT_TYPE}, {HTML_V1};q=0.1, text/html;q=0.01", False, HTML_V1),
        (f"{JSON_CONTENT_TYPE}", False, "text/html"),
        ("text/html;q=0, */*", True, HTML_V1),
    ],
)
def test_content_negotiation(accept: str | None, json_api: bool, expected: str) -> None:
    assert negotiate(accept, json_api=json_api) == expected


# --- real installers ---


@pytest.mark.slow
@pytest.mark.parametrize("json_api", [True, False], ids=["json", "html"])
def test_uv_installs_with_dependencies(
    released: PackageIndex, tmp_path: Path, json_api: bool
) -> None:
    released.json_api = json_api
    python = new_venv(tmp_path / "target")

    result = uv_install(released, python, "APP")

    assert result.returncode == 0, result.stderr
    assert installed_version(python, "app") == "1.0"
    # Not the yanked 2.1, not 3.0 (requires-python >=4).
    assert installed_version(python, "lib") == "2.0"
    assert (python.parent / "app").is_file()
    served = {content_type for _, content_type in released.pages_served}
    assert served == ({JSON_CONTENT_TYPE} if json_api else {HTML_V1})


@pytest.mark.slow
def test_uv_builds_and_installs_the_sdist(released: PackageIndex, tmp_path: Path) -> None:
    python = new_venv(tmp_path / "target")

    result = uv_install(released, python, "--no-binary", ":all:", "app")

    assert result.returncode == 0, result.stderr
    assert installed_version(python, "lib") == "2.0"
    assert "Built app==1.0" in result.stderr
    assert "Built lib==2.0" in result.stderr
    assert {"/files/app-1.0.tar.gz", "/files/lib-2.0.tar.gz"} <= set(released.requests)


@pytest.mark.slow
def test_uv_refuses_a_corrupted_hash(released: PackageIndex, tmp_path: Path) -> None:
    released.corrupt_hash("lib-2.0-py3-none-any.whl")
    python = new_venv(tmp_path / "target")

    result = uv_install(released, python, "app")

    assert result.returncode != 0
    assert "Hash mismatch for `lib==2.0`" in result.stderr


@pytest.mark.slow
def test_uv_installs_from_a_static_file_index(released: PackageIndex, tmp_path: Path) -> None:
    file_url = released.write_file_index(tmp_path / "static")
    released.stop()  # prove the server is not involved
    python = new_venv(tmp_path / "target")

    result = run(
        [
            *(UV, "pip", "install", "--no-config", "--no-cache", "--python", python),
            *("--index-url", file_url, "app"),
        ]
    )

    assert result.returncode == 0, result.stderr
    assert installed_version(python, "lib") == "2.0"


@pytest.mark.slow
@pytest.mark.parametrize("json_api", [True, False], ids=["json", "html"])
def test_pip_installs_with_dependencies(
    released: PackageIndex, pip_python: Path, tmp_path: Path, json_api: bool
) -> None:
    released.json_api = json_api
    released.serve_metadata = True
    target = new_venv(tmp_path / "target")

    result = pip_install(pip_python, released, target, "app")

    assert result.returncode == 0, result.stderr
    assert installed_version(target, "app") == "1.0"
    assert installed_version(target, "lib") == "2.0"
    served = {content_type for _, content_type in released.pages_served}
    assert served == ({JSON_CONTENT_TYPE} if json_api else {HTML_V1})


@pytest.mark.slow
def test_pip_builds_and_installs_the_sdist(
    released: PackageIndex, pip_python: Path, tmp_path: Path
) -> None:
    target = new_venv(tmp_path / "target")

    result = pip_install(pip_python, released, target, "--no-binary", ":all:", "app")

    assert result.returncode == 0, result.stderr
    assert installed_version(target, "app") == "1.0"
    assert "/files/lib-2.0.tar.gz" in released.requests


@pytest.mark.slow
def test_pip_refuses_a_corrupted_hash(
    released: PackageIndex, pip_python: Path, tmp_path: Path
) -> None:
    released.corrupt_hash("app-1.0-py3-none-any.whl")
    target = new_venv(tmp_path / "target")

    result = pip_install(pip_python, released, target, "app")

    assert result.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in result.stderr
    assert not list(target.parent.parent.glob("lib/python*/site-packages/app*"))
