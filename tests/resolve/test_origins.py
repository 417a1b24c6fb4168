"""The shadow check's questions against two real local indexes: served, 404, unreachable."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from lockdown.errors import PackageIndexError
from lockdown.resolve.origins import indexes_serving, latest_versions
from tests.support.pkgindex import PackageIndex


def test_each_name_maps_to_the_indexes_serving_it_in_config_order(tmp_path: Path) -> None:
    with PackageIndex(tmp_path / "a") as a, PackageIndex(tmp_path / "b") as b:
        a.add("only-a", "1.0")
        b.add("only-b", "1.0")
        a.add("both", "1.0")
        b.add("both", "9.9.9")
        served = indexes_serving(
            {"only-a": None, "Only_B": None, "both": None, "neither": None}, [a.url, b.url]
        )
        assert served == {
            "both": (a.url, b.url),
            "neither": (),
            "only-a": (a.url,),
            "only-b": (b.url,),
        }
        assert latest_versions("both", [b.url, a.url]) == {b.url: "9.9.9", a.url: "1.0"}


def test_the_index_a_name_came_from_is_not_asked_again(tmp_path: Path) -> None:
    with PackageIndex(tmp_path / "a") as a, PackageIndex(tmp_path / "b") as b:
        a.add("alpha", "1.0")
        served = indexes_serving({"alpha": a.url}, [a.url, b.url])
        assert served == {"alpha": (a.url,)}
        assert a.requests == []
        assert b.requests == ["/simple/alpha/"]


def test_one_index_asks_nothing(tmp_path: Path) -> None:
    with PackageIndex(tmp_path / "a") as a:
        assert indexes_serving({"alpha": None}, [a.url]) == {"alpha": (a.url,)}
        assert a.requests == []


def test_an_index_that_cannot_answer_stops_the_check(tmp_path: Path) -> None:
    # Fail closed: an index that cannot be asked cannot be ruled out.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/simple/"
    with PackageIndex(tmp_path / "a") as a:
        a.add("alpha", "1.0")
        with pytest.raises(PackageIndexError) as error:
            indexes_serving({"alpha": a.url}, [a.url, dead])
    assert error.value.message.startswith(f"cannot reach package index {dead}")
