"""Time ``lockdown lock`` against its peers on the same requirements, in one run.

For each requirement set (``examples/webapp`` and ``benchmarks/projects/popular``)
this script runs every tool once untimed (to warm the caches), then several
timed rounds, the tools interleaved within each round so that a slow moment of
the network or the index hits all of them alike. It prints median, min and max
wall-clock seconds per tool and each median as a ratio of bare
``uv pip compile``'s median, then one line per set with lockdown's ratio
against its target.

The tools (all with the default index; none is named here):

* ``lockdown lock -q`` with the uv backend (the default), on a copy of the
  project whose lock is deleted before each run, so each run really writes;
* bare ``uv pip compile --universal --generate-hashes`` on the same
  requirements flattened into one ``requirements.in`` (base, every extra and
  every group): the reference the ratios use;
* ``uv lock`` on a scratch project equivalent to the one lockdown writes (same
  inputs, same ``[tool.uv] environments``), and the same plus the
  ``uv export`` calls lockdown makes: exactly lockdown's uv work, without
  lockdown's Python;
* ``pip-compile --generate-hashes`` (pip-tools; this interpreter only);
* ``lockdown lock --resolver pip-tools``.

Every subprocess gets an environment without ``PIP_*`` and ``UV_*`` variables
(except the cache locations) and with ``PIP_CONFIG_FILE=/dev/null``, so a
machine's pip or uv settings (extra indexes, find-links) cannot skew a result.

A third set, ``shadow``, is local: the cost of the shadow check (every
locked name asked of every other configured index) on a 150-package lock from
two local test indexes, against the same lock from one index, and the check
itself timed in a fresh process (cold) and repeated (warm).

Usage: ``make bench`` or ``.venv/bin/python benchmarks/lock.py [--runs N]
[--budget SECONDS] [--set NAME] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.specifiers import SpecifierSet
from uv import find_uv_bin

from lockdown import __version__ as lockdown_version
from lockdown.config import load_config
from lockdown.project import ProjectInputs, read_inputs
from lockdown.resolve import default_index_url
from lockdown.resolve.interface import ResolveRequest
from lockdown.resolve.uv import (
    EXPORT_EVERYTHING,
    export_selection,
    interpreter_args,
    scratch_pyproject,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

if TYPE_CHECKING:  # mypy resolves benchmarks/ from the repository root
    from benchmarks import common
else:  # run as a script: benchmarks/ itself is on sys.path
    import common

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: lockdown's median may be at most this many times bare ``uv pip compile``'s.
TARGET_RATIO = 1.3

#: The label of the reference every ratio divides by.
REFERENCE = "uv pip compile --universal"
#: The same command with this interpreter given to uv (no interpreter discovery).
REFERENCE_NO_DISCOVERY = "uv pip compile, no interpreter discovery"
LOCKDOWN_UV = "lockdown lock (uv)"
UV_LOCK = "uv lock (scratch project)"


@dataclass(frozen=True, slots=True, kw_only=True)
class RequirementSet:
    """One project whose dependencies every tool locks."""

    name: str
    #: The project directory in the repository (never modified: tools get copies).
    project_dir: Path


SETS: tuple[RequirementSet, ...] = (
    RequirementSet(name="webapp", project_dir=REPO / "examples" / "webapp"),
    RequirementSet(name="popular", project_dir=HERE / "projects" / "popular"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    """A requirement set read through lockdown's own config and input readers."""

    name: str
    project_dir: Path
    inputs: ProjectInputs
    #: ``requires-python`` as lockdown locks it (defaulted like ``lockdown lock`` does).
    requires_python: str
    #: The lowest ``X.Y`` that ``requires_python`` allows, for ``uv pip compile -p``.
    min_python: str
    environments: tuple[str, ...]
    #: The lock file name lockdown writes (``pylock.toml`` unless configured).
    output: str

    @property
    def flat_requirements(self) -> list[str]:
        """Base, extra and group requirements as one list, for single-input tools."""
        reqs = set(self.inputs.dependencies)
        for extra in self.inputs.extras.values():
            reqs.update(extra)
        for group in self.inputs.groups.values():
            reqs.update(group)
        return sorted(reqs)

    def describe(self) -> str:
        """One line saying what is locked."""
        inputs = self.inputs
        return (
            f"{len(inputs.dependencies)} dependencies, {len(inputs.extras)} extras, "
            f"{len(inputs.groups)} groups ({len(self.flat_requirements)} requirements "
            f"flattened), requires-python {self.requires_python}, "
            f"{len(self.environments)} environments"
        )


