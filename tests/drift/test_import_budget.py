"""The import budget of ``lockdown check --level versions``, the command cron runs.

The real console-script entry point runs in a fresh interpreter against a real
venv and its lock; a wrapper records ``sys.modules`` when lockdown leaves
(``main_entry`` ends with ``os._exit``, so the wrapper hooks that call). The
first run works the expected set out (it parses the lock); the second one is
the fast path (the cached expected set). A heavy package on either, or a
lockdown module the fast path did not need before, fails naming the module:
import it inside the function that needs it, or widen the budget on purpose.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Collection, Iterable
from pathlib import Path

from tests.support.isolation import isolated_env

#: Never imported by ``check --level versions``, cached or not.
HEAVY = (
    "sigstore",
    "sigstore_models",
    "pypi_attestations",
    "rattler",
    "conda_lock",
    "cyclonedx",
    "spdx_tools",
    "tomlkit",
    "tomli_w",
    "urllib3",
    "requests",
    "pydantic",
    "cryptography",
    "jwt",
    "yaml",
    "json",
    "http",
    "email",
    "ssl",
    "asyncio",
    "concurrent",
)

#: Not imported on the fast path either: the lock's parse and the interpreter probe.
NOT_WHEN_CACHED = (
    "packaging",
    "subprocess",
    "threading",
    "tempfile",
    "logging",
    "lockdown.lock",
)

#: The lockdown modules the fast path imports today.
FAST_PATH_MODULES = frozenset(
    {
        "lockdown",
        "lockdown._compat",
        "lockdown.cli._entry",
        "lockdown.cli",
        "lockdown.cli.fast",
        "lockdown.config",
        "lockdown.commands",
        "lockdown.commands._lockfile",
        "lockdown.commands.check",
        "lockdown.commands.verify",
        "lockdown.config.fields",
        "lockdown.drift",
        "lockdown.drift.check",
        "lockdown.drift.compare",
        "lockdown.drift.fastpath",
        "lockdown.drift.model",
        "lockdown.env",
        "lockdown.env.guard",
        "lockdown.env.python_env",
        "lockdown.errors",
        "lockdown.fsutil",
        "lockdown.names",
        "lockdown.progress",
        "lockdown.report",
        "lockdown.report.render",
        "lockdown.report.text",
        "lockdown.sign",
    }
)

#: What working the expected set out adds: the lock's reader.
FIRST_RUN_MODULES = FAST_PATH_MODULES | {
    "lockdown.lock",
    "lockdown.lock.export",
    "lockdown.lock.pylock",
}

#: Runs lockdown's console-script entry point; writes sys.modules to argv[1] at exit.
WRAPPER = """\
import os, sys
out, sys.argv = sys.argv[1], ["lockdown", *sys.argv[2:]]
leave = os._exit
def record_and_leave(code):
    with open(out, "w", encoding="utf-8") as file:
        file.write("\\n".join(sorted(sys.modules)))
    leave(code)
os._exit = record_and_leave
from lockdown.cli._entry import main_entry
main_entry()
"""


def _imported(project: Path, venv: Path, record: Path) -> set[str]:
    argv = ["check", "--level", "versions", "--project", str(project), "--venv", str(venv)]
    return _recorded(argv, project, record)


def _recorded(argv: list[str], cwd: Path, record: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(record), *argv],
        capture_output=True,
        text=True,
        env=isolated_env(),
        cwd=cwd,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "level versions" in result.stdout
    return set(record.read_text(encoding="utf-8").split())


def _within(module: str, packages: Iterable[str]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def over_budget(
    modules: Collection[str], *, denied: Iterable[str], allowed: Collection[str]
) -> list[str]:
    """The modules that break the budget: a denied package's, or a lockdown module not allowed."""
    denied = tuple(denied)
    return sorted(
        module
        for module in modules
        if _within(module, denied) or (_within(module, ("lockdown",)) and module not in allowed)
    )


def test_check_versions_imports_nothing_heavy(locked: Path, env: Path, tmp_path: Path) -> None:
    first = _imported(locked, env, tmp_path / "first.txt")
    cached = _imported(locked, env, tmp_path / "cached.txt")

    assert over_budget(first, denied=HEAVY, allowed=FIRST_RUN_MODULES) == []
    assert over_budget(cached, denied=HEAVY + NOT_WHEN_CACHED, allowed=FAST_PATH_MODULES) == []
    # The recording is real: both runs went through the CLI and the drift check.
    assert {"lockdown.cli", "lockdown.drift.check"} <= first & cached
    # The first run read the lock, which the cached run did not need.
    assert "lockdown.lock.pylock" in first - cached


def test_check_versions_without_a_project_reads_no_config_code(
    locked: Path, env: Path, tmp_path: Path
) -> None:
    # Cron's other spelling: an explicit lock and venv, run from a directory with no
    # pyproject.toml or lockdown.toml. Once the expected set is cached there is no TOML
    # to parse, so neither the config package nor tomllib is imported; nor dataclasses,
    # whose inspect/ast/tokenize imports cost this run about 15% of its time.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    argv = ["check", "--level", "versions", "--lock", str(locked / "pylock.toml")]
    argv += ["--venv", str(env)]
    first = _recorded(argv, elsewhere, tmp_path / "first.txt")
    cached = _recorded(argv, elsewhere, tmp_path / "cached.txt")

    assert over_budget(first, denied=HEAVY, allowed=FIRST_RUN_MODULES) == []
    denied = (*HEAVY, *NOT_WHEN_CACHED, "lockdown.config", "tomllib", "dataclasses")
    assert over_budget(cached, denied=denied, allowed=FAST_PATH_MODULES) == []
    # The recording is real: the first run read the lock, the cached one did not.
    assert "lockdown.lock.pylock" in first - cached
    assert {"lockdown.cli", "lockdown.drift.check"} <= cached


def test_over_budget_names_the_offending_modules() -> None:
    modules = {"lockdown", "lockdown.cli", "lockdown.resolve.uv", "yaml", "sigstore.models", "os"}
    found = over_budget(modules, denied=("yaml", "sigstore"), allowed={"lockdown", "lockdown.cli"})
    assert found == ["lockdown.resolve.uv", "sigstore.models", "yaml"]
    # A prefix is a package, not a string prefix: "yamlish" is not "yaml".
    assert over_budget({"yamlish"}, denied=("yaml",), allowed=set()) == []
