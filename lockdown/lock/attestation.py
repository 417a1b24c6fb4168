"""A publisher identity: who a PEP 740 attestation says published a file (PEP 751 form).

PEP 751 records them per package in ``attestation-identities``: one table per
Trusted Publisher, its ``kind`` (``GitHub``, ``GitLab``, ``Google``, ...) plus
that kind's own fields, exactly as the index's provenance names them. Pure
data: the model knows nothing of how an identity was verified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Publisher", "describe_publishers", "publishers_from_tables"]


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class Publisher:
    """One Trusted Publisher: its kind and its fields (sorted, values as strings)."""

    kind: str
    #: The kind's own fields (``repository``, ``workflow``, ``email``, ...), sorted by key.
    fields: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> Publisher:
        """From a PEP 751 ``attestation-identities`` entry or a provenance ``publisher``.

        Empty (``None``) fields are dropped: they say nothing about the publisher.
        """
        kind = table.get("kind")
        if not isinstance(kind, str) or not kind:
            raise ValueError("an attestation identity needs a 'kind'")
        fields = []
        for key, value in table.items():
            if key == "kind" or value is None:
                continue
            if not isinstance(value, (str, int, bool)):
                raise ValueError(f"attestation identity field {key!r} is not a plain value")
            fields.append((str(key), str(value) if not isinstance(value, str) else value))
        return cls(kind=kind, fields=tuple(sorted(fields)))

    def table(self) -> dict[str, str]:
        """The PEP 751 table: ``kind`` first, then the fields."""
        return {"kind": self.kind, **dict(self.fields)}

    def describe(self) -> str:
        """For people: ``GitHub (repository=acme/lib, workflow=release.yml)``."""
        if not self.fields:
            return self.kind
        return f"{self.kind} ({', '.join(f'{k}={v}' for k, v in self.fields)})"


def publishers_from_tables(tables: Iterable[Mapping[str, Any]] | None) -> frozenset[Publisher]:
    """A lock's ``attestation-identities`` as publishers (entries without a kind are skipped)."""
    found = set()
    for table in tables or ():
        try:
            found.add(Publisher.from_table(table))
        except ValueError:
            continue
    return frozenset(found)


def describe_publishers(publishers: Iterable[Publisher]) -> str:
    """``A, B`` in a stable order, or ``none``."""
    return ", ".join(p.describe() for p in sorted(publishers)) or "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationSummary:
    """What the provenance step found, for the lock's report."""

    #: Packages in the lock (from an index or not).
    packages: int
    #: Packages every file of which is attested, by publisher.
    by_publisher: Mapping[Publisher, int]
    #: Packages attested (each counted once, whatever its publishers).
    attested: int
    #: Files whose provenance was verified in this run (not carried over).
    verified_files: int
    #: Packages with only some files attested (not recorded as attested).
    partial: tuple[str, ...] = ()
    #: (index, the simple API version it serves) of each index whose pages
    #: cannot carry provenance, so that its new packages' pages were not read.
    no_provenance: tuple[tuple[str, str], ...] = ()