def min_python(requires_python: str) -> str:
    """The lowest Python ``3.X`` with some release inside ``requires_python``."""
    spec = SpecifierSet(requires_python)
    for minor in range(40):
        if any(spec.contains(f"3.{minor}.{patch}", prereleases=True) for patch in range(50)):
            return f"3.{minor}"
    raise SystemExit(f"requires-python {requires_python!r} allows no Python 3 release")


def load_workload(req_set: RequirementSet) -> Workload:
    """Read a set's inputs the way ``lockdown lock`` does (see lockdown/commands/lock.py)."""
    config, pyproject = load_config(req_set.project_dir)
    inputs = read_inputs(config, pyproject)
    requires_python = inputs.requires_python or (
        f">={sys.version_info.major}.{sys.version_info.minor}"
    )
    return Workload(
        name=req_set.name,
        project_dir=req_set.project_dir,
        inputs=inputs,
        requires_python=requires_python,
        min_python=min_python(requires_python),
        environments=config.environments,
        output=config.output,
    )


ToolFailed = common.ToolFailed


def run_timed(cmd: Sequence[str], *, cwd: Path, env: dict[str, str]) -> float:
    """Run ``cmd`` to completion; return its wall-clock seconds or raise ToolFailed."""
    return common.run_timed(cmd, cwd=cwd, env=env, name_in_error=False)


def count_pylock_packages(path: Path) -> int:
    """Entries in a PEP 751 lock's ``[[packages]]``."""
    packages: list[Any] = tomllib.loads(path.read_text(encoding="utf-8")).get("packages", [])
    return len(packages)


def count_uv_lock_packages(path: Path) -> int:
    """Entries in a ``uv.lock``, without the (virtual) project itself."""
    packages: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8")).get(
        "package", []
    )
    return sum(1 for p in packages if not {"virtual", "editable"} & set(p.get("source", {})))


_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?==", re.MULTILINE)


def count_requirements_pins(path: Path) -> int:
    """``name==version`` lines in a compiled requirements.txt."""
    return len(_PIN.findall(path.read_text(encoding="utf-8")))


class Tool(ABC):
    """One way of locking a workload, set up once and run many times."""

    #: The labels :meth:`run` reports a time for, in table order.
    labels: tuple[str, ...]

    def __init__(self, workload: Workload, work: Path, env: dict[str, str]) -> None:
        self.workload = workload
        self.work = work
        self.env = env
        work.mkdir(parents=True)
        self.setup()

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Write the tool's inputs into ``self.work`` (once, untimed)."""

    #: The command one run executes and the file it must write (set by ``setup``).
    cmd: list[str]
    output: Path

    def run(self) -> dict[str, float]:
        """Remove the previous output (untimed), lock once, return seconds per label.

        Every tool here reads an existing output as preferences or a cache, so
        each timed run starts without one.
        """
        self.output.unlink(missing_ok=True)
        seconds = run_timed(self.cmd, cwd=self.work, env=self.env)
        if not self.output.is_file():
            raise ToolFailed(f"exited 0 but wrote no {self.output.name}")
        return {self.labels[0]: seconds}

    @abstractmethod
    def packages(self) -> int | None:
        """How many packages the last run locked (a sanity check of 'same work')."""

    def write_requirements_in(self) -> Path:
        path = self.work / "requirements.in"
        path.write_text("".join(f"{r}\n" for r in self.workload.flat_requirements), "utf-8")
        return path


