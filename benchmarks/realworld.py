"""Lock the dependency sets our users really have, with the default config, against uv.

Each project below is a real dependency set of the kind lockdown's users run
in production (web services, Django + Celery, FastAPI, an LLM application,
PyTorch, JupyterLab, data and scientific stacks, sdist-only packages), written
as a ``pyproject.toml`` with no ``[tool.lockdown]`` at all: lockdown's
defaults, against the default package index. For each, in one run:

* **cold**: a fresh lockdown cache and a fresh uv cache for each tool, no
  previous output (lockdown's own bytecode is compiled once beforehand, as
  an installed lockdown's is); ``lockdown lock`` then ``uv pip compile --universal
  --generate-hashes -o pylock.toml`` on the same inputs (every extra, every
  group, ``--python-version`` from ``requires-python``); ``--cold-runs`` times,
  alternating, each from fresh caches again, and the median taken (one cold
  sample on a shared index is mostly the index's mood);
* **warm**: both again, ``--runs`` times, alternating, with the caches and
  each tool's previous output in place (each reads it as preferences).

Both run isolated from this machine's pip and uv configuration (``PIP_*`` /
``UV_*`` removed, ``PIP_CONFIG_FILE=/dev/null``, ``uv --no-config``). Printed
per project: the result, the cold and warm time ratios (lockdown / uv), the
bytes lockdown itself downloaded on the cold run (index pages, provenance,
artifacts, counted at its sockets; uv's own traffic is not lockdown's), the
artifacts pinned, the environments the lock ended up with, and the peak memory
of each tool's process tree; then the totals.

The conda project locks an ``environment.yml`` with ``lockdown lock --conda``
(py-rattler). When the public conda channel cannot be reached from here, the
script says so and locks against a local channel built with the test suite's
fixture instead; there is no uv comparison for it.

Usage: ``.venv/bin/python benchmarks/realworld.py [--runs N] [--cold-runs N]
[--only NAME ...] [--json FILE]``. It needs the network and takes several minutes.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for the test suite's conda channel fixture

from uv import find_uv_bin  # noqa: E402

from lockdown._compat import tomllib  # noqa: E402
from tests.support.condachannel import CondaChannel  # noqa: E402

if TYPE_CHECKING:  # mypy resolves benchmarks/ from the repository root
    from benchmarks import common
else:  # run as a script: benchmarks/ itself is on sys.path
    import common


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """One real dependency set."""

    name: str
    what: str
    dependencies: tuple[str, ...]
    extras: dict[str, tuple[str, ...]] = field(default_factory=dict)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    requires_python: str = ">=3.10"


PROJECTS: tuple[Project, ...] = (
    Project(
        name="pg-service",
        what="a web service with a binary Postgres driver in an extra",
        dependencies=("requests", "click", "attrs"),
        extras={"pg": ("psycopg[binary]>=3.1",)},
        groups={"dev": ("pytest",)},
    ),
    Project(
        name="django-celery",
        what="Django + Celery on Redis, Postgres, gunicorn, Sentry",
        dependencies=("django", "psycopg[binary]", "celery[redis]", "gunicorn", "sentry-sdk"),
    ),
    Project(
        name="fastapi",
        what="FastAPI + uvicorn[standard], SQLAlchemy, httpx",
        dependencies=(
            "fastapi",
            "uvicorn[standard]",
            "pydantic-settings",
            "sqlalchemy",
            "httpx",
        ),
        groups={"dev": ("pytest", "ruff", "mypy")},
    ),
    Project(
        name="llm-app",
        what="an LLM application: openai, anthropic, langchain-core, tiktoken",
        dependencies=("openai", "anthropic", "langchain-core", "tiktoken", "httpx", "pydantic"),
    ),
    Project(
        name="torch",
        what="PyTorch + transformers, accelerate, safetensors",
        dependencies=("torch>=2.4", "transformers", "accelerate", "safetensors"),
    ),
    Project(
        name="jupyter",
        what="JupyterLab, matplotlib, ipywidgets",
        dependencies=("jupyterlab", "matplotlib", "ipywidgets"),
    ),
    Project(
        name="data",
        what="polars, pyarrow, duckdb",
        dependencies=("polars", "pyarrow", "duckdb"),
    ),
    Project(
        name="scientific",
        what="numpy, scipy, pandas, scikit-learn",
        dependencies=("numpy", "scipy", "pandas", "scikit-learn"),
    ),
    Project(
        name="web-data",
        what="numpy, pandas, scikit-learn, fastapi, uvicorn[standard] (the issue's 6.4 GB case)",
        dependencies=("numpy", "pandas", "scikit-learn", "fastapi", "uvicorn[standard]"),
    ),
    Project(
        name="sdist-only",
        what="packages that publish no wheel (docopt, jieba, wget, feedparser's sgmllib3k)",
        dependencies=("docopt", "jieba", "wget", "feedparser"),
    ),
)

#: lockdown, with every byte it reads from a socket counted (uv runs as its own process).
#: On a TLS socket only ``read`` counts: ``SSLSocket.recv`` and ``recv_into`` call
#: ``read`` themselves (counting all three counted every TLS byte twice).
COUNTING_RUNNER = """\
import atexit, socket, ssl, sys
total = [0]
def counting(method):
    def wrapper(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        total[0] += result if isinstance(result, int) else len(result)
        return result
    return wrapper
PLAIN, TLS = ("recv", "recv_into"), ("read",)
for cls, names in ((socket.socket, PLAIN), (ssl.SSLSocket, TLS)):
    for name in names:
        setattr(cls, name, counting(getattr(cls, name)))
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(str(total[0])))
from lockdown.cli import main
code = main(sys.argv[1:])
open(out, "w").write(str(total[0]))
sys.exit(code)
"""


@dataclass(slots=True)
class Run:
    """One measured process."""

    seconds: float
    peak_rss: int
    returncode: int
    stderr: str


def measured(cmd: Sequence[str], *, cwd: Path, env: dict[str, str]) -> Run:
    """Run ``cmd``; wall time and the peak RSS of its process tree (wait4's rusage)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return Run(
        seconds=elapsed, peak_rss=usage.ru_maxrss * 1024, returncode=proc.returncode, stderr=stderr
    )


