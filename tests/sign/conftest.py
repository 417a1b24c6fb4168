"""Fixtures for the signing tests: the shared real Sigstore bundles, and fresh key pairs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from lockdown.sign.keys import generate_key_pair, load_private_key, load_public_key

#: ``<repo>/../shared/fixtures/sigstore``: /work/shared beside /work/main here,
#: and a copy of shared/ beside the clone in CI.
SIGSTORE_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "sigstore"

#: The passphrase every test key pair is encrypted with.
PASSWORD = b"correct horse battery staple"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyPair:
    """A key pair written by ``generate_key_pair``, with both halves loaded."""

    #: The encrypted private key file (``release.key``).
    private_path: Path
    #: The public key file beside it (``release.pub``).
    public_path: Path
    private_key: ec.EllipticCurvePrivateKey
    public_key: ec.EllipticCurvePublicKey


def make_key_pair(directory: Path, name: str = "release.key") -> KeyPair:
    """Generate a key pair in ``directory`` (created if needed) and load it back."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / name
    public_path = generate_key_pair(private_path, password=PASSWORD)
    private_key, _ = load_private_key(private_path, password=PASSWORD)
    return KeyPair(
        private_path=private_path,
        public_path=public_path,
        private_key=private_key,
        public_key=load_public_key(public_path),
    )


@pytest.fixture
def key_pair(tmp_path: Path) -> KeyPair:
    """A fresh encrypted key pair: ``keys/release.key`` and ``keys/release.pub``."""
    return make_key_pair(tmp_path / "keys")


@pytest.fixture
def other_key_pair(tmp_path: Path) -> KeyPair:
    """A second, unrelated key pair: ``other-keys/other.key`` and ``other-keys/other.pub``."""
    return make_key_pair(tmp_path / "other-keys", "other.key")


@pytest.fixture(scope="session")
def sigstore_fixtures() -> Path:
    """The directory of real Sigstore bundles (read-only); skip when it is not beside the repo."""
    if not SIGSTORE_FIXTURES.is_dir():
        pytest.skip(
            f"real Sigstore bundles not found at {SIGSTORE_FIXTURES}: "
            "a copy of shared/ must sit beside the repository"
        )
    return SIGSTORE_FIXTURES
