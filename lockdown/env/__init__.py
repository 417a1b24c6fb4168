"""Target environments: interpreters and installed files, read without importing them."""

from __future__ import annotations

#: Distributions an installer brings along: ``install`` keeps them and ``check``
#: does not report them when the lock does not list them (``[tool.lockdown.install] keep``).
DEFAULT_KEEP: tuple[str, ...] = ("pip", "setuptools", "wheel")
