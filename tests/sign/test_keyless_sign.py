"""Keyless signing up to the Fulcio edge: finding a token, refusing bad ones, failing cleanly.

Fulcio and Rekor are not reachable from the machines these tests run on, so
the signing context is pointed at local ports through a client trust config:
a closed port (connection refused) or a tiny HTTP server that answers like a
Fulcio that rejects the token. Every test runs with the network refused except
for loopback, and in an empty working directory that must stay empty.
"""

from __future__ import annotations

import base64
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lockdown.config.trust import IdentityRule, SigstoreInstance
from lockdown.errors import UsageError
from lockdown.sign.interface import SigningError, SigstoreUnreachableError
from lockdown.sign.keyless_sign import sign_keyless
from lockdown.sign.keyless_verify import (
    certificate_identities,
    certificate_issuer,
    verify_keyless,
)

#: Variables through which a CI system hands out an OIDC credential (sigstore's `id` package).
AMBIENT_VARIABLES = (
    "SIGSTORE_ID_TOKEN",
    "SIGSTORE_IDENTITY_TOKEN",
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "BUILDKITE",
    "GITLAB_CI",
    "CIRCLECI",
)

NO_IDENTITY = (
    "no OIDC identity token: run in CI with id-token permission, pass --identity-token, "
    "or set SIGSTORE_ID_TOKEN"
)


class NetworkUsed(AssertionError):
    """A test tried to reach something other than loopback."""


