"""Keyless verification through ``verify_keyless``, offline, on real Sigstore bundles.

The bundles in ``../shared/fixtures/sigstore/`` were made on Sigstore's
production and staging instances (see its README for each one's identity and
expected result). Tampered variants are copies in ``tmp_path``; the fixture
directory itself is read-only. Every test here runs with the network refused,
so "offline" is checked, not assumed.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lockdown.config.trust import IdentityRule, SigstoreInstance
from lockdown.errors import LockdownError, UsageError
from lockdown.sign import keyless_verify
from lockdown.sign.interface import SignatureError, Verified
from lockdown.sign.keyless_verify import verify_keyless

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "sigstore"

if not (FIXTURES / "README.md").is_file():
    pytest.skip(f"Sigstore fixtures not found at {FIXTURES}", allow_module_level=True)

PRODUCTION = SigstoreInstance()
STAGING = SigstoreInstance(staging=True)

GITHUB_IDENTITY = (
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
)
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
WILLIAM = "william@yossarian.net"
GITHUB_OAUTH = "https://github.com/login/oauth"
ALEXIS = "alexis.challande@trailofbits.com"
GOOGLE = "https://accounts.google.com"
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)

INSTANCE_HINT = (
    "check the Sigstore instance: --staging for staging signatures, "
    "--trusted-root or --trust-config for a private deployment"
)
RESIGN_HINT = "the bundle cannot be trusted: sign the file again"
CHANGED_HINT = "the file changed after it was signed: restore the signed file or sign it again"
IDENTITY_HINT = (
    "someone else signed it: if you trust that signer, add it to [tool.lockdown.trust] signers"
)


@dataclass(frozen=True)
class Case:
    """One row of the fixtures README."""

    artifact: str
    bundle: str
    instance: SigstoreInstance
    identity: str
    issuer: str

    @property
    def rule(self) -> IdentityRule:
        return IdentityRule(identity=self.identity, issuer=self.issuer)

    def data(self) -> bytes:
        return (FIXTURES / self.artifact).read_bytes()

    def bundle_json(self) -> bytes:
        return (FIXTURES / self.bundle).read_bytes()


GITHUB = Case(
    "bundle_v3_github.whl",
    "bundle_v3_github.whl.sigstore",
    PRODUCTION,
    GITHUB_IDENTITY,
    GITHUB_ISSUER,
)
V3 = Case("bundle_v3.txt", "bundle_v3.txt.sigstore", STAGING, WILLIAM, GITHUB_OAUTH)
REKOR_V2 = Case(
    "staging-rekor-v2.txt",
    "staging-rekor-v2.txt.sigstore.json",
    STAGING,
    "jku@goto.fi",
    GITHUB_OAUTH,
)
TSA = Case("tsa/bundle.txt", "tsa/bundle.txt.sigstore", STAGING, ALEXIS, GOOGLE)
V3_ALT = Case(
    "more/bundle_v3_alt.txt", "more/bundle_v3_alt.txt.sigstore", STAGING, WILLIAM, GITHUB_OAUTH
)
VALID = [GITHUB, V3, REKOR_V2, TSA, V3_ALT]

#: Invalid rows: the case and the exact message after "<bundle>: ".
INVALID = [
    (
        Case("tsa/bundle.txt", "tsa/bundle.duplicate.sigstore", STAGING, ALEXIS, GOOGLE),
        f"keyless signature does not verify for identity {ALEXIS} (issuer {GOOGLE}): "
        "bundle has duplicate signed timestamps",
    ),
    (
        Case(
            "bundle_v3_no_signed_time.txt",
            "bundle_v3_no_signed_time.txt.sigstore.json",
            STAGING,
            WILLIAM,
            GITHUB_OAUTH,
        ),
        "invalid Sigstore bundle: bundle must contain an inclusion promise or signed timestamp(s)",
    ),
    (
        Case(
            "bundle_v3.txt", "bundle_invalid_version.txt.sigstore", STAGING, WILLIAM, GITHUB_OAUTH
        ),
        "invalid Sigstore bundle: unsupported media type 'this is completely wrong'",
    ),
    (
        Case("bundle_v3.txt", "bundle_no_cert_v1.txt.sigstore", STAGING, WILLIAM, GITHUB_OAUTH),
        "invalid Sigstore bundle: expected non-empty certificate chain in bundle",
    ),
    (
        Case("bundle_v3.txt", "bundle_no_log_entry.txt.sigstore", STAGING, WILLIAM, GITHUB_OAUTH),
        "invalid Sigstore bundle: expected exactly one log entry in bundle",
    ),
    (
        Case(
            "more/bundle_cve_2022_36056.txt",
            "more/bundle_cve_2022_36056.txt.sigstore",
            STAGING,
            WILLIAM,
            GITHUB_OAUTH,
        ),
        f"keyless signature does not verify for identity {WILLIAM} (issuer {GITHUB_OAUTH}): "
        "transparency log entry does not match the signature and certificate",
    ),
    (
        Case(
            "tsa/bundle.txt", "more/tsa/bundle.txt.late_timestamp.sigstore", STAGING, ALEXIS, GOOGLE
        ),
        f"keyless signature does not verify for identity {ALEXIS} (issuer {GOOGLE}): "
        "signing certificate was not valid at the signed timestamp's time",
    ),
    (
        Case("tsa/bundle.txt", "more/tsa/bundle.many_timestamp.sigstore", STAGING, ALEXIS, GOOGLE),
        f"keyless signature does not verify for identity {ALEXIS} (issuer {GOOGLE}): "
        "bundle has too many signed timestamps (33 > 32)",
    ),
    (
        Case(
            "more/a.dsse.staging-rekor-v2.txt",
            "more/a.dsse.staging-rekor-v2.txt.sigstore.json",
            STAGING,
            BEACON,
            GITHUB_ISSUER,
        ),
        "the bundle holds a DSSE envelope (an attestation), not a signature over this file",
    ),
]


# --- isolation: no network, sigstore's TUF cache inside the test session ---


class NetworkUsed(AssertionError):
    """A test under the offline guard tried to open a connection."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every outgoing connection and name lookup: verification must be offline."""

    def refuse(*args: object, **kwargs: object) -> Any:
        raise NetworkUsed(f"network used during an offline test: {args[1:]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module", autouse=True)
