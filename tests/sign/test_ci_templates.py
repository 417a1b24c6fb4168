"""The CI templates that sign (and the ones beside them) ask for least privilege and pin actions.

``tests/test_templates.py`` checks that every template parses; this checks
what the signing story depends on:

* GitHub: nothing by default at the top; ``id-token: write`` only on a job
  that runs ``lockdown sign``, and there with ``contents: read`` and nothing
  else; every other job reads ``contents`` at most; every ``uses:`` pinned to
  a full 40-hex commit SHA (a tag can be moved to other code).
* GitLab: ``id_tokens`` (with ``aud: sigstore``) only on a job that signs.

The checkers are tested on bad workflows too, so a weakened template fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to parse the YAML templates")

ROOT = Path(__file__).resolve().parents[2]
GITHUB = sorted((ROOT / "templates" / "github").glob("*.y*ml"))
GITLAB = sorted((ROOT / "templates" / "gitlab").glob("*.y*ml"))

#: ``owner/repo[/path]@<40 hex>``: a commit, not a tag or branch that can move.
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
#: GitLab job-level keywords that are not jobs.
GITLAB_GLOBAL = frozenset(
    {"default", "include", "stages", "variables", "workflow", "image", "services", "cache"}
)


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path}: not a mapping"
    return document


def _runs(steps: object) -> str:
    """Every ``run:`` / ``script:`` line of a job, joined (to ask whether it signs)."""
    if isinstance(steps, str):
        return steps
    if isinstance(steps, list):
        return "\n".join(_runs(s.get("run", "") if isinstance(s, dict) else s) for s in steps)
    return ""


def _signs(commands: str) -> bool:
    return re.search(r"(^|\s)lockdown\s+sign(\s|$)", commands) is not None


def _permissions(value: object, where: str) -> Iterator[tuple[str, str]]:
    """``(scope, level)`` pairs; ``read-all`` / ``write-all`` as one ``*`` scope."""
    if isinstance(value, str):
        yield "*", value.removesuffix("-all")
        return
    assert isinstance(value, Mapping), f"{where}: permissions must be a mapping or a string"
    for scope, level in value.items():
        yield str(scope), str(level)


def github_problems(workflow: Mapping[str, Any]) -> list[str]:
    """What breaks least privilege or pinning in a GitHub Actions workflow (empty when none)."""
    problems: list[str] = []
    top = workflow.get("permissions")
    if top is None:
        problems.append("no top-level permissions: the token gets the repository default")
    else:
        for scope, level in _permissions(top, "top level"):
            if level not in ("none", "read") or (level == "read" and scope != "contents"):
                problems.append(f"top-level permissions grant {scope}: {level}")
    jobs = workflow.get("jobs")
    if not isinstance(jobs, Mapping) or not jobs:
        return [*problems, "no jobs"]
    for name, job in jobs.items():
        assert isinstance(job, Mapping), f"job {name} is not a mapping"
        signs = _signs(_runs(job.get("steps", [])))
        granted = dict(_permissions(job.get("permissions", top or {}), f"job {name}"))
        if signs:
            if granted != {"contents": "read", "id-token": "write"}:
                problems.append(
                    f"job {name} signs: it needs exactly contents: read and id-token: write, "
                    f"not {granted}"
                )
        else:
            if "id-token" in granted:
                problems.append(
                    f"job {name} does not sign but gets id-token: {granted['id-token']}"
                )
            for scope, level in granted.items():
                if scope != "id-token" and (
                    level not in ("none", "read") or (level == "read" and scope != "contents")
                ):
                    problems.append(f"job {name} gets {scope}: {level}")
        uses = [job.get("uses")] + [
            s.get("uses") for s in job.get("steps", []) if isinstance(s, Mapping)
        ]
        for ref in uses:
            if ref is None or str(ref).startswith("./"):
                continue  # no action, or one from this repository
            if not PINNED.match(str(ref)):
                problems.append(f"job {name}: uses {ref} is not pinned to a 40-hex commit SHA")
    return problems


def gitlab_problems(pipeline: Mapping[str, Any]) -> list[str]:
    """What hands an OIDC token to a GitLab job that does not sign (empty when nothing)."""
    problems: list[str] = []
    for name, job in pipeline.items():
        if name in GITLAB_GLOBAL or name.startswith(".") or not isinstance(job, Mapping):
            continue
        tokens = job.get("id_tokens")
        signs = _signs(_runs(job.get("script", [])))
        if tokens is not None and not signs:
            problems.append(f"job {name} does not sign but gets id_tokens")
        if signs:
            if not isinstance(tokens, Mapping) or not tokens:
                problems.append(f"job {name} signs but has no id_tokens")
            else:
                for variable, spec in tokens.items():
                    audience = spec.get("aud") if isinstance(spec, Mapping) else None
                    if audience != "sigstore":
                        problems.append(
                            f"job {name}: id_tokens {variable} is for {audience!r}, not 'sigstore'"
                        )
    return problems


# --- the shipped templates ---


def test_the_signing_templates_are_there() -> None:
    names = {p.relative_to(ROOT / "templates").as_posix() for p in GITHUB + GITLAB}
    assert {"github/lock-and-sign.yml", "gitlab/lock-and-sign.yml"} <= names


@pytest.mark.parametrize("path", GITHUB, ids=lambda p: p.name)
def test_github_templates_least_privilege_and_pinned(path: Path) -> None:
    assert github_problems(_load(path)) == []


def test_github_signing_job_is_the_only_one_with_id_token() -> None:
    signing = [
        (path.name, name)
        for path in GITHUB
        for name, job in _load(path)["jobs"].items()
        if "id-token" in (job.get("permissions") or {})
    ]
    assert signing == [("lock-and-sign.yml", "lock-and-sign")]


@pytest.mark.parametrize("path", GITLAB, ids=lambda p: p.name)
def test_gitlab_templates_give_id_tokens_only_to_signing(path: Path) -> None:
    pipeline = _load(path)
    assert gitlab_problems(pipeline) == []
    assert any("id_tokens" in job for job in pipeline.values() if isinstance(job, Mapping))


# --- the checkers catch a weakened template ---


def _signing_workflow() -> dict[str, Any]:
    return _load(ROOT / "templates" / "github" / "lock-and-sign.yml")


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda w: w.pop("permissions"),
            "no top-level permissions: the token gets the repository default",
        ),
        (
            lambda w: w.update(permissions={"id-token": "write"}),
            "top-level permissions grant id-token: write",
        ),
        (lambda w: w.update(permissions="write-all"), "top-level permissions grant *: write"),
        (
            lambda w: w["jobs"]["lock-and-sign"]["permissions"].update(contents="write"),
            "job lock-and-sign signs: it needs exactly contents: read and id-token: write, "
            "not {'contents': 'write', 'id-token': 'write'}",
        ),
        (
            lambda w: w["jobs"]["lock-and-sign"]["steps"][0].update(uses="actions/checkout@v4"),
            "job lock-and-sign: uses actions/checkout@v4 is not pinned to a 40-hex commit SHA",
        ),
        (
            lambda w: w["jobs"]["lock-and-sign"]["steps"][0].update(
                uses="actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af68"
            ),
            "job lock-and-sign: uses actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af68 "
            "is not pinned to a 40-hex commit SHA",
        ),
        (
            lambda w: w["jobs"].update(
                other={
                    "runs-on": "ubuntu-latest",
                    "permissions": {"contents": "read", "id-token": "write"},
                    "steps": [{"run": "make test"}],
                }
            ),
            "job other does not sign but gets id-token: write",
        ),
        (
            lambda w: w["jobs"].update(
                other={
                    "runs-on": "ubuntu-latest",
                    "permissions": {"pull-requests": "write"},
                    "steps": [{"run": "make test"}],
                }
            ),
            "job other gets pull-requests: write",
        ),
        (
            lambda w: w["jobs"].update(
                other={"uses": "acme/workflows/.github/workflows/x.yml@main"}
            ),
            "job other: uses acme/workflows/.github/workflows/x.yml@main is not pinned to a "
            "40-hex commit SHA",
        ),
    ],
    ids=[
        "no-top-permissions",
        "top-id-token",
        "write-all",
        "signing-job-writes",
        "tag",
        "short-sha",
        "id-token-elsewhere",
        "other-job-writes",
        "reusable-workflow-tag",
    ],
)
def test_github_checker_catches(edit: Any, problem: str) -> None:
    workflow = _signing_workflow()
    assert github_problems(workflow) == []
    edit(workflow)
    assert problem in github_problems(workflow)


def test_gitlab_checker_catches() -> None:
    pipeline = _load(ROOT / "templates" / "gitlab" / "lock-and-sign.yml")
    assert gitlab_problems(pipeline) == []
    pipeline["test"] = {"script": ["make test"], "id_tokens": {"T": {"aud": "sigstore"}}}
    pipeline["lock-and-sign"]["id_tokens"]["SIGSTORE_ID_TOKEN"]["aud"] = "other"
    assert gitlab_problems(pipeline) == [
        "job lock-and-sign: id_tokens SIGSTORE_ID_TOKEN is for 'other', not 'sigstore'",
        "job test does not sign but gets id_tokens",
    ]
    del pipeline["lock-and-sign"]["id_tokens"]
    assert "job lock-and-sign signs but has no id_tokens" in gitlab_problems(pipeline)
