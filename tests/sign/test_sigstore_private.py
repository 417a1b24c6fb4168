"""sigstore's private names that lockdown relies on still exist and behave.

Every one of them is used only through ``lockdown/sign/_sigstore_private.py``;
when a sigstore release renames or drops one, these tests fail naming the
symbol and the installed sigstore version, before a user meets an
``AttributeError`` or an ``ImportError`` in ``lockdown verify``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import logging
import re
from pathlib import Path

import pytest
import sigstore
from sigstore.models import Bundle

from lockdown.sign import _sigstore_private
from lockdown.sign.keyless_verify import PRODUCTION_TUF_URL, STAGING_TUF_URL

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "sigstore"
SIGSTORE = f"sigstore {sigstore.__version__}"
WHAT_TO_DO = "adapt lockdown/sign/_sigstore_private.py to this sigstore release"


def _gone(symbol: str, problem: str) -> str:
    release = SIGSTORE
    if symbol.startswith("pypi_attestations"):
        release = f"pypi-attestations {importlib.metadata.version('pypi-attestations')}"
    return f"{release}: {symbol} {problem}: {WHAT_TO_DO}"


@pytest.mark.parametrize(
    ("module", "attribute"),
    _sigstore_private.PRIVATE_SYMBOLS,
    ids=[f"{module}.{attribute}" for module, attribute in _sigstore_private.PRIVATE_SYMBOLS],
)
def test_private_symbol_exists(module: str, attribute: str) -> None:
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(_gone(f"{module}.{attribute}", f"is gone (module {module}: {exc})"))
    found: object = loaded
    for part in attribute.split("."):
        if not hasattr(found, part):
            pytest.fail(_gone(f"{module}.{attribute}", "is gone"))
        found = getattr(found, part)


def test_tuf_logger_is_the_one_sigstore_warns_on() -> None:
    tuf = importlib.import_module("sigstore._internal.tuf")
    logger = getattr(tuf, "_logger", None)
    if not isinstance(logger, logging.Logger) or logger.name != _sigstore_private.TUF_LOGGER:
        pytest.fail(_gone(f"logger {_sigstore_private.TUF_LOGGER!r}", "is not the TUF client's"))


def test_quiet_offline_tuf_warning_raises_and_restores_the_level() -> None:
    logger = logging.getLogger(_sigstore_private.TUF_LOGGER)
    before = logger.level
    with _sigstore_private.quiet_offline_tuf_warning():
        assert logger.getEffectiveLevel() == logging.ERROR
    assert logger.level == before


def test_certificate_oids_are_fulcios() -> None:
    # Fulcio's OID registry: 1.1 is the OIDC issuer (v1), 1.7 the other-name SAN.
    got = {
        "_OIDC_ISSUER_OID": _sigstore_private.oidc_issuer_oid().dotted_string,
        "_OTHERNAME_OID": _sigstore_private.othername_oid().dotted_string,
    }
    want = {"_OIDC_ISSUER_OID": "1.3.6.1.4.1.57264.1.1", "_OTHERNAME_OID": "1.3.6.1.4.1.57264.1.7"}
    for name, dotted in want.items():
        if got[name] != dotted:
            pytest.fail(_gone(f"sigstore.verify.policy.{name}", f"is {got[name]}, not {dotted}"))


def test_signing_client_errors_are_exception_classes() -> None:
    names = ("ExpiredCertificate", "FulcioClientError", "RekorClientError")
    for name, error in zip(names, _sigstore_private.signing_client_errors(), strict=True):
        assert error.__name__ == name, _gone(name, f"is now {error.__name__}")
        assert issubclass(error, Exception)


def test_publisher_policy_checks_a_certificate() -> None:
    from pypi_attestations import GitHubPublisher

    publisher = GitHubPublisher(repository="octo/widget", workflow="release.yml")
    policy = _sigstore_private.publisher_policy(publisher)
    assert callable(getattr(policy, "verify", None)), _gone(
        "pypi_attestations.GitHubPublisher._as_policy", "no longer returns a policy"
    )


@pytest.mark.parametrize("url", [PRODUCTION_TUF_URL, STAGING_TUF_URL])
def test_embedded_trusted_root_is_a_trusted_root(url: str) -> None:
    try:
        raw = _sigstore_private.embedded_trusted_root(url)
    except Exception as exc:  # any failure names the private reader
        pytest.fail(_gone("sigstore._utils.read_embedded", f"cannot read {url}'s root ({exc})"))
    document = json.loads(raw)
    assert document["mediaType"].startswith("application/vnd.dev.sigstore.trustedroot")
    assert document["certificateAuthorities"]
    assert document["tlogs"]


@pytest.mark.skipif(not (FIXTURES / "README.md").is_file(), reason="no Sigstore fixtures")
@pytest.mark.parametrize(
    ("bundle", "dsse"),
    [
        ("bundle_v3.txt.sigstore", False),
        ("staging-rekor-v2.txt.sigstore.json", False),
        ("more/a.dsse.staging-rekor-v2.txt.sigstore.json", True),
    ],
)
def test_bundle_content_variant(bundle: str, dsse: bool) -> None:
    loaded = Bundle.from_json((FIXTURES / bundle).read_bytes())
    try:
        assert _sigstore_private.has_dsse_envelope(loaded) is dsse
    except AttributeError as exc:
        pytest.fail(_gone("Bundle._inner.dsse_envelope", f"is gone ({exc})"))


#: A private sigstore name: a ``sigstore._x`` module path (also as a logger
#: name), an underscore name imported from sigstore, or a bundle's ``_inner``.
PRIVATE_USE = re.compile(
    r"sigstore(?:\.\w+)*\._\w"
    r"|from\s+sigstore[\w.]*\s+import\s+\(?\s*_"
    r"|\._inner\b"
    r"|\._as_policy\b"
)


def test_no_other_module_uses_sigstore_private_api() -> None:
    private = ROOT / "lockdown" / "sign" / "_sigstore_private.py"
    offenders = []
    for path in sorted((ROOT / "lockdown").rglob("*.py")):
        if path == private:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PRIVATE_USE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "sigstore's private API outside _sigstore_private.py:\n" + "\n".join(
        offenders
    )


def test_the_pattern_finds_each_kind_of_private_use() -> None:
    for line in (
        "from sigstore._utils import read_embedded",
        'logging.getLogger("sigstore._internal.tuf")',
        "from sigstore.verify.policy import _OIDC_ISSUER_OID",
        "if bundle._inner.dsse_envelope is not None:",
        "verifier.verify_dsse(bundle, publisher._as_policy())",
    ):
        assert PRIVATE_USE.search(line), line
    assert not PRIVATE_USE.search("from sigstore.verify.policy import Identity")
    assert not PRIVATE_USE.search("from sigstore.models import Bundle")
