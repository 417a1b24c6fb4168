"""The life of a production lock, run for real: ``make demo`` (the README's tour).

Each step prints one titled line, then the command as you would type it and
that command's own output. Every exit code is asserted, the expected failures
included (a caught tamper exits 8, a blocked upgrade 3, a stale signature 16),
so the demo fails loudly when lockdown's behaviour changes.

Everything happens in a scratch copy of the example (``--workdir``, a fresh
temporary directory by default): the example's committed files are never
written, and the demo checks that they are byte-identical at the end.

An unapproved upgrade needs a newer release to exist. The demo makes one
deterministic by standing in for "a lock made some time ago": the scratch
copy is first locked with one dependency held back (``--hold``, default
``urllib3<2.3``), then the hold is removed. Locked versions stay, so the lock
keeps the old release until ``lock --upgrade-package`` asks for the newest;
that newest release exists today and every day after.

The index and the example are swappable (``--index-url``, ``--example``), so
the test suite runs this very script offline against its local index.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from base64 import urlsafe_b64encode
from collections.abc import Sequence
from pathlib import Path

import tomlkit
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

EXAMPLE = Path(__file__).resolve().parent / "webapp"
#: Held back for the first lock; any release it excludes is newer, and stays so.
DEFAULT_HOLD = "urllib3<2.3"
#: The passphrase of the demo's throwaway key (made in the scratch directory).
KEY_PASSWORD = "lockdown-demo"  # noqa: S105 - a demo key that never leaves a temp dir


class DemoFailed(Exception):
    """A command exited other than the demo expects, or an expected effect is missing."""


class Demo:
    """Runs lockdown in the scratch project and prints each step as the tour shows it."""

    def __init__(self, project: Path, lockdown: Sequence[str], index_url: str | None) -> None:
        self.project = project
        #: The index the scratch copy is pointed at (None: lockdown's default).
        self.index_url = index_url
        self.lockdown = list(lockdown)
        self.env = {**os.environ, "LOCKDOWN_KEY_PASSWORD": KEY_PASSWORD, "NO_COLOR": "1"}
        self.step_no = 0
        #: When each step started (``time.monotonic()``), for the closing summary.
        self.started: list[float] = []
        #: Everything printed, for ``--transcript``.
        self.transcript: list[str] = []

    def emit(self, text: str, end: str = "\n") -> None:
        """Print ``text`` and keep it for the transcript."""
        print(text, end=end, flush=True)
        self.transcript.append(text + end)

    def step(self, title: str) -> None:
        """One titled line per step."""
        self.step_no += 1
        self.started.append(time.monotonic())
        self.emit(f"\n== {self.step_no}. {title}")

    def timings(self) -> str:
        """How long each step took: ``1: 12.0 s, 2: 3.1 s, ...``."""
        ends = [*self.started[1:], time.monotonic()]
        return ", ".join(
            f"{n}: {end - start:.1f} s"
            for n, (start, end) in enumerate(zip(self.started, ends, strict=True), 1)
        )

    def say(self, line: str) -> None:
        """A line of the demo's own (not a command's output)."""
        self.emit(f"   ({line})")

    def run(self, *args: str, expect: int = 0, shown_env: str = "") -> str:
        """``lockdown ARGS`` in the project: print it and its output; assert its exit code."""
        self.emit(f"$ {shown_env}lockdown {shlex.join(args)}")
        proc = subprocess.run(
            [*self.lockdown, *args],
            cwd=self.project,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        self.emit(proc.stdout, end="")
        if proc.returncode != expect:
            raise DemoFailed(
                f"`lockdown {shlex.join(args)}` exited {proc.returncode}, expected {expect}"
            )
        if expect:
            self.emit(f"   (exit {proc.returncode}, as expected)")
        return proc.stdout


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path → sha256)."""
    return {
        str(p.relative_to(root)): _sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".venv") for part in p.parts)
    }


def _lockdown_command() -> list[str]:
    """The ``lockdown`` next to this interpreter (the repo's .venv), else ``python -m``."""
    script = Path(sys.executable).parent / ("lockdown.exe" if os.name == "nt" else "lockdown")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lockdown"]


def _pyproject(example: Path, index_url: str | None, hold: str | None) -> str:
    """The example's pyproject.toml text, with the index set and one requirement added."""
    text = (example / "pyproject.toml").read_text(encoding="utf-8")
    if index_url is None and hold is None:
        return text
    doc = tomlkit.parse(text)
    if index_url is not None:
        tool = doc.setdefault("tool", tomlkit.table())
        tool.setdefault("lockdown", tomlkit.table())["index-url"] = index_url
    if hold is not None:
        doc["project"]["dependencies"].append(hold)
    return tomlkit.dumps(doc)


def require_signature(pyproject: Path, public_key: Path) -> None:
    """Make ``install`` and ``check`` of the project verify the lock with ``public_key``."""
    doc = tomlkit.parse(pyproject.read_text(encoding="utf-8"))
    trust = tomlkit.table()
    trust["require"] = True
    signer = tomlkit.inline_table()
    signer["public-key"] = str(public_key)
    trust["signers"] = [signer]
    tool = doc.setdefault("tool", tomlkit.table())
    tool.setdefault("lockdown", tomlkit.table())["trust"] = trust
    pyproject.write_text(tomlkit.dumps(doc), encoding="utf-8")


