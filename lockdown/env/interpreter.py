"""Ask a target interpreter for its PEP 508 marker environment.

The interpreter runs isolated (``-I``: no site-packages on the path, no
``PYTHON*`` variables, no current directory), so nothing from the target
environment is imported; the script uses only the standard library.
"""

from __future__ import annotations

import json
import subprocess
from typing import cast

from lockdown.errors import UsageError

# The same computation as packaging.markers.default_environment(), in the
# target's own stdlib so it describes the target, not lockdown's interpreter.
_SCRIPT = """
import json, os, platform, sys
impl = sys.implementation
v = impl.version
iv = "{0.major}.{0.minor}.{0.micro}".format(v)
if v.releaselevel != "final":
    iv += v.releaselevel[0] + str(v.serial)
print(json.dumps({
    "implementation_name": impl.name,
    "implementation_version": iv,
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}))
"""


def marker_environment(python: str) -> dict[str, str]:
    """The marker environment of interpreter ``python`` (a path or a command)."""
    try:
        proc = subprocess.run(
            [python, "-I", "-c", _SCRIPT],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(
            f"cannot run interpreter {python}: {exc}", hint="pass a Python executable"
        ) from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"interpreter {python} failed: {last}", hint="pass a Python executable")
    try:
        return cast("dict[str, str]", json.loads(proc.stdout))
    except json.JSONDecodeError:
        raise UsageError(f"interpreter {python} is not a Python 3 interpreter") from None
