"""Drift: an installed environment compared with its lock, package by package and file by file."""
