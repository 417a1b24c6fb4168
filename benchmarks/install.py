"""Time ``lockdown install`` against ``uv pip sync`` and ``pip install --require-hashes``.

All three install the same lock (``examples/webapp/pylock.toml`` with the
``postgres`` extra; if the file is missing it is made first with ``lockdown
lock`` on a temporary copy of the project) into a fresh, not yet existing
virtual environment on every run, with warm caches:

* ``lockdown install --venv FRESH --lock LOCK --extra postgres -q`` (lockdown
  creates the venv);
* the reference every ratio divides by: ``uv venv FRESH`` then ``uv pip sync
  --no-config --python FRESH/bin/python --extra postgres LOCK``, timed
  together, and the sync step alone;
* ``python -m venv --without-pip FRESH`` then ``python -m pip --python
  FRESH/bin/python install --require-hashes --no-deps -r requirements.txt``
  (pip's cache on), where ``requirements.txt`` is ``lockdown export --format
  requirements`` of the same lock and extra, made once; timed together, and
  the install step alone.

For the breakdown of lockdown's time it also runs ``lockdown install
--dry-run`` (start-up, the plan from the fast path's cached selection, the
installed set), the start-up and imports alone; the interpreter probe and
reading the lock with selection — what a first run per lock and target does
before the answer is cached — and the re-hashing of the cached artifacts
(these three in this process, with lockdown's own functions); and lockdown's
apply step by itself:
``uv venv`` and ``uv pip install --no-cache`` of the verified files from a new
find-links directory, plus the same install with uv's cache on, from a new
and from one fixed find-links directory.

Every command runs once untimed (warming lockdown's artifact cache, uv's and
pip's caches), then ``--runs`` rounds with the commands interleaved within
each round. After every run the fresh venv's ``*.dist-info`` directories must
be exactly the packages the lock selects for this interpreter (same names,
same versions), so no row is fast because it installed less. Every subprocess
gets an environment without ``PIP_*`` and ``UV_*`` variables (except the
cache locations) and with ``PIP_CONFIG_FILE=/dev/null``.

Usage: ``.venv/bin/python benchmarks/install.py [--runs N] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from uv import find_uv_bin

from lockdown import __version__ as lockdown_version
from lockdown.artifacts import ArtifactCache
from lockdown.config import load_config
from lockdown.env.install import Selected, _install_cmd, select_artifacts
from lockdown.env.python_env import inspect_interpreter, venv_python
from lockdown.fsutil import default_cache_dir, file_sha256
from lockdown.lock.pylock import read_lock

if TYPE_CHECKING:  # mypy resolves benchmarks/ from the repository root
    from benchmarks import common
else:  # run as a script: benchmarks/ itself is on sys.path
    import common

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PROJECT = REPO / "examples" / "webapp"
EXTRA = "postgres"

#: lockdown's median may be at most this many times uv's (uv venv + uv pip sync).
TARGET_RATIO = 1.2

LOCKDOWN = "lockdown install"
REFERENCE = "uv venv + uv pip sync"
UV_SYNC = "  uv pip sync alone"
PIP = "python -m venv + pip install"
PIP_INSTALL = "  pip install alone"
DRY_RUN = "lockdown install --dry-run (plan only)"
IMPORTS = "  lockdown start-up and imports"
PROBE = "  1st run only: interpreter probe"
READ = "  1st run only: reading the lock, selecting"
REHASH = "re-hash of the cached artifacts (in-process)"
UV_VENV = "uv venv (lockdown's create step)"
APPLY = "uv pip install (lockdown's apply: uv cache, stable links)"
APPLY_CACHED = "  the same, a new find-links dir each run"
APPLY_FIXED_DIR = "  the same, --no-cache and a new dir each run"

#: The rows of the main table; the others make up the breakdown.
MAIN = (LOCKDOWN, REFERENCE, UV_SYNC, PIP, PIP_INSTALL)

#: ``python -c`` program: the modules ``lockdown install`` imports once its plan's
#: inputs are cached, and nothing else.
IMPORT_PROGRAM = (
    "import lockdown.cli, lockdown.env.install, lockdown.env.python_env, "
    "lockdown.drift.fastpath, lockdown.artifacts"
)

#: (canonical name, version) of an installed or selected distribution.
Dist = tuple[str, Version]


ToolFailed = common.ToolFailed
run_timed = common.run_timed
scrubbed_environ = common.scrubbed_environ
progress = common.progress
lockdown_cmd = common.lockdown_cmd
uv_venv_cmd = common.uv_venv_cmd


def installed(venv: Path) -> set[Dist]:
    """The distributions in a venv's site-packages, read from its ``*.dist-info`` names."""
    found: set[Dist] = set()
    for pattern in ("lib/python*/site-packages/*.dist-info", "Lib/site-packages/*.dist-info"):
        for dist_info in venv.glob(pattern):
            name, _, version = dist_info.name.removesuffix(".dist-info").rpartition("-")
            try:
                found.add((canonicalize_name(name), Version(version)))
            except InvalidVersion:
                raise ToolFailed(f"unreadable dist-info name {dist_info.name}") from None
    return found


