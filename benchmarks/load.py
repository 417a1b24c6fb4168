"""Load: how lockdown's time and memory grow with what it handles.

In one run, as whole processes (median of ``--runs``, peak RSS of the largest
process by GNU time when installed):

* ``lockdown check`` at the versions level (warm fast path) and the files
  level on synthetic venvs of 1,000, 3,000 and 10,000 distributions, each
  checked against its own lock of as many packages (the environments of
  ``benchmarks/check.py``, built once and cached);
* the first check of the 1,000-package lock (empty cache: the whole lock
  parsed and validated);
* the 10,000-distribution venv checked against the 1,000-package lock: 9,000
  unexpected packages, the JSON report written;
* ``lockdown verify --key`` of a signed lock of about 10 MB;
* ``lockdown lock`` of a 300-package resolution from a local index
  (``tests/support/pkgindex.py``), on a warm artifact cache.

It then prints how each command's time grows per 10x more distributions:
linear growth is 10x; quadratic would be 100x.

Usage: ``.venv/bin/python benchmarks/load.py [--runs N] [--json FILE]``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the test suite's local index

from tests.support.pkgindex import PackageIndex  # noqa: E402

if TYPE_CHECKING:  # mypy resolves benchmarks/ from the repository root
    from benchmarks import check, common
else:  # run as a script: benchmarks/ itself is on sys.path
    import check
    import common

SIZES = (1000, 3000, 10000)
LOCKED_PACKAGES = 300


def timed(cmd: Sequence[str], cwd: Path, env: dict[str, str], runs: int) -> tuple[float, int]:
    """Median seconds over ``runs`` (after one untimed run) and the peak RSS in bytes."""
    check.run_measured(cmd, cwd=cwd, env=env, ok=tuple(range(256)))
    times = [
        check.run_measured(cmd, cwd=cwd, env=env, ok=tuple(range(256))).seconds for _ in range(runs)
    ]
    # Drift is an exit code, not a failure: measure memory through a shell that exits 0.
    tolerant = ["sh", "-c", '"$@"; exit 0', "sh", *cmd]
    return statistics.median(times), check.peak_rss(tolerant, cwd=cwd, env=env)


def big_signed_lock(work: Path, env: dict[str, str]) -> tuple[Path, Path, int]:
    """A ~10 MB lock (2,000 packages, 20 wheels each), signed with a throwaway key."""
    packages = []
    for dist in (check.SynthDist(i) for i in range(2000)):
        wheels = []
        for tag in range(20):
            name = f"{dist.module}-{dist.version}-py3-none-manylinux_2_{tag + 5}_x86_64.whl"
            wheels.append(
                {
                    "name": name,
                    "url": check.SYNTHETIC_URL + name,
                    "size": 1000 + tag,
                    "hashes": {"sha256": hashlib.sha256(name.encode()).hexdigest()},
                }
            )
        packages.append({"name": dist.name, "version": dist.version, "wheels": wheels})
    doc = {
        "lock-version": "1.0",
        "requires-python": ">=3.8",
        "created-by": "lockdown-bench",
        "packages": packages,
    }
    lock = work / "pylock.toml"
    lock.write_bytes(tomli_w.dumps(doc).encode("utf-8"))
    os.environ["LOCKDOWN_KEY_PASSWORD"] = "benchmark-only"  # noqa: S105 - a throwaway key
    lockdown = common.lockdown_cmd()
    keys = dict(os.environ, **env)
    check.run_measured([*lockdown, "keygen", str(work / "k.key"), "-q"], cwd=work, env=keys)
    check.run_measured(
        [*lockdown, "sign", str(lock), "--key", str(work / "k.key"), "-q"], cwd=work, env=keys
    )
    return lock, work / "k.pub", lock.stat().st_size


def resolution_project(work: Path, index: PackageIndex) -> Path:
    """A project whose resolution is ``LOCKED_PACKAGES`` packages on the local index."""
    width = 30  # thirty top-level requirements, each the head of a chain of ten
    for n in range(LOCKED_PACKAGES):
        depends = [f"p{n + 1:03d}"] if (n + 1) % 10 else []
        index.add(f"p{n:03d}", "1.0", dependencies=depends, sdist=False)
    project = work / "proj"
    project.mkdir()
    requirements = ", ".join(f'"p{n * 10:03d}"' for n in range(width))
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "load"\nversion = "0"\nrequires-python = ">=3.10"\n'
        f"dependencies = [{requirements}]\n"
        f'[tool.lockdown]\nindex-url = "{index.url}"\n'
        "environments = [\"sys_platform == 'linux' and platform_machine == 'x86_64'\"]\n",
        encoding="utf-8",
    )
    return project


def main(argv: Sequence[str] | None = None) -> int:
    parser = common.argument_parser("How lockdown grows with its inputs.", runs=5, per="command")
    common.add_json_option(parser)
    args = common.parse_args(parser, argv)
    cache = check.default_cache_root()
    env = check.scrubbed_environ(cache / "pycache")
    lockdown = common.lockdown_cmd()
    rows: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory(prefix="lockdown-bench-load-") as tmp:
        work = Path(tmp)
        env["LOCKDOWN_CACHE_DIR"] = str(work / "cache")
        for size in SIZES:
            environment = check.synthetic_environment(cache, rebuild=False, env=env, count=size)
            base = [*lockdown, "check", "--venv", str(environment.venv), "--lock"]
            base += [str(environment.lock), "-q"]
            if size == SIZES[0]:
                cold = [*base, "--cache-dir", str(work / "cold")]
                seconds = []
                for _run in range(args.runs):
                    shutil.rmtree(work / "cold", ignore_errors=True)
                    seconds.append(check.run_measured(cold, cwd=work, env=env).seconds)
                rows[f"check, first run, {size} packages"] = (
                    statistics.median(seconds),
                    check.peak_rss(cold, cwd=work, env=env),
                )
            rows[f"check versions, {size} dists"] = timed(base, work, env, args.runs)
            rows[f"check files, {size} dists"] = timed(
                [*base, "--level", "files"], work, env, args.runs
            )
        # The case: 10,000 installed against a 1,000-package lock (9,000 unexpected).
        few = check.synthetic_environment(cache, rebuild=False, env=env, count=SIZES[0])
        many = check.synthetic_environment(cache, rebuild=False, env=env, count=SIZES[-1])
        mixed = [*lockdown, "check", "--venv", str(many.venv), "--lock", str(few.lock)]
        rows[f"check versions, {SIZES[-1]} dists vs {SIZES[0]}-package lock"] = timed(
            [*mixed, "--format", "json", "--output", str(work / "report.json")],
            work,
            env,
            args.runs,
        )
        lock, public, size_bytes = big_signed_lock(work, env)
        rows[f"verify --key, {size_bytes / 1e6:.1f} MB lock"] = timed(
            [*lockdown, "verify", str(lock), "--key", str(public), "-q"], work, env, args.runs
        )
        with PackageIndex(work / "index") as index:
            project = resolution_project(work, index)
            rows[f"lock, {LOCKED_PACKAGES}-package resolution"] = timed(
                [*lockdown, "lock", "--project", str(project), "-q"], work, env, args.runs
            )
    print(f"\nload: {args.runs} timed run(s) per row after one untimed run")
    print(f"peak memory: {check.memory_method()}")
    print(common.versions_line(common.host_versions()))
    print(f"\n  {'what':48} {'median':>10} {'peak MB':>9}")
    for label, (median, rss) in rows.items():
        print(f"  {label:48} {median * 1000:>8.0f}ms {rss / 1e6:>9.1f}")
    growth: dict[str, float] = {}
    for level in ("versions", "files"):
        small = rows[f"check {level}, {SIZES[0]} dists"][0]
        large = rows[f"check {level}, {SIZES[-1]} dists"][0]
        growth[level] = large / small
        factor = SIZES[-1] // SIZES[0]
        print(f"check {level}: {factor}x the distributions = {large / small:.1f}x the time")
    if args.json is not None:
        payload: dict[str, Any] = {
            "date": common.utc_now(),
            "rows": {k: {"seconds": round(s, 4), "peak_rss": r} for k, (s, r) in rows.items()},
            "growth": growth,
        }
        common.write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
