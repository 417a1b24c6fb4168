"""Time lockdown's conda commands on a local channel, and ``check`` against a bare loop.

The channel is built fresh in a temporary directory with the test suite's own
fixture (``tests/support/condachannel.py``): ``--packages`` real ``.tar.bz2``
packages (every fifth one a ``.conda``), each with ``--files`` small files
and one prefix-placeholder file, chained so that ``pkg000`` depends on all the
others through ``pkgNNN -> pkgNNN+1``; indexed with rattler. Then, as whole
processes, in one run:

* ``lockdown lock --conda`` for this platform (``conda-lock.yml`` removed
  before each run, so every run solves and writes);
* ``lockdown install --prefix`` into a new prefix each run (every archive
  downloaded from the ``file://`` channel into lockdown's cache once, then
  re-hashed, unpacked and linked by rattler each run);
* ``lockdown check --prefix`` at the versions level, against a bare
  ``python -c`` loop that ``json.load``s every ``conda-meta/*.json`` (the
  least any conda-meta reader does);
* ``lockdown check --prefix --level files``, against a bare loop that also
  sha256-hashes every file the records list.

Each command runs once untimed, then ``--runs`` rounds with the commands
interleaved. Before timing, both checks must report the prefix in sync, and
the bare loops must read as many records and hash as many files.

Usage: ``.venv/bin/python benchmarks/conda.py [--runs N] [--packages N] [--files N]
[--json FILE]``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for the test suite's channel fixture

from tests.support.condachannel import CondaChannel  # noqa: E402

if TYPE_CHECKING:  # mypy resolves benchmarks/ from the repository root
    from benchmarks import common
else:  # run as a script: benchmarks/ itself is on sys.path
    import common

LOOP_VERSIONS = """\
import glob, json, os, sys
n = 0
for path in glob.glob(os.path.join(sys.argv[1], "conda-meta", "*.json")):
    with open(path, "rb") as handle:
        record = json.load(handle)
    n += bool(record["name"] and record["version"])