def _console_script(name: str) -> Path | None:
    """A console script installed next to this interpreter (the project's venv)."""
    path = Path(sys.executable).parent / name
    return path if path.exists() else None


class LockdownLock(Tool):
    """``lockdown lock -q`` on a copy of the project."""

    def __init__(
        self, workload: Workload, work: Path, env: dict[str, str], *, resolver: str | None
    ) -> None:
        self.resolver = resolver
        self.labels = (
            (LOCKDOWN_UV,) if resolver is None else (f"lockdown lock --resolver {resolver}",)
        )
        super().__init__(workload, work, env)

    def setup(self) -> None:
        self.project = self.work / self.workload.project_dir.name
        shutil.copytree(
            self.workload.project_dir,
            self.project,
            ignore=shutil.ignore_patterns(
                ".venv", "__pycache__", "pylock*.toml", "*.sigstore.json"
            ),
        )
        self.output = self.project / self.workload.output
        script = _console_script("lockdown")
        self.cmd = [str(script)] if script else [sys.executable, "-m", "lockdown"]
        self.cmd += ["lock", "--project", str(self.project), "-q"]
        if self.resolver is not None:
            self.cmd += ["--resolver", self.resolver]

    def packages(self) -> int | None:
        return count_pylock_packages(self.output) if self.output.is_file() else None


class UvPipCompile(Tool):
    """Bare ``uv pip compile --universal --generate-hashes`` to a PEP 751 file.

    With ``discovery`` (the reference), ``-p X.Y`` makes uv look for a Python
    X.Y on the PATH like a user's command would. Without it, uv is handed this
    interpreter and only told the target version (``--python-version X.Y``): the
    same resolution, minus interpreter discovery, which costs from nothing to
    most of a second depending on what the PATH holds (pyenv shims are slow).
    """

    def __init__(
        self, workload: Workload, work: Path, env: dict[str, str], *, discovery: bool
    ) -> None:
        self.discovery = discovery
        self.labels = (REFERENCE,) if discovery else (REFERENCE_NO_DISCOVERY,)
        super().__init__(workload, work, env)

    def setup(self) -> None:
        requirements = self.write_requirements_in()
        self.output = self.work / "pylock.toml"
        if self.discovery:
            python = ["-p", self.workload.min_python]
        else:
            python = ["-p", sys.executable, "--python-version", self.workload.min_python]
        # --no-python-downloads: without an installed interpreter matching -p, uv
        # would otherwise try to download one on every run (lockdown passes it too).
        self.cmd = [
            find_uv_bin(),
            "--no-config",
            "--no-python-downloads",
            "--quiet",
            "pip",
            "compile",
            "--universal",
            "--generate-hashes",
            *python,
            "-o",
            self.output.name,
            requirements.name,
        ]

    def packages(self) -> int | None:
        return count_pylock_packages(self.output) if self.output.is_file() else None