def describe_difference(got: set[Dist], expected: set[Dist]) -> str:
    """``installed 14 distributions, expected 15; missing psycopg==3.3.9``."""
    message = f"installed {len(got)} distributions, expected {len(expected)}"
    if missing := sorted(expected - got):
        message += "; missing " + ", ".join(f"{n}=={v}" for n, v in missing)
    if unexpected := sorted(got - expected):
        message += "; unexpected " + ", ".join(f"{n}=={v}" for n, v in unexpected)
    return message


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    """The lock, what it selects here, and the files every tool shares (made once)."""

    lock: Path
    #: The lock's selection for this interpreter and the extra: what every venv must hold.
    selected: tuple[Selected, ...]
    #: ``lockdown export --format requirements`` of the same lock and extra.
    requirements: Path
    #: The verified files in lockdown's cache, one per selected package.
    cached: tuple[Path, ...]

    @property
    def expected(self) -> set[Dist]:
        return {(s.name, Version(s.version)) for s in self.selected}

    @property
    def cached_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.cached)


class Tool(ABC):
    """One way of installing the workload, set up once and run many times."""

    #: The labels :meth:`run` reports a time for, in table order.
    labels: tuple[str, ...]
    #: Whether a run installs the lock (and its venv is then checked).
    installs: bool = True

    def __init__(self, workload: Workload, work: Path, env: dict[str, str]) -> None:
        self.workload = workload
        self.work = work
        self.env = env
        self.venv = work / "venv"
        #: How many distributions the last run left in its venv.
        self.dists: int | None = None
        work.mkdir(parents=True)

    def run(self) -> dict[str, float]:
        """Remove the last run's venv (untimed), run once, check the result."""
        if self.venv.exists():
            shutil.rmtree(self.venv)
        seconds = self.timed()
        if self.installs:
            got = installed(self.venv)
            self.dists = len(got)
            if got != self.workload.expected:
                raise ToolFailed(describe_difference(got, self.workload.expected))
        return seconds

    @abstractmethod
    def timed(self) -> dict[str, float]:
        """The timed part of one run: seconds per label."""

    def timed_cmd(self, cmd: Sequence[str], ok: tuple[int, ...] = (0,)) -> float:
        return run_timed(cmd, cwd=self.work, env=self.env, ok=ok)


class LockdownInstall(Tool):
    """``lockdown install`` into a venv that does not exist yet (lockdown creates it)."""

    labels = (LOCKDOWN,)

    def timed(self) -> dict[str, float]:
        cmd = [*lockdown_cmd(), "install", "--venv", str(self.venv)]
        cmd += ["--lock", str(self.workload.lock), "--extra", EXTRA, "-q"]
        return {LOCKDOWN: self.timed_cmd(cmd)}


