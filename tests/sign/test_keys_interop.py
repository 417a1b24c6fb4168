"""Key bundles verify with other Sigstore clients: sigstore-js ``@sigstore/verify``, and cosign.

sigstore-js is installed with npm into a session temp dir at test time; the
tests skip (with the reason) where npm/node are missing or the registry is
unreachable. cosign is used only if it is already on PATH.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lockdown.sign.interface import bundle_path_for
from lockdown.sign.keys import key_hint, sign_with_key
from tests.sign.conftest import KeyPair

pytestmark = pytest.mark.slow

VERIFY_SCRIPT = Path(__file__).parent / "interop" / "verify_key_bundle.js"
#: Major versions the script is written against.
NPM_PACKAGES = ("@sigstore/verify@^3", "@sigstore/bundle@^4")
#: npm error codes that mean "no registry here", not "broken install".
NETWORK_ERRORS = (
    "ENOTFOUND",
    "EAI_AGAIN",
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "ENETUNREACH",
    "EHOSTUNREACH",
    "ERR_SOCKET_TIMEOUT",
    "network",
)

LOCK = b'lock-version = "1.0"\ncreated-by = "lockdown"\n'


@pytest.fixture(scope="session")
def sigstore_js(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``node_modules`` with @sigstore/verify and @sigstore/bundle, installed once a session."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("sigstore-js interop needs node and npm on PATH")
    prefix = tmp_path_factory.mktemp("sigstore-js")
    try:
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), *NPM_PACKAGES],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("npm install of @sigstore/verify timed out (no registry access?)")
    if result.returncode != 0:
        output = result.stdout + result.stderr
        if any(code in output for code in NETWORK_ERRORS):
            pytest.skip(
                f"npm registry unreachable, cannot install @sigstore/verify: {output[-300:]}"
            )
        pytest.fail(f"npm install of @sigstore/verify failed:\n{output}")
    return prefix / "node_modules"


def sigstore_js_verify(
    node_modules: Path, file: Path, bundle: Path, public_key: Path
) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node is not None
    return subprocess.run(
        [node, str(VERIFY_SCRIPT), str(file), str(bundle), str(public_key)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"NODE_PATH": str(node_modules), "PATH": str(Path(node).parent)},
    )


@pytest.fixture
def signed_lock(tmp_path: Path, key_pair: KeyPair) -> Path:
    """``pylock.toml`` with its key bundle beside it."""
    lock = tmp_path / "pylock.toml"
    lock.write_bytes(LOCK)
    bundle_path_for(lock).write_bytes(sign_with_key(LOCK, key_pair.private_key))
    return lock


def test_sigstore_js_verifies_a_key_bundle(
    sigstore_js: Path, signed_lock: Path, key_pair: KeyPair
) -> None:
    result = sigstore_js_verify(
        sigstore_js, signed_lock, bundle_path_for(signed_lock), key_pair.public_path
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "verified\n", "")


def test_sigstore_js_rejects_a_tampered_file(
    sigstore_js: Path, signed_lock: Path, key_pair: KeyPair
) -> None:
    bundle = bundle_path_for(signed_lock)
    signed_lock.write_bytes(LOCK.replace(b"1.0", b"1.1"))
    result = sigstore_js_verify(sigstore_js, signed_lock, bundle, key_pair.public_path)
    assert (result.returncode, result.stdout) == (
        1,
        "SIGNATURE_ERROR: signature verification failed\n",
    )


def test_sigstore_js_rejects_another_key(
    sigstore_js: Path, signed_lock: Path, key_pair: KeyPair, other_key_pair: KeyPair
) -> None:
    """sigstore-js finds the key by the hint it computes itself: same convention as ours."""
    result = sigstore_js_verify(
        sigstore_js, signed_lock, bundle_path_for(signed_lock), other_key_pair.public_path
    )
    assert (result.returncode, result.stdout) == (
        1,
        f"PUBLIC_KEY_ERROR: key not found: {key_hint(key_pair.public_key)}\n",
    )


def test_cosign_verifies_a_key_bundle(signed_lock: Path, key_pair: KeyPair) -> None:
    cosign = shutil.which("cosign")
    if cosign is None:
        pytest.skip("cosign is not on PATH (it is not installed by the tests)")
    result = subprocess.run(
        [
            cosign,
            "verify-blob",
            "--key",
            str(key_pair.public_path),
            "--bundle",
            str(bundle_path_for(signed_lock)),
            "--new-bundle-format",
            "--insecure-ignore-tlog",
            str(signed_lock),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
