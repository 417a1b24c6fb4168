"""The HTTP transport: every request lockdown makes itself (index pages, yank checks,
artifact downloads) goes through one :class:`Transport`.

* **Retries.** Connection errors, timeouts, resets, bodies cut short, HTTP 429
  and 5xx are tried again, up to ``retries`` more times, with exponential
  backoff and jitter; a ``Retry-After`` the server sends is honoured up to
  :data:`RETRY_AFTER_MAX` seconds. The policy is urllib3's ``Retry``; this
  module only drives it, because the body is read here too and a body that
  breaks must be retried like a connection that does. A retried download
  starts again from byte 0 into an emptied sink: bytes of two attempts never
  mix. When the tries are spent, one :class:`TransferError` line names the
  URL and how many times it was tried.
* **Timeouts** per connect and per read (the socket timeout), never per whole
  transfer; and a body must move :data:`MIN_PROGRESS_BYTES` in every
  ``timeout`` seconds, so a server that trickles a byte at a time is cut off too.
* **Redirects** only within the same scheme and host (no downgrade, no hop away).
* **Size caps** chosen by the caller, checked while the body streams.
* **Compression.** :meth:`Transport.get` (pages, queries, metadata) asks for
  gzip and decodes it as it streams; its cap applies to the decoded bytes, so
  a small compressed body that unpacks without end stops at the cap.
  :meth:`Transport.download` (artifacts, whose bytes are hashed) never asks.
* **Proxies** as the environment names them (``https_proxy``, ``no_proxy`` …).

Importing this module is cheap: urllib3 is imported when the first
:class:`Transport` is made, so a command that downloads nothing never pays
for it.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit

from lockdown import __version__
from lockdown.config.http import (
    BACKOFF_MAX,
    HttpSettings,
    http_settings,
)
from lockdown.errors import LockdownError, PackageIndexError

if TYPE_CHECKING:
    import urllib3

__all__ = [
    "HttpStatusError",
    "Page",
    "TransferError",
    "Transport",
    "fetch_sha256",
    "pip_options",
    "uv_environ",
]

T = TypeVar("T")

#: A server's ``Retry-After`` is honoured up to this many seconds.
RETRY_AFTER_MAX = 60
#: The statuses worth another try: rate limited, or the server's own trouble.
RETRY_STATUSES: Final = frozenset({429, *range(500, 600)})
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS: Final = 10
#: A transfer must move at least this much in every ``timeout`` seconds; a server
#: that trickles bytes (each read within the socket timeout) is cut off too.
MIN_PROGRESS_BYTES = 64 << 10
USER_AGENT: Final = f"lockdown/{__version__}"
SCHEMES: Final = frozenset({"http", "https", "file"})
_CHUNK: Final = 1 << 16


# --- settings in other tools' terms ---


def uv_environ(settings: HttpSettings) -> dict[str, str]:
    """The same patience in uv's own variables (uv takes whole seconds)."""
    return {
        "UV_HTTP_TIMEOUT": str(max(1, math.ceil(settings.timeout))),
        "UV_HTTP_RETRIES": str(settings.retries),
    }


def pip_options(settings: HttpSettings) -> list[str]:
    """The same patience in pip's options."""
    return ["--retries", str(settings.retries), "--timeout", f"{settings.timeout:g}"]


# --- errors ---


class TransferError(PackageIndexError):
    """A request that failed for good: after every try, or at once when trying again cannot help."""

    def __init__(self, message: str, *, reason: str, tries: int, hint: str | None) -> None:
        super().__init__(message, hint=hint)
        #: Why the last try failed, in a few words ("timed out", "Connection refused").
        self.reason = reason
        #: How many times the request was made.
        self.tries = tries


class HttpStatusError(PackageIndexError):
    """The server answered with an error status (after every try, for 429 and 5xx)."""

    def __init__(self, url: str, *, status: int, reason: str, tries: int) -> None:
        super().__init__(f"{url}: HTTP {status} {reason}{tried(tries)}")
        self.url = url
        self.status = status
        #: The status line's phrase, e.g. "Service Unavailable".
        self.reason = reason
        self.tries = tries


def tried(tries: int) -> str:
    """`` (tried 4 times)`` for a message, or nothing when it was tried once."""
    return f" (tried {tries} times)" if tries > 1 else ""