def pyproject(project: Project) -> str:
    """The project's ``pyproject.toml``: its dependencies and nothing of lockdown's."""

    def array(items: Sequence[str]) -> str:
        return "[" + ", ".join(f'"{i}"' for i in items) + "]"

    lines = [
        "[project]",
        # Not the project's own name: a project called "torch" that needs torch
        # would depend on itself.
        f'name = "realworld-{project.name}"',
        'version = "1.0"',
        f'requires-python = "{project.requires_python}"',
        f"dependencies = {array(project.dependencies)}",
    ]
    if project.extras:
        lines += ["", "[project.optional-dependencies]"]
        lines += [f"{k} = {array(v)}" for k, v in project.extras.items()]
    if project.groups:
        lines += ["", "[dependency-groups]"]
        lines += [f"{k} = {array(v)}" for k, v in project.groups.items()]
    return "\n".join(lines) + "\n"


@dataclass(slots=True)
class Result:
    """What one project measured."""

    project: str
    ok: bool = False
    error: str | None = None
    #: Each cold run's seconds (fresh caches every time); the median is reported.
    lockdown_colds: list[float] = field(default_factory=list)
    uv_colds: list[float] = field(default_factory=list)
    lockdown_warm: list[float] = field(default_factory=list)
    uv_warm: list[float] = field(default_factory=list)
    downloaded: int | None = None
    artifacts: int | None = None
    packages: int | None = None
    environments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lockdown_rss: int = 0
    uv_rss: int = 0
    #: ``--split-provenance``: a cold lockdown run with ``provenance = "off"``.
    cold_without_provenance: float | None = None
    downloaded_without_provenance: int | None = None

    @property
    def lockdown_cold(self) -> float | None:
        return statistics.median(self.lockdown_colds) if self.lockdown_colds else None

    @property
    def uv_cold(self) -> float | None:
        return statistics.median(self.uv_colds) if self.uv_colds else None

    def ratio(self, which: str) -> float | None:
        if which == "cold":
            mine, theirs = self.lockdown_cold, self.uv_cold
        else:
            mine = statistics.median(self.lockdown_warm) if self.lockdown_warm else None
            theirs = statistics.median(self.uv_warm) if self.uv_warm else None
        return mine / theirs if mine and theirs else None

    def json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "error": self.error,
            "lockdown_cold": self.lockdown_cold,
            "uv_cold": self.uv_cold,
            "lockdown_cold_runs": self.lockdown_colds,
            "uv_cold_runs": self.uv_colds,
            "lockdown_warm": self.lockdown_warm,
            "uv_warm": self.uv_warm,
            "ratio_cold": self.ratio("cold"),
            "ratio_warm": self.ratio("warm"),
            "lockdown_downloaded_bytes": self.downloaded,
            "artifacts": self.artifacts,
            "packages": self.packages,
            "environments": self.environments,
            "notes": self.notes,
            "lockdown_cold_without_provenance": self.cold_without_provenance,
            "lockdown_downloaded_without_provenance": self.downloaded_without_provenance,
            "lockdown_peak_rss": self.lockdown_rss,
            "uv_peak_rss": self.uv_rss,
        }


