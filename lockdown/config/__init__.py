"""``[tool.lockdown]`` in pyproject.toml, or a standalone ``lockdown.toml``, into a typed Config.

Parse, don't validate: :func:`load_config` reads the file once, checks every
key and value, and returns a frozen :class:`Config`; the rest of lockdown
trusts its types. Unknown keys are an error naming the key, so a typo never
silently turns a setting off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from lockdown._compat import tomllib
from lockdown.config.fields import (
    marker,
    normalize_marker,
    parse_index_url,
    reject_unknown,
    string,
    string_list,
)
from lockdown.errors import ConfigError, InputError
from lockdown.names import DEFAULT_KEEP, index_key
from lockdown.names import normalize_name as canonicalize_name

if TYPE_CHECKING:
    from lockdown.config.audit import AuditSettings
    from lockdown.config.conda import CondaSettings
    from lockdown.config.http import HttpOverrides
    from lockdown.config.policy import Policy
    from lockdown.config.trust import TrustSettings

__all__ = [
    "DEFAULT_ENVIRONMENTS",
    "DEFAULT_KEEP",
    "HTTP_KEYS",
    "KNOWN_KEYS",
    "PYPROJECT",
    "RESOLVERS",
    "STANDALONE",
    "Config",
    "ResolverName",
    "find_config_file",
    "load_config",
    "normalize_marker",
    "parse_config",
    "parse_index_url",
    "read_toml",
    "reject_unknown",
]

PYPROJECT = "pyproject.toml"
STANDALONE = "lockdown.toml"

ResolverName = Literal["uv", "pip-tools"]
RESOLVERS: tuple[ResolverName, ...] = ("uv", "pip-tools")

#: The platforms a production lock covers unless the project says otherwise:
#: linux, macOS and Windows, each on x86_64 and arm64. The Python versions are
#: bounded separately by the project's ``requires-python``.
DEFAULT_ENVIRONMENTS: tuple[str, ...] = (
    "sys_platform == 'linux' and platform_machine == 'x86_64'",
    "sys_platform == 'linux' and platform_machine == 'aarch64'",
    "sys_platform == 'darwin' and platform_machine == 'x86_64'",
    "sys_platform == 'darwin' and platform_machine == 'arm64'",
    "sys_platform == 'win32' and platform_machine == 'AMD64'",
    "sys_platform == 'win32' and platform_machine == 'ARM64'",
)

#: Every key ``[tool.lockdown]`` accepts today. Sub-tables that later features
#: own (``trust``, ``policy``, ``conda``) are added here when they are built, so
#: an unknown key is always a typo or a setting this version does not have.
#: The network settings (parsed by :mod:`lockdown.config.http`, imported only when one is set).
HTTP_KEYS = frozenset({"http-timeout", "http-retries", "http-backoff"})
KNOWN_KEYS = HTTP_KEYS | frozenset(
    {
        "environments",
        "index-url",
        "extra-index-urls",
        "resolver",
        "output",
        "extras",
        "dependency-groups",
        "default-groups",
        "requirements",
        "requires-python",
        "trust",
        "install",
        "policy",
        "conda",
        "audit",
        "sources",
    }
)
INSTALL_KEYS = frozenset({"installer", "keep"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Validated lockdown settings for one project."""

    #: The file the settings came from (pyproject.toml or lockdown.toml).
    source: Path
    #: The project directory: inputs and outputs are relative to it.
    project_dir: Path
    #: PEP 508 markers, normalized; the lock covers exactly these environments.
    environments: tuple[str, ...]
    #: True when ``environments`` was set explicitly (not the default).
    environments_explicit: bool
    #: The primary index; ``None`` means the default index of uv and pip.
    index_url: str | None
    #: Further indexes, in priority order after ``index_url``.
    extra_index_urls: tuple[str, ...]
    #: Which resolver backend locks the project.
    resolver: ResolverName
    #: The lock file name, ``pylock.toml`` or ``pylock.<name>.toml``.
    output: str
    #: Extras to lock; ``None`` means every extra the project declares.
    extras: tuple[str, ...] | None
    #: Dependency groups to lock; ``None`` means every group the project declares.
    dependency_groups: tuple[str, ...] | None
    #: Groups installed when the installer is given none (PEP 751 ``default-groups``).
    default_groups: tuple[str, ...]
    #: Extra ``requirements.in`` style files whose requirements are locked too.
    requirements: tuple[str, ...]
    #: Overrides or supplies ``requires-python`` (needed when there is no [project]).
    requires_python: str | None
    #: ``[tool.lockdown.trust]``: who must have signed the lock; ``None`` when absent.
    trust: TrustSettings | None = None
    #: ``[tool.lockdown.install] installer``: what applies verified files (``uv`` or ``pip``).
    installer: str = "uv"
    #: ``[tool.lockdown.install] keep``: distributions ``install`` leaves even when unlocked.
    keep: tuple[str, ...] = DEFAULT_KEEP
    #: ``[tool.lockdown.policy]``: the upgrade gate; ``None`` means the default policy.
    policy_table: Policy | None = None
    #: ``[tool.lockdown.conda]``; ``None`` when absent.
    conda: CondaSettings | None = None
    #: ``[tool.lockdown.audit]``: advisory sources and ignores; ``None`` when absent.
    audit: AuditSettings | None = None
    #: ``[tool.lockdown.sources]``: normalized package name → the configured index it is
    #: resolved from (only), as ``(name, url)`` pairs sorted by name.
    sources: tuple[tuple[str, str], ...] = ()
    #: ``http-timeout``, ``http-retries``, ``http-backoff``, validated; ``None`` when none
    #: is set. The environment overrides them (:func:`lockdown.config.http.http_settings`).
    http: HttpOverrides | None = None

    @property
    def policy(self) -> Policy:
        """The upgrade gate's policy (the strict default when none is configured)."""
        if self.policy_table is not None:
            return self.policy_table
        from lockdown.config.policy import Policy  # noqa: PLC0415

        return Policy()

    @property
    def approvals_path(self) -> Path:
        """The approvals file."""
        return self.project_dir / self.policy.approvals

    @property
    def output_path(self) -> Path:
        """Where the lock file lives."""
        return self.project_dir / self.output

    @property
    def conda_output_path(self) -> Path:
        """Where the conda lock file lives (``[tool.lockdown.conda] output``)."""
        from lockdown.config.conda import CONDA_LOCK  # noqa: PLC0415 - conda projects only

        return self.project_dir / (self.conda.output if self.conda is not None else CONDA_LOCK)


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into one line naming the file (and line)."""
    from lockdown.fsutil import MAX_SETTINGS_BYTES  # noqa: PLC0415

    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SETTINGS_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_SETTINGS_BYTES:
        raise InputError(f"{path}: larger than {MAX_SETTINGS_BYTES >> 20} MB; refused")
    try:
        parsed: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text", hint="save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}", hint="fix the file and retry") from None
    except RecursionError:
        raise InputError(f"{path}: nested too deeply", hint="fix the file and retry") from None
    return parsed


def find_config_file(project_dir: Path) -> Path:
    """Return the file that configures the project in ``project_dir``."""
    standalone = project_dir / STANDALONE
    pyproject = project_dir / PYPROJECT
    if standalone.is_file():
        return standalone
    if pyproject.is_file():
        return pyproject
    raise InputError(
        f"no {PYPROJECT} or {STANDALONE} in {project_dir}",
        hint="run lockdown in your project directory or pass --project DIR",
    )


def load_config(project_dir: Path, *, lock_settings: bool = True) -> tuple[Config, dict[str, Any]]:
    """Load and validate the configuration of the project in ``project_dir``.

    Returns the config and the parsed pyproject.toml (empty when the project
    has none), so the caller reads the project's inputs from the same bytes.
    ``lock_settings`` as in :func:`parse_config`.
    """
    project_dir = project_dir.resolve()
    source = find_config_file(project_dir)
    pyproject_path = project_dir / PYPROJECT
    pyproject: dict[str, Any] = read_toml(pyproject_path) if pyproject_path.is_file() else {}
    if source.name == STANDALONE:
        table = read_toml(source)
        where = STANDALONE
        if _tool_table(pyproject) is not None:
            raise ConfigError(
                f"{project_dir}: both {STANDALONE} and [tool.lockdown] in {PYPROJECT}",
                hint="keep the settings in one of them",
            )
    else:
        table = _tool_table(pyproject) or {}
        where = "[tool.lockdown]"
    config = parse_config(
        table, source=source, project_dir=project_dir, where=where, lock_settings=lock_settings
    )
    return config, pyproject


def _tool_table(pyproject: Mapping[str, Any]) -> dict[str, Any] | None:
    tool = pyproject.get("tool", {})
    if not isinstance(tool, dict):
        return None
    table = tool.get("lockdown")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{PYPROJECT}: tool.lockdown must be a table")
    return cast("dict[str, Any]", table)


def parse_config(
    table: Mapping[str, Any],
    *,
    source: Path,
    project_dir: Path,
    where: str = "[tool.lockdown]",
    lock_settings: bool = True,
) -> Config:
    """Validate a raw settings table into a :class:`Config`.

    With ``lock_settings=False`` (the commands that install, check or verify
    from a lock, which run on every host and from cron) the settings only
    ``lock`` uses — ``environments``, ``requires-python`` and the lock file
    name's PEP 751 form — are type-checked but not parsed with packaging:
    that import alone costs more than the rest of the command's start-up.
    Every other key is validated in full either way.
    """
    reject_unknown(table, KNOWN_KEYS, source=source, where=where)
    env_raw = table.get("environments")
    environments = (
        DEFAULT_ENVIRONMENTS
        if env_raw is None
        else tuple(
            marker(m, f"{where} environments[{i}]", source) if lock_settings else m
            for i, m in enumerate(string_list(env_raw, "environments", source))
        )
    )
    if env_raw is not None and not environments:
        raise ConfigError(f"{source}: {where} environments is empty", hint="list at least one")
    resolver = string(table.get("resolver", "uv"), "resolver", source)
    if resolver not in RESOLVERS:
        raise ConfigError(
            f"{source}: resolver {resolver!r} is not supported", hint="use 'uv' or 'pip-tools'"
        )
    output = string(table.get("output", "pylock.toml"), "output", source)
    if "/" in output or "\\" in output or not _lock_name(output, lock_settings):
        raise ConfigError(
            f"{source}: output {output!r} is not a PEP 751 lock file name",
            hint="use 'pylock.toml' or 'pylock.<name>.toml'",
        )
    requires_python = table.get("requires-python")
    if requires_python is not None:
        requires_python = string(requires_python, "requires-python", source)
        try:
            if lock_settings:
                # Imported here: reading config must stay cheap for the commands
                # (check, install, verify) that only need a path or two from it.
                from packaging.specifiers import SpecifierSet  # noqa: PLC0415

                SpecifierSet(requires_python)
        except ValueError:  # packaging's InvalidSpecifier
            raise ConfigError(
                f"{source}: requires-python {requires_python!r} is not a version specifier"
            ) from None
    trust_table = table.get("trust")
    trust = None
    if trust_table is not None:
        if not isinstance(trust_table, dict):
            raise ConfigError(f"{source}: {where} trust must be a table")
        from lockdown.config.trust import parse_trust  # noqa: PLC0415 - only when configured

        trust = parse_trust(trust_table, source=source, base=project_dir)
    install = table.get("install", {})
    if not isinstance(install, dict):
        raise ConfigError(f"{source}: {where} install must be a table")
    reject_unknown(install, INSTALL_KEYS, source=source, where=f"{where} install")
    installer = string(install.get("installer", "uv"), "install.installer", source)
    if installer not in ("uv", "pip"):
        raise ConfigError(
            f"{source}: install.installer {installer!r} is not supported", hint="use 'uv' or 'pip'"
        )
    keep = tuple(
        canonicalize_name(k)
        for k in string_list(install.get("keep", list(DEFAULT_KEEP)), "install.keep", source)
    )
    policy_table = table.get("policy")
    policy = None
    if policy_table is not None:
        if not isinstance(policy_table, dict):
            raise ConfigError(f"{source}: {where} policy must be a table")
        from lockdown.config.policy import parse_policy  # noqa: PLC0415

        policy = parse_policy(policy_table, source=source, where=f"{where} policy")
    conda = _conda(table.get("conda"), source=source, where=where)
    index, extra_index_urls, sources = _indexes(table, policy, source=source, where=where)
    return Config(
        audit=_audit(table.get("audit"), source=source, project_dir=project_dir, where=where),
        sources=sources,
        http=_http(table, source, where),
        conda=conda,
        policy_table=policy,
        installer=installer,
        keep=keep,
        trust=trust,
        source=source,
        project_dir=project_dir,
        environments=environments,
        environments_explicit=env_raw is not None,
        index_url=index,
        extra_index_urls=extra_index_urls,
        resolver=resolver,
        output=output,
        extras=_names_or_all(table.get("extras"), "extras", source),
        dependency_groups=_names_or_all(
            table.get("dependency-groups"), "dependency-groups", source
        ),
        default_groups=tuple(
            canonicalize_name(g)
            for g in string_list(table.get("default-groups", []), "default-groups", source)
        ),
        requirements=tuple(string_list(table.get("requirements", []), "requirements", source)),
        requires_python=requires_python,
    )


def _audit(table: object, *, source: Path, project_dir: Path, where: str) -> AuditSettings | None:
    """``[tool.lockdown.audit]``, validated by :mod:`lockdown.config.audit` when present."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: {where} audit must be a table")
    from lockdown.config.audit import parse_audit  # noqa: PLC0415 - only when configured

    return parse_audit(table, source=source, project_dir=project_dir, where=f"{where} audit")


