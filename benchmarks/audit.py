"""Time ``lockdown audit`` of a 150-package lock against a whole advisory database, and pip-audit.

The database is the real one in ``../shared/fixtures/advisories`` (the PyPA
advisory database and two OpenSSF malicious-package entries; ``--db`` for
another). The lock is a valid PEP 751 ``pylock.toml`` of 150 packages named
in that database, every third one at a version an advisory lists; the same
pins as ``name==version`` lines are pip-audit's requirements file.

Rows (each a subprocess, the median of ``--runs``):

- ``lockdown audit --db, cold``: a fresh cache directory each run, so the
  whole database is read, parsed and indexed;
- ``lockdown audit --db, warm``: the index cached by the database's digest
  (the target: at most 0.3 s);
- ``lockdown audit --api-url, cold / warm``: the OSV API, as a local server
  (``tests/support/osvapi.py``) on 127.0.0.1 with the same advisories — the
  real API is not reachable from these machines;
- ``pip-audit -s osv``: pip-audit's OSV service pointed at the same local
  server (``--osv-url``), ``--no-deps --disable-pip`` on the requirements
  file. pip-audit has no offline database, and its default service (the
  index's JSON API) is not served here: this is the one way it can run here.

The agreement line compares what lockdown (offline, ranges evaluated) and
pip-audit (the server answers by the advisories' explicit version lists)
found.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:  # mypy resolves benchmarks/ from the repository root
    from benchmarks import common
else:  # run as a script: benchmarks/ itself is on sys.path
    import common

Series = common.Series
ToolFailed = common.ToolFailed
add_json_option = common.add_json_option
argument_parser = common.argument_parser
lockdown_cmd = common.lockdown_cmd
parse_args = common.parse_args
progress = common.progress
run_timed = common.run_timed
scrubbed_environ = common.scrubbed_environ
utc_now = common.utc_now
write_json = common.write_json

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = ROOT.parent / "shared" / "fixtures" / "advisories"
TARGET_SECONDS = 0.3


def pins(db: Path, count: int) -> list[tuple[str, str]]:
    """``count`` (name, version) pairs spread over the database's packages, every third
    at a version its first advisory lists, the rest at a version no release has."""
    vulns = db / "pypa" / "vulns"
    names = sorted(d.name for d in vulns.iterdir() if d.is_dir())
    step = max(1, len(names) // count)
    chosen = names[::step][:count]
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    out = []
    for index, name in enumerate(chosen):
        version = "9999.0"
        if index % 3 == 0:
            first = sorted((vulns / name).glob("*.yaml"))[0]
            doc = yaml.load(first.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
            listed = [
                v for a in doc.get("affected", []) for v in a.get("versions", []) if _pep440(v)
            ]
            version = listed[-1] if listed else version
        out.append((name, version))
    return out


def _pep440(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def write_lock(path: Path, pinned: Sequence[tuple[str, str]]) -> None:
    """A PEP 751 lock of ``pinned``, one wheel each (the URLs are never fetched)."""
    lines = ['lock-version = "1.0"', 'created-by = "benchmarks/audit.py"', ""]
    for name, version in pinned:
        digest = hashlib.sha256(f"{name}=={version}".encode()).hexdigest()
        stem = name.replace("-", "_")
        lines += [
            "[[packages]]",
            f'name = "{name}"',
            f'version = "{version}"',
            "",
            "[[packages.wheels]]",
            f'url = "https://files.invalid/{stem}-{version}-py3-none-any.whl"',
            f'hashes = {{sha256 = "{digest}"}}',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def pip_audit_exe(given: str | None) -> str | None:
    """``--pip-audit``, else pip-audit beside this interpreter, else on PATH."""
    if given:
        return given
    beside = Path(sys.executable).with_name("pip-audit")
    return str(beside) if beside.is_file() else shutil.which("pip-audit")


def timed(
    label: str,
    cmd: list[str],
    *,
    runs: int,
    cwd: Path,
    env: dict[str, str],
    before: Any = None,
) -> Series:
    """One untimed warm-up, then ``runs`` timed runs (``before`` runs untimed before each)."""
    series = Series(label)
    try:
        if before is not None:
            before()
        series.warmup = run_timed(cmd, cwd=cwd, env=env, ok=(0, 1))
        for _ in range(runs):
            if before is not None:
                before()
            series.times.append(run_timed(cmd, cwd=cwd, env=env, ok=(0, 1)))
    except ToolFailed as exc:
        series.error = str(exc)
    progress(f"  {label}: {series.median or 0:.3f}s" if not series.error else f"  {label}: FAILED")
    return series


def lockdown_found(cmd: list[str], cwd: Path, env: dict[str, str]) -> set[tuple[str, str]]:
    proc = subprocess.run(
        [*cmd, "--format", "json"], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    doc = json.loads(proc.stdout)
    return {(f["package"], f["id"]) for f in doc["findings"]}


def pip_audit_found(report: Path) -> set[tuple[str, str]]:
    doc = json.loads(report.read_text(encoding="utf-8"))
    return {
        (dep["name"].lower(), vuln["id"])
        for dep in doc.get("dependencies", [])
        for vuln in dep.get("vulns", [])
    }


def measure(args: argparse.Namespace, work: Path) -> tuple[list[Series], int, str]:
    """Every row's runs in the scratch directory ``work``; the lock's size; the agreement."""
    from tests.support.osvapi import OsvApi  # noqa: PLC0415 - the repository root, added in main

    env = scrubbed_environ()
    pinned = pins(args.db, args.packages)
    lock = work / "pylock.toml"
    write_lock(lock, pinned)
    requirements = work / "requirements.txt"
    requirements.write_text("".join(f"{n}=={v}\n" for n, v in pinned), encoding="utf-8")
    progress(f"audit of {len(pinned)} packages against {args.db}")

    def fresh(path: Path) -> Any:
        return lambda: shutil.rmtree(path, ignore_errors=True)

    base = [*lockdown_cmd(), "audit", "--lock", str(lock), "-q", "--project", str(work)]
    warm = [*base, "--db", str(args.db), "--cache-dir", str(work / "warm-cache")]
    cold = [*base, "--db", str(args.db), "--cache-dir", str(work / "cold-cache")]
    rows = [
        timed(
            "lockdown audit --db, cold",
            cold,
            runs=max(1, args.runs // 2),
            cwd=work,
            env=env,
            before=fresh(work / "cold-cache"),
        ),
        timed("lockdown audit --db, warm", warm, runs=args.runs, cwd=work, env=env),
    ]
    agreement = "pip-audit not installed (pip install pip-audit): no comparison"
    with OsvApi(args.db).serve() as url:
        api = [*base, "--api-url", url, "--cache-dir"]
        rows.append(
            timed(
                "lockdown audit --api-url, cold",
                [*api, str(work / "api-cold")],
                runs=args.runs,
                cwd=work,
                env=env,
                before=fresh(work / "api-cold"),
            )
        )
        rows.append(
            timed(
                "lockdown audit --api-url, warm",
                [*api, str(work / "api-warm")],
                runs=args.runs,
                cwd=work,
                env=env,
            )
        )
        exe = pip_audit_exe(args.pip_audit)
        if exe is not None:
            report = work / "pip-audit.json"
            pip_audit = [exe, "-r", str(requirements), "--no-deps", "--disable-pip"]
            pip_audit += ["-s", "osv", "--osv-url", f"{url}/v1/query"]
            pip_audit += ["--progress-spinner", "off", "-f", "json", "-o", str(report)]
            rows.append(
                timed(
                    "pip-audit -s osv (same server)", pip_audit, runs=args.runs, cwd=work, env=env
                )
            )
            agreement = "pip-audit wrote no report: no comparison"
            if report.is_file():
                ours = lockdown_found(warm, work, env)
                theirs = pip_audit_found(report)
                agreement = (
                    f"findings: {len(ours & theirs)} both, {len(ours - theirs)} only lockdown "
                    f"(ranges evaluated offline), {len(theirs - ours)} only pip-audit"
                )
    return rows, len(pinned), agreement


def main(argv: Sequence[str] | None = None) -> int:
    parser = argument_parser(__doc__.splitlines()[0], runs=7, per="row")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="the advisory database")
    parser.add_argument("--packages", type=int, default=150, help="packages in the lock")
    parser.add_argument("--pip-audit", help="the pip-audit executable (default: found)")
    add_json_option(parser)
    args = parse_args(parser, argv)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="lockdown-bench-audit-") as scratch:
        rows, packages, agreement = measure(args, Path(scratch))
    reference = next((r for r in rows if r.label.startswith("pip-audit") and r.median), None)
    print(f"lockdown audit: {packages}-package lock, database {args.db}")
    print(f"{'row':<34} {'median':>8} {'min':>8} {'max':>8} {'vs pip-audit':>13}")
    for row in rows:
        if row.error or row.median is None:
            print(f"{row.label:<34} failed: {row.error}")
            continue
        ratio = f"{row.median / reference.median:.2f}x" if reference and reference.median else "-"
        print(
            f"{row.label:<34} {row.median:>7.3f}s {min(row.times):>7.3f}s "
            f"{max(row.times):>7.3f}s {ratio:>13}"
        )
    warm = rows[1].median
    ok = warm is not None and warm <= TARGET_SECONDS
    print(f"target: warm --db audit <= {TARGET_SECONDS}s: {'met' if ok else 'NOT met'}")
    print(agreement)
    if args.json:
        write_json(
            args.json,
            {
                "date": utc_now(),
                "packages": packages,
                "database": str(args.db),
                "rows": {r.label: r.timing_json() | {"error": r.error} for r in rows},
                "target_met": ok,
                "agreement": agreement,
            },
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