def _fresh(work: Path, output_dir: Path, *caches: str) -> None:
    """No cache and no previous output: what a CI runner starts from."""
    for name in caches:
        shutil.rmtree(work / name, ignore_errors=True)
    (output_dir / "pylock.toml").unlink(missing_ok=True)


def uv_compile_cmd(project: Project) -> list[str]:
    """The peer's command on the same inputs: every extra and group, the lowest Python."""
    floor = project.requires_python.removeprefix(">=")
    return [
        find_uv_bin(),
        "--no-config",
        "pip",
        "compile",
        "--quiet",
        "--universal",
        "--generate-hashes",
        "--python",
        sys.executable,
        "--python-version",
        floor,
        "pyproject.toml",
        *(["--all-extras"] if project.extras else []),
        *(arg for group in project.groups for arg in ("--group", group)),
        "-o",
        "pylock.toml",
    ]


def bench_python(
    project: Project, work: Path, runs: int, *, cold_runs: int = 1, split: bool = False
) -> Result:
    """Cold then warm, lockdown and uv alternating, on one project.

    With ``split``, one more cold lockdown run with ``provenance = "off"``
    (fresh caches): how much of the cold time and bytes the PEP 740 check is.
    """
    result = Result(project=project.name)
    mine_dir, uv_dir = work / "lockdown", work / "uv"
    for directory in (mine_dir, uv_dir):
        directory.mkdir(parents=True)
        (directory / "pyproject.toml").write_text(pyproject(project), encoding="utf-8")
    base = common.scrubbed_environ(work.parent / "pycache")
    mine_env = base | {
        "LOCKDOWN_CACHE_DIR": str(work / "lockdown-cache"),
        "UV_CACHE_DIR": str(work / "lockdown-uv-cache"),
    }
    uv_env = base | {"UV_CACHE_DIR": str(work / "uv-cache")}
    counted = work / "bytes"
    lockdown = [sys.executable, "-c", COUNTING_RUNNER, str(counted), "lock", "--project", "."]
    uv = uv_compile_cmd(project)

    def lock_once(first: bool) -> None:
        run = measured(lockdown, cwd=mine_dir, env=mine_env)
        result.lockdown_rss = max(result.lockdown_rss, run.peak_rss)
        if run.returncode != 0:
            lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
            raise common.ToolFailed(f"lockdown lock exit {run.returncode}: {lines[-1:]}")
        if first:
            result.lockdown_colds.append(run.seconds)
            result.downloaded = max(result.downloaded or 0, int(counted.read_text() or 0))
            result.notes = [ln for ln in run.stderr.splitlines() if ln.startswith("lockdown: ")]
        else:
            result.lockdown_warm.append(run.seconds)

    def compile_once(first: bool) -> None:
        run = measured(uv, cwd=uv_dir, env=uv_env)
        result.uv_rss = max(result.uv_rss, run.peak_rss)
        if run.returncode != 0:
            lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
            raise common.ToolFailed(f"uv pip compile exit {run.returncode}: {lines[-2:]}")
        if first:
            result.uv_colds.append(run.seconds)
        else:
            result.uv_warm.append(run.seconds)

    try:
        for number in range(cold_runs):
            common.progress(f"{project.name}: cold {number + 1}/{cold_runs}")
            _fresh(work, mine_dir, "lockdown-cache", "lockdown-uv-cache")
            lock_once(True)
            _fresh(work, uv_dir, "uv-cache")
            compile_once(True)
        for number in range(runs):
            common.progress(f"{project.name}: warm {number + 1}/{runs}")
            lock_once(False)
            compile_once(False)
        if split:
            _cold_without_provenance(project, work, base, lockdown, result)
    except common.ToolFailed as exc:
        result.error = str(exc)
        return result
    _read_lock(result, mine_dir / "pylock.toml")
    return result


