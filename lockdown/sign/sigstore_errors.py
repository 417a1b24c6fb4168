"""sigstore's exceptions translated into lockdown's one-line reasons and hints.

Pure text work over exception chains and messages: which verification step
failed, why a bundle does not load, whether the network (not a server's answer)
is the cause. sigstore, requests and urllib3 are imported inside the functions
that need their exception classes.
"""

from __future__ import annotations

import errno
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lockdown.config.trust import SigstoreInstance

INSTANCE_HINT = (
    "check the Sigstore instance: --staging for staging signatures, "
    "--trusted-root or --trust-config for a private deployment"
)
RESIGN_HINT = "the bundle cannot be trusted: sign the file again"


#: sigstore's VerificationError texts (prefixes) → a short reason and what to do.
_KNOWN_FAILURES: tuple[tuple[str, str, str], ...] = (
    (
        "Bundle message digest mismatch",
        "signature does not match the file (digest mismatch)",
        "the file changed after it was signed: restore the signed file or sign it again",
    ),
    (
        "Signature is invalid for input",
        "signature does not match the file (invalid signature)",
        "the file changed after it was signed: restore the signed file or sign it again",
    ),
    (
        "not enough sources of verified time",
        "no signing time verifiable with {instance} (no trusted log promise or timestamp)",
        INSTANCE_HINT,
    ),
    (
        "failed to verify SCT",
        "certificate's SCT is not from {instance}'s certificate transparency log",
        INSTANCE_HINT,
    ),
    (
        "transparency log entry is inconsistent",
        "transparency log entry does not match the signature and certificate",
        RESIGN_HINT,
    ),
    ("invalid log entry", "transparency log entry does not verify ({detail})", INSTANCE_HINT),
    ("duplicate timestamp", "bundle has duplicate signed timestamps", RESIGN_HINT),
    ("too many signed timestamp", "bundle has too many signed timestamps ({detail})", RESIGN_HINT),
    (
        "no Timestamp Authorities",
        "bundle has signed timestamps but {instance} has no timestamp authority",
        INSTANCE_HINT,
    ),
    (
        "invalid signing cert: expired",
        "signing certificate had expired at the signing time",
        RESIGN_HINT,
    ),
    ("Key usage", "certificate is not a code-signing certificate", RESIGN_HINT),
    ("Extended usage", "certificate is not a code-signing certificate", RESIGN_HINT),
)


def failure_reason(exc: BaseException, instance: SigstoreInstance) -> tuple[str, str]:
    """A short reason and hint for a failure that is not an identity mismatch."""
    from sigstore.errors import CertValidationError  # noqa: PLC0415

    text = one_line(exc)
    if isinstance(exc, CertValidationError):
        # The certificate chain, built at each verified signing time.
        if "not valid at validation time" in text:
            return (
                "signing certificate was not valid at the signed timestamp's time",
                RESIGN_HINT,
            )
        return f"not signed by {instance.describe()}'s CA", INSTANCE_HINT
    for start, reason, hint in _KNOWN_FAILURES:
        if text.startswith(start):
            detail = text.partition(": ")[2] or text
            return reason.format(instance=instance.describe(), detail=detail), hint
    if not text or text == type(exc).__name__:
        text = f"{type(exc).__name__} while verifying"
    return text[0].lower() + text[1:], RESIGN_HINT


def bundle_reason(exc: BaseException) -> str:
    """sigstore's reason a bundle does not load, in one line."""
    # sigstore wraps pydantic's multi-line report into its message; use the original.
    if _is_pydantic(exc.__context__):
        return _pydantic_line(exc.__context__)
    return one_line(exc)


def one_line(exc: BaseException) -> str:
    """An exception's text on one line (never a multi-line pydantic report)."""
    if _is_pydantic(exc):
        return _pydantic_line(exc)
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _is_pydantic(exc: BaseException | None) -> bool:
    return isinstance(exc, ValueError) and callable(getattr(exc, "errors", None))


def _pydantic_line(exc: BaseException | None) -> str:
    """The first error of a pydantic ``ValidationError``; the input itself is not echoed."""
    first = exc.errors(include_url=False)[0]  # type: ignore[union-attr]
    location = ".".join(str(part) for part in first.get("loc", ()))
    message = " ".join(str(first.get("msg", "")).split())
    if first.get("type") == "json_invalid":
        return f"not valid JSON ({message.removeprefix('Invalid JSON: ')})"
    if location == "mediaType" and first.get("type") != "missing":
        return f"unsupported media type {first.get('input')!r}"
    return f"{location}: {message}" if location else message


def fulcio_reason(exc: BaseException) -> str:
    """Fulcio's own message (sigstore drops it for 4xx answers: a 4xx Response is falsy)."""
    if str(exc):
        return one_line(exc)
    response = getattr(exc.__cause__, "response", None)
    status = getattr(response, "status_code", None)
    try:
        message = response.json().get("message") if response is not None else None
    except ValueError:
        message = None
    if isinstance(message, str) and message:
        return f"HTTP {status}: {' '.join(message.split())}"
    return one_line(exc.__cause__ or exc)


def request_url(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    return f" at {url}" if isinstance(url, str) else ""


#: errno values of a network that is not there (ECONNREFUSED and the timeouts
#: arrive as ConnectionError / TimeoutError subclasses).
_UNREACHABLE_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.ETIMEDOUT}
)


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the network failing, not a server's answer.

    Connection refused or reset, a name that does not resolve, no route, a
    timeout: yes. An HTTP error status, a malformed answer, expired metadata: no.
    """
    import socket  # noqa: PLC0415

    import requests  # noqa: PLC0415
    import urllib3.exceptions  # noqa: PLC0415
    from sigstore.errors import NetworkError  # noqa: PLC0415
    from tuf.api.exceptions import SlowRetrievalError  # noqa: PLC0415

    network = (
        ConnectionError,
        TimeoutError,
        socket.gaierror,
        socket.herror,
        requests.ConnectionError,
        requests.Timeout,
        urllib3.exceptions.NewConnectionError,
        urllib3.exceptions.ConnectTimeoutError,
        urllib3.exceptions.ReadTimeoutError,
        NetworkError,
        SlowRetrievalError,
    )
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        if isinstance(current, network):
            return True
        if isinstance(current, OSError) and current.errno in _UNREACHABLE_ERRNOS:
            return True
        current = current.__cause__ or current.__context__
    return False


def network_reason(exc: BaseException) -> str:
    """``Connection refused`` rather than urllib3's nested repr of the pool and its retries."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for link in reversed(chain):
        if isinstance(link, OSError) and link.strerror:
            return link.strerror
        errno_text = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(link))
        if errno_text:
            return errno_text.group(1).strip()
    texts = [" ".join(str(link).split()) for link in chain]
    for marker in ("Read timed out", "timed out"):
        if any(marker in text for text in texts):
            return marker
    return next((text for text in reversed(texts) if text), type(exc).__name__)
