"""Time ``lockdown check`` against ``pip freeze``, ``uv pip freeze`` and a bare hashing loop.

Two environments, each checked against its own lock, in one run:

* **real**: a venv of about 150 distributions, the closure of the 20 packages
  of ``benchmarks/projects/popular`` plus ``EXTRA_REQUIREMENTS`` (a data
  science, web and tooling stack), locked with ``lockdown lock`` (lockdown's
  defaults: six platforms, ``requires-python >= 3.10``, the default index)
  and installed with ``lockdown install --venv``. The lock records the
  index's declared hashes (lockdown's default; ``lockdown install`` verifies
  every artifact it installs).
* **synthetic**: a ``uv venv`` whose site-packages holds 2,000 fake but
  well-formed distributions (``*.dist-info`` with METADATA, WHEEL, INSTALLER
  and a RECORD listing the correct sha256 and size of two small modules and of
  the dist-info files), and a PEP 751 ``pylock.toml`` of the same 2,000
  packages (one https wheel URL and sha256 each), validated with
  ``packaging.pylock`` and lockdown's own reader before use.

Both are built once and reused from ``--cache-dir`` (default
``$XDG_CACHE_HOME/lockdown-bench``, i.e. ``~/.cache/lockdown-bench``), keyed
by the requirement list (real) or the generator's parameters (synthetic) and
this Python; ``--rebuild`` makes them again.

Before timing, every environment must be in sync: ``lockdown check`` exits 0
at the versions and the files level, with as many packages expected as
installed; ``pip freeze`` and ``uv pip freeze`` list exactly the installed
distributions; and the bare loop hashes exactly as many files as lockdown
reports checking, all of them matching their RECORD.

The timed commands, as whole processes (wall clock, warm: one untimed run
each first, then ``--runs`` rounds with the commands interleaved):

* versions level: ``lockdown check --venv V --lock L -q`` against
  ``python -m pip --python V/bin/python freeze`` (this venv's pip) and
  ``uv pip freeze --python V/bin/python`` (the reference of the ratio);
* files level: ``lockdown check --venv V --lock L --level files -q`` against
  a bare single-process ``python -c`` loop (this interpreter) that reads every
  RECORD in the venv's site-packages and sha256-hashes every file listed with
  a hash, comparing each digest with the RECORD's;
* for the breakdown: ``python -c pass``, ``lockdown --version`` (the CLI's
  start-up), and, in this process, ``run_check`` at both levels, reading the
  lock, the interpreter probe and the dist-info scan; plus one untimed
  ``python -X importtime`` run of each ``lockdown check``.

Peak memory is measured in untimed runs of their own (``MEMORY_RUNS`` per
command, the worst reported): the maximum resident set size that GNU ``time
-f %M`` reports for the command (the largest process of its tree, so an
interpreter probe ``lockdown check`` starts is covered too), in MB of 10^6
bytes. GNU time starts the command rather than this process because a child's
``ru_maxrss`` starts at its parent's RSS; without GNU time the script falls
back to ``os.wait4`` here, an upper bound.

The versions table also times ``lockdown check`` with a new, empty
``--cache-dir`` on every run: its first run on a host, before the fast path
has cached the lock's expected set for the target.

Every subprocess gets an environment without ``PIP_*`` and ``UV_*`` variables
(except the cache locations) and with ``PIP_CONFIG_FILE=/dev/null``; Python
bytecode goes to ``CACHE_DIR/pycache`` (``PYTHONPYCACHEPREFIX``, with any
``PYTHONDONTWRITEBYTECODE`` dropped), so no Python row recompiles its modules
on every run.

Usage: ``.venv/bin/python benchmarks/check.py [--runs N] [--json FILE]
[--env real|synthetic] [--cache-dir DIR] [--rebuild]``.
"""

from __future__ import annotations

import argparse
import base64
import csv
import functools
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w
from packaging.pylock import Pylock
from packaging.utils import canonicalize_name
from uv import find_uv_bin

from lockdown import __version__ as lockdown_version
from lockdown._compat import tomllib
from lockdown.commands.check import run_check
from lockdown.drift.model import Level
from lockdown.env.python_env import inspect_interpreter, installed_distributions, venv_python
from lockdown.lock.pylock import read_lock

if TYPE_CHECKING:  # mypy resolves benchmarks/ from the repository root
    from benchmarks import common
else:  # run as a script: benchmarks/ itself is on sys.path
    import common

HERE = Path(__file__).resolve().parent
POPULAR = HERE / "projects" / "popular" / "pyproject.toml"

#: Added to the popular set's 20 packages: about 150 distributions in all.
EXTRA_REQUIREMENTS = (
    "aiohttp",
    "alembic",
    "beautifulsoup4",
    "black",
    "google-cloud-storage",
    "gunicorn",
    "ipython",
    "kubernetes",
    "lxml",
    "matplotlib",
    "mypy",
    "networkx",
    "openpyxl",
    "pillow",
    "psycopg",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "sphinx",
    "sympy",
    "tqdm",
    "uvicorn",
)
REQUIRES_PYTHON = ">=3.10"

#: Distributions in the synthetic environment.
SYNTHETIC_COUNT = 2000
#: Bump when the synthetic layout changes, so a cached one is rebuilt.
SYNTHETIC_FORMAT = 1
#: Bump when the real environment's recipe changes, so a cached one is rebuilt.
REAL_FORMAT = 1
#: Where the synthetic lock says its (never fetched) wheels live: a reserved TLD.
SYNTHETIC_URL = "https://artifacts.example.invalid/synth/"

