"""lockdown: hashed, signed lockfiles; exact installs; drift checks; gated upgrades."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