def _dist_info(venv: Path, name: str) -> Path:
    """The installed ``*.dist-info`` of ``name`` in ``venv``."""
    wanted = canonicalize_name(name)
    for candidate in sorted(venv.glob("[Ll]ib/**/site-packages/*.dist-info")):
        if canonicalize_name(candidate.name.split("-", 1)[0]) == wanted:
            return candidate
    raise DemoFailed(f"{name} is not installed in {venv}")


def _record_b64(data: bytes) -> str:
    return "sha256=" + urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def tamper(venv: Path, name: str) -> tuple[Path, str]:
    """Append a line to the installed package's main module: the file, and its RECORD path."""
    dist_info = _dist_info(venv, name)
    rows = list(csv.reader(io.StringIO(dist_info.joinpath("RECORD").read_text(encoding="utf-8"))))
    modules = [
        r[0]
        for r in rows
        if r and r[0].endswith(".py") and ".dist-info/" not in r[0] and "__pycache__" not in r[0]
    ]
    if not modules:
        raise DemoFailed(f"{name} installs no Python module to edit")
    module = min(modules, key=lambda p: (p.count("/"), p != f"{p.split('/')[0]}/__init__.py", p))
    path = dist_info.parent / module
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\nimport os  # added on the host, by nobody's release\n")
    return path, module


def forge_record(venv: Path, name: str, module: str) -> Path:
    """Rewrite the package's RECORD row for ``module`` to match the edited file."""
    record = _dist_info(venv, name) / "RECORD"
    rows = list(csv.reader(io.StringIO(record.read_text(encoding="utf-8"))))
    data = (record.parent.parent / module).read_bytes()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([module, _record_b64(data), str(len(data))] if row[:1] == [module] else row)
    record.write_text(out.getvalue(), encoding="utf-8")
    return record


#: Where the scratch project keeps the demo key (beside it, in the scratch directory).
KEY = Path("..") / "demo.key"
SIGN = ("sign", "--key", str(KEY))
VERIFY = ("verify", "--key", str(KEY.with_suffix(".pub")))
#: How the commands that need the passphrase are shown (it comes from the environment).
PASSPHRASE_SHOWN = "LOCKDOWN_KEY_PASSWORD=… "  # noqa: S105 - a placeholder, not a secret


def lock_and_sign(demo: Demo, example: Path, hold: Requirement) -> None:
    """Steps 1 to 3: an older lock, the lock, ``lock --check``; keygen, sign, verify."""
    demo.step(f"setup: a lock made a while ago ({hold} stands in for its age)")
    demo.run("lock", "--quiet")
    demo.say("the hold is removed: the scratch pyproject.toml is the example's again")
    (demo.project / "pyproject.toml").write_text(
        _pyproject(example, demo.index_url, None), encoding="utf-8"
    )

    demo.step("lock: the platforms its packages install on (any dropped is named), all pinned")
    out = demo.run("lock")
    if f"{canonicalize_name(hold.name)} " not in out:
        raise DemoFailed(f"the lock does not list {hold.name}")
    demo.run("lock", "--check")

    demo.step("sign and verify the lock with a key (made here, in the scratch directory)")
    demo.run("keygen", str(KEY), shown_env=PASSPHRASE_SHOWN)
    demo.run(*SIGN, shown_env=PASSPHRASE_SHOWN)
    demo.run(*VERIFY)
    require_signature(demo.project / "pyproject.toml", KEY.with_suffix(".pub"))
    signer = f'{{ public-key = "{KEY.with_suffix(".pub")}" }}'
    demo.say(
        "the scratch pyproject.toml now says [tool.lockdown.trust] require = true, "
        f"signers = [{signer}]: install and check verify first"
    )


def install_and_tamper(demo: Demo, work: Path, tamper_name: str) -> None:
    """Steps 4 to 7: install and check; an edited file, a forged RECORD; the repair."""
    venv = work / "venv"
    demo.step("install a venv exactly as locked, and check it file by file")
    demo.run("install", "--venv", "../venv")
    demo.run("check", "--venv", "../venv", "--level", "files")

    demo.step(f"someone edits a file of {tamper_name} in the venv: check names it (rpm -V style)")
    path, module = tamper(venv, tamper_name)
    demo.say(f"appended a line to {path.relative_to(work)}")
    out = demo.run("check", "--venv", "../venv", "--level", "files", expect=8)
    if module not in out:
        raise DemoFailed(f"check did not name {module}")

    demo.step("... and forges the RECORD to match: the files level is fooled, artifacts is not")
    record = forge_record(venv, tamper_name, module)
    demo.say(f"rewrote the row for {module} in {record.relative_to(work)}")
    demo.run("check", "--venv", "../venv", "--level", "files")
    out = demo.run("check", "--venv", "../venv", "--level", "artifacts", expect=8)
    if module not in out:
        raise DemoFailed(f"check --level artifacts did not name {module}")

    demo.step("repair: install reinstalls what the artifacts check flags, from verified wheels")
    demo.run("install", "--venv", "../venv", "--level", "artifacts")
    demo.run("check", "--venv", "../venv", "--level", "artifacts")