#: Targets: pip freeze / lockdown >= 10; lockdown / uv pip freeze <= 3;
#: lockdown files / bare loop <= 1.3; peak memory on the synthetic env <= 60 MB.
TARGET_VS_PIP = 10.0
TARGET_VS_UV = 3.0
TARGET_VS_LOOP = 1.3
TARGET_PEAK_MB = 60.0

#: Runs per command for peak memory, apart from the timed runs.
MEMORY_RUNS = 3
#: A timed run taking longer than this is a hang, not a measurement.
RUN_TIMEOUT = common.RUN_TIMEOUT
#: Locking and installing the real environment (network) may take longer.
BUILD_TIMEOUT = 3600.0
#: Names ``pip freeze`` leaves out unless given ``--all``.
PIP_FREEZE_HIDDEN = frozenset({"pip", "setuptools", "wheel", "distribute"})

CHECK = "lockdown check (versions)"
PIP_FREEZE = "pip freeze"
UV_FREEZE = "uv pip freeze"
CHECK_FILES = "lockdown check --level files"
HASH_LOOP = "bare sha256 loop (python -c)"
PY_PASS = "python -c pass (interpreter start)"  # noqa: S105 - a label
VERSION = "lockdown --version (CLI start-up)"
CHECK_COLD = "  the same, empty --cache-dir (1st run)"
IN_CHECK = "run_check(versions), in-process"
IN_DISTS = "  installed_distributions (dist-info)"
IN_COLD = "run_check(versions), empty cache dir"
IN_READ = "  read_lock (tomllib + packaging.pylock)"
IN_PROBE = "  inspect_interpreter (target's facts)"
IN_FILES = "run_check(files), in-process"

VERSIONS_ROWS = (CHECK, CHECK_COLD, PIP_FREEZE, UV_FREEZE)
FILES_ROWS = (CHECK_FILES, HASH_LOOP)
BREAKDOWN_ROWS = (PY_PASS, VERSION, IN_CHECK, IN_DISTS, IN_COLD, IN_READ, IN_PROBE, IN_FILES)
#: The rows that must be measured for the run to count.
MAIN_ROWS = (CHECK, PIP_FREEZE, UV_FREEZE, CHECK_FILES, HASH_LOOP)

#: ``python -c`` program, argv = the site-packages directories: hash every file that
#: a RECORD lists with a sha256, compare with the RECORD; print files, bytes, mismatches.
HASH_LOOP_PROGRAM = """\
import base64, csv, glob, hashlib, os, sys
digest_file = getattr(hashlib, "file_digest", None)
files = size = bad = 0
for site in sys.argv[1:]:
    for record in sorted(glob.glob(os.path.join(glob.escape(site), "*.dist-info", "RECORD"))):
        with open(record, newline="", encoding="utf-8", errors="surrogateescape") as handle:
            rows = list(csv.reader(handle))
        for row in rows:
            if len(row) < 2 or not row[1].startswith("sha256="):
                continue
            with open(os.path.join(site, row[0]), "rb") as handle:
                if digest_file is not None:
                    digest = digest_file(handle, "sha256").digest()
                else:
                    digest = hashlib.sha256(handle.read()).digest()
                size += handle.tell()
            files += 1
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != row[1][7:]:
                bad += 1
print(files, size, bad)
"""


ToolFailed = common.ToolFailed
progress = common.progress
lockdown_cmd = common.lockdown_cmd
uv_venv_cmd = common.uv_venv_cmd


def scrubbed_environ(pycache: Path) -> dict[str, str]:
    """This process's environment without pip/uv settings, pip's config files off.

    Bytecode is written and read under ``pycache`` (``PYTHONPYCACHEPREFIX``, and
    ``PYTHONDONTWRITEBYTECODE`` dropped): every Python row then runs from cached
    bytecode after its warm-up, as an installed tool does, whatever the machine
    sets, and nothing is written into the checkout or the venvs.
    """
    return common.scrubbed_environ(pycache)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One finished subprocess: wall-clock seconds, peak RSS in bytes, its output."""

    seconds: float
    max_rss: int
    returncode: int
    stdout: str
    stderr: str


def _rss_bytes(ru_maxrss: int) -> int:
    """``ru_maxrss`` is in KiB on Linux, in bytes on macOS."""
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def run_measured(
    cmd: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    ok: tuple[int, ...] = (0,),
    timeout: float = RUN_TIMEOUT,
) -> Outcome:
    """Run ``cmd`` to completion; its time and peak memory (``os.wait4``), or ToolFailed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )
        except OSError as exc:
            raise ToolFailed(f"cannot run {cmd[0]}: {exc.strerror}") from None
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if expired.is_set():
        raise ToolFailed(f"timed out after {timeout:.0f}s: {' '.join(cmd[:3])} ...")
    if proc.returncode not in ok:
        lines = [ln.strip() for ln in (stderr or stdout).splitlines() if ln.strip()]
        why = " | ".join(lines[-3:])[:400] or "no message"
        raise ToolFailed(f"{Path(cmd[0]).name} exit {proc.returncode}: {why}")
    return Outcome(elapsed, _rss_bytes(usage.ru_maxrss), proc.returncode, stdout, stderr)


@functools.cache
def gnu_time() -> str | None:
    """GNU time's path, if installed (``-f %M``: the child's peak RSS in KiB)."""
    found = shutil.which("time", path="/usr/bin:/bin") or shutil.which("gtime")
    if found is None:
        return None
    probe = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    return found if "GNU" in probe.stdout + probe.stderr else None


def memory_method() -> str:
    """How peak memory is measured, for the output."""
    if gnu_time() is not None:
        return f"max RSS by GNU time -f %M, worst of {MEMORY_RUNS} untimed runs"
    return (
        f"max RSS by os.wait4, worst of {MEMORY_RUNS} untimed runs (an upper bound: "
        "a child starts with the RSS of the process that spawned it)"
    )