class UvSync(Tool):
    """``uv venv`` then ``uv pip sync`` of the lock (the reference)."""

    labels = (REFERENCE, UV_SYNC)

    def timed(self) -> dict[str, float]:
        create = self.timed_cmd(uv_venv_cmd(self.venv))
        sync = self.timed_cmd(
            [
                find_uv_bin(),
                "pip",
                "sync",
                "--no-config",
                "--quiet",
                "--python",
                str(venv_python(self.venv)),
                "--extra",
                EXTRA,
                str(self.workload.lock),
            ]
        )
        return {REFERENCE: create + sync, UV_SYNC: sync}


class PipInstall(Tool):
    """``python -m venv --without-pip`` then pip from this venv, hashes required, cache on."""

    labels = (PIP, PIP_INSTALL)

    def timed(self) -> dict[str, float]:
        create = self.timed_cmd([sys.executable, "-m", "venv", "--without-pip", str(self.venv)])
        install = self.timed_cmd(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(venv_python(self.venv)),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--require-hashes",
                "--no-deps",
                "-r",
                str(self.workload.requirements),
            ]
        )
        return {PIP: create + install, PIP_INSTALL: install}


class DryRun(Tool):
    """``lockdown install --dry-run`` for a venv that does not exist: everything before fetch."""

    labels = (DRY_RUN,)
    installs = False

    def timed(self) -> dict[str, float]:
        cmd = [*lockdown_cmd(), "install", "--venv", str(self.venv), "--dry-run"]
        cmd += ["--lock", str(self.workload.lock), "--extra", EXTRA, "-q"]
        # Exit 1: the (missing) venv is not in sync, which is what a dry run reports.
        return {DRY_RUN: self.timed_cmd(cmd, ok=(1,))}


class Imports(Tool):
    """A fresh interpreter importing the modules ``lockdown install`` uses."""

    labels = (IMPORTS,)
    installs = False

    def timed(self) -> dict[str, float]:
        return {IMPORTS: self.timed_cmd([sys.executable, "-c", IMPORT_PROGRAM])}


class InProcess(Tool):
    """lockdown's own probe and re-hash functions, called here, as ``install`` calls them."""

    labels = (PROBE, READ, REHASH)
    installs = False

    def timed(self) -> dict[str, float]:
        start = time.perf_counter()
        target = inspect_interpreter(sys.executable)
        probe = time.perf_counter() - start
        start = time.perf_counter()
        select_artifacts(read_lock(self.workload.lock), target, extras=[EXTRA])
        read = time.perf_counter() - start
        start = time.perf_counter()
        for selected, path in zip(self.workload.selected, self.workload.cached, strict=True):
            if file_sha256(path) != selected.artifact.sha256:
                raise ToolFailed(f"{path}: the cached file no longer matches the lock")
        return {PROBE: probe, READ: read, REHASH: time.perf_counter() - start}


ApplyMode = Literal["lockdown", "new-dir", "no-cache"]


