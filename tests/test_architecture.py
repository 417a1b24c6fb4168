"""The layering of DESIGN.md holds: the import-linter contracts in pyproject.toml are kept.

``make lint`` runs ``lint-imports`` too; running it here means ``make test``
(and so CI) refuses a change that breaks a layer, adds a forbidden import or
closes an import cycle. On failure the message is import-linter's report,
naming every import that breaks a contract.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_the_import_contracts_are_kept() -> None:
    assert LINT_IMPORTS.is_file(), f"{LINT_IMPORTS} is missing: pip install -e '.[lint]'"
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout, run.stdout