def _is_loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    return host in {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only loopback connections; any other would be a test reaching the internet."""
    connect = socket.socket.connect
    lookup = socket.getaddrinfo

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if not _is_loopback(address):
            raise NetworkUsed(f"network used: connect to {address!r}")
        connect(sock, address)

    def guarded_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise NetworkUsed(f"network used: name lookup of {host!r}")
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)


@pytest.fixture(autouse=True)
def no_ambient_credential(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine that is no CI system: no credential variables, not a GCP VM."""
    for name in AMBIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # GCP is recognised by a DMI file, not a variable; point its check at nothing.
    monkeypatch.setattr(
        "id._internal.oidc.ambient._GCP_PRODUCT_NAME_FILE", str(tmp_path / "no-dmi")
    )
    # sigstore's TUF cache goes to the test's directory, not the user's home.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory that must still be empty after the test."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
    assert list(work.iterdir()) == []


def fake_jwt(**claims: Any) -> str:
    """A well-formed JWT with a fake signature: sigstore reads its claims, Fulcio rejects it."""
    now = int(time.time())
    payload = {
        "iss": "https://issuer.example",
        "sub": "ci@example.com",
        "aud": "sigstore",
        "iat": now,
        "exp": now + 600,
        **claims,
    }

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJl"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def embedded(name: str) -> Any:
    """Staging trust material embedded in the installed sigstore package, as JSON."""
    import sigstore

    store = Path(sigstore.__file__).parent / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev"
    return json.loads((store / name).read_text())


def trust_config_for(base_url: str, path: Path) -> Path:
    """A client trust config whose Fulcio, Rekor and OIDC issuer all live at ``base_url``."""

    def service(url: str) -> dict[str, Any]:
        return {
            "url": url,
            "majorApiVersion": 1,
            "validFor": {"start": "2020-01-01T00:00:00Z"},
            "operator": "lockdown-tests",
        }

    config = {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": embedded("trusted_root.json"),
        "signingConfig": {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(base_url)],
            "oidcUrls": [service(base_url)],
            "rekorTlogUrls": [service(base_url)],
            "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        },
    }
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def unreachable_sigstore(tmp_path: Path) -> tuple[Path, str]:
    """A trust config naming a closed local port for every service, and that base URL."""
    base = f"http://127.0.0.1:{closed_port()}"
    return trust_config_for(base, tmp_path / "trust_config.json"), base


class _RefusingFulcio(http.server.BaseHTTPRequestHandler):
    """Answers every request like Fulcio rejecting an identity token."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.dumps({"code": 16, "message": "Error processing the identity token"})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def refusing_fulcio(tmp_path: Path) -> Iterator[Path]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusingFulcio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        yield trust_config_for(base, tmp_path / "trust_config.json")
    finally:
        server.shutdown()
        server.server_close()


def sign_or_skip(data: bytes, **kwargs: Any) -> bytes:
    """``sign_keyless``, skipping the test when Sigstore cannot be reached from here.

    Only lockdown's own "unreachable" error (the network, exit 70) skips; any
    other failure (a refused token, an error answer, a bad bundle) fails.
    """
    try:
        return sign_keyless(data, **kwargs)
    except SigstoreUnreachableError as exc:
        pytest.skip(f"Sigstore is unreachable from here (exit {exc.exit_code}): {exc}")


def signing_error(**kwargs: Any) -> SigningError:
    with pytest.raises(SigningError) as caught:
        sign_keyless(b"lock bytes", **kwargs)
    error = caught.value
    assert error.exit_code == 70
    assert "\n" not in str(error)
    return error


# --- finding a token ---


def test_no_token_anywhere(workdir: Path) -> None:
    error = signing_error(identity_token=None)
    assert str(error) == NO_IDENTITY


def test_empty_token_variable_counts_as_none(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", "  ")
    assert str(signing_error(identity_token=None)) == NO_IDENTITY


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not-a-jwt", "it is not a well-formed JWT (Not enough segments)"),
        ("a.b.c", "it is not a well-formed JWT (Invalid header padding)"),
        (fake_jwt(exp=int(time.time()) - 3600), "it has expired"),
        (fake_jwt(aud="someone-else"), "its audience is not 'sigstore'"),
        (fake_jwt(iat=None), "it has no 'iat' claim"),
        (
            fake_jwt(iat="yesterday"),
            "its claims are invalid (Issued At claim (iat) must be an integer.)",
        ),
        (fake_jwt(nbf=int(time.time()) + 3600), "it is outside its validity period (nbf/exp)"),
    ],
)
def test_invalid_token_is_named(workdir: Path, token: str, reason: str) -> None:
    error = signing_error(identity_token=token)
    assert error.message == f"invalid OIDC identity token from --identity-token: {reason}"
    assert error.hint == "get a fresh token for the audience 'sigstore'"
    # The token itself is a secret: never echoed.
    assert token not in str(error)


def test_token_missing_a_claim(workdir: Path) -> None:
    token = fake_jwt()
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    del claims["sub"]
    stripped = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    error = signing_error(identity_token=f"{header}.{stripped}.{signature}")
    assert (
        error.message == "invalid OIDC identity token from --identity-token: it has no 'sub' claim"
    )


@pytest.mark.parametrize("variable", ["SIGSTORE_ID_TOKEN", "SIGSTORE_IDENTITY_TOKEN"])
def test_token_from_the_environment(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "garbage")
    error = signing_error(identity_token=None)
    assert error.message.startswith(f"invalid OIDC identity token from ${variable}: ")


def test_explicit_token_wins_over_the_environment(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", fake_jwt())
    error = signing_error(identity_token="garbage")  # noqa: S106 - not a secret
    assert "from --identity-token" in error.message


def test_github_actions_without_id_token_permission(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token")
    error = signing_error(identity_token=None)
    assert error.message == (
        "cannot get the CI's ambient OIDC credential: GitHub: missing or insufficient OIDC "
        "token permissions, the ACTIONS_ID_TOKEN_REQUEST_URL environment variable was unset"
    )
    assert error.hint is not None
    assert "permissions: id-token: write" in error.hint


def test_gitlab_without_an_id_token(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITLAB_CI", "true")
    error = signing_error(identity_token=None)
    assert error.message == (
        "cannot get the CI's ambient OIDC credential: "
        "GitLab: Environment variable SIGSTORE_ID_TOKEN not found"
    )


def test_ambient_credential_is_used_and_checked(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GitLab hands the token over in a variable; one for another audience is refused.
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setattr("lockdown.sign.keyless_sign.TOKEN_ENV_VARS", ("LOCKDOWN_TEST_UNSET_TOKEN",))
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", fake_jwt(aud="other"))
    error = signing_error(identity_token=None)
    assert error.message == (
        "cannot get the CI's ambient OIDC credential: "
        "Token audience claim mismatch (expected sigstore, got other)"
    )


# --- the Fulcio edge ---


def test_sigstore_unreachable(workdir: Path, unreachable_sigstore: tuple[Path, str]) -> None:
    config, base = unreachable_sigstore
    started = time.monotonic()
    error = signing_error(identity_token=fake_jwt(), trust_config=config)
    assert error.message == (
        f"cannot reach Sigstore (Fulcio/Rekor) at {base}/api/v2/signingCert: Connection refused"
    )
    assert error.hint is not None
    assert "--key" in error.hint
    assert isinstance(error, SigstoreUnreachableError)
    assert time.monotonic() - started < 10


def test_fulcio_refuses_the_token(workdir: Path, refusing_fulcio: Path) -> None:
    error = signing_error(identity_token=fake_jwt(), trust_config=refusing_fulcio)
    assert error.message == (
        "Sigstore's Fulcio refused a signing certificate: HTTP 401: "
        "Error processing the identity token"
    )
    assert error.hint == "the identity token was not accepted: get a fresh one"
    # An answer, not the network: the online test must fail on this, not skip.
    assert not isinstance(error, SigstoreUnreachableError)


def test_interactive_sign_in_with_the_issuer_unreachable(
    workdir: Path, unreachable_sigstore: tuple[Path, str]
) -> None:
    config, base = unreachable_sigstore
    error = signing_error(identity_token=None, trust_config=config, interactive=True)
    assert error.message == f"cannot reach Sigstore's OIDC issuer {base}: Connection refused"
    assert isinstance(error, SigstoreUnreachableError)


def test_production_without_network(workdir: Path) -> None:
    # The default instance refreshes its service list over TUF first; with no
    # network that fails in one line before any token leaves the machine.
    error = signing_error(identity_token=fake_jwt())
    assert error.message.startswith(
        "cannot reach Sigstore (TUF repository https://tuf-repo-cdn.sigstore.dev) to load its "
        "signing configuration: "
    )


def test_production_unreachable_is_the_network(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a machine without DNS sees: the TUF refresh fails on name resolution.
    def no_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    error = signing_error(identity_token=fake_jwt())
    assert isinstance(error, SigstoreUnreachableError)
    assert error.message.startswith(
        "cannot reach Sigstore (TUF repository https://tuf-repo-cdn.sigstore.dev) to load its "
        "signing configuration: "
    )


def test_only_the_network_skips_the_online_test(
    workdir: Path, tmp_path: Path, refusing_fulcio: Path
) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    config = trust_config_for(base, tmp_path / "unreachable_trust_config.json")
    with pytest.raises(pytest.skip.Exception) as skipped:
        sign_or_skip(b"lock bytes", identity_token=fake_jwt(), trust_config=config)
    assert str(skipped.value) == (
        "Sigstore is unreachable from here (exit 70): cannot reach Sigstore (Fulcio/Rekor) at "
        f"{base}/api/v2/signingCert: Connection refused; check network access to Sigstore, "
        "or sign with --key where it is unreachable"
    )
    # Sigstore reached but refusing, or no credential at all: a failure, never a skip.
    with pytest.raises(SigningError, match="Fulcio refused a signing certificate"):
        sign_or_skip(b"lock bytes", identity_token=fake_jwt(), trust_config=refusing_fulcio)
    with pytest.raises(SigningError, match="no OIDC identity token"):
        sign_or_skip(b"lock bytes", identity_token=None)


def test_staging_and_trust_config_conflict(workdir: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        sign_keyless(b"x", identity_token=None, staging=True, trust_config=tmp_path / "c.json")
    assert (
        str(caught.value)
        == "--staging and --trust-config name different Sigstore instances; choose one"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "{path}: trust config not found"),
        (
            "{",
            "{path}: not a Sigstore client trust config: not valid JSON (EOF while parsing an "
            "object at line 1 column 1)",
        ),
    ],
)
def test_unusable_trust_config(
    workdir: Path, tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "trust_config.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError) as caught:
        sign_keyless(b"x", identity_token=fake_jwt(), trust_config=path)
    assert caught.value.message == expected.format(path=path)


# --- lockdown sign: flags, and [tool.lockdown.trust] when they are absent ---


@pytest.fixture
def sign_project(tmp_path: Path) -> Path:
    """A project with a lock-to-be-signed (any bytes do) and room for a trust table."""
    project = tmp_path / "svc"
    project.mkdir()
    (project / "pylock.toml").write_text('lock-version = "1.0"\n', encoding="utf-8")
    (project / "pyproject.toml").write_text("[tool.lockdown]\n", encoding="utf-8")
    return project


def with_trust(project: Path, table: str) -> None:
    (project / "pyproject.toml").write_text(
        f"[tool.lockdown]\n\n[tool.lockdown.trust]\n{table}\n", encoding="utf-8"
    )


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_sign_uses_the_configured_trust_config(
    sign_project: Path, tmp_path: Path, cli: Any
) -> None:
    # The config names a deployment whose Fulcio is down: the error proves it was used
    # (without it, signing would go to production's TUF repository first).
    base = f"http://127.0.0.1:{closed_port()}"
    trust_config_for(base, sign_project / "sigstore.json")
    with_trust(sign_project, 'trust-config = "sigstore.json"')
    before = tree(sign_project)
    result = cli("sign", "--project", sign_project, "--identity-token", fake_jwt())
    assert result.code == 70
    assert result.err == (
        f"lockdown: error: cannot reach Sigstore (Fulcio/Rekor) at {base}/api/v2/signingCert: "
        "Connection refused; check network access to Sigstore, or sign with --key where it is "
        "unreachable\n"
    )
    assert tree(sign_project) == before


def test_sign_flag_replaces_the_configured_instance(
    sign_project: Path, refusing_fulcio: Path, cli: Any
) -> None:
    # Configured: staging. The flag names another deployment; the flag wins, no conflict.
    with_trust(sign_project, "staging = true")
    before = tree(sign_project)
    result = cli(
        "sign", "--project", sign_project, "--identity-token", fake_jwt(),
        "--trust-config", refusing_fulcio,
    )  # fmt: skip
    assert result.code == 70
    assert result.err.startswith(
        "lockdown: error: Sigstore's Fulcio refused a signing certificate: HTTP 401: "
    )
    assert tree(sign_project) == before


def test_sign_with_only_a_configured_trusted_root_goes_to_production(
    sign_project: Path, cli: Any
) -> None:
    # A trusted root names no Fulcio or Rekor: signing goes to production, and says so.
    with_trust(sign_project, 'trusted-root = "root.json"')
    before = tree(sign_project)
    result = cli("sign", "--project", sign_project, "--identity-token", fake_jwt())
    assert result.code == 70
    note, error = result.err.splitlines()
    assert note == (
        f"lockdown: [tool.lockdown.trust] trusted-root ({sign_project / 'root.json'}) is for "
        "verifying; signing with Sigstore production (set trust-config to sign with a private "
        "deployment)"
    )
    assert error.startswith(
        "lockdown: error: cannot reach Sigstore (TUF repository https://tuf-repo-cdn.sigstore.dev)"
    )
    assert tree(sign_project) == before


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--key", "release.key", "--staging"],
            "--key and --staging cannot be used together: --staging is for keyless signing; "
            "drop one of them",
        ),
        (
            ["--key", "release.key", "--trust-config", "sigstore.json"],
            "--key and --trust-config cannot be used together: --trust-config is for keyless "
            "signing; drop one of them",
        ),
        (
            ["--key", "release.key", "--identity-token", "t"],
            "--key and --identity-token cannot be used together: --identity-token is for "
            "keyless signing; drop one of them",
        ),
        (
            ["--staging", "--trust-config", "sigstore.json"],
            "--staging and --trust-config name different Sigstore instances; choose one",
        ),
    ],
    ids=["key-staging", "key-trust-config", "key-token", "staging-trust-config"],
)
def test_sign_flags_that_contradict_each_other(
    sign_project: Path, cli: Any, flags: list[str], message: str
) -> None:
    from lockdown.sign.keys import generate_key_pair

    # A real key and a real trust config: the refusal is the combination, not a missing file.
    generate_key_pair(sign_project / "release.key", password=b"pass phrase")
    trust_config_for("http://127.0.0.1:9", sign_project / "sigstore.json")
    before = tree(sign_project)
    argv = [f"{sign_project / f}" if f in ("release.key", "sigstore.json") else f for f in flags]
    result = cli("sign", "--project", sign_project, *argv)
    assert result.code == 64
    assert result.err == f"lockdown: error: {message}\n"
    assert tree(sign_project) == before


# --- really signing (CI only) ---


@pytest.mark.online
def test_real_keyless_signature_round_trip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Signs for real with the CI's ambient credential, then verifies offline."""
    from sigstore.models import Bundle
    from sigstore.oidc import IdentityError, detect_credential

    # This test needs the real environment: undo the isolation fixtures.
    monkeypatch.undo()
    try:
        credential = detect_credential()
    except IdentityError as exc:
        pytest.skip(f"no usable ambient OIDC credential here: {exc}")
    if credential is None:
        pytest.skip("no ambient OIDC credential (run in CI with id-token: write)")
    data = b"lock file contents\n"
    # A credential but no route to Sigstore is this machine's limit, not a bug:
    # skip on lockdown's "unreachable" error only, fail on any other.
    bundle_json = sign_or_skip(data, identity_token=None)
    bundle = Bundle.from_json(bundle_json)
    assert json.loads(bundle_json)["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    identity = certificate_identities(bundle.signing_certificate)[0]
    issuer = certificate_issuer(bundle.signing_certificate)
    assert issuer is not None
    result = verify_keyless(
        data, bundle_json, [IdentityRule(identity=identity, issuer=issuer)], SigstoreInstance()
    )
    assert result.signer == f"identity {identity} (issuer {issuer})"