def peak_rss(cmd: Sequence[str], *, cwd: Path, env: dict[str, str]) -> int:
    """Peak RSS in bytes of ``cmd``'s largest process, run once.

    A child's ``ru_maxrss`` starts at the RSS its parent had when it forked
    (the old address space's high-water mark is kept across exec), so ``cmd``
    is started by GNU time, a small process, rather than by this one. Without
    GNU time, this process's ``os.wait4`` figure is used: an upper bound.
    """
    timer = gnu_time()
    if timer is None:
        return run_measured(cmd, cwd=cwd, env=env).max_rss
    with tempfile.NamedTemporaryFile(prefix="lockdown-bench-rss-", suffix=".txt") as report:
        run_measured([timer, "-f", "%M", "-o", report.name, "--", *cmd], cwd=cwd, env=env)
        text = Path(report.name).read_text(encoding="utf-8").split()
    if not text or not text[-1].isdigit():
        raise ToolFailed(f"GNU time wrote no peak RSS for {Path(cmd[0]).name}")
    return int(text[-1]) * 1024


def default_cache_root() -> Path:
    """``$XDG_CACHE_HOME/lockdown-bench``, else ``~/.cache/lockdown-bench``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lockdown-bench"


def python_tag() -> str:
    """``cpython-3.11-linux-x86_64``: what a cached venv was built for."""
    impl = sys.implementation.name
    major, minor = sys.version_info[:2]
    return f"{impl}-{major}.{minor}-{sys.platform}-{platform.machine()}"


def cache_key(recipe: dict[str, Any]) -> str:
    """A short digest of everything a cached environment was built from."""
    text = json.dumps(recipe, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def display(path: Path) -> str:
    """A path with the home directory shown as ``~``."""
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """One venv and the lock it is in sync with."""

    name: str
    venv: Path
    lock: Path
    #: How it was made, in a few words.
    recipe: str
    #: The cache directory holding it (reused from run to run).
    root: Path


@dataclass(slots=True, kw_only=True)
class Facts:
    """What the in-sync checks found: counts every tool must agree on."""

    dists: int
    lock_packages: int
    lock_bytes: int
    files: int
    file_bytes: int
    site_packages: tuple[Path, ...]


# --- the real environment -------------------------------------------------------------


def real_requirements() -> list[str]:
    """The popular set's dependencies plus ``EXTRA_REQUIREMENTS``."""
    popular = tomllib.loads(POPULAR.read_text(encoding="utf-8"))
    deps: list[str] = list(popular["project"]["dependencies"])
    return [*deps, *EXTRA_REQUIREMENTS]


def real_pyproject(requirements: Sequence[str]) -> str:
    """The scratch project ``lockdown lock`` locks: no [tool.lockdown], so its defaults."""
    deps = "".join(f"    {json.dumps(r)},\n" for r in requirements)
    return (
        "# Written by benchmarks/check.py: the real environment of the check benchmark.\n"
        "[project]\n"
        'name = "check-bench"\n'
        'version = "0"\n'
        f"requires-python = {json.dumps(REQUIRES_PYTHON)}\n"
        f"dependencies = [\n{deps}]\n"
    )


def real_environment(cache: Path, *, rebuild: bool, env: dict[str, str]) -> Environment:
    """Lock and install the real venv, or reuse the one cached for the same requirements."""
    requirements = real_requirements()
    key = cache_key(
        {
            "format": REAL_FORMAT,
            "requirements": requirements,
            "requires-python": REQUIRES_PYTHON,
            "python": python_tag(),
        }
    )
    root = cache / f"check-real-{key}"
    project, venv, stamp = root / "project", root / "venv", root / "complete.json"
    lock = project / "pylock.toml"
    recipe = (
        f"{len(requirements)} top-level requirements (benchmarks/projects/popular + "
        f"{len(EXTRA_REQUIREMENTS)} more), lockdown lock + lockdown install"
    )
    if stamp.is_file() and not rebuild:
        progress(f"real: reusing {display(root)}")
        return Environment(name="real", venv=venv, lock=lock, recipe=recipe, root=root)
    if root.exists():
        shutil.rmtree(root)
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(real_pyproject(requirements), encoding="utf-8")
    try:
        build_real(project, venv, requirements, env)
    except Exception:
        shutil.rmtree(root, ignore_errors=True)  # no half-built environment left to reuse
        raise
    stamp.write_text(
        json.dumps({"key": key, "requirements": requirements, "built": common.utc_now()}, indent=2)
        + "\n",
        encoding="utf-8",
    )
    return Environment(name="real", venv=venv, lock=lock, recipe=recipe, root=root)


def build_real(project: Path, venv: Path, requirements: Sequence[str], env: dict[str, str]) -> None:
    """``lockdown lock`` the scratch project, then ``lockdown install`` its lock into ``venv``."""
    lock = project / "pylock.toml"
    progress(f"real: locking {len(requirements)} requirements into {display(lock)} ...")
    done = run_measured(
        [
            *lockdown_cmd(),
            "lock",
            "--project",
            str(project),
            "-q",
        ],
        cwd=project,
        env=env,
        timeout=BUILD_TIMEOUT,
    )
    progress(f"real: locked in {done.seconds:.0f}s; installing into {display(venv)} ...")
    done = run_measured(
        [
            *lockdown_cmd(),
            "install",
            "--project",
            str(project),
            "--venv",
            str(venv),
            "--lock",
            str(lock),
            "--python",
            sys.executable,
            "-q",
        ],
        cwd=project,
        env=env,
        timeout=BUILD_TIMEOUT,
    )
    progress(f"real: installed in {done.seconds:.0f}s")


