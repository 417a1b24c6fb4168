"""Time ``lockdown export --format cyclonedx|spdx`` against ``uv export --format cyclonedx1.5``.

The same project (``examples/webapp``), in one run. Set-up, untimed:

* a temp copy of the example is locked with ``lockdown lock`` (the default
  index, a fresh artifact cache: every pinned file is verified into it, and
  the SBOM's licenses are read from there);
* the scratch project lockdown's uv backend writes for it is locked with
  ``uv lock`` (uv exports an SBOM from its own ``uv.lock``).

Timed, as whole processes, the commands interleaved within each round:

* the reference: ``uv export --format cyclonedx1.5 --frozen --all-extras
  --all-groups -o F`` (every package, like lockdown's whole-lock SBOM);
* ``lockdown export --format cyclonedx --lock pylock.toml -o F``;
* ``lockdown export --format spdx --lock pylock.toml -o F``.

"cold" is each command's first run with an empty bytecode cache
(``PYTHONPYCACHEPREFIX`` pointed at a fresh directory: every module compiled
afresh, as on a fresh install); "warm" is the median of ``--runs`` runs after
it. Then one line per document says what it holds (components, with a
license, with file digests, dependency edges), so no row is fast because it
says less.

Usage: ``.venv/bin/python benchmarks/sbom.py [--runs N] [--json FILE]`` (needs
the ``sbom`` extra and the real default index for the set-up).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uv import find_uv_bin

from lockdown import __version__ as lockdown_version
from lockdown.config import load_config
from lockdown.project import read_inputs
from lockdown.resolve import default_index_url
from lockdown.resolve.interface import ResolveRequest
from lockdown.resolve.uv import interpreter_args, scratch_pyproject

if TYPE_CHECKING:  # mypy resolves benchmarks/ from the repository root
    from benchmarks import common
else:  # run as a script: benchmarks/ itself is on sys.path
    import common

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "webapp"
UV_ROW = "uv export --format cyclonedx1.5"


def _contents(path: Path) -> dict[str, int]:
    """What one SBOM holds: components, with a license, with file digests, dependency edges."""
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if "components" in doc:
        components = doc["components"]
        return {
            "components": len(components),
            "licensed": sum(1 for c in components if c.get("licenses")),
            "with digests": sum(
                1
                for c in components
                if c.get("hashes") or any(r.get("hashes") for r in c.get("externalReferences", []))
            ),
            "dependency edges": sum(
                len(d.get("dependsOn", [])) for d in doc.get("dependencies", [])
            ),
        }
    packages = [p for p in doc["packages"] if p.get("externalRefs")]
    return {
        "components": len(packages),
        "licensed": sum(1 for p in packages if p.get("licenseDeclared") != "NOASSERTION"),
        "with digests": len(packages),
        "dependency edges": sum(
            1 for r in doc["relationships"] if r["relationshipType"] == "DEPENDS_ON"
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = common.argument_parser(__doc__.splitlines()[0], runs=7, per="command")
    common.add_json_option(parser)
    args = common.parse_args(parser, argv)
    with tempfile.TemporaryDirectory(prefix="lockdown-bench-sbom-") as tmp:
        work = Path(tmp)
        env = common.scrubbed_environ()
        env["LOCKDOWN_CACHE_DIR"] = str(work / "artifact-cache")
        project = work / "webapp"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".venv*", "pylock.toml"))
        common.progress("set-up: lockdown lock (every file verified into a fresh cache)")
        lockdown = common.lockdown_cmd()
        common.run_timed([*lockdown, "lock", "--project", str(project), "-q"], cwd=work, env=env)
        config, pyproject = load_config(project)
        inputs = read_inputs(config, pyproject)
        request = ResolveRequest(
            inputs=dataclasses.replace(inputs, requires_python=inputs.requires_python or ">=3.10"),
            environments=config.environments,
            index_url=default_index_url(),
        )
        scratch = work / "uv-project"
        scratch.mkdir()
        (scratch / "pyproject.toml").write_text(scratch_pyproject(request), encoding="utf-8")
        uv = [find_uv_bin(), "--no-config", "--no-python-downloads", "--quiet"]
        common.progress("set-up: uv lock (the scratch project lockdown's uv backend writes)")
        common.run_timed([*uv, "lock", *interpreter_args(request)], cwd=scratch, env=env)
        lock = project / "pylock.toml"
        outputs = {
            UV_ROW: work / "uv.cdx.json",
            "lockdown export --format cyclonedx": work / "lockdown.cdx.json",
            "lockdown export --format spdx": work / "lockdown.spdx.json",
        }
        commands = {
            UV_ROW: (
                [
                    *uv,
                    *("export", "--format", "cyclonedx1.5", "--frozen", "--no-emit-project"),
                    *("--all-extras", "--all-groups", "-o", str(outputs[UV_ROW])),
                ],
                scratch,
            ),
            **{
                label: (
                    [
                        *lockdown,
                        *("export", "--format", label.rsplit(" ", 1)[-1], "--lock", str(lock)),
                        *("-o", str(outputs[label]), "-q"),
                    ],
                    work,
                )
                for label in list(outputs)[1:]
            },
        }
        series = {label: common.Series(label) for label in commands}
        for label, (cmd, cwd) in commands.items():
            cold_env = dict(env, PYTHONPYCACHEPREFIX=str(work / f"pycache-{len(label)}"))
            cold_env.pop("PYTHONDONTWRITEBYTECODE", None)
            series[label].warmup = common.run_timed(cmd, cwd=cwd, env=cold_env)
        warm_env = common.scrubbed_environ(pycache=work / "pycache-warm")
        warm_env["LOCKDOWN_CACHE_DIR"] = env["LOCKDOWN_CACHE_DIR"]
        for cmd, cwd in commands.values():
            common.run_timed(cmd, cwd=cwd, env=warm_env)  # fills the warm bytecode cache
        for round_no in range(args.runs):
            common.progress(f"round {round_no + 1}/{args.runs}")
            for label, (cmd, cwd) in commands.items():
                series[label].times.append(common.run_timed(cmd, cwd=cwd, env=warm_env))
        contents = {label: _contents(path) for label, path in outputs.items()}
    versions = {
        "lockdown": lockdown_version,
        "uv": common.uv_version(env),
        **common.host_versions(),
    }
    reference = series[UV_ROW]
    print("lockdown export (SBOM) vs uv export --format cyclonedx1.5, examples/webapp (28 pkgs)")
    print(common.versions_line(versions))
    print(f"{'command':40} {'cold s':>7} {'warm s':>7} {'min':>6} {'max':>6} {'x uv':>6}")
    for label, s in series.items():
        warm = statistics.median(s.times)
        ratio = warm / statistics.median(reference.times)
        print(
            f"{label:40} {s.warmup or 0:7.3f} {warm:7.3f} {min(s.times):6.3f} "
            f"{max(s.times):6.3f} {ratio:6.2f}"
        )
    for label, held in contents.items():
        print(f"{label:40} " + ", ".join(f"{k} {v}" for k, v in held.items()))
    if args.json is not None:
        common.write_json(
            args.json,
            {
                "date": common.utc_now(),
                "versions": versions,
                "series": {label: s.timing_json() for label, s in series.items()},
                "contents": contents,
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