def _read_lock(result: Result, path: Path) -> None:
    """What lockdown's lock pinned: packages, artifacts, the environments it serves."""
    lock = tomllib.loads(path.read_text(encoding="utf-8"))
    result.packages = len(lock["packages"])
    result.artifacts = sum(len(p.get("wheels", [])) + ("sdist" in p) for p in lock["packages"])
    result.environments = [_platform_of(e) for e in lock["environments"]]
    result.ok = True


def warm_bytecode(root: Path) -> None:
    """Compile lockdown, its dependencies and the standard library, untimed.

    Every run shares one bytecode cache (``root/pycache``), as an installed
    lockdown has its ``.pyc`` files (pip compiles what it installs; Python
    ships its standard library compiled): "cold" is about the index and the
    caches, not about compiling Python. With ``PYTHONPYCACHEPREFIX`` set, no
    ``__pycache__`` directory counts, so everything is compiled into the
    prefix (~30 s), then a project with no dependencies is locked once.
    Locking the empty project alone left every module it does not reach (the
    HTTP client, the index pages, the exports) to be compiled by the first
    timed project: ~0.7 s of pg-service's cold time before this.
    """
    import sysconfig  # noqa: PLC0415

    paths = sysconfig.get_paths()
    folders = sorted({paths["stdlib"], paths["purelib"], paths["platlib"], str(REPO / "lockdown")})
    subprocess.run(
        [
            *(sys.executable, "-m", "compileall", "-q", "-j", "0"),
            *("-x", r"[/\\](test|tests|idlelib|lib2to3|turtledemo)[/\\]"),
            *folders,
        ],
        env=common.scrubbed_environ(root / "pycache"),
        capture_output=True,
        check=False,
    )
    project = root / "bytecode"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "bytecode"\nversion = "1"\nrequires-python = ">=3.10"\n'
        "dependencies = []\n",
        encoding="utf-8",
    )
    env = common.scrubbed_environ(root / "pycache") | {"LOCKDOWN_CACHE_DIR": str(root / "bc")}
    run = measured(
        [sys.executable, "-c", COUNTING_RUNNER, str(root / "bc-bytes"), "lock", "--project", "."],
        cwd=project,
        env=env,
    )
    if run.returncode != 0:
        raise SystemExit(f"lockdown cannot lock an empty project here: {run.stderr[-300:]}")


def _cold_without_provenance(
    project: Project, work: Path, base: dict[str, str], lockdown: list[str], result: Result
) -> None:
    """One more cold lockdown run, fresh caches, with ``provenance = "off"``."""
    common.progress(f"{project.name}: cold, provenance off")
    bare = work / "no-provenance"
    bare.mkdir()
    (bare / "pyproject.toml").write_text(
        pyproject(project) + '\n[tool.lockdown.policy]\nprovenance = "off"\n', encoding="utf-8"
    )
    env = base | {
        "LOCKDOWN_CACHE_DIR": str(work / "bare-cache"),
        "UV_CACHE_DIR": str(work / "bare-uv-cache"),
    }
    run = measured(lockdown, cwd=bare, env=env)
    if run.returncode != 0:
        raise common.ToolFailed(f"lockdown lock (provenance off) exit {run.returncode}")
    result.cold_without_provenance = run.seconds
    result.downloaded_without_provenance = int(Path(lockdown[3]).read_text() or 0)