# --- the synthetic environment --------------------------------------------------------


def _b64_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class SynthDist:
    """One fake distribution: how its name is spelled, and its version."""

    index: int

    @property
    def name(self) -> str:
        """The canonical name (what the lock says)."""
        return f"synth-pkg-{self.index:04d}"

    @property
    def spelled(self) -> str:
        """The name as METADATA spells it: every third one not normalized, as in real life."""
        return f"Synth.Pkg_{self.index:04d}" if self.index % 3 == 0 else self.name

    @property
    def version(self) -> str:
        i = self.index
        return f"{i % 7}.{i % 13}.{i % 5}"

    @property
    def module(self) -> str:
        return f"synth_pkg_{self.index:04d}"

    @property
    def wheel(self) -> str:
        return f"{self.module}-{self.version}-py3-none-any.whl"


def synth_files(dist: SynthDist, total: int) -> dict[str, bytes]:
    """The files of one fake distribution (relative to site-packages), RECORD last."""
    i, module = dist.index, dist.module
    body = "".join(
        f"def f{n}(x: int) -> int:\n    return x * {n} + {i}\n\n" for n in range(8 + i % 40)
    )
    files = {
        f"{module}/__init__.py": (
            f'"""Synthetic distribution {i} of {total} for lockdown\'s check benchmark."""\n\n'
            f'__version__ = "{dist.version}"\n'
        ).encode(),
        f"{module}/core.py": f'"""Core of {dist.name}."""\n\n{body}'.encode(),
    }
    dist_info = f"{module}-{dist.version}.dist-info"
    files[f"{dist_info}/METADATA"] = (
        "Metadata-Version: 2.1\n"
        f"Name: {dist.spelled}\n"
        f"Version: {dist.version}\n"
        f"Summary: Synthetic distribution {i} of {total}\n"
        "Requires-Python: >=3.8\n"
        "\n"
        f"{dist.name} exists only to be checked.\n"
    ).encode()
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: lockdown-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{dist_info}/INSTALLER"] = b"pip\n"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in files.items():
        writer.writerow([path, f"sha256={_b64_sha256(data)}", len(data)])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    files[f"{dist_info}/RECORD"] = record.getvalue().encode()
    return files


def synth_lock(dists: Sequence[SynthDist]) -> bytes:
    """A PEP 751 lock of ``dists``: one (never fetched) https wheel with a sha256 each."""
    doc: dict[str, Any] = {
        "lock-version": "1.0",
        "requires-python": ">=3.8",
        "created-by": "lockdown-bench",
        "packages": [
            {
                "name": d.name,
                "version": d.version,
                "wheels": [
                    {
                        "name": d.wheel,
                        "url": SYNTHETIC_URL + d.wheel,
                        "size": 1000 + d.index,
                        "hashes": {"sha256": hashlib.sha256(d.wheel.encode()).hexdigest()},
                    }
                ],
            }
            for d in dists
        ],
    }
    data = tomli_w.dumps(doc).encode("utf-8")
    Pylock.from_dict(tomllib.loads(data.decode("utf-8")))  # valid PEP 751, or raise
    return data


def synthetic_environment(
    cache: Path, *, rebuild: bool, env: dict[str, str], count: int = SYNTHETIC_COUNT
) -> Environment:
    """A ``uv venv`` with ``count`` fake distributions and their lock (built once, cached)."""
    key = cache_key({"format": SYNTHETIC_FORMAT, "count": count, "python": python_tag()})
    root = cache / f"check-synthetic-{count}-{key}"
    venv, lock, stamp = root / "venv", root / "pylock.toml", root / "complete.json"
    recipe = (
        f"uv venv + {count} generated dist-infos (2 modules each), PEP 751 lock of {count} packages"
    )
    if stamp.is_file() and not rebuild:
        progress(f"synthetic: reusing {display(root)}")
        return Environment(name="synthetic", venv=venv, lock=lock, recipe=recipe, root=root)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    progress(f"synthetic: writing {count} distributions into {display(venv)} ...")
    try:
        build_synthetic(venv, lock, count, env)
    except Exception:
        shutil.rmtree(root, ignore_errors=True)  # no half-built environment left to reuse
        raise
    stamp.write_text(json.dumps({"key": key, "built": common.utc_now()}) + "\n", encoding="utf-8")
    return Environment(name="synthetic", venv=venv, lock=lock, recipe=recipe, root=root)


def build_synthetic(venv: Path, lock: Path, count: int, env: dict[str, str]) -> None:
    """``uv venv``, then ``count`` fake distributions into it and their lock beside it."""
    run_measured(uv_venv_cmd(venv), cwd=venv.parent, env=env)
    (site,) = inspect_interpreter(venv_python(venv)).site_packages[:1]
    dists = [SynthDist(i) for i in range(count)]
    for dist in dists:
        for rel, data in synth_files(dist, count).items():
            path = site / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    lock.write_bytes(synth_lock(dists))
    read_lock(lock)  # lockdown reads it too, or this raises


# --- in-sync checks -------------------------------------------------------------------


def dist_info_names(site_packages: Sequence[Path]) -> set[str]:
    """Canonical names of the ``*.dist-info`` directories (from the directory names)."""
    names: set[str] = set()
    for site in site_packages:
        for dist_info in site.glob("*.dist-info"):
            names.add(
                canonicalize_name(dist_info.name.removesuffix(".dist-info").rpartition("-")[0])
            )
    return names


_FREEZE_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==|@|\[)")


def freeze_names(output: str) -> set[str]:
    """The distribution names in ``pip freeze`` / ``uv pip freeze`` output."""
    names: set[str] = set()
    for line in output.splitlines():
        if match := _FREEZE_NAME.match(line.strip()):
            names.add(canonicalize_name(match.group(1)))
    return names


