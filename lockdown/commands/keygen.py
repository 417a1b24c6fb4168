"""``lockdown keygen``: an encrypted ECDSA P-256 private key and its public key."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import UsageError
from lockdown.progress import Reporter
from lockdown.report.results import KeyPairWritten

if TYPE_CHECKING:
    from argparse import Namespace as Args

PASSWORD_ENV = "LOCKDOWN_KEY_PASSWORD"  # noqa: S105 - the variable's name, not a secret


def read_passphrase(*, confirm: bool, prompt: str = "Passphrase for the private key: ") -> bytes:
    """The key passphrase from ``$LOCKDOWN_KEY_PASSWORD``, or a prompt on a terminal."""
    value = os.environ.get(PASSWORD_ENV)
    if value is not None:
        return value.encode("utf-8")
    if not sys.stdin.isatty():
        raise UsageError(
            "no passphrase for the private key", hint=f"set {PASSWORD_ENV} or run on a terminal"
        )
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat it: ") != first:
        raise UsageError("the passphrases do not match; nothing was written")
    return first.encode("utf-8")


def keygen(private_path: Path) -> tuple[Path, Path]:
    """Write an encrypted ECDSA P-256 private key and its public key; return both paths."""
    from lockdown.sign.keys import generate_key_pair  # noqa: PLC0415

    password = read_passphrase(confirm=True, prompt="Passphrase for the new key: ")
    public = generate_key_pair(private_path, password=password)
    return private_path, public


def run(args: Args, reporter: Reporter) -> KeyPairWritten:
    """``lockdown keygen`` from its parsed arguments: write the key pair."""
    private, public = keygen(args.keyfile)
    return KeyPairWritten(private=private, public=public)
