"""The origin rules (one index per package, shadows), pure: no index, no resolver."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockdown.errors import ConfigError
from lockdown.lock.model import LockedPackage
from lockdown.policy.gate import GateResult
from lockdown.policy.origins import (
    Pin,
    Shadow,
    check_pins,
    judge_origins,
    pins_for,
    shadows_in_lock,
    with_origins,
)

MAIN = "https://main.example/simple/"
EXTRA = "https://extra.example/simple/"


def state(name: str, version: str = "1.0", index: str | None = MAIN) -> LockedPackage:
    return LockedPackage(
        name=name, version=version, marker=None, index=index, wheels=(), sdist=None
    )


def test_an_unpinned_name_two_indexes_serve_is_blocked_with_the_sources_line() -> None:
    found = judge_origins(
        [state("acme-util", "9.9.9", MAIN)], pins={}, served={"acme-util": (MAIN, EXTRA)}
    )
    assert [(v.name, v.version, v.admitted, v.reason, v.fix) for v in found.verdicts] == [
        (
            "acme-util",
            "9.9.9",
            False,
            f"served by more than one index ({MAIN} and {EXTRA}) and not pinned, so its origin "
            f"is ambiguous (dependency confusion); pin it in [tool.lockdown.sources]: "
            f'acme-util = "{MAIN}"',
            f'acme-util = "{MAIN}"',
        )
    ]
    assert found.shadows == ()


def test_a_name_one_index_serves_is_not_judged() -> None:
    found = judge_origins([state("beta")], pins={}, served={"beta": (MAIN,)})
    assert (found.verdicts, found.shadows) == ((), ())


def test_a_pinned_name_others_serve_is_a_shadow_not_a_verdict() -> None:
    pins = {"acme-util": Pin(index=EXTRA, kind="sources")}
    found = judge_origins(
        [state("acme-util", "0.2.0", EXTRA)], pins=pins, served={"acme-util": (MAIN, EXTRA)}
    )
    assert found.verdicts == ()
    assert found.shadows == (
        Shadow(name="acme-util", version="0.2.0", index=EXTRA, others=(MAIN,), kind="sources"),
    )
    described = found.shadows[0].describe()
    assert described == (
        f"acme-util is also published on {MAIN}; ignored, locked 0.2.0 from {EXTRA} "
        "(pinned in [tool.lockdown.sources])"
    )


def test_a_shadow_names_the_other_index_latest_version_when_known() -> None:
    shadow = Shadow(
        name="acme-util",
        version="0.2.0",
        index=EXTRA,
        others=(MAIN,),
        kind="lock",
        latest={MAIN: "9.9.9"},
    )
    assert shadow.describe() == (
        f"acme-util 9.9.9 is also published on {MAIN}; ignored, locked 0.2.0 from {EXTRA} "
        "(kept from the lock)"
    )


def test_a_package_resolved_away_from_its_sources_pin_is_blocked() -> None:
    pins = {"acme-util": Pin(index=EXTRA, kind="sources")}
    found = judge_origins(
        [state("acme-util", "9.9.9", MAIN)], pins=pins, served={"acme-util": (MAIN, EXTRA)}
    )
    assert [v.reason for v in found.verdicts] == [
        f"resolved from {MAIN}, but [tool.lockdown.sources] pins it to {EXTRA} (the resolver "
        "took it from the other index; pin its version, or use resolver = 'uv', which "
        "resolves it from its pin only)"
    ]


def test_a_move_away_from_the_locked_index_is_left_to_the_gate() -> None:
    # The gate's index change judges it (it needs an approval); not judged twice.
    pins = {"acme-util": Pin(index=EXTRA, kind="lock")}
    found = judge_origins(
        [state("acme-util", "9.9.9", MAIN)], pins=pins, served={"acme-util": (MAIN, EXTRA)}
    )
    assert (found.verdicts, found.shadows) == ((), ())


def test_sources_pins_win_over_the_previous_lock_and_unknown_indexes_pin_nothing() -> None:
    previous = [
        state("acme-util", "0.2.0", MAIN),
        state("beta", "1.0", "HTTPS://MAIN.example/simple"),
        state("gone", "1.0", "https://removed.example/simple/"),
    ]
    pins = pins_for([("acme-util", EXTRA)], previous, (MAIN, EXTRA))
    assert pins == {
        "acme-util": Pin(index=EXTRA, kind="sources"),
        "beta": Pin(index=MAIN, kind="lock"),
    }


def test_check_pins_names_the_key_of_an_unconfigured_index() -> None:
    with pytest.raises(ConfigError) as error:
        check_pins(
            [("acme-util", "https://other.example/simple/")],
            (MAIN, EXTRA),
            source=Path("pyproject.toml"),
            where="[tool.lockdown]",
        )
    assert error.value.message == (
        "pyproject.toml: [tool.lockdown] sources.acme-util: https://other.example/simple/ is "
        f"not one of the configured indexes ({MAIN}, {EXTRA})"
    )
    check_pins(
        [("acme-util", "https://EXTRA.example/simple")], (MAIN, EXTRA), source=Path("x"), where=""
    )


def test_shadows_in_lock_read_what_the_lock_recorded() -> None:
    recorded = LockedPackage(
        name="acme-util",
        version="0.2.0",
        marker=None,
        index=EXTRA,
        wheels=(),
        sdist=None,
        also_served_by=(MAIN,),
    )
    assert shadows_in_lock([recorded, state("beta")], {"acme-util": EXTRA}) == (
        Shadow(name="acme-util", version="0.2.0", index=EXTRA, others=(MAIN,), kind="sources"),
    )
    result = with_origins(
        GateResult(changes=(), verdicts=()),
        judge_origins([recorded], pins={}, served={"acme-util": (MAIN, EXTRA)}),
    )
    assert [v.name for v in result.blocked] == ["acme-util"]
