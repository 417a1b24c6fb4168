"""Hostile files for every parser lockdown owns or feeds: success or lockdown's own error.

Property tests (hypothesis) throw arbitrary bytes and arbitrary structured
documents at each parser, and a corpus of crafted inputs (deep nesting,
billion laughs, NUL bytes, invalid UTF-8, absurd numbers) follows. The only
outcomes allowed: a result, or a :class:`~lockdown.errors.LockdownError` whose
message is one line. Parsers documented never to raise (RECORD, METADATA,
direct_url.json, the fast path's cache) must not raise at all.

``make fuzz`` runs the same properties with many more examples
(``HYPOTHESIS_PROFILE=fuzz``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import yaml
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from lockdown.conda_inputs import read_environment_yml
from lockdown.config import parse_config
from lockdown.drift import fastpath
from lockdown.drift.files import parse_record
from lockdown.env.python_env import _direct_url, read_dist_info
from lockdown.errors import LockdownError
from lockdown.lock.condalock import parse_conda_lock_bytes
from lockdown.lock.pylock import parse_lock_bytes
from lockdown.policy.approvals import read_approvals
from lockdown.resolve.index import _Page
from lockdown.sign.keys import verify_with_key

#: Scalars TOML, YAML and JSON all write.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
KEYS = st.sampled_from(
    [
        "lock-version",
        "environments",
        "packages",
        "name",
        "version",
        "wheels",
        "sdist",
        "url",
        "hashes",
        "sha256",
        "md5",
        "size",
        "upload-time",
        "marker",
        "index",
        "tool",
        "lockdown",
        "metadata",
        "package",
        "platforms",
        "channels",
        "manager",
        "platform",
        "hash",
        "approval",
        "package",
        "reason",
        "approved-by",
        "approved-at",
        "expires",
        "environments",
        "index-url",
        "policy",
        "trust",
        "signers",
        "dependencies",
    ]
) | st.text(min_size=1, max_size=12)
DOCUMENTS: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)
TABLES = st.dictionaries(KEYS, DOCUMENTS, max_size=6)


def only_lockdown_errors(call: Callable[[], object]) -> None:
    """``call`` returns, or raises lockdown's own error with a one-line message."""
    message = None
    try:
        call()
    except LockdownError as exc:
        message = str(exc)
    if message is not None:
        assert message, "an error must say what happened"
        assert "\n" not in message, message


def toml_bytes(table: dict[str, Any]) -> bytes | None:
    try:
        return tomli_w.dumps(_toml_safe(table)).encode()
    except (TypeError, ValueError):
        return None


def _toml_safe(value: Any) -> Any:
    """TOML has no null: drop them (tomli-w refuses None)."""
    if isinstance(value, dict):
        return {k: _toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_toml_safe(v) for v in value if v is not None]
    return value


# --- PEP 751 locks ---


@given(st.binary(max_size=2000))
def test_pylock_from_arbitrary_bytes(data: bytes) -> None:
    only_lockdown_errors(lambda: parse_lock_bytes(data, Path("pylock.toml")))


@given(TABLES)
def test_pylock_from_arbitrary_toml(table: dict[str, Any]) -> None:
    data = toml_bytes({"lock-version": "1.0", "created-by": "x", **table})
    if data is not None:
        only_lockdown_errors(lambda: parse_lock_bytes(data, Path("pylock.toml")))


# --- conda-lock.yml and environment.yml ---


@given(st.binary(max_size=2000))
def test_conda_lock_from_arbitrary_bytes(data: bytes) -> None:
    only_lockdown_errors(lambda: parse_conda_lock_bytes(data, Path("conda-lock.yml")))


@given(TABLES)
def test_conda_lock_from_arbitrary_yaml(table: dict[str, Any]) -> None:
    doc = {"version": 1, **table}
    data = yaml.safe_dump(doc).encode()
    only_lockdown_errors(lambda: parse_conda_lock_bytes(data, Path("conda-lock.yml")))


