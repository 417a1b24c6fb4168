"""The JSON drift report: parsed back, fixed key order, deterministic, documented field by field."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lockdown import __version__
from lockdown.drift.model import SCHEMA_VERSION, FileDrift, PackageDrift
from lockdown.report.json import render_json, report_to_dict
from lockdown.report.render import render
from tests.report.test_text import LOCK_SHA256, SIGNER, SP, clean_report, drifted_report

DOCS = Path(__file__).resolve().parents[2] / "docs" / "drift-report.md"

TOP_LEVEL_KEYS = [
    "schema_version",
    "lockdown_version",
    "target",
    "python_version",
    "lock",
    "lock_sha256",
    "signature",
    "signer",
    "guarded",
    "level",
    "checked_at",
    "duration_seconds",
    "exit_code",
    "in_sync",
    "expected",
    "installed",
    "files_checked",
    "provenance",
    "counts",
    "packages",
    "files",
    "notes",
    "audit",
]


def test_drifted_report_parses_back() -> None:
    text = render_json(drifted_report())
    assert text.endswith("}\n")
    assert text.startswith('{\n  "schema_version": 1,\n')
    data = json.loads(text)
    assert list(data) == TOP_LEVEL_KEYS
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["lockdown_version"] == __version__
    assert data["lock_sha256"] == LOCK_SHA256
    assert (data["signature"], data["signer"], data["guarded"]) == ("verified", SIGNER, False)
    assert (data["level"], data["expected"], data["installed"]) == ("artifacts", 14, 12)
    assert (data["checked_at"], data["duration_seconds"]) == (1718000000.25, 0.042)
    assert data["files_checked"] == 230
    assert data["provenance"] == {"packages": 16, "attested": 12, "attested_share": 0.75}
    assert data["exit_code"] == 1 | 2 | 4 | 8
    assert data["in_sync"] is False
    assert data["counts"] == {
        "packages": {"unexpected": 1, "missing": 1, "version": 1, "source": 1},
        "files": {
            "modified": 2,
            "missing": 1,
            "unowned": 1,
            "escape": 1,
            "symlink": 1,
            "record": 1,
        },
        "files_high_severity": 3,
    }
    # Sorted: packages by name, files by path.
    assert [p["name"] for p in data["packages"]] == ["alpha", "beta", "devtool", "gamma"]
    assert data["packages"][1] == {
        "name": "beta",
        "kind": "version",
        "expected": "1.1",
        "installed": "1.0",
        "detail": "installed 1.0, the lock says 1.1",
    }
    assert data["packages"][2]["expected"] is None
    assert [f["path"] for f in data["files"]] == sorted(f["path"] for f in data["files"])
    assert data["files"][0] == {
        "path": "../../etc/passwd",
        "kind": "escape",
        "package": "beta",
        "flags": "",
        "severity": "high",
        "detail": "RECORD entry outside the environment",
    }
    modified = next(f for f in data["files"] if f["path"] == f"{SP}/beta/__init__.py")
    assert (modified["flags"], modified["severity"]) == ("S5", "normal")
    assert data["notes"] == ["2 files listed in RECORD without a hash were not checked"]


def test_clean_report() -> None:
    data = json.loads(render(clean_report(), "json"))
    assert list(data) == TOP_LEVEL_KEYS
    assert (data["in_sync"], data["exit_code"]) == (True, 0)
    assert (data["signature"], data["signer"], data["guarded"]) == ("not-checked", None, None)
    assert data["packages"] == data["files"] == data["notes"] == []
    assert data["provenance"] is None  # not known (a conda lock, say)
    assert set(data["counts"]["packages"].values()) == {0}
    assert set(data["counts"]["files"].values()) == {0}
    assert data["counts"]["files_high_severity"] == 0


def test_deterministic_whatever_the_order_found() -> None:
    report = drifted_report()
    shuffled = report._replace(packages=report.packages[::-1], files=report.files[::-1])
    assert render_json(report) == render_json(shuffled) == render_json(drifted_report())


def test_names_from_disk_stay_valid_utf8_json() -> None:
    report = clean_report("files")._replace(
        packages=(
            PackageDrift(name="x\x00y", kind="unexpected", expected=None, installed="1", detail=""),
        ),
        files=(FileDrift(path=f"{SP}/caf\udce9\n.py", kind="unowned", package=None),),
    )
    text = render_json(report)
    text.encode("utf-8")  # strict: no lone surrogates left
    data = json.loads(text)
    assert data["files"][0]["path"] == f"{SP}/caf\\xe9\\x0a.py"
    assert data["packages"][0]["name"] == "x\\x00y"


# --- docs/drift-report.md documents this format ---


def _documented_names(section: str) -> set[str]:
    """The backticked first cells of the table under ``### section``."""
    match = re.search(rf"^### {re.escape(section)}\n(.*?)(?=^#)", DOCS.read_text(), re.M | re.S)
    assert match, f"docs/drift-report.md has no section {section!r}"
    return set(re.findall(r"^\| `([a-z_0-9]+)` \|", match.group(1), re.M))


def test_every_field_is_documented() -> None:
    data = report_to_dict(drifted_report())
    assert _documented_names("Top-level fields") == set(TOP_LEVEL_KEYS)
    assert _documented_names("counts") == set(data["counts"])  # type: ignore[call-overload]
    assert _documented_names("packages[]") == set(data["packages"][0])  # type: ignore[index]
    assert _documented_names("files[]") == set(data["files"][0])  # type: ignore[index]


def test_docs_example_is_what_lockdown_writes() -> None:
    example = re.search(r"^## Example\n.*?```json\n(.*?)```", DOCS.read_text(), re.M | re.S)
    assert example, "docs/drift-report.md has no JSON example"
    documented = json.loads(example.group(1))
    assert documented["schema_version"] == SCHEMA_VERSION
    documented["lockdown_version"] = __version__
    assert documented == json.loads(render_json(drifted_report()))