class _Transient(Exception):
    """A body that broke in a way worth another try; ``timeout`` says which kind for the policy."""

    def __init__(self, reason: str, *, timeout: bool) -> None:
        super().__init__(reason)
        self.timeout = timeout


# --- the transport ---


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """A whole (small) body: an index page."""

    body: bytes
    #: The URL it was finally read from, after redirects.
    url: str
    #: The media type, lower case, without parameters ("" when the server sent none).
    content_type: str
    charset: str
    #: Only the body's first bytes (``Transport.get(..., prefix=True)``): the rest was not read.
    truncated: bool = False


class Sink(Protocol):
    """Where a download's bytes go: emptied again before every try."""

    def write(self, data: bytes, /) -> object:
        """Append ``data``."""

    def seek(self, offset: int, /) -> object:
        """Move to ``offset`` (always 0 here)."""

    def truncate(self) -> object:
        """Drop everything after the current position."""


class _Discard:
    """A sink that keeps nothing (for hashing only)."""

    def write(self, data: bytes, /) -> int:
        return len(data)

    def seek(self, offset: int, /) -> int:
        return offset

    def truncate(self) -> int:
        return 0


class Transport:
    """An HTTP(S) client with lockdown's policy; one per command, shared by its threads."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        import urllib3  # noqa: PLC0415 - only commands that really talk HTTP pay for it

        self.settings = settings if settings is not None else http_settings()
        self._timeout = urllib3.Timeout(connect=self.settings.timeout, read=self.settings.timeout)
        self._direct = urllib3.PoolManager(num_pools=16, maxsize=16)
        self._proxied: dict[str, urllib3.ProxyManager] = {}
        self._lock = threading.Lock()

    # -- public --

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        limit: int,
        too_large: Callable[[], LockdownError],
        what: str,
        body: bytes | None = None,
        prefix: bool = False,
    ) -> Page:
        """GET a whole body of at most ``limit`` bytes (``too_large`` says why one is refused).

        With ``prefix``, a longer body is not refused: its first ``limit``
        (decoded) bytes are returned, marked ``truncated``, and the connection
        is closed rather than read to the end.

        With ``body``, the request is a POST of it instead: only for queries
        that change nothing on the server, since it may be sent more than once.
        Network failures raise :class:`TransferError` with ``what`` as its
        start; error statuses :class:`HttpStatusError`.
        """

        def read(chunks: Iterable[bytes]) -> tuple[bytes, bool]:
            kept: list[bytes] = []
            size = 0
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    if not prefix:
                        raise too_large()
                    kept.append(chunk[: limit - size])
                    return b"".join(kept), True
                kept.append(chunk)
            return b"".join(kept), False

        def consume(response: urllib3.BaseHTTPResponse, final_url: str) -> Page:
            chunks = self._chunks(response)
            encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
            if encoding in {"gzip", "x-gzip"}:
                chunks = _gunzip(chunks, what)
            elif encoding not in {"", "identity"}:
                raise PackageIndexError(
                    f"{what}: the server sent a body in {encoding!r} encoding, "
                    "which lockdown did not ask for",
                    hint="check the index; it may be broken or hostile",
                )
            data, truncated = read(chunks)
            if truncated:
                response.close()  # the rest is not wanted: this connection is not reused
            content_type, charset = _content_type(response.headers.get("Content-Type") or "")
            return Page(
                body=data,
                url=final_url,
                content_type=content_type,
                charset=charset,
                truncated=truncated,
            )

        scheme = urlsplit(url).scheme.lower()
        if scheme not in SCHEMES:
            raise PackageIndexError(
                f"{what}: unsupported URL scheme", hint="use an http://, https:// or file:// URL"
            )
        if scheme == "file":
            data, truncated = read(_local_chunks(url))
            return Page(body=data, url=url, content_type="", charset="utf-8", truncated=truncated)
        return self._exchange(url, {"Accept-Encoding": "gzip", **headers}, what, consume, body=body)

    def download(
        self,
        url: str,
        sink: Sink,
        *,
        limit: int | None = None,
        too_large: Callable[[int], LockdownError] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[str, int]:
        """Stream ``url`` into ``sink`` and return (sha256 hex, size) of what was written.

        ``sink`` is emptied before every try, so what it holds at the end is
        exactly one response's body. Past ``limit`` bytes, ``too_large(limit)``
        is raised (never retried: a body that runs on is not a network
        hiccup). ``progress`` hears the bytes received so far in this try.
        """
        scheme = urlsplit(url).scheme.lower()
        if scheme not in SCHEMES:
            raise PackageIndexError(
                f"cannot download {url}: unsupported URL scheme",
                hint="artifacts must come from http://, https:// or file:// URLs",
            )

        def write(chunks: Iterable[bytes]) -> tuple[str, int]:
            sink.seek(0)
            sink.truncate()
            digest = hashlib.sha256()
            size = 0
            for chunk in chunks:
                size += len(chunk)
                if limit is not None and size > limit:
                    if too_large is None:
                        raise PackageIndexError(
                            f"cannot download {url}: larger than {limit} bytes; refused"
                        )
                    raise too_large(limit)
                digest.update(chunk)
                sink.write(chunk)
                if progress is not None:
                    progress(size)
            return digest.hexdigest(), size

        if scheme == "file":
            return write(_local_chunks(url))
        try:
            return self._exchange(
                url,
                {},
                f"cannot download {url}",
                lambda response, _url: write(self._chunks(response)),
            )
        except HttpStatusError as error:
            raise PackageIndexError(
                f"cannot download {url}: HTTP {error.status} {error.reason}{tried(error.tries)}",
                hint=(
                    "the index lists a file it does not serve; check the index"
                    if error.status in (404, 410)
                    else "check the index or try again later"
                ),
            ) from None

    # -- the loop --

    def _exchange(
        self,
        url: str,
        headers: Mapping[str, str],
        what: str,
        consume: Callable[[urllib3.BaseHTTPResponse, str], T],
        *,
        body: bytes | None = None,
    ) -> T:
        """Make the request until it succeeds or the policy says stop; ``consume`` reads the body.

        1. Open (following same-origin redirects). A connection failure is
           handed to the policy.
        2. A retryable status is handed to the policy (which honours
           Retry-After); any other error status ends here.
        3. ``consume`` reads the body; a body that breaks or trickles is
           handed to the policy. Whatever ``consume`` raises itself (a size
           cap) ends here.
        4. The policy either allows another try (after its pause) or is
           spent: one TransferError / HttpStatusError naming the tries.
        """
        from urllib3.exceptions import (  # noqa: PLC0415
            HTTPError,
            MaxRetryError,
            ProtocolError,
            ReadTimeoutError,
        )

        method = "GET" if body is None else "POST"
        policy = _policy(self.settings, method)
        tries = 0
        while True:
            tries += 1
            response: urllib3.BaseHTTPResponse | None = None
            try:
                # 1. Open.
                response, final_url = self._open(
                    url, {"User-Agent": USER_AGENT, **headers}, method=method, body=body
                )
                status = response.status
                # 2. The status.
                if status in RETRY_STATUSES and policy.is_retry(
                    method, status, "Retry-After" in response.headers
                ):
                    answered, response = response, None
                    _settle(answered)
                    try:
                        policy = policy.increment(method, final_url, response=answered)
                    except MaxRetryError:
                        raise HttpStatusError(
                            final_url, status=status, reason=_phrase(answered), tries=tries
                        ) from None
                    policy.sleep(answered)
                    continue
                if not 200 <= status < 300:
                    answered, response = response, None
                    _settle(answered)
                    raise HttpStatusError(
                        final_url, status=status, reason=_phrase(answered), tries=tries
                    )
                # 3. The body.
                result = consume(response, final_url)
                # Read to the end: the connection can serve the next request.
                response.release_conn()
                response = None
                return result
            except (HTTPError, _Transient) as exc:
                error: Exception = exc
                if isinstance(exc, _Transient):
                    # Handed to the policy as the kind of failure it is.
                    error = (
                        ReadTimeoutError(None, url, str(exc))  # type: ignore[arg-type]
                        if exc.timeout
                        else ProtocolError(str(exc))
                    )
                try:
                    # 4. Another try, or the end.
                    policy = policy.increment(method, url, error=error)
                except MaxRetryError:
                    raise TransferError(
                        f"{what}: {_reason(exc)}{tried(tries)}",
                        reason=_reason(exc),
                        tries=tries,
                        hint="check the index URL and network",
                    ) from None
                policy.sleep()
            finally:
                if response is not None:
                    # Not read to the end (an error status, a broken or refused body):
                    # this connection is never reused.
                    response.close()
                    response.release_conn()

    def _open(
        self, url: str, headers: Mapping[str, str], *, method: str, body: bytes | None
    ) -> tuple[urllib3.BaseHTTPResponse, str]:
        """The first non-redirect response for ``url``, and the URL it came from."""
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._manager(url).urlopen(
                method,
                url,
                body=body,
                headers=dict(headers),
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                timeout=self._timeout,
            )
            location = response.headers.get("Location")
            if response.status not in _REDIRECT_STATUSES or not location:
                return response, url
            _settle(response)
            if response.status not in {307, 308}:
                method, body = "GET", None  # what browsers and urllib do with a POST
            new = urljoin(url, location)
            old_parts, new_parts = urlsplit(url), urlsplit(new)
            if (old_parts.scheme.lower(), old_parts.netloc.lower()) != (
                new_parts.scheme.lower(),
                new_parts.netloc.lower(),
            ):
                raise PackageIndexError(
                    f"{url} redirects to another origin ({new_parts.scheme}://{new_parts.netloc}); "
                    "refused",
                    hint="use the final URL of the index or mirror directly",
                )
            url = new
        raise PackageIndexError(
            f"{url}: more than {MAX_REDIRECTS} redirects; refused",
            hint="check the index URL",
        )

    def _manager(self, url: str) -> urllib3.PoolManager:
        """The direct pool, or the proxy's, as the environment says for this URL now."""
        import urllib.request  # noqa: PLC0415

        parts = urlsplit(url)
        proxy = urllib.request.getproxies().get(parts.scheme.lower())
        if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
            return self._direct
        with self._lock:
            manager = self._proxied.get(proxy)
            if manager is None:
                import urllib3  # noqa: PLC0415

                auth = urllib3.util.parse_url(proxy).auth
                manager = urllib3.ProxyManager(
                    proxy,
                    num_pools=16,
                    maxsize=16,
                    proxy_headers=urllib3.make_headers(proxy_basic_auth=auth) if auth else None,
                )
                self._proxied[proxy] = manager
            return manager

    def _chunks(self, response: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
        """The body's chunks as they arrive; one that trickles or stops short is transient."""
        import http.client  # noqa: PLC0415 - loaded by urllib3 already

        from urllib3.exceptions import ProtocolError  # noqa: PLC0415

        timeout = self.settings.timeout
        announced = _content_length(response.headers.get("Content-Length"))
        received = 0
        window_start = time.monotonic()
        window_bytes = 0
        while True:
            try:
                # read1: what one receive brings, so a trickle is seen as it trickles
                # (read(n) would block until n bytes, however long that takes).
                chunk = response.read1(_CHUNK)
            except ProtocolError as exc:
                if announced is not None and isinstance(exc.args[-1], http.client.IncompleteRead):
                    raise _Transient(_cut(received, announced), timeout=False) from None
                raise
            if not chunk:
                break
            received += len(chunk)
            window_bytes += len(chunk)
            now = time.monotonic()
            if now - window_start >= timeout:
                if window_bytes < MIN_PROGRESS_BYTES:
                    raise _Transient(
                        f"the server sent {window_bytes} bytes in {now - window_start:.0f}s; "
                        "too slow, stopped",
                        timeout=True,
                    )
                window_start, window_bytes = now, 0
            yield chunk
        # A connection that closes early is a failed transfer, not a shorter file.
        if announced is not None and received < announced:
            raise _Transient(_cut(received, announced), timeout=False)


#: An error page or redirect body up to this size is read so its connection can be
#: reused (and the server is not cut off mid-write); a longer one closes it.
_SETTLE_BYTES: Final = 64 << 10


def _settle(response: urllib3.BaseHTTPResponse) -> None:
    """Be done with a response whose body does not matter: release or close its connection."""
    from urllib3.exceptions import HTTPError  # noqa: PLC0415

    try:
        rest = response.read(_SETTLE_BYTES, decode_content=False)
        ended = len(rest) < _SETTLE_BYTES or not response.read(1, decode_content=False)
    except (HTTPError, OSError):
        ended = False
    if not ended:
        response.close()
    response.release_conn()


def _gunzip(chunks: Iterable[bytes], what: str) -> Iterator[bytes]:
    """A gzip body's decoded bytes, at most :data:`_CHUNK` at a time however it unpacks."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for chunk in chunks:
            data = chunk
            while True:
                out = inflate.decompress(data, _CHUNK)
                if out:
                    yield out
                if inflate.unused_data:
                    raise _corrupt(what, "data after its end")
                data = inflate.unconsumed_tail
                # All input taken and less than asked for: nothing more is pending.
                if not data and len(out) < _CHUNK:
                    break
        if not inflate.eof:
            # Ended early: like a body cut short, worth another try.
            raise _Transient("the compressed body ended early", timeout=False)
    except zlib.error as exc:
        raise _corrupt(what, str(exc)) from None


def _corrupt(what: str, problem: str) -> PackageIndexError:
    return PackageIndexError(
        f"{what}: the server sent a corrupt gzip body ({problem})",
        hint="check the index; it may be broken or hostile",
    )


def fetch_sha256(url: str, *, transport: Transport | None = None) -> tuple[str, int]:
    """Download ``url`` (keeping nothing) and return its (sha256 hex, size in bytes)."""
    return (transport or Transport()).download(url, _Discard())


def _policy(settings: HttpSettings, method: str) -> urllib3.util.Retry:
    """urllib3's Retry for these settings: the one place the retry policy is decided."""
    from urllib3.util import Retry  # noqa: PLC0415

    class _CappedRetry(Retry):
        """Honours Retry-After, but never waits longer than RETRY_AFTER_MAX."""

        def parse_retry_after(self, retry_after: str) -> float:
            return min(float(super().parse_retry_after(retry_after)), float(RETRY_AFTER_MAX))

    return _CappedRetry(
        total=settings.retries,
        connect=None,
        read=None,
        status=None,
        # Anything else (a TLS failure, a malformed answer) will not mend by itself.
        other=0,
        redirect=False,
        # GET, or a POST the caller vouches for as a query (see Transport.get).
        allowed_methods=frozenset({method}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=settings.backoff,
        backoff_max=BACKOFF_MAX,
        backoff_jitter=settings.backoff,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def _local_chunks(url: str) -> Iterator[bytes]:
    """A ``file://`` URL's bytes (one try: a local disk does not flake)."""
    import urllib.request  # noqa: PLC0415

    path = Path(urllib.request.url2pathname(urlsplit(url).path))
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk
    except OSError as exc:
        raise PackageIndexError(
            f"cannot download {url}: {_os_reason(exc)}", hint="check the path"
        ) from None


def _content_type(header: str) -> tuple[str, str]:
    """(media type in lower case, charset) of a Content-Type header."""
    media, *parameters = header.split(";")
    charset = "utf-8"
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    return media.strip().lower(), charset


def _content_length(header: str | None) -> int | None:
    if header is None or not (header.isascii() and header.isdigit()):
        return None
    return int(header)


def _phrase(response: urllib3.BaseHTTPResponse) -> str:
    """The status line's phrase; the standard one when the server sent none."""
    from http import HTTPStatus  # noqa: PLC0415

    if response.reason:
        return response.reason
    try:
        return HTTPStatus(response.status).phrase
    except ValueError:
        return ""


def _cut(received: int, announced: int) -> str:
    return f"the connection closed after {received} of {announced} bytes"


def _reason(error: BaseException) -> str:
    """A few words saying why a connection or read failed, without urllib3's nesting."""
    from urllib3.exceptions import (  # noqa: PLC0415
        ConnectTimeoutError,
        NewConnectionError,
        ProtocolError,
        ProxyError,
        ReadTimeoutError,
        SSLError,
    )

    if isinstance(error, _Transient):
        return str(error)
    if isinstance(error, ProxyError):
        return f"proxy: {_reason(error.original_error)}"
    if isinstance(error, NewConnectionError):
        cause = error.__cause__ or error.__context__
        return _os_reason(cause) if cause is not None else str(error)
    if isinstance(error, (ConnectTimeoutError, ReadTimeoutError, TimeoutError)):
        return "timed out"
    if isinstance(error, ProtocolError) and len(error.args) > 1:
        inner = error.args[1]
        if isinstance(inner, BaseException):
            return _os_reason(inner)
    if isinstance(error, SSLError) and error.args:
        return " ".join(str(error.args[0]).split())
    return _os_reason(error)


def _os_reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and isinstance(error.strerror, str) and error.strerror:
        text = error.strerror
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())