def _platform_of(marker: str) -> str:
    """``sys_platform == 'linux' and platform_machine == 'x86_64'`` → ``linux/x86_64``."""
    found = dict(re.findall(r"(sys_platform|platform_machine) == '([^']+)'", marker))
    label = f"{found.get('sys_platform', '?')}/{found.get('platform_machine', '?')}"
    rest = re.sub(r"(sys_platform|platform_machine) == '[^']+'( and )?", "", marker).strip()
    return f"{label} ({rest.removeprefix('and ').strip()})" if rest else label


def conda_reachable(env: dict[str, str], work: Path) -> str | None:
    """``None`` when the public conda channel answers a tiny solve; else why not."""
    project = work / "probe"
    project.mkdir()
    (project / "environment.yml").write_text(
        "channels: [conda-forge]\ndependencies: [python-tzdata]\n"
        f"platforms: [{_conda_platform()}]\n",
        encoding="utf-8",
    )
    try:
        proc = subprocess.run(
            [*common.lockdown_cmd(), "lock", "--project", str(project), "--conda", "-q"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "no answer within 60 s"
    if proc.returncode == 0:
        return None
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else f"exit {proc.returncode}"


def bench_conda(work: Path, runs: int) -> Result:
    """``lockdown lock --conda``: the public channel when reachable, else a local one."""
    result = Result(project="conda")
    env = common.scrubbed_environ(work.parent / "pycache") | {
        "LOCKDOWN_CACHE_DIR": str(work / "lockdown-cache")
    }
    work.mkdir(parents=True, exist_ok=True)
    why = conda_reachable(env, work)
    project = work / "project"
    project.mkdir()
    if why is None:
        channel = "conda-forge"
        dependencies = "[python=3.12, numpy, pandas, requests]"
        result.notes.append("the public conda channel (conda-forge) is reachable: locked from it")
    else:
        local = CondaChannel(work / "channel")
        for number in range(40):
            name = f"pkg{number:02d}"
            depends = [f"pkg{number + 1:02d}"] if number + 1 < 40 else []
            local.add(name, "1.0", depends=depends, files={f"share/{name}.txt": b"x" * 256})
        local.index()
        channel = local.file_url
        dependencies = "[pkg00]"
        result.notes.append(
            f"the public conda channel is NOT reachable from here ({why}); locked a local "
            "channel of 40 packages instead"
        )
    (project / "environment.yml").write_text(
        f"channels: [{channel}]\ndependencies: {dependencies}\nplatforms: [{_conda_platform()}]\n",
        encoding="utf-8",
    )
    cmd = [*common.lockdown_cmd(), "lock", "--project", str(project), "--conda", "-q"]
    try:
        for number in range(runs + 1):
            run = measured(cmd, cwd=project, env=env)
            result.lockdown_rss = max(result.lockdown_rss, run.peak_rss)
            if run.returncode != 0:
                raise common.ToolFailed(f"lockdown lock --conda exit {run.returncode}")
            if number == 0:
                result.lockdown_colds.append(run.seconds)
            else:
                result.lockdown_warm.append(run.seconds)
    except common.ToolFailed as exc:
        result.error = str(exc)
        return result
    text = (project / "conda-lock.yml").read_text(encoding="utf-8")
    result.artifacts = text.count("\n  url: ") or text.count("url: ")
    result.ok = True
    return result


def _conda_platform() -> str:
    machine = platform.machine()
    if sys.platform.startswith("linux"):
        return "linux-aarch64" if machine in ("aarch64", "arm64") else "linux-64"
    if sys.platform == "darwin":
        return "osx-arm64" if machine == "arm64" else "osx-64"
    return "win-64"


def _mb(count: int | None) -> str:
    return "-" if count is None else f"{count / 1e6:.1f} MB"


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}s"


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def report(results: Sequence[Result], runs: int, cold_runs: int = 1) -> None:
    print(
        f"\nrealworld: {len(results)} projects, default config, default index; cold median "
        f"of {cold_runs}, warm median of {runs}; lockdown / uv pip compile --universal "
        "--generate-hashes"
    )
    print(common.versions_line(common.host_versions()))
    header = (
        f"\n  {'project':14} {'result':7} {'cold ld':>8} {'cold uv':>8} {'ratio':>6} "
        f"{'warm ld':>8} {'warm uv':>8} {'ratio':>6} {'ld bytes':>9} {'pkgs':>5} "
        f"{'files':>6} {'ld RSS':>7} {'uv RSS':>7}"
    )
    print(header)
    for r in results:
        warm_mine = statistics.median(r.lockdown_warm) if r.lockdown_warm else None
        warm_uv = statistics.median(r.uv_warm) if r.uv_warm else None
        print(
            f"  {r.project:14} {'ok' if r.ok else 'FAILED':7} {_s(r.lockdown_cold):>8} "
            f"{_s(r.uv_cold):>8} {_x(r.ratio('cold')):>6} {_s(warm_mine):>8} {_s(warm_uv):>8} "
            f"{_x(r.ratio('warm')):>6} {_mb(r.downloaded):>9} {r.packages or '-':>5} "
            f"{r.artifacts or '-':>6} {r.lockdown_rss / 1e6:>5.0f}MB {r.uv_rss / 1e6:>5.0f}MB"
        )
        if r.cold_without_provenance is not None:
            print(
                f"      cold with provenance = 'off': {_s(r.cold_without_provenance)} "
                f"({_x(r.cold_without_provenance / r.uv_cold if r.uv_cold else None)} uv), "
                f"{_mb(r.downloaded_without_provenance)} read by lockdown"
            )
        if r.error:
            print(f"      error: {r.error}")
        if r.environments:
            print(f"      environments: {', '.join(r.environments)}")
        for note in r.notes:
            print(f"      {note}")
    compared = [r for r in results if r.ok and r.uv_cold is not None]
    cold_mine = sum(r.lockdown_cold or 0 for r in compared)
    cold_uv = sum(r.uv_cold or 0 for r in compared)
    warm_ratios = [x for r in compared if (x := r.ratio("warm")) is not None]
    print(
        f"\ntotals ({len(compared)} projects against uv): cold {cold_mine:.1f}s vs "
        f"{cold_uv:.1f}s = {_x(cold_mine / cold_uv if cold_uv else None)} (target <= 1.3x); "
        f"warm worst {_x(max(warm_ratios, default=None))} (target <= 1.2x each); "
        f"lockdown downloaded at most {_mb(max((r.downloaded or 0 for r in compared), default=0))} "
        "per project (target <= 10 MB)"
    )
    failed = [r.project for r in results if not r.ok]
    split = [r for r in compared if r.cold_without_provenance is not None]
    if split:
        bare = sum(r.cold_without_provenance or 0 for r in split)
        theirs = sum(r.uv_cold or 0 for r in split)
        print(
            f"cold with provenance = 'off' ({len(split)} projects): {bare:.1f}s vs "
            f"{theirs:.1f}s = {_x(bare / theirs if theirs else None)}"
        )
    print(f"every project locked: {'yes' if not failed else 'NO: ' + ', '.join(failed)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = common.argument_parser(
        "Lock real dependency sets with lockdown and uv.", runs=3, per="warm project"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="just these projects (and 'conda')"
    )
    parser.add_argument(
        "--split-provenance",
        action="store_true",
        help="also one cold lockdown run per project with provenance = 'off'",
    )
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=3,
        metavar="N",
        help="cold runs per project, each from fresh caches; the median is reported (default 3)",
    )
    common.add_json_option(parser)
    args = common.parse_args(parser, argv)
    chosen = [p for p in PROJECTS if not args.only or p.name in args.only]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="lockdown-bench-realworld-") as tmp:
        root = Path(tmp)
        warm_bytecode(root)
        for project in chosen:
            results.append(
                bench_python(
                    project,
                    root / project.name,
                    args.runs,
                    cold_runs=args.cold_runs,
                    split=args.split_provenance,
                )
            )
        if not args.only or "conda" in args.only:
            common.progress("conda: cold and warm")
            results.append(bench_conda(root / "conda", args.runs))
    report(results, args.runs, args.cold_runs)
    if args.json is not None:
        common.write_json(
            args.json,
            {
                "date": common.utc_now(),
                "runs": args.runs,
                "cold_runs": args.cold_runs,
                "projects": {r.project: r.json() for r in results},
            },
        )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