print(n)
"""

LOOP_FILES = """\
import glob, hashlib, json, os, sys
records = files = 0
for path in glob.glob(os.path.join(sys.argv[1], "conda-meta", "*.json")):
    with open(path, "rb") as handle:
        record = json.load(handle)
    records += 1
    for entry in record["paths_data"]["paths"]:
        if entry.get("path_type", "hardlink") != "hardlink" or entry["_path"].endswith(".pyc"):
            continue
        with open(os.path.join(sys.argv[1], entry["_path"]), "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        files += digest == (entry.get("sha256_in_prefix") or entry["sha256"])
print(records, files)
"""


def build_channel(root: Path, packages: int, files: int) -> CondaChannel:
    """The benchmark's channel: a dependency chain of ``packages`` packages."""
    channel = CondaChannel(root)
    for index in range(packages):
        name = f"pkg{index:03d}"
        depends = [f"pkg{index + 1:03d}"] if index + 1 < packages else []
        payload = {
            f"share/{name}/file{n:02d}.txt": f"{name} {n}\n".encode() * 64 for n in range(files)
        }
        channel.add(
            name,
            "1.0",
            depends=depends,
            files=payload,
            fmt="conda" if index % 5 == 4 else "tar.bz2",
        )
    channel.index()
    return channel


def run(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise common.ToolFailed(
            f"{' '.join(cmd[:3])}: exit {proc.returncode}: {proc.stderr[-300:]}"
        )
    return proc.stdout


def main(argv: Sequence[str] | None = None) -> int:
    parser = common.argument_parser("Time lockdown's conda commands.", runs=5, per="command")
    parser.add_argument("--packages", type=int, default=60, help="packages in the channel")
    parser.add_argument("--files", type=int, default=8, help="files per package")
    common.add_json_option(parser)
    args = common.parse_args(parser, argv)
    lockdown = common.lockdown_cmd()
    with tempfile.TemporaryDirectory(prefix="lockdown-bench-conda-") as tmp:
        work = Path(tmp)
        env = common.scrubbed_environ(work / "pycache")
        env["LOCKDOWN_CACHE_DIR"] = str(work / "cache")
        common.progress(f"building a channel of {args.packages} packages")
        channel = build_channel(work / "channel", args.packages, args.files)
        project = work / "project"
        project.mkdir()
        (project / "environment.yml").write_text(
            f"channels: [{channel.file_url}]\ndependencies: [pkg000]\nplatforms: [{_platform()}]\n",
            encoding="utf-8",
        )
        prefix = work / "prefix"
        lock_cmd = [*lockdown, "lock", "--project", str(project), "--conda", "-q"]
        install_cmd = [
            *lockdown,
            "install",
            "--project",
            str(project),
            "--prefix",
            str(prefix),
            "-q",
        ]
        check_cmd = [*lockdown, "check", "--project", str(project), "--prefix", str(prefix), "-q"]
        files_cmd = [*check_cmd, "--level", "files"]
        versions_loop = [sys.executable, "-c", LOOP_VERSIONS, str(prefix)]
        files_loop = [sys.executable, "-c", LOOP_FILES, str(prefix)]

        def fresh_lock() -> None:
            (project / "conda-lock.yml").unlink(missing_ok=True)

        def fresh_prefix() -> None:
            shutil.rmtree(prefix, ignore_errors=True)

        # Untimed: lock, install, and the sanity checks every row relies on.
        run(lock_cmd, project, env)
        run(install_cmd, project, env)
        run(check_cmd, project, env)
        run(files_cmd, project, env)
        counted = int(run(versions_loop, project, env))
        records, hashed = map(int, run(files_loop, project, env).split())
        if counted != args.packages or records != args.packages or hashed < args.packages:
            raise common.ToolFailed(
                f"the bare loops saw {counted}/{records} records, {hashed} files"
            )
        rows = {
            "lockdown lock --conda": (lock_cmd, fresh_lock),
            "lockdown install --prefix (new prefix)": (install_cmd, fresh_prefix),
            "lockdown check --prefix (versions)": (check_cmd, None),
            "  bare loop: json.load every conda-meta record": (versions_loop, None),
            "lockdown check --prefix --level files": (files_cmd, None),
            "  bare loop: records and sha256 of every file": (files_loop, None),
        }
        series = {label: common.Series(label) for label in rows}
        for _round in range(args.runs):
            for label, (cmd, before) in rows.items():
                if before is not None:
                    before()
                series[label].times.append(common.run_timed(cmd, cwd=project, env=env))
            if not prefix.exists():
                run(install_cmd, project, env)
    print(
        f"\nconda: {args.packages} packages x {args.files + 2} files, one platform; "
        f"{args.runs} timed run(s) per command, interleaved"
    )
    print(common.versions_line(common.host_versions()))
    print(f"\n  {'command':50} {'median':>9} {'min':>9} {'max':>9}")
    for label, s in series.items():
        print(f"  {label:50} {_ms(s.median):>9} {_ms(min(s.times)):>9} {_ms(max(s.times)):>9}")
    for check, loop in (
        ("lockdown check --prefix (versions)", "  bare loop: json.load every conda-meta record"),
        ("lockdown check --prefix --level files", "  bare loop: records and sha256 of every file"),
    ):
        ratio = (series[check].median or 0) / (series[loop].median or 1)
        print(f"{check.strip()} / {loop.strip()} = {ratio:.2f}x")
    if args.json is not None:
        common.write_json(
            args.json,
            {
                "date": common.utc_now(),
                "packages": args.packages,
                "files": args.files,
                "rows": {label: s.timing_json() for label, s in series.items()},
            },
        )
    return 0


def _platform() -> str:
    import rattler  # noqa: PLC0415 - the conda extra; only this benchmark needs it

    return str(rattler.Subdir.current())


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}ms"


if __name__ == "__main__":
    sys.exit(main())