def _conda(table: object, *, source: Path, where: str) -> CondaSettings | None:
    """``[tool.lockdown.conda]``, validated by :mod:`lockdown.config.conda` when present."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: {where} conda must be a table")
    from lockdown.config.conda import parse_conda  # noqa: PLC0415 - only when configured

    return parse_conda(table, source=source, where=f"{where} conda")


def _indexes(
    table: Mapping[str, Any], policy: Policy | None, *, source: Path, where: str
) -> tuple[str | None, tuple[str, ...], tuple[tuple[str, str], ...]]:
    """``index-url``, ``extra-index-urls`` and the ``sources`` pins to them."""
    raw = table.get("index-url")
    index = None if raw is None else parse_index_url(raw, "index-url", source)
    extra = tuple(
        parse_index_url(u, "extra-index-urls", source)
        for u in string_list(table.get("extra-index-urls", []), "extra-index-urls", source)
    )
    allowed = policy.allowed_indexes if policy is not None else ()
    sources = _sources(table.get("sources", {}), allowed=allowed, source=source, where=where)
    return index, extra, sources


def _sources(
    value: object, *, allowed: tuple[str, ...], source: Path, where: str
) -> tuple[tuple[str, str], ...]:
    """``[tool.lockdown.sources]``: ``NAME = "INDEX-URL"``, normalized and sorted by name.

    Whether each URL is one of the configured indexes is checked when locking
    (:func:`lockdown.policy.origins.check_pins`): with no ``index-url`` the
    default index is whatever pip says, and asking it here would slow every
    command that reads the config. A pin outside ``allowed-indexes`` could
    never be locked, so it is refused here.
    """
    if not isinstance(value, dict):
        raise ConfigError(f'{source}: {where} sources must be a table of NAME = "INDEX-URL"')
    if not value:
        return ()
    allowed_keys = {index_key(u) for u in allowed}
    pins: dict[str, str] = {}
    for raw_name, raw_url in value.items():
        key = f"{where} sources.{raw_name}"
        url = parse_index_url(raw_url, key, source)
        if allowed and index_key(url) not in allowed_keys:
            raise ConfigError(
                f"{source}: {key}: {url} is not in allowed-indexes",
                hint="pin it to an allowed index, or add this one to allowed-indexes",
            )
        name = canonicalize_name(str(raw_name))
        if name in pins:
            raise ConfigError(f"{source}: {key}: {name} is pinned twice (names are normalized)")
        pins[name] = url
    return tuple(sorted(pins.items()))


def _http(table: Mapping[str, Any], source: Path, where: str) -> HttpOverrides | None:
    if HTTP_KEYS.isdisjoint(table):
        return None
    from lockdown.config.http import parse_http_table  # noqa: PLC0415 - only when one is set

    return parse_http_table(table, source=source, where=where)


def _names_or_all(value: object, key: str, source: Path) -> tuple[str, ...] | None:
    if value is None or value == "all":
        return None
    return tuple(sorted({canonicalize_name(v) for v in string_list(value, key, source)}))


def _lock_name(name: str, exact: bool) -> bool:
    """Whether ``name`` is a PEP 751 lock file name (``exact``: by packaging's own rule)."""
    if exact:
        from packaging.pylock import is_valid_pylock_path  # noqa: PLC0415

        return is_valid_pylock_path(Path(name))
    return name.startswith("pylock.") and name.endswith(".toml")
