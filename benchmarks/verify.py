"""Time lockdown's keyless verification against the stock sigstore CLI, as whole processes.

Both verify the same real production bundle offline (``bundle_v3_github.whl``
and its ``.sigstore`` bundle from ``../shared/fixtures/sigstore/``, signed by
GitHub Actions for trailofbits/rfc8785.py), with the same identity and issuer:

* the reference: ``python -m sigstore verify identity --offline --bundle B
  --cert-identity I --cert-oidc-issuer U FILE``;
* ``lockdown verify FILE --bundle B --identity I --issuer U`` when this
  checkout's ``lockdown verify`` exists (``lockdown verify --help`` exits 0),
  else ``python -c`` calling :func:`lockdown.sign.keyless_verify.verify_keyless`;
* for the breakdown: ``verify_keyless`` alone through ``python -c``, and
  ``python -c pass`` (the interpreter's own start-up, the floor of every row).

Each command runs once untimed (warming the OS file cache and sigstore's TUF
cache directory), then ``--runs`` timed rounds with the commands interleaved
within each round. Before timing, every command must accept the real pair and
refuse a copy with one byte changed, so no row is fast because it skipped work.
Prints median, min and max wall-clock seconds and each median as a ratio of the
reference's, then lockdown's ratio against its target (<= 1.2x).

Usage: ``.venv/bin/python benchmarks/verify.py [--runs N] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # mypy resolves benchmarks/ from the repository root
    from benchmarks import common
else:  # run as a script: benchmarks/ itself is on sys.path
    import common

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FIXTURES = REPO.parent / "shared" / "fixtures" / "sigstore"
ARTIFACT = "bundle_v3_github.whl"
BUNDLE = "bundle_v3_github.whl.sigstore"
IDENTITY = (
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
)
ISSUER = "https://token.actions.githubusercontent.com"

#: lockdown's median may be at most this many times the stock sigstore CLI's.
TARGET_RATIO = 1.2
RUN_TIMEOUT = 120.0
REFERENCE = "sigstore verify identity --offline"

#: ``python -c`` program: lockdown's verification function, as ``lockdown verify`` calls it.
VERIFY_FUNCTION = """\
import sys
from pathlib import Path
from lockdown.config.trust import IdentityRule, SigstoreInstance
from lockdown.sign.keyless_verify import verify_keyless
file, bundle, identity, issuer = sys.argv[1:]
verify_keyless(
    Path(file).read_bytes(),
    Path(bundle).read_bytes(),
    [IdentityRule(identity=identity, issuer=issuer)],
    SigstoreInstance(),
    where=bundle,
)
"""

ToolFailed = common.ToolFailed


@dataclass
class Row:
    """One timed command; ``{file}`` and ``{bundle}`` in ``argv`` are filled in per run."""

    label: str
    argv: list[str]
    #: Whether it verifies (and must therefore refuse a tampered file).
    verifies: bool = True
    times: list[float] = field(default_factory=list)

    def command(self, file: Path, bundle: Path) -> list[str]:
        return [arg.format(file=file, bundle=bundle) for arg in self.argv]

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def run(cmd: Sequence[str], *, cwd: Path) -> tuple[int, float, str]:
    """Run ``cmd``; return its exit code, wall-clock seconds and last output line."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise ToolFailed(f"timed out after {RUN_TIMEOUT:.0f}s: {' '.join(cmd[:4])} ...") from None
    except OSError as exc:
        raise ToolFailed(f"cannot run {cmd[0]}: {exc.strerror}") from None
    elapsed = time.perf_counter() - start
    lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
    return proc.returncode, elapsed, (lines[-1] if lines else "")


def lockdown_cli() -> Path | None:
    """This checkout's ``lockdown`` script when it has a ``verify`` command, else ``None``."""
    script = Path(sys.executable).with_name("lockdown")
    if not script.is_file():
        return None
    code, _, _ = run([str(script), "verify", "--help"], cwd=REPO)
    return script if code == 0 else None