def sigstore_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """sigstore's TUF cache and data directories live in the session, not in the user's home.

    Verifiers are cached per process, so the cache is emptied around this module.
    """
    home = tmp_path_factory.mktemp("sigstore-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home / "cache"))
        patch.setenv("XDG_DATA_HOME", str(home / "data"))
        keyless_verify._VERIFIERS.clear()
        yield home
        keyless_verify._VERIFIERS.clear()


def verify_case(case: Case, *, data: bytes | None = None, **overrides: Any) -> Verified:
    rules = overrides.pop("rules", [case.rule])
    instance = overrides.pop("instance", case.instance)
    return verify_keyless(
        case.data() if data is None else data,
        case.bundle_json(),
        rules,
        instance,
        where=case.bundle,
    )


def failure(case: Case, **overrides: Any) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        verify_case(case, **overrides)
    error = caught.value
    assert error.exit_code == 16
    assert "\n" not in str(error)
    assert error.message.startswith(f"{case.bundle}: ")
    return error


def reason(error: SignatureError, case: Case) -> str:
    return error.message.removeprefix(f"{case.bundle}: ")


def tampered(case: Case, tmp_path: Path) -> bytes:
    """A copy of the artifact with one byte in the middle changed."""
    copy = tmp_path / Path(case.artifact).name
    shutil.copyfile(FIXTURES / case.artifact, copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(data)
    return copy.read_bytes()


# --- the fixtures README, row by row ---


def test_the_network_guard_is_active() -> None:
    with pytest.raises(NetworkUsed), socket.socket() as sock:
        sock.connect(("127.0.0.1", 9))


@pytest.mark.parametrize("case", VALID, ids=lambda case: case.bundle)
def test_valid_bundles_verify_with_their_identity(case: Case) -> None:
    data = case.data()
    result = verify_case(case, data=data)
    assert result.signer == f"identity {case.identity} (issuer {case.issuer})"
    # The verified bytes are handed back, not re-read.
    assert result.data is data


@pytest.mark.parametrize(("case", "expected"), INVALID, ids=lambda row: getattr(row, "bundle", ""))
def test_invalid_bundles_are_refused_with_the_reason(case: Case, expected: str) -> None:
    assert reason(failure(case), case) == expected


# --- tampering, identities, instances ---


@pytest.mark.parametrize("case", VALID, ids=lambda case: case.bundle)
def test_one_changed_byte_is_a_digest_mismatch(case: Case, tmp_path: Path) -> None:
    error = failure(case, data=tampered(case, tmp_path))
    assert reason(error, case) == (
        f"keyless signature does not verify for {case.rule.describe()}: "
        "signature does not match the file (digest mismatch)"
    )
    assert error.hint == CHANGED_HINT


def test_wrong_identity() -> None:
    rule = IdentityRule(identity=GITHUB_IDENTITY + "x", issuer=GITHUB_ISSUER)
    error = failure(GITHUB, rules=[rule])
    assert reason(error, GITHUB) == (
        f"keyless signature does not verify for identity {GITHUB_IDENTITY}x "
        f"(issuer {GITHUB_ISSUER}): certificate identity is {GITHUB_IDENTITY}, "
        f"not {GITHUB_IDENTITY}x"
    )
    assert error.hint == IDENTITY_HINT


def test_wrong_issuer() -> None:
    rule = IdentityRule(identity=GITHUB_IDENTITY, issuer=GOOGLE)
    error = failure(GITHUB, rules=[rule])
    assert reason(error, GITHUB) == (
        f"keyless signature does not verify for identity {GITHUB_IDENTITY} (issuer {GOOGLE}): "
        f"issuer is {GITHUB_ISSUER}, not {GOOGLE}"
    )


def test_wrong_identity_and_issuer_are_both_named() -> None:
    rule = IdentityRule(identity=WILLIAM, issuer=GOOGLE)
    assert reason(failure(GITHUB, rules=[rule]), GITHUB).endswith(
        f": certificate identity is {GITHUB_IDENTITY}, not {WILLIAM} "
        f"and issuer is {GITHUB_ISSUER}, not {GOOGLE}"
    )


def test_a_wrong_identity_is_reported_before_a_changed_file(tmp_path: Path) -> None:
    # sigstore checks the policy before the signature: a stranger's bundle says "stranger".
    rule = IdentityRule(identity=WILLIAM, issuer=GITHUB_ISSUER)
    error = failure(GITHUB, rules=[rule], data=tampered(GITHUB, tmp_path))
    assert "certificate identity is" in error.message
    assert "digest" not in error.message


def test_production_bundle_against_the_staging_root() -> None:
    error = failure(GITHUB, instance=STAGING)
    assert reason(error, GITHUB) == (
        f"keyless signature does not verify for {GITHUB.rule.describe()}: "
        "not signed by Sigstore staging's CA"
    )
    assert error.hint == INSTANCE_HINT


@pytest.mark.parametrize("case", [V3, TSA], ids=lambda case: case.bundle)
def test_staging_bundle_against_the_production_root(case: Case) -> None:
    error = failure(case, instance=PRODUCTION)
    assert reason(error, case) == (
        f"keyless signature does not verify for {case.rule.describe()}: "
        "not signed by Sigstore production's CA"
    )


def test_staging_rekor_v2_bundle_against_the_production_root() -> None:
    # Its only signing time is a staging TSA timestamp, which production cannot verify.
    error = failure(REKOR_V2, instance=PRODUCTION)
    assert reason(error, REKOR_V2) == (
        f"keyless signature does not verify for {REKOR_V2.rule.describe()}: no signing time "
        "verifiable with Sigstore production (no trusted log promise or timestamp)"
    )


# --- regex rules and several rules ---


def test_regex_rule_that_matches() -> None:
    rule = IdentityRule(
        identity=r"https://github\.com/trailofbits/[^/]+/\.github/workflows/release\.yml@refs/tags/v.*",
        issuer=GITHUB_ISSUER,
        regex=True,
    )
    result = verify_case(GITHUB, rules=[rule])
    # The signer is the certificate's identity, not the pattern.
    assert result.signer == f"identity {GITHUB_IDENTITY} (issuer {GITHUB_ISSUER})"


def test_regex_rule_matches_an_email_identity() -> None:
    rule = IdentityRule(identity=r"[^@]+@yossarian\.net", issuer=GITHUB_OAUTH, regex=True)
    assert verify_case(V3, rules=[rule]).signer == f"identity {WILLIAM} (issuer {GITHUB_OAUTH})"


def test_regex_rule_that_does_not_match() -> None:
    rule = IdentityRule(identity=r"https://github\.com/acme/.*", issuer=GITHUB_ISSUER, regex=True)
    assert reason(failure(GITHUB, rules=[rule]), GITHUB) == (
        rf"keyless signature does not verify for identity matching regex "
        rf"https://github\.com/acme/.* (issuer {GITHUB_ISSUER}): certificate identity "
        rf"{GITHUB_IDENTITY} does not match regex https://github\.com/acme/.*"
    )


def test_regex_is_a_full_match_not_a_prefix() -> None:
    prefix = r"https://github\.com/trailofbits/rfc8785\.py/"
    rule = IdentityRule(identity=prefix, issuer=GITHUB_ISSUER, regex=True)
    assert "does not match regex" in failure(GITHUB, rules=[rule]).message
    # ...nor a search: an unanchored suffix does not pass either.
    rule = IdentityRule(
        identity=r"release\.yml@refs/tags/v0\.1\.2", issuer=GITHUB_ISSUER, regex=True
    )
    assert "does not match regex" in failure(GITHUB, rules=[rule]).message


def test_regex_rule_still_checks_the_issuer_exactly() -> None:
    rule = IdentityRule(identity=".*", issuer=GITHUB_ISSUER + "/", regex=True)
    assert reason(failure(GITHUB, rules=[rule]), GITHUB).endswith(
        f": issuer is {GITHUB_ISSUER}, not {GITHUB_ISSUER}/"
    )


def test_the_second_rule_matches() -> None:
    rules = [
        IdentityRule(
            identity="https://github.com/acme/svc/x.yml@refs/heads/main", issuer=GITHUB_ISSUER
        ),
        IdentityRule(identity=GITHUB_IDENTITY, issuer=GITHUB_ISSUER),
    ]
    assert verify_case(GITHUB, rules=rules).signer == rules[1].describe()


def test_no_rule_matches_names_the_signer_and_the_trusted_ones() -> None:
    rules = [
        IdentityRule(identity=WILLIAM, issuer=GITHUB_OAUTH),
        IdentityRule(identity=r"https://github\.com/acme/.*", issuer=GITHUB_ISSUER, regex=True),
    ]
    assert reason(failure(GITHUB, rules=rules), GITHUB) == (
        f"signed by identity {GITHUB_IDENTITY} (issuer {GITHUB_ISSUER}), which is not a trusted "
        f"signer (trusted: identity {WILLIAM} (issuer {GITHUB_OAUTH}); identity matching regex "
        rf"https://github\.com/acme/.* (issuer {GITHUB_ISSUER}))"
    )


def test_different_reasons_are_listed_per_rule(tmp_path: Path) -> None:
    stranger = IdentityRule(identity=WILLIAM, issuer=GITHUB_ISSUER)
    error = failure(GITHUB, rules=[GITHUB.rule, stranger], data=tampered(GITHUB, tmp_path))
    assert reason(error, GITHUB) == (
        f"no trusted keyless signer verifies it: {GITHUB.rule.describe()}: signature does not "
        f"match the file (digest mismatch); {stranger.describe()}: certificate identity is "
        f"{GITHUB_IDENTITY}, not {WILLIAM}"
    )


def test_the_same_reason_for_every_rule_is_said_once() -> None:
    rules = [GITHUB.rule, IdentityRule(identity=WILLIAM, issuer=GITHUB_OAUTH)]
    assert reason(failure(GITHUB, rules=rules, instance=STAGING), GITHUB) == (
        "keyless signature does not verify for any of 2 trusted identities: "
        "not signed by Sigstore staging's CA"
    )


def test_no_rules_is_an_error_not_a_pass() -> None:
    error = failure(GITHUB, rules=[])
    assert reason(error, GITHUB) == "no keyless signer (identity and issuer) in the trust policy"
    assert error.hint is not None
    assert "[tool.lockdown.trust]" in error.hint


def test_without_where_the_message_has_no_prefix() -> None:
    with pytest.raises(SignatureError) as caught:
        verify_keyless(b"x", GITHUB.bundle_json(), [GITHUB.rule], PRODUCTION)
    assert caught.value.message.startswith("keyless signature does not verify for identity")


# --- malformed bundles ---


@pytest.mark.parametrize(
    ("bundle_json", "expected"),
    [
        (b"", "not valid JSON (EOF while parsing a value at line 1 column 0)"),
        (b"not json", "not valid JSON (expected ident at line 1 column 2)"),
        (b"[]", "Input should be an object"),
        (b"{}", "mediaType: Field required"),
        (b'{"mediaType": 3}', "unsupported media type 3"),
    ],
)
def test_malformed_bundle(bundle_json: bytes, expected: str) -> None:
    with pytest.raises(SignatureError) as caught:
        verify_keyless(b"data", bundle_json, [GITHUB.rule], PRODUCTION, where="f.sigstore.json")
    assert caught.value.message == f"f.sigstore.json: invalid Sigstore bundle: {expected}"
    assert "\n" not in str(caught.value)


def test_truncated_bundle(tmp_path: Path) -> None:
    truncated = GITHUB.bundle_json()[: len(GITHUB.bundle_json()) // 2]
    with pytest.raises(SignatureError) as caught:
        verify_keyless(GITHUB.data(), truncated, [GITHUB.rule], PRODUCTION, where="w")
    assert caught.value.message.startswith("w: invalid Sigstore bundle: not valid JSON (EOF while")


def test_bundle_with_a_corrupted_certificate(tmp_path: Path) -> None:
    document = json.loads(V3.bundle_json())
    document["verificationMaterial"]["certificate"]["rawBytes"] = "AAAA"
    with pytest.raises(SignatureError) as caught:
        verify_keyless(V3.data(), json.dumps(document).encode(), [V3.rule], STAGING, where="w")
    # cryptography's own reason, on one line.
    assert caught.value.message.startswith("w: invalid Sigstore bundle: error parsing asn1 value")


def test_bundle_with_a_swapped_signature() -> None:
    # The staging bundle's signature in the production bundle: the certificate's key
    # did not make it, whatever the digest says.
    document = json.loads(GITHUB.bundle_json())
    other = json.loads(V3.bundle_json())
    document["messageSignature"]["signature"] = other["messageSignature"]["signature"]
    with pytest.raises(SignatureError) as caught:
        verify_keyless(
            GITHUB.data(), json.dumps(document).encode(), [GITHUB.rule], PRODUCTION, where="w"
        )
    assert caught.value.message.endswith(": signature does not match the file (invalid signature)")


# --- private deployments: --trusted-root and --trust-config ---


def embedded(name: str, *, staging: bool) -> Path:
    """A file of the trust material embedded in the installed sigstore package."""
    import sigstore

    repo = (
        "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev"
        if staging
        else ("https%3A%2F%2Ftuf-repo-cdn.sigstore.dev")
    )
    return Path(sigstore.__file__).parent / "_store" / repo / name


@pytest.fixture
def production_root(tmp_path: Path) -> Path:
    root = tmp_path / "trusted_root.json"
    shutil.copyfile(embedded("trusted_root.json", staging=False), root)
    return root


def test_trusted_root_file(production_root: Path) -> None:
    instance = SigstoreInstance(trusted_root=production_root)
    assert verify_case(GITHUB, instance=instance).signer == GITHUB.rule.describe()


def test_trusted_root_file_of_another_instance(tmp_path: Path) -> None:
    root = tmp_path / "staging-root.json"
    shutil.copyfile(embedded("trusted_root.json", staging=True), root)
    error = failure(GITHUB, instance=SigstoreInstance(trusted_root=root))
    assert reason(error, GITHUB).endswith(f": not signed by trusted root {root}'s CA")


def test_trust_config_file(tmp_path: Path) -> None:
    config = tmp_path / "trust_config.json"
    config.write_text(
        json.dumps(
            {
                "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
                "trustedRoot": json.loads(embedded("trusted_root.json", staging=True).read_text()),
                "signingConfig": json.loads(
                    embedded("signing_config.v0.2.json", staging=True).read_text()
                ),
            }
        )
    )
    instance = SigstoreInstance(trust_config=config)
    assert verify_case(V3, instance=instance).signer == V3.rule.describe()
    assert "not signed by trust config" in failure(GITHUB, instance=instance).message


def test_missing_trusted_root(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(UsageError) as caught:
        verify_case(GITHUB, instance=SigstoreInstance(trusted_root=missing))
    assert str(caught.value) == f"{missing}: trusted root not found"
    assert caught.value.exit_code == 64


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{", "not valid JSON (EOF while parsing an object at line 1 column 1)"),
        ('{"mediaType": "x"}', "unsupported media type 'x'"),
    ],
)
def test_invalid_trusted_root(tmp_path: Path, content: str, expected: str) -> None:
    root = tmp_path / "root.json"
    root.write_text(content)
    with pytest.raises(UsageError) as caught:
        verify_case(GITHUB, instance=SigstoreInstance(trusted_root=root))
    assert caught.value.message.startswith(f"{root}: not a Sigstore trusted root: {expected}")


def test_invalid_trust_config(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text("[]")
    with pytest.raises(UsageError) as caught:
        verify_case(GITHUB, instance=SigstoreInstance(trust_config=config))
    assert caught.value.message == (
        f"{config}: not a Sigstore client trust config: Input should be an object"
    )


def test_unwritable_tuf_cache_falls_back_to_the_embedded_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read-only home (cron as an unprivileged user): sigstore cannot create its
    # TUF cache; offline verification still has the root embedded in sigstore.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    monkeypatch.setattr(keyless_verify, "_VERIFIERS", {})
    assert verify_case(GITHUB).signer == GITHUB.rule.describe()


def test_online_refresh_without_network_fails_in_one_line() -> None:
    # --online is the one way verification touches the network; here it cannot.
    with pytest.raises(LockdownError) as caught:
        verify_case(GITHUB, instance=SigstoreInstance(online=True))
    assert caught.value.exit_code == 70
    assert caught.value.message.startswith(
        "cannot refresh Sigstore production's trusted root over TUF: network used"
    )
    assert caught.value.hint == "check network access, or verify offline without --online"


def test_the_verifier_is_built_once_per_instance() -> None:
    verify_case(GITHUB)
    first = keyless_verify._VERIFIERS[PRODUCTION]
    verify_case(GITHUB, instance=SigstoreInstance())
    assert keyless_verify._VERIFIERS[PRODUCTION] is first


# --- the rule and instance types ---


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"identity": "", "issuer": GITHUB_ISSUER}, "a keyless signer has an empty identity"),
        (
            {"identity": WILLIAM, "issuer": ""},
            f"keyless signer {WILLIAM} has no issuer; an identity is only trusted together "
            "with its OIDC issuer URL",
        ),
        (
            {"identity": "(", "issuer": GITHUB_ISSUER, "regex": True},
            "invalid identity regex '(': missing ), unterminated subpattern at position 0",
        ),
    ],
)
def test_identity_rule_refuses_what_would_trust_too_much(kwargs: Any, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        IdentityRule(**kwargs)
    assert str(caught.value) == message


def test_identity_rule_describe() -> None:
    assert GITHUB.rule.describe() == f"identity {GITHUB_IDENTITY} (issuer {GITHUB_ISSUER})"
    regex = IdentityRule(identity="a.*", issuer=GOOGLE, regex=True)
    assert regex.describe() == f"identity matching regex a.* (issuer {GOOGLE})"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"staging": True, "trusted_root": Path("r.json")},
            "--staging and --trusted-root name different Sigstore roots of trust; "
            "choose one of --staging, --trusted-root, --trust-config",
        ),
        (
            {"trusted_root": Path("r.json"), "trust_config": Path("c.json")},
            "--trusted-root and --trust-config name different Sigstore roots of trust; "
            "choose one of --staging, --trusted-root, --trust-config",
        ),
        (
            {"online": True, "trusted_root": Path("r.json")},
            "--online refreshes Sigstore's own trusted roots over TUF; it does not apply to "
            "--trusted-root or --trust-config; drop --online",
        ),
    ],
)
def test_sigstore_instance_refuses_conflicting_roots(kwargs: Any, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        SigstoreInstance(**kwargs)
    assert str(caught.value) == message


def test_sigstore_instance_describe() -> None:
    assert PRODUCTION.describe() == "Sigstore production"
    assert STAGING.describe() == "Sigstore staging"
    assert SigstoreInstance(trusted_root=Path("r.json")).describe() == "trusted root r.json"
    assert SigstoreInstance(trust_config=Path("c.json")).describe() == "trust config c.json"


def test_importing_the_module_does_not_import_sigstore() -> None:
    code = (
        "import sys, lockdown.sign.keyless_verify, lockdown.sign.keyless_sign\n"
        "import lockdown.sign.sigstore_errors, lockdown.sign._sigstore_private\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sigstore', 'cryptography', 'pydantic', 'requests'})\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
