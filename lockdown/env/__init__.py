"""Target environments: interpreters and installed files, read without importing them."""

from __future__ import annotations