@given(st.binary(max_size=1000))
def test_environment_yml_from_arbitrary_bytes(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("env") / "environment.yml"
    path.write_bytes(data)
    only_lockdown_errors(lambda: read_environment_yml(path))


# --- approvals and config ---


@given(st.binary(max_size=1000) | TABLES.map(lambda t: toml_bytes({"approval": [t]}) or b""))
def test_approvals_from_arbitrary_files(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("approvals") / "lockdown-approvals.toml"
    path.write_bytes(data)
    only_lockdown_errors(lambda: read_approvals(path))


@given(TABLES)
def test_config_from_arbitrary_tables(table: dict[str, Any]) -> None:
    only_lockdown_errors(
        lambda: parse_config(table, source=Path("pyproject.toml"), project_dir=Path("/p"))
    )


# --- installed environments: never an error, only findings ---


@given(st.text(max_size=2000))
def test_record_parsing_never_raises(text: str) -> None:
    for entry in parse_record(text):
        assert entry.path


@given(st.binary(max_size=3000))
def test_metadata_reading_never_raises(tmp_path_factory: Any, data: bytes) -> None:
    info = tmp_path_factory.mktemp("dist") / "x-1.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(data)
    dist = read_dist_info(info)
    assert dist is None or (dist.name and dist.version)


@given(st.binary(max_size=1000))
def test_direct_url_reading_never_raises(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("du") / "direct_url.json"
    path.write_bytes(data)
    assert _direct_url(str(path)) is None or isinstance(_direct_url(str(path)), dict)


@given(st.text(max_size=2000))
def test_fast_path_cache_never_trusts_a_bad_entry(tmp_path_factory: Any, text: str) -> None:
    root = tmp_path_factory.mktemp("cache")
    (root / "check").mkdir()
    (root / "check" / "k.txt").write_text(text, encoding="utf-8", errors="surrogateescape")
    entry = fastpath.load(root, "k")
    assert entry is None or isinstance(entry, fastpath.CachedTarget)


# --- what servers send: simple-index pages and signature bundles ---

PAGE = _Page(
    index_url="https://index.test/simple/", project="demo", url="https://index.test/simple/demo/"
)


@given(st.binary(max_size=2000) | DOCUMENTS.map(lambda d: json.dumps(d).encode()))
def test_simple_index_json_pages(body: bytes) -> None:
    only_lockdown_errors(lambda: PAGE.parse_json(body))


@given(
    st.binary(max_size=2000) | st.text(max_size=500).map(lambda t: f"<a href='{t}'>x</a>".encode())
)
def test_simple_index_html_pages(body: bytes) -> None:
    only_lockdown_errors(lambda: PAGE.parse_html(body, "utf-8"))


KEY = ec.generate_private_key(ec.SECP256R1()).public_key()


@given(st.binary(max_size=2000) | DOCUMENTS.map(lambda d: json.dumps(d).encode()))
def test_signature_bundles(bundle: bytes) -> None:
    with pytest.raises(LockdownError) as caught:
        verify_with_key(b"data", bundle, KEY, key_label="test key", where="f")
    assert "\n" not in str(caught.value)


# --- a corpus of crafted inputs ---

DEEP = 100_000


@pytest.mark.parametrize(
    ("parser", "data"),
    [
        ("pylock", b"a = " + b"[" * DEEP + b"]" * DEEP),
        ("pylock", b"lock-version = '1.0'\x00\n"),
        ("pylock", b"\xff\xfe not utf-8"),
        ("pylock", b"lock-version = '1.0'\nsize = 99999999999999999999999999999999999999\n"),
        ("conda", b"version: 1\npackage: " + b"[" * DEEP + b"]" * DEEP),
        ("conda", b"version: 1\nmetadata: " + b"{a: " * 5000 + b"1" + b"}" * 5000),
        (
            "conda",
            b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
            b"version: 1\nmetadata: {platforms: [*d], channels: []}\npackage: [*d]\n",
        ),
        ("bundle", b"[" * DEEP + b"]" * DEEP),
        ("bundle", b'{"mediaType": "x", "mediaType": "y"}'),
        ("index", b"[" * DEEP + b"]" * DEEP),
        ("index", b'{"meta": {"api-version": "1.0"}, "files": [{"filename": "\\u0000"}]}'),
    ],
)
def test_crafted_inputs(parser: str, data: bytes) -> None:
    calls: dict[str, Callable[[], object]] = {
        "pylock": lambda: parse_lock_bytes(data, Path("pylock.toml")),
        "conda": lambda: parse_conda_lock_bytes(data, Path("conda-lock.yml")),
        "bundle": lambda: verify_with_key(b"d", data, KEY, key_label="k", where="f"),
        "index": lambda: PAGE.parse_json(data),
    }
    with pytest.raises(LockdownError) as caught:
        calls[parser]()
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "content",
    [b"[" * DEEP + b"]" * DEEP, b"a = " + b"[" * 5000 + b"]" * 5000, b"\x00" * 100],
)
def test_crafted_config_and_approvals(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "pyproject.toml").write_bytes(content)
    (tmp_path / "lockdown-approvals.toml").write_bytes(content)
    from lockdown.config import load_config

    for call in (
        lambda: load_config(tmp_path),
        lambda: read_approvals(tmp_path / "lockdown-approvals.toml"),
    ):
        with pytest.raises(LockdownError) as caught:
            call()
        assert "\n" not in str(caught.value)


def test_deeply_nested_metadata_and_direct_url_are_not_errors(tmp_path: Path) -> None:
    info = tmp_path / "x-1.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(b"Metadata-Version: 2.1\nName: x\nVersion: 1\n\n")
    (info / "direct_url.json").write_bytes(b"[" * DEEP + b"]" * DEEP)
    dist = read_dist_info(info)
    assert dist is not None
    assert dist.direct_url == {"url": "<unreadable direct_url.json>"}


def test_every_error_message_is_one_line() -> None:
    error = LockdownError("what happened:\n    detail\n\n    ^ here", hint="do\nthis")
    assert str(error) == "what happened: detail ^ here; do this"
    table = {"lock-version": "1.0", "created-by": "x", "environments": [""]}
    with pytest.raises(LockdownError) as caught:
        parse_lock_bytes(tomli_w.dumps(table).encode(), Path("pylock.toml"))
    assert "\n" not in str(caught.value)
    assert "environments[0]" in str(caught.value)


def test_non_ascii_digits_are_not_sizes() -> None:
    # str.isdigit() is true for "²"; int() is not: a size must be ASCII digits.
    assert parse_record("pkg/mod.py,sha256=AAAA,\u00b2\n")[0].size is None


def test_a_cache_entry_with_non_ascii_digits_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "check").mkdir()
    (tmp_path / "check" / "k.txt").write_text(
        f"{fastpath.MAGIC}\nprefix\t/p\nexecutable\t/p/bin/python\nin_venv\t1\n"
        "python_version\t3.11\nsel\ta\t1\tu\tf\ts\t\u00b2\t0\nend",
        encoding="utf-8",
    )
    assert fastpath.load(tmp_path, "k") is None


def test_absurdly_large_files_are_refused_without_reading_them_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lockdown import fsutil
    from lockdown.config import read_toml

    monkeypatch.setattr(fsutil, "MAX_LOCK_BYTES", 1 << 20)
    monkeypatch.setattr(fsutil, "MAX_SETTINGS_BYTES", 1 << 20)
    big = tmp_path / "pylock.toml"
    big.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")
    with pytest.raises(LockdownError) as lock_error:
        fsutil.read_lock_bytes(big, limit=fsutil.MAX_LOCK_BYTES)
    assert str(lock_error.value) == f"{big}: larger than 1 MB; not a lock file lockdown reads"
    with pytest.raises(LockdownError) as toml_error:
        read_toml(big)
    assert str(toml_error.value) == f"{big}: larger than 1 MB; refused"


def test_metadata_without_an_end_of_headers_is_not_read_forever(tmp_path: Path) -> None:
    info = tmp_path / "x-1.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(b"Metadata-Version: 2.1\n" + b"Classifier: x\n" * 200_000)
    assert read_dist_info(info) is None


@given(st.binary(max_size=2000) | DOCUMENTS.map(lambda d: json.dumps(d).encode()))
def test_conda_meta_records(tmp_path_factory: Any, data: bytes) -> None:
    from lockdown.env.conda_meta import read_prefix

    prefix = tmp_path_factory.mktemp("prefix")
    (prefix / "conda-meta").mkdir()
    (prefix / "conda-meta" / "x-1-0.json").write_bytes(data)
    only_lockdown_errors(lambda: read_prefix(prefix))


def test_a_locked_wheel_whose_record_escapes_is_never_followed(tmp_path: Path) -> None:
    import hashlib as hashes
    import zipfile

    from lockdown.artifacts import ArtifactCache
    from lockdown.drift.wheels import check_against_wheels
    from lockdown.env.install import Selected
    from lockdown.env.python_env import InstalledDist, TargetInfo
    from lockdown.lock.model import Artifact

    prefix = tmp_path / "venv"
    site = prefix / "lib" / "python3.11" / "site-packages"
    (site / "evil-1.0.dist-info").mkdir(parents=True)
    (site / "evil-1.0.dist-info" / "RECORD").write_text("")
    secret = tmp_path / "outside.txt"
    secret.write_text("not lockdown's to read\n")
    wheel = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(
            "evil-1.0.dist-info/RECORD",
            "../../../../outside.txt,sha256=AAAA,1\nevil-1.0.dist-info/RECORD,,\n",
        )
    digest = hashes.sha256(wheel.read_bytes()).hexdigest()
    from packaging.utils import NormalizedName

    evil = NormalizedName("evil")
    selected = Selected(
        name=evil,
        version="1.0",
        artifact=Artifact(
            url=wheel.as_uri(), filename=wheel.name, sha256=digest, size=None, upload_time=None
        ),
    )
    installed = InstalledDist(
        name=evil,
        version="1.0",
        dist_info=site / "evil-1.0.dist-info",
        direct_url=None,
    )
    target = TargetInfo(
        executable=prefix / "bin" / "python",
        environment={},
        tags=(),
        site_packages=(site,),
        scripts=prefix / "bin",
        prefix=prefix,
        in_venv=True,
    )
    cache_root = tmp_path / "cache"
    cache_root.mkdir()
    drift, checked = check_against_wheels(
        [selected], {evil: installed}, target, ArtifactCache(cache_root), source="lock"
    )
    assert [(f.path, f.kind, f.severity) for f in drift] == [
        ("../../../../outside.txt", "escape", "high")
    ]
    assert checked == 0


_TRAVERSING_LOCK = """\
lock-version = "1.0"
created-by = "someone"
requires-python = ">=3.8"

[[packages]]
name = "evil"
version = "1.0"

[[packages.wheels]]
url = "http://127.0.0.1:9/evil-1.0-py3-none-any.whl"
hashes = {{ sha256 = "{digest}" }}
"""


@pytest.mark.parametrize(
    "digest",
    ["../../../../victim", "AB" * 32, "ab" * 31, "zz" * 32],
    ids=["traversal", "uppercase", "short", "not-hex"],
)
def test_a_lock_digest_that_is_not_a_sha256_is_refused(tmp_path: Path, digest: str) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(_TRAVERSING_LOCK.format(digest=digest))
    with pytest.raises(LockdownError) as caught:
        parse_lock_bytes(lock.read_bytes(), lock)
    assert str(caught.value) == (
        f"{lock}: packages[0] (evil): sha256 {digest!r} is not 64 lowercase hex digits; "
        "the lock is corrupt or tampered with; re-create it with lockdown lock"
    )


def test_install_from_a_lock_naming_a_path_as_digest_touches_nothing(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    # The cache's content addressing must never turn a lock's value into a path:
    # with "sha256/../../victim" the re-hash step would unlink the victim.
    cache = tmp_path / "cache"
    (cache / "sha256").mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    lock = tmp_path / "pylock.toml"
    lock.write_text(_TRAVERSING_LOCK.format(digest="../../../victim"))
    venv = tmp_path / "venv"

    result = cli("install", "--lock", lock, "--venv", venv, "--cache-dir", cache)

    assert result.code == 16
    assert "sha256 '../../../victim' is not 64 lowercase hex digits" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert victim.read_text() == "precious\n"
    assert not venv.exists()


def test_the_cache_refuses_a_path_for_anything_but_a_digest(tmp_path: Path) -> None:
    from lockdown.artifacts import ArtifactCache

    cache = ArtifactCache(tmp_path)
    assert cache.path_for("ab" * 32) == tmp_path / "sha256" / "ab" / ("ab" * 32)
    with pytest.raises(LockdownError) as caught:
        cache.path_for("../../etc/passwd")
    assert str(caught.value) == (
        "'../../etc/passwd' is not a sha256 digest (64 lowercase hex digits); "
        "the lock is corrupt or tampered with"
    )


_LAUGHS = (
    b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
)


@pytest.mark.parametrize(
    "content",
    [
        _LAUGHS + b"name: x\nchannels: [*d]\ndependencies: [*d]\n",
        _LAUGHS.replace(b"a: &a", b"name: &a").replace(b"\nb:", b"\nchannels:")
        + b"dependencies: [*d]\n",
        b"dependencies: " + b"[" * DEEP + b"]" * DEEP,
        b"dependencies:\n  - pip:\n      " + b"- [" * 3000 + b"]" * 3000 + b"\n",
        b"name: x\x00\ndependencies: []\n",
    ],
    ids=["laughs", "laughs-in-known-keys", "deep", "deep-pip", "nul"],
)
def test_crafted_environment_yml(tmp_path: Path, content: bytes) -> None:
    """Structured hostile environment.yml: refused in one line, or read, never a blow-up."""
    path = tmp_path / "environment.yml"
    path.write_bytes(content)
    from lockdown.conda_inputs import conda_inputs

    def read_and_merge() -> object:
        return conda_inputs(None, read_environment_yml(path), source=path)

    only_lockdown_errors(read_and_merge)