class UvLock(Tool):
    """``uv lock`` on the scratch project lockdown would write, then its ``uv export`` calls.

    Reports two times from each run: ``uv lock`` alone, and ``uv lock`` plus the
    exports lockdown runs (one ``--format pylock.toml`` of everything, one
    requirements export per selection), run here one after another: what
    lockdown's uv backend asks of uv, minus lockdown's own Python.
    """

    def __init__(self, workload: Workload, work: Path, env: dict[str, str]) -> None:
        exports = 2 + len(workload.inputs.extras) + len(workload.inputs.groups)
        self.labels = (UV_LOCK, f"uv lock + {exports} uv export (lockdown's uv calls)")
        super().__init__(workload, work, env)

    def setup(self) -> None:
        # The very scratch project and uv arguments lockdown's uv backend uses.
        request = ResolveRequest(
            inputs=dataclasses.replace(
                self.workload.inputs, requires_python=self.workload.requires_python
            ),
            environments=self.workload.environments,
            index_url=default_index_url(),
        )
        (self.work / "pyproject.toml").write_text(scratch_pyproject(request), encoding="utf-8")
        self.output = self.work / "uv.lock"
        uv = [find_uv_bin(), "--no-config", "--no-python-downloads", "--quiet"]
        self.lock_cmd = [*uv, "lock", *interpreter_args(request)]
        selections = [[], *(["--extra", e] for e in self.workload.inputs.extras)]
        selections += [["--group", g] for g in self.workload.inputs.groups]
        self.export_cmds = [[*uv, *EXPORT_EVERYTHING]]
        self.export_cmds += [[*uv, *export_selection(args)] for args in selections]

    def run(self) -> dict[str, float]:
        # lockdown locks in a fresh directory each time; an old uv.lock would be reused.
        self.output.unlink(missing_ok=True)
        lock = run_timed(self.lock_cmd, cwd=self.work, env=self.env)
        if not self.output.is_file():
            raise ToolFailed("exited 0 but wrote no uv.lock")
        exports = sum(run_timed(cmd, cwd=self.work, env=self.env) for cmd in self.export_cmds)
        return {self.labels[0]: lock, self.labels[1]: lock + exports}

    def packages(self) -> int | None:
        return count_uv_lock_packages(self.output) if self.output.is_file() else None


class PipCompile(Tool):
    """``pip-compile --generate-hashes`` (pip-tools): resolves for this interpreter only."""

    labels = ("pip-compile (this interpreter only)",)

    def setup(self) -> None:
        requirements = self.write_requirements_in()
        self.output = self.work / "req.txt"
        script = _console_script("pip-compile")
        self.cmd = [str(script)] if script else [sys.executable, "-m", "piptools", "compile"]
        # --strip-extras and --quiet only silence output (lockdown's backend passes both).
        self.cmd += [
            "--generate-hashes",
            "--no-config",
            "--strip-extras",
            "--quiet",
            "-o",
            self.output.name,
            requirements.name,
        ]

    def packages(self) -> int | None:
        return count_requirements_pins(self.output) if self.output.is_file() else None


@dataclass(slots=True)
class Series(common.Series):
    """The timed runs of one tool (one label) on one workload."""

    packages: int | None = None

    def as_json(self, reference: float | None) -> dict[str, Any]:
        median = self.median
        return {
            **self.timing_json(),
            "ratio_vs_uv_pip_compile": (
                round(median / reference, 4) if median is not None and reference else None
            ),
            "packages": self.packages,
            "error": self.error,
        }


progress = common.progress


def benchmark(workload: Workload, root: Path, *, runs: int, budget: float) -> dict[str, Series]:
    """Warm up every tool once, then ``runs`` interleaved timed rounds; return every series."""
    # Bytecode written and reused (as an installed lockdown has it), under root.
    env = common.scrubbed_environ(root / "pycache")
    makers: dict[str, Callable[[Path], Tool]] = {
        "lockdown-uv": lambda w: LockdownLock(workload, w, env, resolver=None),
        "uv-pip-compile": lambda w: UvPipCompile(workload, w, env, discovery=True),
        "uv-pip-compile-no-discovery": lambda w: UvPipCompile(workload, w, env, discovery=False),
        "uv-lock": lambda w: UvLock(workload, w, env),
        "pip-compile": lambda w: PipCompile(workload, w, env),
        "lockdown-pip-tools": lambda w: LockdownLock(workload, w, env, resolver="pip-tools"),
    }
    tools = [make(root / workload.name / key) for key, make in makers.items()]
    series = {label: Series(label) for tool in tools for label in tool.labels}
    active: list[Tool] = []
    # 1. One untimed run each: caches warm, and a tool that cannot run is reported once.
    for tool in tools:
        try:
            result = tool.run()
            for label, seconds in result.items():
                series[label].warmup = seconds
            active.append(tool)
            progress(
                f"[{workload.name}] warm-up   {tool.labels[0]:<45} {result[tool.labels[0]]:7.2f}s"
            )
        except ToolFailed as exc:
            for label in tool.labels:
                series[label].error = str(exc)
            progress(f"[{workload.name}] warm-up   {tool.labels[0]:<45} FAILED: {exc}")
    # 2. Timed rounds, tools interleaved. A slow tool stops repeating once another
    #    run would take its timed total past the budget (it always gets one run).
    spent = dict.fromkeys(tools, 0.0)
    last = dict.fromkeys(tools, 0.0)
    for round_no in range(1, runs + 1):
        for tool in list(active):
            if round_no > 1 and spent[tool] + last[tool] > budget:
                continue
            try:
                result = tool.run()
            except ToolFailed as exc:
                for label in tool.labels:
                    series[label].error = f"run {round_no}: {exc}"
                active.remove(tool)
                progress(f"[{workload.name}] run {round_no}/{runs}   {tool.labels[0]:<45} FAILED")
                continue
            for label, seconds in result.items():
                series[label].times.append(seconds)
            last[tool] = result[tool.labels[-1]]
            spent[tool] += last[tool]
            progress(
                f"[{workload.name}] run {round_no}/{runs}   {tool.labels[0]:<45} "
                f"{result[tool.labels[0]]:7.2f}s"
            )
    for tool in tools:
        count = tool.packages()
        for label in tool.labels:
            series[label].packages = count
    return series