def build_rows() -> list[Row]:
    python = sys.executable
    rows = [
        Row(
            REFERENCE,
            [
                python,
                "-m",
                "sigstore",
                "verify",
                "identity",
                "--offline",
                "--bundle",
                "{bundle}",
                "--cert-identity",
                IDENTITY,
                "--cert-oidc-issuer",
                ISSUER,
                "{file}",
            ],
        )
    ]
    function = [python, "-c", VERIFY_FUNCTION, "{file}", "{bundle}", IDENTITY, ISSUER]
    cli = lockdown_cli()
    if cli is not None:
        rows.append(
            Row(
                "lockdown verify",
                [
                    str(cli),
                    "verify",
                    "{file}",
                    "--bundle",
                    "{bundle}",
                    "--identity",
                    IDENTITY,
                    "--issuer",
                    ISSUER,
                ],
            )
        )
        rows.append(Row("  verify_keyless alone (python -c)", function))
    else:
        rows.append(Row("lockdown verify_keyless (python -c; no CLI yet)", function))
    rows.append(Row("  python -c pass (interpreter start)", [python, "-c", "pass"], verifies=False))
    return rows


def check(rows: Sequence[Row], work: Path) -> None:
    """Every verifying row accepts the real pair and refuses a tampered copy."""
    file, bundle = work / ARTIFACT, work / BUNDLE
    tampered = work / "tampered" / ARTIFACT
    tampered.parent.mkdir()
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    for row in rows:
        code, _, last = run(row.command(file, bundle), cwd=work)
        if code != 0:
            raise ToolFailed(f"{row.label}: exit {code} on the real pair: {last[:300]}")
        if not row.verifies:
            continue
        code, _, last = run(row.command(tampered, bundle), cwd=work)
        if code == 0:
            raise ToolFailed(f"{row.label}: accepted a tampered file")
        print(f"  {row.label.strip()}: refuses a tampered copy (exit {code})", file=sys.stderr)


def benchmark(rows: Sequence[Row], work: Path, *, runs: int) -> None:
    """One untimed warm-up per command, then ``runs`` interleaved timed rounds."""
    file, bundle = work / ARTIFACT, work / BUNDLE
    for row in rows:
        run(row.command(file, bundle), cwd=work)
    for _ in range(runs):
        for row in rows:
            code, elapsed, last = run(row.command(file, bundle), cwd=work)
            if code != 0:
                raise ToolFailed(f"{row.label}: exit {code}: {last[:300]}")
            row.times.append(elapsed)


def render(rows: Sequence[Row]) -> str:
    reference = rows[0].median
    width = max(len(row.label) for row in rows)
    lines = [
        f"  {'command':<{width}}  {'n':>3}  {'median':>8}  {'min':>8}  {'max':>8}  "
        f"{'vs sigstore':>11}"
    ]
    for row in rows:
        lines.append(
            f"  {row.label:<{width}}  {len(row.times):>3}  {row.median * 1000:>6.0f}ms  "
            f"{min(row.times) * 1000:>6.0f}ms  {max(row.times) * 1000:>6.0f}ms  "
            f"{row.median / reference:>10.2f}x"
        )
    return "\n".join(lines)


def verdict(rows: Sequence[Row]) -> str:
    ratio = rows[1].median / rows[0].median
    mark = "" if ratio <= TARGET_RATIO else "  OVER TARGET"
    return (
        f"keyless verify: {rows[1].label.strip()} / {REFERENCE} = {ratio:.2f}x "
        f"(target <= {TARGET_RATIO}x){mark}"
    )


KEY_TARGET_SECONDS = 0.150


def synthetic_lock(packages: int = 30, wheels: int = 4) -> str:
    """A valid PEP 751 lock of ``packages`` packages with ``wheels`` wheels each (https URLs)."""
    lines = ['lock-version = "1.0"', 'created-by = "benchmark"', ""]
    for index in range(packages):
        name = f"pkg{index}"
        lines += ["[[packages]]", f'name = "{name}"', 'version = "1.0"']
        for wheel in range(wheels):
            digest = f"{index:032x}{wheel:032x}"
            lines += [
                "[[packages.wheels]]",
                f'url = "https://files.example/{name}-1.0-py3-none-any{wheel}.whl"',
                "size = 1000",
                f'hashes = {{ sha256 = "{digest}" }}',
            ]
        lines.append("")
    return "\n".join(lines)


