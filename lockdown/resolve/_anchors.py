"""The HTML side of a simple-API project page (PEP 503, 629): its anchors and meta tags.

Apart from :mod:`lockdown.resolve.index` so that ``html.parser`` (and the
entity tables it loads, ~0.03 s) is imported only when an index answers HTML.
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["AnchorParser"]


class AnchorParser(HTMLParser):
    """Collects ``<a>`` attributes, ``<base href>`` and PEP 629's repository-version meta tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.base_href: str | None = None
        self.api_version: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a":
            self.anchors.append(attributes)
        elif tag == "base" and self.base_href is None:
            self.base_href = attributes.get("href")
        elif tag == "meta" and attributes.get("name") == "pypi:repository-version":
            self.api_version = attributes.get("content") or ""