def _fmt(seconds: float | None) -> str:
    return f"{seconds:.2f}s" if seconds is not None else "-"


def render_table(workload: Workload, series: dict[str, Series]) -> str:
    """The per-set table: n, median, min, max, ratio vs uv pip compile, packages."""
    reference = series[REFERENCE].median
    width = max(len(label) for label in series) + 2
    lines = [
        f"{workload.name}: {workload.project_dir.relative_to(REPO)}",
        f"  {workload.describe()}",
        "",
        f"  {'tool':<{width}}{'n':>3}{'median':>9}{'min':>9}{'max':>9}"
        f"{'vs uv pip compile':>19}{'packages':>10}",
    ]
    for s in series.values():
        median = s.median
        if not s.times:
            lines.append(f"  {s.label:<{width}}{'':>3}  not measured: {s.error}")
            continue
        ratio = f"{median / reference:.2f}x" if median is not None and reference else "n/a"
        packages = str(s.packages) if s.packages is not None else "-"
        lines.append(
            f"  {s.label:<{width}}{len(s.times):>3}{_fmt(median):>9}{_fmt(min(s.times)):>9}"
            f"{_fmt(max(s.times)):>9}{ratio:>19}{packages:>10}"
        )
        if s.error:
            lines.append(f"  {'':<{width}}   (stopped: {s.error})")
    lockdown = series[LOCKDOWN_UV].median
    uv_calls = next((s.median for s in series.values() if "lockdown's uv calls" in s.label), None)
    uv_lock = series[UV_LOCK].median
    if lockdown is not None and uv_calls is not None and uv_lock is not None:
        lines += [
            "",
            f"  where lockdown's {lockdown:.2f}s goes (medians): uv lock {uv_lock:.2f}s, "
            f"its uv export calls +{uv_calls - uv_lock:.2f}s,",
            f"  lockdown's own Python (startup, imports, merge, render, write) "
            f"+{lockdown - uv_calls:.2f}s",
        ]
    return "\n".join(lines)


def lockdown_ratio(series: dict[str, Series], reference: str) -> float | None:
    """lockdown's median over ``reference``'s, if both were measured."""
    lockdown, ref = series[LOCKDOWN_UV].median, series[reference].median
    return round(lockdown / ref, 4) if lockdown is not None and ref else None


