"""What a file with a prefix placeholder looks like once installed (pure, no I/O).

conda packages ship some files with a placeholder path in them (``info/paths.json``
gives the placeholder and the mode); installers write the target prefix in
its place. To check such a file against the locked archive, the installed
content is rebuilt from the archive's own bytes, as the installers do it:

- ``text``: every occurrence replaced by the prefix. On Unix, a first line
  ``#!...`` that grows past the kernel's limit (or gets a space) is rewritten:
  conda makes it ``#!/usr/bin/env <exe><options>``; rattler does the same,
  except for a Python interpreter, which it starts through ``/bin/sh``.
- ``binary``: the length must not change, so each NUL-terminated string
  holding the placeholder gets the prefix instead, the rest of the string
  moves up, and NULs fill the gap before the terminator (conda's
  ``binary_replace``; rattler pads the same way). A prefix longer than the
  placeholder cannot be written: installers refuse it.

Several spellings of the prefix (as given, symlinks resolved) and both
installers' shebang rules give a few candidates; an installed file must equal
one of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: conda's shebang: the whole line, the executable, and the options after it.
_SHEBANG = re.compile(rb"^(#!(?:[ ]*)(/(?:\\ |[^ \n\r\t])*)(.*))$", re.MULTILINE)
#: rattler starts these through /bin/sh instead of /usr/bin/env when it rewrites.
_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)?)?$")


def installed_candidates(
    data: bytes, placeholder: str, mode: str, prefixes: Sequence[str], platform: str
) -> list[bytes]:
    """Every content an installer may have written for ``data`` (duplicates removed).

    ``mode`` is ``text`` or ``binary``; ``prefixes`` the spellings of the
    target prefix; ``platform`` the conda subdir (``linux-64``, ``win-64``...).
    """
    out: list[bytes] = []
    windows = platform.startswith("win-")
    for prefix in prefixes:
        spellings = [prefix, prefix.replace("\\", "/")] if windows else [prefix]
        for spelling in spellings:
            if mode == "binary":
                found = [binary_replace(data, placeholder, spelling)]
                if windows:
                    found.append(data)  # conda leaves binaries alone on Windows
            else:
                found = text_candidates(data, placeholder, spelling, platform)
            out += [candidate for candidate in found if candidate not in out]
    return out


def binary_replace(data: bytes, placeholder: str, prefix: str) -> bytes:
    """``placeholder`` → ``prefix`` in every NUL-terminated string, padded to the same length.

    A string the file does not terminate runs to its end (and is padded
    there), as rattler does. A prefix longer than the placeholder leaves
    ``data`` as it is: no installer writes it (they refuse to install).
    """
    old, new = placeholder.encode("utf-8"), prefix.encode("utf-8")
    if not old or old not in data:
        return data
    if len(new) > len(old):
        return data
    out = bytearray()
    position = 0
    while (first := data.find(old, position)) != -1:
        end = data.find(b"\0", first + len(old))
        end = len(data) if end == -1 else end
        string = data[first:end]
        count = string.count(old)
        out += data[position:first]
        out += string.replace(old, new)
        out += b"\0" * ((len(old) - len(new)) * count)
        position = end
    out += data[position:]
    return bytes(out)


def text_candidates(data: bytes, placeholder: str, prefix: str, platform: str) -> list[bytes]:
    """The plain replacement, and on Unix conda's and rattler's shebang rewrites."""
    old, new = placeholder.encode("utf-8"), prefix.encode("utf-8")
    plain = data.replace(old, new) if old else data
    out = [plain]
    if platform.startswith("win-") or not data.startswith(b"#!") or not old:
        return out
    for candidate in (_conda_text(data, old, prefix), _rattler_text(data, old, prefix, platform)):
        if candidate not in out:
            out.append(candidate)
    return out


def _conda_text(data: bytes, old: bytes, prefix: str) -> bytes:
    """conda's ``replace_prefix`` then ``replace_long_shebang`` (text mode, Unix)."""
    newline = data.find(b"\n")
    if newline > -1:
        first, rest = data[:newline], data[newline:]
        marker = b"#!" + old
        if marker in first:
            escaped = ("#!" + prefix.replace(" ", "\\ ")).encode("utf-8")
            data = first.replace(marker, escaped) + rest
    data = data.replace(old, prefix.encode("utf-8"))
    match = _SHEBANG.match(data)
    if match:
        whole, executable, options = match.groups()
        if b"/" in executable:
            directory, name = executable.rsplit(b"/", 1)
            if len(whole) > 127 or b"\\ " in directory:
                data = data.replace(whole, b"#!/usr/bin/env " + name + options)
    return data


def _rattler_text(data: bytes, old: bytes, prefix: str, platform: str) -> bytes:
    """rattler's text replacement: the first line by its shebang rules, the rest plainly."""
    newline = data.find(b"\n")
    end = len(data) if newline == -1 else newline
    line = data[:end].decode("utf-8", "replace")
    placeholder = old.decode("utf-8")
    if " " in prefix:
        line = _to_env(line).replace(placeholder, prefix) if placeholder in line else line
    else:
        line = line.replace(placeholder, prefix)
        limit = 512 if platform.startswith("osx-") else 127
        if len(line) > limit:
            line = _to_env(line)
    return line.encode("utf-8") + data[end:].replace(old, prefix.encode("utf-8"))


def _to_env(line: str) -> str:
    """rattler's ``convert_shebang_to_env``: find the executable on PATH instead."""
    match = re.match(r"^(#!(?:[ ]*)(/(?:\\ |[^ \n\r\t])*)(.*))$", line)
    if match is None:
        return line
    path, options = match.group(2), match.group(3)
    name = path.rsplit("/", 1)[-1]
    if _PYTHON.match(name):
        return f"#!/bin/sh\n'''exec' \"{path}\"{options} \"$0\" \"$@\" #'''"
    return f"#!/usr/bin/env {name}{options}"
