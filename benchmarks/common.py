"""Helpers shared by the benchmark scripts in this directory.

The scripts run as ``.venv/bin/python benchmarks/X.py``, so this directory is on
``sys.path`` and they import this module as ``common``; mypy, which resolves
``benchmarks/`` from the repository root, sees it as ``benchmarks.common``.

Here: the :class:`ToolFailed` error, the scrubbed subprocess environment, the
timed subprocess run, progress lines on stderr, the timing record every series
of runs builds on, the host's versions, the ``--runs``/``--json`` options and
the JSON payload's date and file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from uv import find_uv_bin

#: A single run taking longer than this is a hang, not a measurement.
RUN_TIMEOUT = 600.0
#: Variables that only move caches; everything else named PIP_* / UV_* is dropped.
KEPT_VARIABLES = frozenset({"UV_CACHE_DIR", "PIP_CACHE_DIR"})


class ToolFailed(Exception):
    """A command failed or did not do what it is timed for; the message says why in one line."""


def scrubbed_environ(pycache: Path | None = None) -> dict[str, str]:
    """This process's environment without pip/uv settings, pip's config files off.

    With ``pycache``, bytecode is written and read under it (``PYTHONPYCACHEPREFIX``,
    and ``PYTHONDONTWRITEBYTECODE`` dropped).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_")) or key in KEPT_VARIABLES
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_timed(
    cmd: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    ok: tuple[int, ...] = (0,),
    name_in_error: bool = True,
) -> float:
    """Run ``cmd`` to completion; return its wall-clock seconds or raise ToolFailed.

    An exit code outside ``ok`` fails with the last lines of its output, after
    the program's name unless ``name_in_error`` is false.
    """
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise ToolFailed(f"timed out after {RUN_TIMEOUT:.0f}s: {' '.join(cmd[:3])} ...") from None
    except OSError as exc:
        raise ToolFailed(f"cannot run {cmd[0]}: {exc.strerror}") from None
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        why = " | ".join(lines[-3:])[:400] or "no message"
        name = f"{Path(cmd[0]).name} " if name_in_error else ""
        raise ToolFailed(f"{name}exit {proc.returncode}: {why}")
    return elapsed


def progress(message: str) -> None:
    """A progress line on stderr (the results go to stdout)."""
    print(message, file=sys.stderr, flush=True)


@dataclass(slots=True)
class Series:
    """The timed runs of one label; the scripts add their own fields and JSON keys."""

    label: str
    times: list[float] = field(default_factory=list)
    warmup: float | None = None
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def timing_json(self, digits: int = 4) -> dict[str, Any]:
        """``runs``, ``times``, ``warmup``, ``median``, ``min`` and ``max``, rounded."""
        median = self.median
        return {
            "runs": len(self.times),
            "times": [round(t, digits) for t in self.times],
            "warmup": round(self.warmup, digits) if self.warmup is not None else None,
            "median": round(median, digits) if median is not None else None,
            "min": round(min(self.times), digits) if self.times else None,
            "max": round(max(self.times), digits) if self.times else None,
        }


def lockdown_cmd() -> list[str]:
    """This checkout's ``lockdown`` console script, else ``python -m lockdown``."""
    script = Path(sys.executable).with_name("lockdown")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "lockdown"]


def uv_venv_cmd(venv: Path) -> list[str]:
    """``uv venv`` as lockdown runs it: this interpreter, no config, no downloads."""
    return [
        find_uv_bin(),
        "--no-config",
        "venv",
        "--quiet",
        "--no-python-downloads",
        "--python",
        sys.executable,
        str(venv),
    ]


def uv_version(env: dict[str, str]) -> str:
    """``uv --version``'s version number, or ``unknown``."""
    words = subprocess.run(
        [find_uv_bin(), "--version"], env=env, capture_output=True, text=True, check=False
    ).stdout.split()
    return words[1] if len(words) > 1 else "unknown"


def host_versions() -> dict[str, str]:
    """The interpreter, the platform and the CPU count, for the header and the JSON."""
    return {
        "python": platform.python_version(),
        "platform": f"{sys.platform} {platform.machine()}",
        "cpus": str(os.cpu_count()),
    }


def versions_line(versions: dict[str, str]) -> str:
    """``lockdown 0.1 | uv 0.9.2 | python 3.11.7 | ...``: the header's second line."""
    return " | ".join(f"{k} {v}" for k, v in versions.items())


def argument_parser(description: str, *, runs: int, per: str) -> argparse.ArgumentParser:
    """A parser with ``--runs N`` (default ``runs``, timed runs per ``per``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--runs", type=int, default=runs, metavar="N", help=f"timed runs per {per} (default {runs})"
    )
    return parser


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """``--json FILE``: also write the numbers there."""
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the numbers here")


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv``; ``--runs`` must be at least 1."""
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def utc_now() -> str:
    """The time now, for a payload's ``date``: ``2025-01-31T12:00:00+00:00``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """``payload`` as indented JSON with a final newline."""
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