def verdict(name: str, series: dict[str, Series]) -> str:
    """``webapp: lockdown/uv = 1.12x (target <= 1.3x)``."""
    ratio = lockdown_ratio(series, REFERENCE)
    if ratio is None:
        return f"{name}: lockdown/uv = n/a (target <= {TARGET_RATIO}x): a run failed"
    over = "" if ratio <= TARGET_RATIO else "  OVER TARGET"
    return f"{name}: lockdown/uv = {ratio:.2f}x (target <= {TARGET_RATIO}x){over}"


def verdict_no_discovery(results: dict[str, dict[str, Series]]) -> str:
    """The same ratios against uv without interpreter discovery (a stricter reading)."""
    parts = []
    for name, series in results.items():
        ratio = lockdown_ratio(series, REFERENCE_NO_DISCOVERY)
        parts.append(f"{name} {ratio:.2f}x" if ratio is not None else f"{name} n/a")
    return (
        f"lockdown/uv without uv's interpreter discovery: {', '.join(parts)} "
        "(uv given -p <this python> --python-version X.Y; see benchmarks/README.md)"
    )


def tool_versions() -> dict[str, str]:
    """Versions of everything measured, for the header and the JSON."""
    try:
        pip_tools = dist_version("pip-tools")
    except PackageNotFoundError:
        pip_tools = "not installed"
    return {
        "lockdown": lockdown_version,
        "uv": common.uv_version(common.scrubbed_environ()),
        "pip-tools": pip_tools,
        "pip": dist_version("pip"),
        **common.host_versions(),
    }


SHADOW = "shadow"
#: The shadow set: public packages on the main index, private ones on the extra index.
SHADOW_PUBLIC = 140
SHADOW_PRIVATE = 10
#: The shadow check may add at most this much to a lock.
SHADOW_BUDGET = 0.2

SHADOW_PROJECT = """\
[project]
name = "shadow-bench"
version = "0"
requires-python = ">=3.10"
dependencies = {dependencies}

[tool.lockdown]
index-url = "{index}"
{extra}
environments = ["sys_platform == 'linux' and platform_machine == 'x86_64'"]

[tool.lockdown.policy]
auto-approve = ["new"]
"""

#: Run in a fresh interpreter: the shadow check exactly as ``lock`` calls it, timed.
SHADOW_PROBE = """\
import json, sys, time
from lockdown.resolve.origins import indexes_serving
origins, indexes, runs = json.loads(sys.argv[1])
times = []
cpu = time.process_time()
for _ in range(runs):
    started = time.perf_counter()
    served = indexes_serving(origins, indexes)
    times.append(time.perf_counter() - started)
assert all(len(v) == 1 for v in served.values()), "a benchmark name is on both indexes"
print(json.dumps([times, (time.process_time() - cpu) / runs]))
"""


#: Run in a fresh interpreter: ``lock`` in-process, timing only where it waits for the
#: shadow check (the questions asked before resolving, and the joins after).
SHADOW_CRITICAL_PROBE = """\
import json, sys, time
from pathlib import Path
from lockdown.commands import _origin_check as origin_check
from lockdown.commands.lock import lock_project
project, runs = json.loads(sys.argv[1])
spent = [0.0]
def timed(method):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started
    return wrapper
for name in ("__init__", "answered", "judge"):
    setattr(origin_check.OriginCheck, name, timed(getattr(origin_check.OriginCheck, name)))
out = {"first lock": [], "re-lock": []}
for _ in range(runs):
    for label, times in out.items():
        if label == "first lock":
            Path(project, "pylock.toml").unlink(missing_ok=True)
        spent[0] = 0.0
        assert not lock_project(Path(project)).blocked
        times.append(spent[0])
print(json.dumps(out))
"""