def _drift_summary(outcome: Outcome) -> str:
    """The first few drifted packages and files of a JSON report, else its last lines."""
    try:
        report = json.loads(outcome.stdout)
        items = [f"{p['kind']} {p['name']}" for p in report["packages"]]
        items += [f"{f['kind']} {f['path']}" for f in report["files"]]
        return ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")
    except (ValueError, KeyError, TypeError):
        lines = [ln for ln in (outcome.stderr or outcome.stdout).splitlines() if ln.strip()]
        return " | ".join(lines[-3:])[:400] or "no output"


def check_json(environment: Environment, level: str, cwd: Path, env: dict[str, str]) -> Any:
    """``lockdown check --format json`` at ``level``; the report, or ToolFailed unless exit 0."""
    cmd = [*lockdown_cmd(), "check", "--venv", str(environment.venv)]
    cmd += ["--lock", str(environment.lock), "--level", level, "--format", "json"]
    outcome = run_measured(cmd, cwd=cwd, env=env, ok=tuple(range(256)))
    if outcome.returncode != 0:
        raise ToolFailed(
            f"{environment.name}: lockdown check --level {level} exit {outcome.returncode} "
            f"(not in sync?): {_drift_summary(outcome)}; try --rebuild"
        )
    return json.loads(outcome.stdout)


def verify_in_sync(environment: Environment, cwd: Path, env: dict[str, str]) -> Facts:
    """Every tool sees the same, in-sync environment; the counts they agree on."""
    name = environment.name
    python = str(venv_python(environment.venv))
    site = inspect_interpreter(python).site_packages
    installed = dist_info_names(site)
    versions = check_json(environment, "versions", cwd, env)
    if not versions["in_sync"] or versions["expected"] != versions["installed"]:
        raise ToolFailed(f"{name}: lockdown check says {versions['counts']}")
    if versions["installed"] != len(installed):
        raise ToolFailed(
            f"{name}: lockdown check counts {versions['installed']} installed, "
            f"the site-packages hold {len(installed)} dist-infos"
        )
    files = check_json(environment, "files", cwd, env)
    if not files["in_sync"]:
        raise ToolFailed(f"{name}: lockdown check --level files says {files['counts']}")
    pip = run_measured(pip_freeze_cmd(python), cwd=cwd, env=env)
    pip_names = freeze_names(pip.stdout)
    if not pip_names <= installed or not installed - pip_names <= PIP_FREEZE_HIDDEN:
        raise ToolFailed(f"{name}: pip freeze lists {len(pip_names)} of {len(installed)}")
    uv = run_measured(uv_freeze_cmd(python), cwd=cwd, env=env)
    if freeze_names(uv.stdout) != installed:
        raise ToolFailed(f"{name}: uv pip freeze lists another set than the dist-infos")
    loop = run_measured(hash_loop_cmd(site), cwd=cwd, env=env)
    hashed, size, bad = (int(x) for x in loop.stdout.split())
    if bad or hashed != files["files_checked"]:
        raise ToolFailed(
            f"{name}: the bare loop hashed {hashed} files ({bad} mismatched), "
            f"lockdown checked {files['files_checked']}"
        )
    lock = read_lock(environment.lock)
    return Facts(
        dists=len(installed),
        lock_packages=len(lock.pylock.packages),
        lock_bytes=len(lock.data),
        files=hashed,
        file_bytes=size,
        site_packages=site,
    )


# --- the rows -------------------------------------------------------------------------


def pip_freeze_cmd(python: str) -> list[str]:
    return [sys.executable, "-m", "pip", "--python", python, "freeze"]


def uv_freeze_cmd(python: str) -> list[str]:
    return [find_uv_bin(), "--no-config", "pip", "freeze", "--python", python]


def hash_loop_cmd(site: Sequence[Path]) -> list[str]:
    return [sys.executable, "-c", HASH_LOOP_PROGRAM, *map(str, site)]


def check_cmd(environment: Environment, *level: str) -> list[str]:
    cmd = [*lockdown_cmd(), "check", "--venv", str(environment.venv)]
    return [*cmd, "--lock", str(environment.lock), *level, "-q"]


class Row(ABC):
    """One measured thing, run many times."""

    def __init__(self, label: str) -> None:
        self.label = label

    @abstractmethod
    def run(self) -> float:
        """One run: its seconds."""


