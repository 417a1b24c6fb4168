"""Signing and verifying lock files: Sigstore keyless, and ECDSA keys for air-gapped sites."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lockdown.config import Config


def signature_required(config: Config | None, flag: bool) -> bool:
    """``--require-signature``, or ``[tool.lockdown.trust] require = true``.

    Here rather than in :mod:`lockdown.commands.verify` so that ``check`` can ask
    on its cron path without importing any of the signing machinery.
    """
    trust = config.trust if config is not None else None
    return flag or (trust is not None and trust.require)