def shadow_benchmark(root: Path, *, runs: int) -> dict[str, Any]:
    """Lock 150 packages from two local indexes and from one; time the shadow check alone."""
    import json  # noqa: PLC0415
    import statistics  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    sys.path.insert(0, str(REPO))
    from tests.support.pkgindex import PackageIndex  # noqa: PLC0415

    public = [f"bench-public-{i:03d}" for i in range(SHADOW_PUBLIC)]
    private = [f"bench-private-{i:03d}" for i in range(SHADOW_PRIVATE)]
    env = common.scrubbed_environ()
    script = _console_script("lockdown")
    lockdown = [str(script)] if script else [sys.executable, "-m", "lockdown"]
    with (
        PackageIndex(root / "main") as main,
        PackageIndex(root / "extra") as extra,
        PackageIndex(root / "single") as single,
    ):
        for name in public:
            main.add(name, "1.0", sdist=False)
            single.add(name, "1.0", sdist=False)
        for name in private:
            extra.add(name, "1.0", sdist=False)
            single.add(name, "1.0", sdist=False)
        dependencies = json.dumps(public + private)
        projects = {}
        for label, index, more in (
            ("one index", single.url, ""),
            ("two indexes", main.url, f'extra-index-urls = ["{extra.url}"]'),
        ):
            project = root / label.replace(" ", "-")
            project.mkdir()
            (project / "pyproject.toml").write_text(
                SHADOW_PROJECT.format(dependencies=dependencies, index=index, extra=more),
                encoding="utf-8",
            )
            projects[label] = project
        cmd = [*lockdown, "lock", "-q", "--project"]
        times: dict[str, list[float]] = {}
        # Warm uv's and lockdown's caches, then interleave: first locks (the lock
        # removed before each) and re-locks (the lock kept: every name is pinned).
        for project in projects.values():
            run_timed([*cmd, str(project)], cwd=root, env=env)
        for _ in range(runs):
            for label, project in projects.items():
                (project / "pylock.toml").unlink()
                times.setdefault(f"first lock, {label}", []).append(
                    run_timed([*cmd, str(project)], cwd=root, env=env)
                )
            for label, project in projects.items():
                times.setdefault(f"re-lock, {label}", []).append(
                    run_timed([*cmd, str(project)], cwd=root, env=env)
                )
        origins = dict.fromkeys(public, main.url) | dict.fromkeys(private, extra.url)
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                SHADOW_PROBE,
                json.dumps([origins, [main.url, extra.url], runs + 1]),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        check_times, check_cpu = json.loads(probe.stdout)
        critical = subprocess.run(
            [
                sys.executable,
                "-c",
                SHADOW_CRITICAL_PROBE,
                json.dumps([str(projects["two indexes"]), runs]),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        waits = {k: statistics.median(v) for k, v in json.loads(critical.stdout).items()}
        load = os.getloadavg()[0]
    medians = {label: statistics.median(values) for label, values in times.items()}
    return {
        "packages": SHADOW_PUBLIC + SHADOW_PRIVATE,
        "runs": runs,
        "lock_seconds": {k: round(v, 3) for k, v in medians.items()},
        "extra_seconds": round(
            medians["first lock, two indexes"] - medians["first lock, one index"], 3
        ),
        "extra_relock_seconds": round(
            medians["re-lock, two indexes"] - medians["re-lock, one index"], 3
        ),
        "check_cold_seconds": round(check_times[0], 3),
        "check_warm_seconds": round(statistics.median(check_times[1:]), 3),
        "check_cpu_seconds": round(check_cpu, 3),
        "lock_waits_seconds": {k: round(v, 3) for k, v in waits.items()},
        "load_average": round(load, 2),
        "pages_asked": SHADOW_PUBLIC + SHADOW_PRIVATE,
        "budget_seconds": SHADOW_BUDGET,
    }


def render_shadow(result: dict[str, Any]) -> str:
    """The shadow set's figures, and the verdict against its budget."""
    lines = [
        f"shadow check: {result['packages']} packages from two local indexes "
        f"({result['pages_asked']} project pages asked), medians of {result['runs']} runs, "
        f"load average {result['load_average']:.1f} on {os.cpu_count()} cpus"
    ]
    for label, seconds in result["lock_seconds"].items():
        lines.append(f"  lockdown lock, {label:<24} {seconds:6.2f} s")
    lines.append(
        f"  two indexes over one: first lock {result['extra_seconds']:+.2f} s, re-lock "
        f"{result['extra_relock_seconds']:+.2f} s (uv asking the second index included)"
    )
    lines.append(
        f"  the check alone: cold {result['check_cold_seconds']:.3f} s, "
        f"warm {result['check_warm_seconds']:.3f} s wall; "
        f"{result['check_cpu_seconds']:.3f} s CPU per check"
    )
    waits = result["lock_waits_seconds"]
    lines.append(
        f"  lock waiting for it: first lock {waits['first lock']:.3f} s, "
        f"re-lock {waits['re-lock']:.3f} s (the rest runs beside the resolver)"
    )
    worst = max(waits.values())
    ok = worst <= result["budget_seconds"]
    lines.append(
        f"shadow check: {worst:.2f} s added to a lock "
        f"({'within' if ok else 'OVER'} the {result['budget_seconds']:.1f} s budget)"
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = common.argument_parser(
        "Time lockdown lock against uv and pip-tools on the same requirements.",
        runs=5,
        per="tool",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=45.0,
        metavar="SECONDS",
        help="stop repeating a tool once another run would take its timed total past this "
        "(default 45; it always gets one timed run; 'inf' for exactly --runs)",
    )
    parser.add_argument(
        "--set",
        action="append",
        choices=[*(s.name for s in SETS), SHADOW],
        dest="sets",
        help="only this requirement set (repeatable; default: all)",
    )
    common.add_json_option(parser)
    return common.parse_args(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 if lockdown or the uv reference could not be measured."""
    args = parse_args(argv)
    versions = tool_versions()
    sets = [s for s in SETS if not args.sets or s.name in args.sets]
    workloads = [load_workload(s) for s in sets]
    results: dict[str, dict[str, Series]] = {}
    shadow: dict[str, Any] | None = None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lockdown-bench-") as tmp:
        for workload in workloads:
            results[workload.name] = benchmark(
                workload, Path(tmp), runs=args.runs, budget=args.budget
            )
        if not args.sets or SHADOW in args.sets:
            shadow_root = Path(tmp) / SHADOW
            shadow_root.mkdir()
            shadow = shadow_benchmark(shadow_root, runs=args.runs)
    total = time.perf_counter() - started

    print()
    print(
        f"lock speed, warm caches, default index; up to {args.runs} timed run(s) per tool "
        f"after one untimed warm-up (budget {args.budget:g}s per tool); {total:.0f}s in all"
    )
    print(common.versions_line(versions))
    for workload in workloads:
        print()
        print(render_table(workload, results[workload.name]))
    print()
    for workload in workloads:
        print(verdict(workload.name, results[workload.name]))
    if workloads:
        print(verdict_no_discovery(results))
    if shadow is not None:
        print()
        print(render_shadow(shadow))

    if args.json is not None:
        payload = {
            "date": common.utc_now(),
            "runs": args.runs,
            "budget_seconds": args.budget,
            "target_ratio": TARGET_RATIO,
            "total_seconds": round(total, 2),
            "versions": versions,
            "sets": {
                w.name: {
                    "project": str(w.project_dir.relative_to(REPO)),
                    "requires_python": w.requires_python,
                    "environments": list(w.environments),
                    "requirements": w.flat_requirements,
                    "reference": REFERENCE,
                    "lockdown_over_uv": lockdown_ratio(results[w.name], REFERENCE),
                    "lockdown_over_uv_no_discovery": lockdown_ratio(
                        results[w.name], REFERENCE_NO_DISCOVERY
                    ),
                    "tools": {
                        label: s.as_json(results[w.name][REFERENCE].median)
                        for label, s in results[w.name].items()
                    },
                }
                for w in workloads
            },
            "shadow": shadow,
        }
        common.write_json(args.json, payload)
        print(f"\nwrote {args.json}")

    failed = any(
        results[w.name][label].median is None
        for w in workloads
        for label in (LOCKDOWN_UV, REFERENCE)
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