class Apply(Tool):
    """lockdown's apply step alone: ``uv venv``, then uv installs the verified files.

    The very command lockdown builds (``name==version --hash`` from find-links
    directories of hard links into its cache that keep their paths from run to
    run, ``--no-index --no-deps --require-hashes``, uv's cache on). ``new-dir``
    links the files into a new directory each run (uv's cache knows local
    files by their path, so it misses); ``no-cache`` also turns uv's cache off.
    """

    def __init__(
        self, workload: Workload, work: Path, env: dict[str, str], *, mode: ApplyMode
    ) -> None:
        self.mode = mode
        self.labels = {
            "lockdown": (UV_VENV, APPLY),
            "new-dir": (APPLY_CACHED,),
            "no-cache": (APPLY_FIXED_DIR,),
        }[mode]
        super().__init__(workload, work, env)
        self.staging: Path | None = None
        if mode == "lockdown":
            self.staging = self.stage(work / "staging")

    def stage(self, staging: Path) -> Path:
        """A find-links directory of the verified files and the requirements naming them."""
        links = staging / "verified"
        links.mkdir(parents=True)
        lines = []
        for selected, path in zip(self.workload.selected, self.workload.cached, strict=True):
            os.link(path, links / selected.artifact.filename)
            sha256 = selected.artifact.sha256
            lines.append(f"{selected.name}=={selected.version} --hash=sha256:{sha256}")
        (staging / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return staging

    def timed(self) -> dict[str, float]:
        staging = self.staging
        if staging is None or self.mode != "lockdown":
            # A new directory per run, as lockdown makes one (the old one goes first).
            if staging is not None:
                shutil.rmtree(staging)
            staging = self.stage(Path(tempfile.mkdtemp(prefix="staging-", dir=self.work)))
            self.staging = staging
        cmd = _install_cmd(
            "uv",
            venv_python(self.venv),
            [staging / "verified"],
            staging / "requirements.txt",
            (),
        )
        if self.mode == "no-cache":
            cmd.append("--no-cache")
        create = self.timed_cmd(uv_venv_cmd(self.venv))
        install = self.timed_cmd(cmd)
        if self.mode == "lockdown":
            return {UV_VENV: create, APPLY: install}
        return {self.labels[0]: install}


@dataclass(slots=True)
class Series(common.Series):
    """The timed runs of one label."""

    dists: int | None = None

    def as_json(self, reference: float | None) -> dict[str, Any]:
        median = self.median
        return {
            **self.timing_json(),
            "ratio_vs_uv": (
                round(median / reference, 4) if median is not None and reference else None
            ),
            "dist_info": self.dists,
            "error": self.error,
        }


def prepare(work: Path, env: dict[str, str]) -> Workload:
    """The lock (made first if missing), its selection here, the export, the cached files."""
    lock = PROJECT / "pylock.toml"
    if not lock.is_file():
        copy = work / "lock" / PROJECT.name
        shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
        progress(f"{display(lock)} is missing: locking a copy of the project first")
        run_timed([*lockdown_cmd(), "lock", "--project", str(copy), "-q"], cwd=work, env=env)
        config, _pyproject = load_config(copy)
        lock = config.output_path
    requirements = work / "requirements.txt"
    run_timed(
        [
            *lockdown_cmd(),
            "export",
            "--lock",
            str(lock),
            "--extra",
            EXTRA,
            "--format",
            "requirements",
            "-o",
            str(requirements),
        ],
        cwd=work,
        env=env,
    )
    selected = select_artifacts(
        read_lock(lock), inspect_interpreter(sys.executable), extras=[EXTRA]
    )
    cache = ArtifactCache(default_cache_dir())
    return Workload(
        lock=lock,
        selected=selected,
        requirements=requirements,
        cached=tuple(cache.path_for(s.artifact.sha256) for s in selected),
    )


def times_line(result: dict[str, float]) -> str:
    """``uv venv + uv pip sync 0.231s, uv pip sync alone 0.209s``."""
    return ", ".join(f"{label.strip()} {seconds:.3f}s" for label, seconds in result.items())


def benchmark(workload: Workload, root: Path, *, runs: int) -> dict[str, Series]:
    """Warm up every command once, then ``runs`` interleaved timed rounds; every series."""
    # Bytecode written and reused (as an installed lockdown has it), under root.
    env = scrubbed_environ(root / "pycache")
    makers: dict[str, Callable[[Path], Tool]] = {
        "lockdown": lambda w: LockdownInstall(workload, w, env),
        "uv": lambda w: UvSync(workload, w, env),
        "pip": lambda w: PipInstall(workload, w, env),
        "dry-run": lambda w: DryRun(workload, w, env),
        "imports": lambda w: Imports(workload, w, env),
        "in-process": lambda w: InProcess(workload, w, env),
        "apply": lambda w: Apply(workload, w, env, mode="lockdown"),
        "apply-new-dir": lambda w: Apply(workload, w, env, mode="new-dir"),
        "apply-no-cache": lambda w: Apply(workload, w, env, mode="no-cache"),
    }
    # lockdown goes first: its warm-up fills lockdown's artifact cache, which the
    # re-hash and apply rows read (Apply links those files when it is made).
    series: dict[str, Series] = {}
    tools: list[Tool] = []
    for key, make in makers.items():
        if key != "lockdown" and not all(p.is_file() for p in workload.cached):
            raise SystemExit("lockdown's warm-up did not leave every artifact in its cache")
        tool = make(root / key)
        tools.append(tool)
        series.update({label: Series(label) for label in tool.labels})
        # 1. One untimed run each: caches warm, and a tool that cannot run is reported once.
        try:
            result = tool.run()
            for label, seconds in result.items():
                series[label].warmup = seconds
            progress(f"warm-up   {times_line(result)}")
        except ToolFailed as exc:
            for label in tool.labels:
                series[label].error = str(exc)
            progress(f"warm-up   {tool.labels[0].strip()} FAILED: {exc}")
            tools.remove(tool)
    # 2. Timed rounds, tools interleaved within each.
    for round_no in range(1, runs + 1):
        for tool in list(tools):
            try:
                result = tool.run()
            except ToolFailed as exc:
                for label in tool.labels:
                    series[label].error = f"run {round_no}: {exc}"
                tools.remove(tool)
                progress(f"run {round_no}/{runs}   {tool.labels[0].strip()} FAILED: {exc}")
                continue
            for label, seconds in result.items():
                series[label].times.append(seconds)
                series[label].dists = tool.dists
            progress(f"run {round_no}/{runs}   {times_line(result)}")
    return series


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds is not None else "-"


def render_rows(labels: Sequence[str], series: dict[str, Series], width: int) -> list[str]:
    """One line per label: n, median, min, max, ratio vs uv, dist-info count."""
    reference = series[REFERENCE].median
    lines = []
    for label in labels:
        s = series[label]
        if not s.times:
            lines.append(f"  {label:<{width}}{'':>3}  not measured: {s.error}")
            continue
        median = s.median
        ratio = f"{median / reference:.2f}x" if median is not None and reference else "n/a"
        dists = str(s.dists) if s.dists is not None else "-"
        lines.append(
            f"  {label:<{width}}{len(s.times):>3}{_ms(median):>9}{_ms(min(s.times)):>9}"
            f"{_ms(max(s.times)):>9}{ratio:>9}{dists:>8}"
        )
        if s.error:
            lines.append(f"  {'':<{width}}   (stopped: {s.error})")
    return lines


def render(workload: Workload, series: dict[str, Series]) -> str:
    """The main table, the breakdown table, and where lockdown's time goes."""
    width = max(len(label) for label in series) + 2
    header = (
        f"  {'command':<{width}}{'n':>3}{'median':>9}{'min':>9}{'max':>9}{'vs uv':>9}{'dists':>8}"
    )
    breakdown = [label for label in series if label not in MAIN]
    n, size = len(workload.selected), workload.cached_bytes
    lines = [
        f"lock: {display(workload.lock)}, extra {EXTRA}: {n} packages for this interpreter "
        f"(one wheel each, {size / 1e6:.1f} MB)",
        "",
        header,
        *render_rows(MAIN, series, width),
        "",
        "  lockdown's steps, timed apart:",
        *render_rows(breakdown, series, width),
    ]
    med = {label: s.median for label, s in series.items()}
    lines += ["", *where_time_goes(med, n, size)]
    return "\n".join(lines)


def _signed(seconds: float) -> str:
    return f"{'+' if seconds >= 0 else '-'}{_ms(abs(seconds))}"


def display(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def where_time_goes(med: dict[str, float | None], n: int, size: int) -> list[str]:
    """Subtract medians: lockdown's total split into its steps."""
    lines = [
        f"  lockdown re-hashes all {n} artifacts it installs ({size / 1e6:.1f} MB) from its "
        f"cache on every run: {_ms(med[REHASH])} (median)"
    ]
    needed = (LOCKDOWN, DRY_RUN, IMPORTS, PROBE, READ, REHASH, UV_VENV, APPLY, REFERENCE)
    values = [med[label] for label in needed]
    if any(v is None for v in values):
        return lines
    total, dry, imports, probe, read, rehash, venv, apply, uv = (float(v or 0.0) for v in values)
    lines += [
        f"  where lockdown's {_ms(total)} goes (medians): start-up and imports {_ms(imports)}, "
        f"the plan from the cached selection {_signed(dry - imports)} (= dry run {_ms(dry)}),",
        f"  re-hash +{_ms(rehash)}, uv venv +{_ms(venv)}, uv pip install +{_ms(apply)},",
        f"  the rest (the apply step's imports, linking the files, output, noise) "
        f"{_signed(total - dry - rehash - venv - apply)}",
        f"  a first run per lock and target also probes the interpreter (+{_ms(probe)}) and "
        f"reads, validates and selects from the lock (+{_ms(read)}), then caches the answer",
    ]
    for label, how in (
        (APPLY_CACHED, "a new find-links dir each run"),
        (APPLY_FIXED_DIR, "--no-cache and a new dir each run"),
    ):
        cached = med[label]
        if cached is not None:
            lines.append(
                f"  apply with {how}: {_ms(cached)} instead of {_ms(apply)}, "
                f"lockdown would be about {(total - apply + cached) / uv:.2f}x"
            )
    return lines


def tool_versions() -> dict[str, str]:
    """Versions of everything measured, for the header and the JSON."""
    return {
        "lockdown": lockdown_version,
        "uv": common.uv_version(scrubbed_environ()),
        "pip": dist_version("pip"),
        **common.host_versions(),
    }


def lockdown_ratio(series: dict[str, Series]) -> float | None:
    """lockdown's median over uv's (uv venv + uv pip sync), if both were measured."""
    lockdown, ref = series[LOCKDOWN].median, series[REFERENCE].median
    return round(lockdown / ref, 4) if lockdown is not None and ref else None


def verdict(series: dict[str, Series]) -> str:
    """``install: lockdown/uv = 1.12x (target <= 1.2x)``."""
    ratio = lockdown_ratio(series)
    if ratio is None:
        return f"install: lockdown/uv = n/a (target <= {TARGET_RATIO}x): a run failed"
    over = "" if ratio <= TARGET_RATIO else "  OVER TARGET"
    return f"install: lockdown/uv = {ratio:.2f}x (target <= {TARGET_RATIO}x){over}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = common.argument_parser(
        "Time lockdown install against uv pip sync and pip install on one lock.",
        runs=5,
        per="command",
    )
    common.add_json_option(parser)
    return common.parse_args(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 if a main row failed or installed the wrong set."""
    args = parse_args(argv)
    versions = tool_versions()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lockdown-bench-install-") as tmp:
        root = Path(tmp)
        workload = prepare(root, scrubbed_environ())
        series = benchmark(workload, root, runs=args.runs)
    total = time.perf_counter() - started

    print()
    print(
        f"install speed into a fresh venv, warm caches, default index; {args.runs} timed "
        f"run(s) per command after one untimed warm-up; {total:.0f}s in all"
    )
    print(common.versions_line(versions))
    print()
    print(render(workload, series))
    print()
    agree = all(series[label].dists == len(workload.selected) for label in MAIN)
    print(
        f"dist-info check: every run of every install row left exactly the "
        f"{len(workload.selected)} locked distributions (name and version)"
        if agree
        else "dist-info check FAILED: see the rows marked 'stopped' or 'not measured'"
    )

    if args.json is not None:
        reference = series[REFERENCE].median
        payload = {
            "date": common.utc_now(),
            "runs": args.runs,
            "target_ratio": TARGET_RATIO,
            "total_seconds": round(total, 2),
            "versions": versions,
            "lock": display(workload.lock),
            "extra": EXTRA,
            "packages": [f"{s.name}=={s.version}" for s in workload.selected],
            "rehashed_artifacts": len(workload.selected),
            "rehashed_bytes": workload.cached_bytes,
            "reference": REFERENCE,
            "lockdown_over_uv": lockdown_ratio(series),
            "commands": {label.strip(): s.as_json(reference) for label, s in series.items()},
        }
        common.write_json(args.json, payload)
        print(f"wrote {args.json}")
    print(verdict(series))
    failed = not agree or any(series[label].median is None for label in MAIN)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