def upgrade_gate(demo: Demo, work: Path, package: str) -> None:
    """Steps 8 to 10: a blocked upgrade, its approval, the PR's markdown; a stale signature."""
    demo.step(f"an upgrade nobody approved: lock --upgrade-package {package} is blocked")
    lock = demo.project / "pylock.toml"
    before = _sha256(lock)
    shutil.copyfile(lock, work / "pylock.before.toml")
    out = demo.run("lock", "--upgrade-package", package, expect=3)
    if _sha256(lock) != before:
        raise DemoFailed("a blocked lock changed pylock.toml")
    demo.say(f"pylock.toml is byte-identical: sha256 {before[:16]}…")
    hint = re.search(rf"lockdown approve ({re.escape(package)}==\S+)", out)
    if hint is None:
        raise DemoFailed("the blocked lock did not say what to approve")

    demo.step("approve it with a reason: the same lock command now succeeds")
    demo.run("approve", hint.group(1), "--reason", "security fix, reviewed", "--by", "alice")
    demo.run("lock", "--upgrade-package", package)
    demo.run("diff", "../pylock.before.toml", "pylock.toml", "--format", "markdown")

    demo.step("the signature covers the old lock: hosts refuse the new one until it is re-signed")
    demo.run(*VERIFY, expect=16)
    demo.run("install", "--venv", "../venv", expect=16)
    demo.run(*SIGN, shown_env=PASSPHRASE_SHOWN)


def cron(demo: Demo, work: Path) -> None:
    """Steps 11 and 12: the host's textfile for Prometheus; the roll-out."""
    demo.step("cron on the host: the venv is behind the new lock, in Prometheus' textfile format")
    prom = "../lockdown.prom"
    demo.run("check", "--venv", "../venv", "--format", "prometheus", "-o", prom, expect=4)
    demo.emit(f"$ grep -v '^#' {prom}    # the samples (the file has HELP and TYPE lines too)")
    text = (work / "lockdown.prom").read_text(encoding="utf-8")
    demo.emit("".join(line for line in text.splitlines(True) if not line.startswith("#")), end="")

    demo.step("roll out the approved lock: install, then the host is in sync again")
    demo.run("install", "--venv", "../venv")
    demo.run("check", "--venv", "../venv", "--level", "files")


def walk(demo: Demo, *, work: Path, example: Path, hold: Requirement, tamper_name: str) -> None:
    """The tour: lock, sign, install, catch a tamper, gate an upgrade, report for cron."""
    lock_and_sign(demo, example, hold)
    install_and_tamper(demo, work, tamper_name)
    upgrade_gate(demo, work, canonicalize_name(hold.name))
    cron(demo, work)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; 0 when every step did what it should, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", type=Path, default=EXAMPLE, help="the project to walk")
    parser.add_argument("--index-url", help="the index (default: lockdown's, i.e. uv's and pip's)")
    parser.add_argument(
        "--hold", default=DEFAULT_HOLD, help=f"the first lock's hold-back (default {DEFAULT_HOLD})"
    )
    parser.add_argument("--tamper", help="the installed package edited (default: the held one)")
    parser.add_argument("--workdir", type=Path, help="an empty scratch directory (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--transcript", type=Path, help="also write the session to this file")
    args = parser.parse_args(argv)
    example = args.example.resolve()
    hold = Requirement(args.hold)
    if args.workdir is not None and args.workdir.exists() and any(args.workdir.iterdir()):
        parser.error(f"--workdir {args.workdir} is not empty")
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="lockdown-demo-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    committed = _tree_digest(example)
    started = time.monotonic()
    try:
        project = work / example.name
        shutil.copytree(example, project, ignore=shutil.ignore_patterns("pylock*.toml", ".venv*"))
        (project / "pyproject.toml").write_text(
            _pyproject(example, args.index_url, str(hold)), encoding="utf-8"
        )
        demo = Demo(project, _lockdown_command(), args.index_url)
        demo.emit(f"lockdown demo: a scratch copy of {example.name} in {work}")
        walk(demo, work=work, example=example, hold=hold, tamper_name=args.tamper or hold.name)
        if _tree_digest(example) != committed:
            raise DemoFailed(f"the demo changed files in {example}")
    except DemoFailed as exc:
        print(f"\ndemo FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    demo.emit(f"\nsteps: {demo.timings()}")
    shown = os.path.relpath(example) if example.is_relative_to(Path.cwd()) else str(example)
    demo.emit(f"demo done in {time.monotonic() - started:.0f} s; {shown} is as committed.")
    if args.transcript is not None:
        # The scratch directory's name is random: shown as $SCRATCH, so runs compare.
        text = "".join(demo.transcript).replace(str(work), "$SCRATCH")
        args.transcript.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
