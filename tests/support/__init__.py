"""Test support: real artifacts, a real package index and hermetic subprocess environments."""
