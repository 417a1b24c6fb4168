"""``lockdown lock`` (blocked), ``approve``, ``diff`` and ``init`` from the command line.

Every refusal: one line saying what and what to do, the documented exit code,
and every file exactly as it was.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown._compat import tomllib
from lockdown.config import load_config
from tests.conftest import CliResult
from tests.support.gitrepo import git
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]

APPROVALS_WITH_COMMENTS = """\
# Approvals reviewed by the platform team.

[[approval]]
# The TLS fix we waited for.
package = "beta"
version = "==1.1"
reason = "needed"
approved-by = "carol"
approved-at = 2025-01-02T00:00:00Z
"""


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def assert_refused(result: CliResult, code: int, message: str) -> None:
    assert result.code == code, result.err
    assert result.err.startswith("lockdown: error: "), result.err
    assert message in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


# --- lock, blocked ---


def test_a_blocked_lock_exits_3_with_the_approve_command(
    locked: Path, catalog: PackageIndex, cli: Cli
) -> None:
    before = snapshot(locked)
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"])
    result = cli("lock", "--project", locked, "--upgrade")
    assert result.code == 3, result.err
    assert result.out == ""
    assert result.err.splitlines()[-3:] == [
        "lockdown: 1 change blocked by policy; pylock.toml unchanged",
        "  BLOCKED  alpha 1.1 \N{RIGHTWARDS ARROW} 1.2 (minor upgrade; needs approval)",
        '           lockdown approve alpha==1.2 --reason "\N{HORIZONTAL ELLIPSIS}"',
    ]
    assert snapshot(locked) == before
    # The command it printed admits the change.
    assert cli("approve", "--project", locked, "alpha==1.2", "--reason", "CVE fix").code == 0
    admitted = cli("lock", "--project", locked, "--upgrade")
    assert admitted.code == 0, admitted.err
    assert "  ok       alpha 1.1 \N{RIGHTWARDS ARROW} 1.2 (minor upgrade; approved by " in (
        admitted.out
    )


def test_upgrade_and_upgrade_package_together_is_a_usage_error(locked: Path, cli: Cli) -> None:
    before = snapshot(locked)
    result = cli("lock", "--project", locked, "--upgrade", "--upgrade-package", "alpha")
    assert_refused(result, 64, "--upgrade and --upgrade-package cannot be used together")
    assert snapshot(locked) == before


def test_an_unreadable_previous_lock_stops_the_gate(locked: Path, cli: Cli) -> None:
    (locked / "pylock.toml").write_text('lock-version = "1.0"\n', encoding="utf-8")
    before = snapshot(locked)
    result = cli("lock", "--project", locked)
    assert_refused(result, 16, "the current lock cannot be read, so changes cannot be judged: ")
    assert result.err.rstrip().endswith(
        "restore pylock.toml from version control, or move it away to lock afresh"
    )
    assert snapshot(locked) == before


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ('upgrades = "sometimes"', "upgrades must be 'approve' or 'allow', not 'sometimes'"),
        ('min-release-age = "a while"', "min-release-age: 'a while' is not a duration"),
        ("auto-approve = ['tiny']", "auto-approve: unknown change class 'tiny'"),
        ("upgrade = 'allow'", "unknown key 'upgrade' in [tool.lockdown] policy"),
    ],
)
def test_a_bad_policy_is_refused_before_anything_resolves(
    locked: Path, cli: Cli, catalog: PackageIndex, policy: str, message: str
) -> None:
    pyproject = locked / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + f"\n[tool.lockdown.policy]\n{policy}\n", encoding="utf-8"
    )
    before = snapshot(locked)
    served = len(catalog.requests)
    assert_refused(cli("lock", "--project", locked), 64, message)
    assert snapshot(locked) == before
    assert len(catalog.requests) == served  # nothing was asked of the index


# --- approve ---


def test_approve_appends_and_keeps_the_files_comments(locked: Path, cli: Cli) -> None:
    path = locked / "lockdown-approvals.toml"
    path.write_text(APPROVALS_WITH_COMMENTS, encoding="utf-8")
    result = cli(
        "approve",
        "--project",
        locked,
        "Alpha_Pkg>=1.2,<1.3",
        "--reason",
        "CVE-2026-1234 fix",
        "--by",
        "alice",
        "--expires",
        "14d",
    )
    assert result.code == 0, result.err
    assert result.out.startswith("approved alpha-pkg<1.3,>=1.2 by alice until ")
    text = path.read_text(encoding="utf-8")
    assert text.startswith(APPROVALS_WITH_COMMENTS)
    added = tomllib.loads(text)["approval"][1]
    assert (added["package"], added["version"], added["reason"], added["approved-by"]) == (
        "alpha-pkg",
        "<1.3,>=1.2",
        "CVE-2026-1234 fix",
        "alice",
    )
    assert (added["expires"] - added["approved-at"]).days == 14


def test_approve_creates_the_configured_file(locked: Path, cli: Cli) -> None:
    pyproject = locked / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.lockdown.policy]\napprovals = "ops/approved.toml"\n',
        encoding="utf-8",
    )
    (locked / "ops").mkdir()
    result = cli("approve", "--project", locked, "beta==1.1", "--reason", "x", "--expires", "never")
    assert result.code == 0, result.err
    text = (locked / "ops" / "approved.toml").read_text(encoding="utf-8")
    assert text.startswith("# Approvals for lockdown's upgrade gate")
    assert "expires" not in tomllib.loads(text)["approval"][0]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["alpha"], 64, "'alpha' names no version; an approval is for specific versions"),
        (["alpha==1.2; sys_platform == 'linux'"], 64, "give only a name and a version specifier"),
        (["==1.2"], 64, "'==1.2' is not a package and version"),
        (["alpha==1.2", "--expires", "soon"], 64, "--expires: 'soon' is not a duration"),
        (["alpha==1.2", "--expires", "0d"], 64, "--expires must be in the future"),
        (["alpha==1.2", "--reason", "  "], 64, "an approval needs a reason"),
    ],
)
def test_bad_approvals_are_refused_and_nothing_is_written(
    locked: Path, cli: Cli, argv: list[str], code: int, message: str
) -> None:
    args = argv if "--reason" in argv else [*argv, "--reason", "because"]
    before = snapshot(locked)
    assert_refused(cli("approve", "--project", locked, *args), code, message)
    assert snapshot(locked) == before


def test_approve_without_reason_is_a_usage_error(locked: Path, cli: Cli) -> None:
    before = snapshot(locked)
    result = cli("approve", "--project", locked, "alpha==1.2")
    assert_refused(result, 64, "the following arguments are required: --reason")
    assert snapshot(locked) == before


def test_approve_refuses_to_extend_an_invalid_approvals_file(locked: Path, cli: Cli) -> None:
    path = locked / "lockdown-approvals.toml"
    path.write_text('[[approval]]\npackage = "beta"\n', encoding="utf-8")
    before = snapshot(locked)
    result = cli("approve", "--project", locked, "alpha==1.2", "--reason", "x")
    assert_refused(result, 64, "lockdown-approvals.toml: approval[0]: version must be")
    assert snapshot(locked) == before


# --- diff ---


def _upgraded_copy(locked: Path, catalog: PackageIndex, cli: Cli, tmp_path: Path) -> Path:
    """The lock before (returned) and after an allowed upgrade of alpha (in ``locked``)."""
    old = tmp_path / "old-pylock.toml"
    shutil.copyfile(locked / "pylock.toml", old)
    catalog.add("alpha", "1.2", dependencies=["beta>=1.0"])
    assert cli("approve", "--project", locked, "alpha==1.2", "--reason", "ok").code == 0
    assert cli("lock", "--project", locked, "--upgrade").code == 0
    return old


def test_diff_of_two_files_judges_every_change(
    locked: Path, catalog: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    old = _upgraded_copy(locked, catalog, cli, tmp_path)
    ok = cli("diff", "--project", locked, old, locked / "pylock.toml")
    assert ok.code == 0, ok.err
    assert "  ok       alpha 1.1 \N{RIGHTWARDS ARROW} 1.2 (minor upgrade; approved by" in ok.out
    # Without the approval, the same change is blocked: exit 3.
    (locked / "lockdown-approvals.toml").unlink()
    blocked = cli("diff", "--project", locked, old, locked / "pylock.toml", "--format", "json")
    assert blocked.code == 3
    doc = json.loads(blocked.out)
    assert doc["blocked"] == 1
    assert [(c["name"], c["kind"], c["class"]) for c in doc["changes"]] == [
        ("alpha", "upgraded", "minor")
    ]
    markdown = cli("diff", "--project", locked, old, "--format", "markdown")
    assert markdown.code == 3
    assert markdown.out.startswith("**lockdown: 1 blocked** (1 change)")
    assert "| **BLOCKED** | `alpha` | 1.1 \N{RIGHTWARDS ARROW} 1.2 |" in markdown.out


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_against_a_git_revision(
    locked: Path, catalog: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    git(locked, "init", "-q")
    git(locked, "add", "pylock.toml", "pyproject.toml")
    git(locked, "commit", "-q", "-m", "lock")
    _upgraded_copy(locked, catalog, cli, tmp_path)
    (locked / "lockdown-approvals.toml").unlink()
    result = cli("diff", "--project", locked, "--base", "HEAD")
    assert result.code == 3
    assert "BLOCKED  alpha 1.1 \N{RIGHTWARDS ARROW} 1.2 (minor upgrade; needs approval)" in (
        result.out
    )
    missing = cli("diff", "--project", locked, "--base", "no-such-branch")
    assert_refused(missing, 64, "cannot read no-such-branch:pylock.toml: ")
    # A lock that did not exist at the base revision is a first lock: rules only.
    git(locked, "rm", "-q", "--cached", "pylock.toml")
    git(locked, "commit", "-q", "-m", "no lock yet")
    first = cli("diff", "--project", locked, "--base", "HEAD", "--format", "json")
    assert first.code == 0, first.err
    assert json.loads(first.out)["first_lock"] is True


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_change_cannot_relax_the_policy_that_judges_it(
    locked: Path, catalog: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    git(locked, "init", "-q")
    git(locked, "add", "pylock.toml", "pyproject.toml")
    git(locked, "commit", "-q", "-m", "lock")
    _upgraded_copy(locked, catalog, cli, tmp_path)
    (locked / "lockdown-approvals.toml").unlink()
    # The change also relaxes the policy in its own pyproject.toml.
    pyproject = locked / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.lockdown.policy]\nupgrades = "allow"\n')
    result = cli("diff", "--project", locked, "--base", "HEAD")
    assert result.code == 3, result.err
    assert "BLOCKED  alpha 1.1 \N{RIGHTWARDS ARROW} 1.2 (minor upgrade; needs approval)" in (
        result.out
    )
    assert (
        "the policy differs from the one at HEAD; judged by the policy at HEAD "
        "(a change cannot relax the gate that judges it)"
    ) in result.err
    # Two files, no revision: the working tree's policy is the only one there is.
    old = tmp_path / "old.toml"
    old.write_bytes(
        subprocess.run(
            ["git", "show", "HEAD:pylock.toml"], cwd=locked, capture_output=True, check=True
        ).stdout
    )
    files = cli("diff", "--project", locked, old, locked / "pylock.toml")
    assert files.code == 0, files.out
    # A policy committed at the base is the one that judges.
    git(locked, "add", "pyproject.toml")
    git(locked, "commit", "-q", "-m", "relax the policy")
    assert cli("diff", "--project", locked, "--base", "HEAD").code == 0


def test_diff_needs_exactly_one_old_lock(locked: Path, cli: Cli) -> None:
    assert_refused(
        cli("diff", "--project", locked), 64, "give the old lock as a file or as --base REV"
    )
    assert_refused(
        cli("diff", "--project", locked, "a.toml", "b.toml", "--base", "HEAD"),
        64,
        "with --base, give at most one file (the new lock)",
    )
    assert_refused(cli("diff", "--project", locked, locked / "missing.toml"), 64, "missing.toml")


# --- init ---


def test_init_adds_the_starter_settings_and_keeps_the_rest(tmp_path: Path, cli: Cli) -> None:
    project = tmp_path / "app"
    project.mkdir()
    original = '# my project\n[project]\nname = "app"  # the name\nversion = "1"\n'
    (project / "pyproject.toml").write_text(original, encoding="utf-8")
    result = cli("init", "--project", project)
    assert result.code == 0, result.err
    assert (
        result.out == "wrote [tool.lockdown] in pyproject.toml; review it, then run lockdown lock\n"
    )
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert text.startswith(original)
    config, _ = load_config(project)
    assert config.policy.upgrades == "approve"
    assert config.policy.min_release_age is not None
    assert config.trust is not None
    assert not config.trust.require
    # The sources table is there, explained, and pins nothing until edited.
    assert "[tool.lockdown.sources]\n# One index per package." in text
    assert config.sources == ()
    # A second run refuses: existing settings are never overwritten.
    before = snapshot(project)
    assert_refused(
        cli("init", "--project", project), 64, "pyproject.toml already has [tool.lockdown]"
    )
    assert snapshot(project) == before


def test_init_standalone_writes_lockdown_toml(tmp_path: Path, cli: Cli) -> None:
    result = cli("init", "--project", tmp_path, "--standalone")
    assert result.code == 0, result.err
    config, _ = load_config(tmp_path)
    assert config.source == (tmp_path / "lockdown.toml").resolve()
    assert config.policy.yanked == "deny"
    before = snapshot(tmp_path)
    assert_refused(cli("init", "--project", tmp_path), 64, "lockdown.toml already exists")
    assert snapshot(tmp_path) == before


def test_init_without_pyproject_says_what_to_do(tmp_path: Path, cli: Cli) -> None:
    assert_refused(cli("init", "--project", tmp_path), 64, "no pyproject.toml in ")
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_a_pyproject_it_cannot_extend(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "pyproject.toml").write_text("tool = { black = { line-length = 99 } }\n")
    before = snapshot(tmp_path)
    assert_refused(
        cli("init", "--project", tmp_path), 64, "cannot add [tool.lockdown] to this file"
    )
    assert snapshot(tmp_path) == before