def key_based(work: Path, runs: int) -> list[Row]:
    """Time ``lockdown verify --key`` on a signed 30-package lock and on a signed wheel."""
    cli = lockdown_cli()
    if cli is None:
        raise ToolFailed("no lockdown verify command to time")
    # A throwaway key for this run only; lockdown reads its passphrase from here.
    os.environ["LOCKDOWN_KEY_PASSWORD"] = "benchmark-only"  # noqa: S105
    keys = work / "keys"
    keys.mkdir()
    code, _, last = run([str(cli), "keygen", str(keys / "bench.key"), "-q"], cwd=work)
    if code != 0:
        raise ToolFailed(f"keygen: {last}")
    (work / "pylock.toml").write_text(synthetic_lock(), encoding="utf-8")
    for target in ("pylock.toml", ARTIFACT):
        code, _, last = run(
            [str(cli), "sign", target, "--key", str(keys / "bench.key"), "-q"], cwd=work
        )
        if code != 0:
            raise ToolFailed(f"sign {target}: {last}")
    pub = str(keys / "bench.pub")
    rows = [
        Row(
            "lockdown verify --key (30-package lock)",
            [str(cli), "verify", "pylock.toml", "--key", pub, "-q"],
        ),
        Row("lockdown verify --key (a wheel)", [str(cli), "verify", ARTIFACT, "--key", pub, "-q"]),
        Row("  python -c pass (interpreter start)", [sys.executable, "-c", "pass"], verifies=False),
    ]
    for row in rows:
        run(row.command(work, work), cwd=work)
    for _ in range(runs):
        for row in rows:
            code, elapsed, last = run(row.command(work, work), cwd=work)
            if code != 0:
                raise ToolFailed(f"{row.label}: exit {code}: {last[:300]}")
            row.times.append(elapsed)
    return rows


def versions() -> dict[str, str]:
    return {
        "lockdown": dist_version("lockdown"),
        "sigstore": dist_version("sigstore"),
        **common.host_versions(),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = common.argument_parser(
        "Time lockdown's keyless verify against sigstore verify identity --offline.",
        runs=15,
        per="command",
    )
    common.add_json_option(parser)
    return common.parse_args(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 if a command failed or did not really verify."""
    args = parse_args(argv)
    if not (FIXTURES / BUNDLE).is_file():
        print(f"fixtures not found: {FIXTURES}", file=sys.stderr)
        return 1
    rows = build_rows()
    with tempfile.TemporaryDirectory(prefix="lockdown-bench-verify-") as tmp:
        # Copies in an empty directory: no pyproject.toml around to configure lockdown.
        work = Path(tmp)
        for name in (ARTIFACT, BUNDLE):
            shutil.copyfile(FIXTURES / name, work / name)
        try:
            check(rows, work)
            benchmark(rows, work, runs=args.runs)
            key_rows = key_based(work, args.runs)
        except ToolFailed as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1

    print()
    print(
        f"keyless verify, offline, production bundle ({ARTIFACT}); {args.runs} timed run(s) "
        "per command after one untimed warm-up, interleaved"
    )
    print(common.versions_line(versions()))
    print()
    print(render(rows))
    print()
    print(verdict(rows))
    print()
    print("key-based verify (ECDSA P-256 bundle), whole process:")
    for row in key_rows:
        median, fastest = row.median * 1000, min(row.times) * 1000
        print(f"  {row.label:<42} median {median:6.0f}ms  min {fastest:6.0f}ms")
    key = key_rows[0].median
    mark = "" if key <= KEY_TARGET_SECONDS else "  OVER TARGET"
    target = KEY_TARGET_SECONDS * 1000
    print(f"key-based verify of a lock: {key * 1000:.0f}ms (target < {target:.0f}ms){mark}")

    if args.json is not None:
        payload: dict[str, Any] = {
            "date": common.utc_now(),
            "runs": args.runs,
            "target_ratio": TARGET_RATIO,
            "versions": versions(),
            "reference": REFERENCE,
            "lockdown_over_sigstore": rows[1].median / rows[0].median,
            "commands": {
                row.label.strip(): {
                    "argv": row.argv,
                    "times": [round(t, 4) for t in row.times],
                    "median": round(row.median, 4),
                    "ratio": round(row.median / rows[0].median, 3),
                }
                for row in rows
            },
        }
        common.write_json(args.json, payload)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
