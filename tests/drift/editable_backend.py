"""A PEP 660 build backend in a few lines of stdlib, for an editable install in tests."""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile

NAME, VERSION = "beta", "1.1"
DIST = f"{NAME}-{VERSION}"


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _wheel(directory: str, files: dict[str, bytes]) -> str:
    files = dict(files)
    files[f"{DIST}.dist-info/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n".encode()
    )
    files[f"{DIST}.dist-info/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = "".join(f"{p},sha256={_digest(d)},{len(d)}\n" for p, d in files.items())
    record += f"{DIST}.dist-info/RECORD,,\n"
    files[f"{DIST}.dist-info/RECORD"] = record.encode()
    name = f"{DIST}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):  # type: ignore[no-untyped-def]
    return _wheel(wheel_directory, {f"{NAME}/__init__.py": b"__version__ = '1.1'\n"})


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):  # type: ignore[no-untyped-def]
    here = os.path.abspath(os.path.dirname(__file__))
    return _wheel(wheel_directory, {f"__editable__.{DIST}.pth": (here + "\n").encode()})
