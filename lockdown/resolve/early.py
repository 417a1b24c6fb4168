"""The index pages worth reading while the resolver runs (for provenance and the yank check).

Reading them early overlaps the network with the resolver's own work; a page
read early that nobody asks for costs only its bytes, and one that could not
be read early is read again, with its error, when asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from lockdown.names import normalize_name

if TYPE_CHECKING:
    from lockdown.config.http import HttpSettings
    from lockdown.lock.model import LockedPackage
    from lockdown.project import ProjectInputs
    from lockdown.resolve.index import IndexClients

__all__ = ["early_clients", "early_pages"]


def early_pages(
    inputs: ProjectInputs,
    old: Sequence[LockedPackage] | None,
    index_url: str,
    upgrade: bool,
    upgrading: frozenset[str],
) -> dict[str, set[str]]:
    """index → names whose pages are worth reading while the resolver runs.

    Those the provenance step and the yank check will likely ask for: the
    project's direct requirements the previous lock does not pin (new ones
    come from the main index, where the resolver looks first), and, when
    upgrading, the previously locked names that may move (at the index each
    came from). An unchanged locked package keeps its recorded answer and
    needs no page, so a plain re-lock reads nothing early.
    """
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    locked = {normalize_name(s.name): s for s in old or ()}
    pages: dict[str, set[str]] = {}
    for text in inputs.all_requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        name = normalize_name(requirement.name)
        if requirement.url is None and name != inputs.name and name not in locked:
            pages.setdefault(index_url, set()).add(name)
    for name, state in locked.items():
        if state.index and (upgrade or name in upgrading):
            pages.setdefault(state.index, set()).add(name)
    return pages


def early_clients(
    http: HttpSettings | None,
    pages: Mapping[str, set[str]],
    *,
    provenance: bool,
    on_provenance: Callable[[], object] | None = None,
) -> IndexClients:
    """The run's page-keeping index clients, already reading ``pages`` (index → names).

    One page of each index is read first: the others only when it declares
    what the steps read pages for (provenance, if checked; core metadata for
    the license records). The yank check reads its few pages when it asks.
    ``on_provenance`` is called once, from a reader's thread, when the first
    index is seen to carry provenance (so its verification can get ready).
    """
    from lockdown.resolve.index import IndexClients, IndexDeclarations  # noqa: PLC0415

    told = threading.Event()

    def worth(declared: IndexDeclarations) -> bool:
        carries = provenance and declared.carries_provenance
        if carries and on_provenance is not None and not told.is_set():
            told.set()
            on_provenance()
        return carries or declared.core_metadata

    clients = IndexClients(http)
    clients.prefetch(pages, worth=worth)
    return clients
