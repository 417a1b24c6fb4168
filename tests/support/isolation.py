"""Hermetic environments for the installers and resolvers that tests run as subprocesses.

The machines this project runs on carry a global pip configuration (extra
indexes, find-links, constraints) and ``PIP_*`` variables; a test that lets
any of that leak into ``pip`` or ``uv`` stops testing lockdown's index and
starts testing the machine.
"""

from __future__ import annotations

import os

#: Variable prefixes that configure pip and uv; none of them may reach a test subprocess.
_INSTALLER_PREFIXES = ("PIP_", "UV_")

#: Variables that would point uv at the venv running pytest instead of the one a test names.
_TARGET_VARIABLES = frozenset({"VIRTUAL_ENV", "CONDA_PREFIX"})


def isolated_env(**extra: str) -> dict[str, str]:
    """Return ``os.environ`` without any pip/uv configuration, plus ``extra``.

    pip reads no configuration file at all when ``PIP_CONFIG_FILE`` is the null
    device, and ``UV_NO_CONFIG`` makes uv ignore ``uv.toml`` files; loopback is
    exempted from proxies so the test index on 127.0.0.1 is always reached
    directly.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_INSTALLER_PREFIXES) and key not in _TARGET_VARIABLES
    }
    no_proxy = ",".join(
        part for part in (env.get("NO_PROXY") or env.get("no_proxy"), "127.0.0.1,localhost") if part
    )
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "UV_NO_CONFIG": "1",
            "NO_PROXY": no_proxy,
            "no_proxy": no_proxy,
        }
    )
    env.update(extra)
    return env