class ProcessRow(Row):
    """A whole process: wall clock from spawn to exit; peak memory measured apart."""

    def __init__(self, label: str, cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
        super().__init__(label)
        self.cmd, self.cwd, self.env = list(cmd), cwd, env

    def run(self) -> float:
        return run_measured(self.cmd, cwd=self.cwd, env=self.env).seconds

    def peak_rss(self) -> int:
        """The process's peak RSS in bytes (see :func:`peak_rss`)."""
        return peak_rss(self.cmd, cwd=self.cwd, env=self.env)


class ColdCheckRow(ProcessRow):
    """``lockdown check`` with a new, empty ``--cache-dir`` each run: the fast path's miss."""

    def __init__(self, label: str, cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
        super().__init__(label, cmd, cwd, env)
        self.base = list(cmd)

    def fresh(self) -> None:
        """Point the command at a new cache directory (made untimed)."""
        cache = tempfile.mkdtemp(prefix="cold-cache-", dir=self.cwd)
        self.cmd = [*self.base, "--cache-dir", cache]

    def run(self) -> float:
        self.fresh()
        return super().run()

    def peak_rss(self) -> int:
        self.fresh()
        return super().peak_rss()


class InProcessRow(Row):
    """A lockdown function called in this process (imports already paid)."""

    def __init__(self, label: str, call: Callable[[], object]) -> None:
        super().__init__(label)
        self.call = call

    def run(self) -> float:
        start = time.perf_counter()
        try:
            self.call()
        except Exception as exc:
            raise ToolFailed(f"{type(exc).__name__}: {exc}") from None
        return time.perf_counter() - start


def in_sync_check(
    environment: Environment, level: Level, *, cold: Path | None = None
) -> Callable[[], object]:
    """``run_check`` at ``level``, failing unless the environment is in sync.

    With ``cold``, each call gets a new, empty cache directory made under it.
    """

    def call() -> object:
        cache_dir = Path(tempfile.mkdtemp(prefix="cold-", dir=cold)) if cold else None
        report = run_check(
            environment.lock, venv=environment.venv, level=level, cache_dir=cache_dir
        )
        if report.exit_code() != 0:
            raise ToolFailed(f"run_check({level}) exit code {report.exit_code()}")
        return report

    return call


def make_rows(environment: Environment, facts: Facts, cwd: Path, env: dict[str, str]) -> list[Row]:
    python = str(venv_python(environment.venv))
    site = facts.site_packages
    return [
        ProcessRow(CHECK, check_cmd(environment), cwd, env),
        ColdCheckRow(CHECK_COLD, check_cmd(environment), cwd, env),
        ProcessRow(PIP_FREEZE, pip_freeze_cmd(python), cwd, env),
        ProcessRow(UV_FREEZE, uv_freeze_cmd(python), cwd, env),
        ProcessRow(CHECK_FILES, check_cmd(environment, "--level", "files"), cwd, env),
        ProcessRow(HASH_LOOP, hash_loop_cmd(site), cwd, env),
        ProcessRow(PY_PASS, [sys.executable, "-c", "pass"], cwd, env),
        ProcessRow(VERSION, [*lockdown_cmd(), "--version"], cwd, env),
        InProcessRow(IN_CHECK, in_sync_check(environment, "versions")),
        InProcessRow(IN_DISTS, lambda: installed_distributions(site)),
        InProcessRow(IN_COLD, in_sync_check(environment, "versions", cold=cwd)),
        InProcessRow(IN_READ, lambda: read_lock(environment.lock)),
        InProcessRow(IN_PROBE, lambda: inspect_interpreter(python)),
        InProcessRow(IN_FILES, in_sync_check(environment, "files")),
    ]


@dataclass(slots=True)
class Series(common.Series):
    """The timed runs of one row."""

    rss: list[int] = field(default_factory=list)

    @property
    def peak_mb(self) -> float | None:
        return max(self.rss) / 1e6 if self.rss else None

    def as_json(self) -> dict[str, Any]:
        peak = self.peak_mb
        return {
            **self.timing_json(digits=5),
            "peak_rss_mb": round(peak, 2) if peak is not None else None,
            "error": self.error,
        }


def benchmark(rows: Sequence[Row], *, runs: int, name: str) -> dict[str, Series]:
    """One untimed run per row, then ``runs`` interleaved rounds; every series."""
    series = {row.label: Series(row.label) for row in rows}
    active = list(rows)
    for row in rows:
        try:
            seconds = row.run()
        except ToolFailed as exc:
            series[row.label].error = str(exc)
            active.remove(row)
            progress(f"{name} warm-up   {row.label.strip()} FAILED: {exc}")
            continue
        series[row.label].warmup = seconds
    progress(
        f"{name} warm-up   "
        + ", ".join(f"{s.label.strip()} {_ms(s.warmup)}" for s in series.values() if s.warmup)
    )
    for round_no in range(1, runs + 1):
        for row in list(active):
            try:
                seconds = row.run()
            except ToolFailed as exc:
                series[row.label].error = f"run {round_no}: {exc}"
                active.remove(row)
                progress(f"{name} run {round_no}/{runs}   {row.label.strip()} FAILED: {exc}")
                continue
            series[row.label].times.append(seconds)
        latest = {s.label: s.times[-1] for s in series.values() if s.times}
        progress(
            f"{name} run {round_no}/{runs}   "
            + ", ".join(f"{label.strip()} {_ms(t)}" for label, t in latest.items())
        )
    # Peak memory, in runs of their own (the timed runs stay free of any wrapper).
    for row in active:
        if isinstance(row, ProcessRow):
            try:
                series[row.label].rss += [row.peak_rss() for _ in range(MEMORY_RUNS)]
            except ToolFailed as exc:
                progress(f"{name} peak memory of {row.label.strip()} FAILED: {exc}")
    return series


# --- import time ----------------------------------------------------------------------

_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@dataclass(frozen=True, slots=True)
class ImportProfile:
    """One ``python -X importtime`` run: total import time and the largest top-level imports."""

    total: float
    modules: int
    largest: tuple[tuple[str, float], ...]


def import_profile(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> ImportProfile:
    """Run ``cmd`` (a ``lockdown`` command) as ``python -X importtime -m lockdown ...``."""
    argv = [sys.executable, "-X", "importtime", "-m", "lockdown", *cmd[len(lockdown_cmd()) :]]
    outcome = run_measured(argv, cwd=cwd, env=env)
    top: dict[str, float] = {}
    total = 0.0
    modules = 0
    for line in outcome.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        modules += 1
        if len(match.group(3)) == 1:  # depth 0: one space after the bar
            cumulative = int(match.group(2)) / 1e6
            total += cumulative
            top[match.group(4)] = top.get(match.group(4), 0.0) + cumulative
    largest = tuple(sorted(top.items(), key=lambda kv: -kv[1])[:6])
    return ImportProfile(total=total, modules=modules, largest=largest)


# --- output ---------------------------------------------------------------------------


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f}ms" if seconds >= 0.01 else f"{seconds * 1000:.1f}ms"


def _mb(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "-"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def render_rows(
    labels: Sequence[str], series: dict[str, Series], reference: str, width: int
) -> list[str]:
    ref = series[reference].median
    lines = []
    for label in labels:
        s = series[label]
        if not s.times:
            lines.append(f"  {label:<{width}}{'':>3}  not measured: {s.error}")
            continue
        ratio = _ratio(s.median, ref)
        lines.append(
            f"  {label:<{width}}{len(s.times):>3}{_ms(s.median):>9}{_ms(min(s.times)):>9}"
            f"{_ms(max(s.times)):>9}{f'{ratio:.2f}x' if ratio is not None else 'n/a':>9}"
            f"{_mb(s.peak_mb):>9}"
        )
        if s.error:
            lines.append(f"  {'':<{width}}   (stopped: {s.error})")
    return lines


def render(
    environment: Environment,
    facts: Facts,
    series: dict[str, Series],
    profiles: dict[str, ImportProfile],
) -> str:
    width = max(len(label) for label in series) + 2
    head = f"  {{:<{width}}}{'n':>3}{'median':>9}{'min':>9}{'max':>9}{{:>9}}{'peak MB':>9}"
    lines = [
        f"{environment.name}: {facts.dists} distributions in {display(environment.venv)}",
        f"  {environment.recipe}",
        f"  lock {display(environment.lock)}: {facts.lock_packages} packages, "
        f"{facts.lock_bytes / 1e3:.0f} KB; files level hashes {facts.files:,} files, "
        f"{facts.file_bytes / 1e6:.1f} MB",
        "",
        head.format("versions level", "vs uv"),
        *render_rows(VERSIONS_ROWS, series, UV_FREEZE, width),
        "",
        head.format("files level", "vs loop"),
        *render_rows(FILES_ROWS, series, HASH_LOOP, width),
        "",
        head.format("breakdown", "vs check"),
        *render_rows(BREAKDOWN_ROWS, series, CHECK, width),
        "",
        *where_time_goes(series, profiles),
    ]
    return "\n".join(lines)


def where_time_goes(series: dict[str, Series], profiles: dict[str, ImportProfile]) -> list[str]:
    """Subtract medians: lockdown's time split into start-up, imports and work."""
    med = {label: s.median for label, s in series.items()}
    lines: list[str] = []
    total, start, cli, work = med[CHECK], med[PY_PASS], med[VERSION], med[IN_CHECK]
    if None not in (total, start, cli, work):
        t, s, c, w = float(total or 0), float(start or 0), float(cli or 0), float(work or 0)
        lines += [
            f"  where lockdown check's {_ms(t)} goes (versions, medians): interpreter start "
            f"{_ms(s)}, lockdown's CLI start-up +{_ms(c - s)},",
            f"  the check in-process (warm imports) +{_ms(w)}, the rest (the check's own "
            f"imports, output, exit) {_signed(t - c - w)}",
        ]
    first, cold = med[CHECK_COLD], med[IN_COLD]
    if None not in (first, total, cold, work):
        lines.append(
            f"  a first run (empty cache: read and validate the lock, probe, store) takes "
            f"{_ms(first)}: +{_ms(float(first or 0) - float(total or 0))} "
            f"(in-process {_ms(cold)} instead of {_ms(work)})"
        )
    files, loop, files_work = med[CHECK_FILES], med[HASH_LOOP], med[IN_FILES]
    if None not in (files, loop, files_work, work, start):
        f, lp, fw = float(files or 0), float(loop or 0), float(files_work or 0)
        w, s = float(work or 0), float(start or 0)
        lines += [
            f"  files level: lockdown {_ms(f)} = start-up, imports, output {_ms(f - fw)} "
            f"+ cached expected set and dist-info {_ms(w)} + the file pass {_ms(fw - w)};",
            f"  the bare loop {_ms(lp)} = interpreter start {_ms(s)} + RECORDs and hashing "
            f"{_ms(lp - s)}",
        ]
    for level, profile in profiles.items():
        largest = ", ".join(f"{name} {_ms(t)}" for name, t in profile.largest)
        lines.append(
            f"  -X importtime, lockdown check {level} (one run): {profile.modules} modules, "
            f"{_ms(profile.total)} in all; largest top-level: {largest}"
        )
    return lines


def _signed(seconds: float) -> str:
    return f"{'+' if seconds >= 0 else '-'}{_ms(abs(seconds))}"


@dataclass(frozen=True, slots=True)
class Verdict:
    name: str
    what: str
    value: float | None
    target: float
    #: ``"min"``: the value must be at least the target; ``"max"``: at most.
    kind: str
    unit: str = "x"

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.target if self.kind == "min" else self.value <= self.target

    def line(self) -> str:
        sign = ">=" if self.kind == "min" else "<="
        unit = self.unit if self.unit == "x" else f" {self.unit}"
        value = f"{self.value:.2f}{unit}" if self.value is not None else "n/a (not measured)"
        met = self.met
        if met is None:
            miss = "  NOT MEASURED"
        elif met:
            miss = ""
        else:
            miss = "  UNDER TARGET" if self.kind == "min" else "  OVER TARGET"
        return f"{self.name}: {self.what} = {value} (target {sign} {self.target:g}{unit}){miss}"

    def as_json(self) -> dict[str, Any]:
        return {
            "value": round(self.value, 4) if self.value is not None else None,
            "target": self.target,
            "kind": self.kind,
            "met": self.met,
        }


def verdicts(name: str, series: dict[str, Series]) -> list[Verdict]:
    med = {label: s.median for label, s in series.items()}
    found = [
        Verdict(
            name,
            "pip freeze / lockdown check",
            _ratio(med[PIP_FREEZE], med[CHECK]),
            TARGET_VS_PIP,
            "min",
        ),
        Verdict(
            name,
            "lockdown check / uv pip freeze",
            _ratio(med[CHECK], med[UV_FREEZE]),
            TARGET_VS_UV,
            "max",
        ),
        Verdict(
            name,
            "lockdown check --level files / bare sha256 loop",
            _ratio(med[CHECK_FILES], med[HASH_LOOP]),
            TARGET_VS_LOOP,
            "max",
        ),
    ]
    if name == "synthetic":
        for label, level in (
            (CHECK, "versions"),
            (CHECK_COLD, "versions, first run"),
            (CHECK_FILES, "files"),
        ):
            found.append(
                Verdict(
                    name,
                    f"peak memory of lockdown check ({level})",
                    series[label].peak_mb,
                    TARGET_PEAK_MB,
                    "max",
                    unit="MB",
                )
            )
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """Everything measured on one environment."""

    environment: Environment
    facts: Facts
    series: dict[str, Series]
    profiles: dict[str, ImportProfile]
    verdicts: list[Verdict]

    def as_json(self) -> dict[str, Any]:
        environment, facts = self.environment, self.facts
        return {
            "cache": str(environment.root),
            "venv": str(environment.venv),
            "lock": str(environment.lock),
            "recipe": environment.recipe,
            "distributions": facts.dists,
            "lock_packages": facts.lock_packages,
            "lock_bytes": facts.lock_bytes,
            "files_hashed": facts.files,
            "bytes_hashed": facts.file_bytes,
            "commands": {label.strip(): s.as_json() for label, s in self.series.items()},
            "importtime": {
                level: {
                    "total": round(p.total, 5),
                    "modules": p.modules,
                    "largest": {n: round(t, 5) for n, t in p.largest},
                }
                for level, p in self.profiles.items()
            },
            "verdicts": {v.what: v.as_json() for v in self.verdicts},
        }


def tool_versions(env: dict[str, str]) -> dict[str, str]:
    """Versions of everything measured, for the header and the JSON."""
    return {
        "lockdown": lockdown_version,
        "uv": common.uv_version(env),
        "pip": dist_version("pip"),
        **common.host_versions(),
    }


BUILDERS: dict[str, Callable[..., Environment]] = {
    "real": real_environment,
    "synthetic": synthetic_environment,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = common.argument_parser(
        "Time lockdown check against pip freeze, uv pip freeze and a bare "
        "sha256 loop on a real venv (~150 distributions) and a synthetic one (2,000).",
        runs=7,
        per="command",
    )
    common.add_json_option(parser)
    parser.add_argument(
        "--env",
        action="append",
        choices=sorted(BUILDERS),
        dest="envs",
        help="only this environment (repeatable; default: both)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=default_cache_root(),
        metavar="DIR",
        help="where the environments are built and reused (default ~/.cache/lockdown-bench)",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build the environments again, even if cached"
    )
    return common.parse_args(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 if an environment is not in sync or a main row failed."""
    args = parse_args(argv)
    env = scrubbed_environ(args.cache_dir / "pycache")
    versions = tool_versions(env)
    names = [n for n in ("real", "synthetic") if not args.envs or n in args.envs]
    started = time.perf_counter()
    results: dict[str, Result] = {}
    all_verdicts: list[Verdict] = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="lockdown-bench-check-") as tmp:
        cwd = Path(tmp)  # no pyproject.toml here: lockdown's defaults, no project config
        for name in names:
            try:
                environment = BUILDERS[name](args.cache_dir, rebuild=args.rebuild, env=env)
                facts = verify_in_sync(environment, cwd, env)
            except ToolFailed as exc:
                progress(f"{name}: FAILED: {exc}")
                print(f"{name}: not measured: {exc}")
                failed = True
                continue
            progress(
                f"{name}: in sync: {facts.dists} distributions, {facts.files} files hashed "
                "by lockdown and by the bare loop alike"
            )
            series = benchmark(make_rows(environment, facts, cwd, env), runs=args.runs, name=name)
            profiles = {
                level: import_profile(check_cmd(environment, *extra), cwd, env)
                for level, extra in (("versions", ()), ("--level files", ("--level", "files")))
            }
            found = verdicts(name, series)
            all_verdicts += found
            failed |= any(series[label].median is None for label in MAIN_ROWS)
            results[name] = Result(
                environment=environment,
                facts=facts,
                series=series,
                profiles=profiles,
                verdicts=found,
            )
    total = time.perf_counter() - started

    print()
    print(
        f"lockdown check speed, warm; {args.runs} timed run(s) per command after one untimed "
        f"warm-up; {total:.0f}s in all (building the environments included)"
    )
    print(common.versions_line(versions))
    print(f"peak MB: {memory_method()}, in MB of 10^6 bytes")
    for result in results.values():
        print()
        print(render(result.environment, result.facts, result.series, result.profiles))
    print()
    for verdict in all_verdicts:
        print(verdict.line())

    if args.json is not None:
        payload = {
            "date": common.utc_now(),
            "runs": args.runs,
            "total_seconds": round(total, 2),
            "versions": versions,
            "memory_method": memory_method(),
            "targets": {
                "pip_freeze_over_check_min": TARGET_VS_PIP,
                "check_over_uv_freeze_max": TARGET_VS_UV,
                "files_over_loop_max": TARGET_VS_LOOP,
                "peak_mb_max": TARGET_PEAK_MB,
            },
            "environments": {name: r.as_json() for name, r in results.items()},
        }
        common.write_json(args.json, payload)
        print(f"wrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
