"""The one validation helper and the registry behaviour every package relies on."""

from __future__ import annotations

import dataclasses
import math

import pytest

from devices.registry import DuplicateNameError, Registry, UnknownNameError
from devices.validation import ConfigError, describe_fields, param, require, validate


@dataclasses.dataclass(frozen=True)
class Cell:
    g_max_S: float = param(25e-6, unit="S", gt=0.0, le=1e-3)
    levels: int = param(16, integer=True, ge=2)
    mode: str = param("diff", choices=("diff", "offset"))
    limit: int | None = param(None, integer=True, ge=1, optional=True)

    def __post_init__(self) -> None:
        validate(self)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"g_max_S": -2e-5}, "Cell.g_max_S must be in (0, 0.001] S; got -2e-05"),
        ({"g_max_S": math.nan}, "Cell.g_max_S must be in (0, 0.001] S; got nan"),
        ({"g_max_S": "big"}, "Cell.g_max_S must be in (0, 0.001] S; got 'big'"),
        ({"levels": 1}, "Cell.levels must be an integer >= 2; got 1"),
        ({"levels": 2.5}, "Cell.levels must be an integer >= 2; got 2.5"),
        ({"levels": True}, "Cell.levels must be an integer >= 2; got True"),
        ({"mode": "x"}, "Cell.mode must be one of 'diff', 'offset'; got 'x'"),
        ({"limit": 0}, "Cell.limit must be an integer >= 1; got 0"),
        ({"g_max_S": None}, "Cell.g_max_S must be set; got None"),
    ],
)
def test_messages_name_field_value_and_allowed(kwargs, message):
    with pytest.raises(ConfigError) as info:
        Cell(**kwargs)
    assert str(info.value) == message


def test_valid_values_pass_and_fields_describe_themselves():
    Cell(g_max_S=1e-3, levels=2, limit=None)
    rows = {r["name"]: r for r in describe_fields(Cell)}
    assert rows["g_max_S"]["allowed"] == "in (0, 0.001] S"
    assert rows["mode"]["allowed"] == "'diff', 'offset'"


def test_require():
    with pytest.raises(ConfigError, match=r"^Cell.g_min must be < g_max; got 3$"):
        require(False, "Cell", "g_min", 3, "< g_max")
    require(True, "Cell", "g_min", 3, "< g_max")


def test_registry():
    r: Registry[int] = Registry("thing")
    r.register("a", 1)
    with pytest.raises(DuplicateNameError, match="thing 'a' is already registered"):
        r.register("a", 2)
    r.register("a", 3, replace=True)
    assert r.get("a") == 3 and "a" in r and len(r) == 1 and list(r) == ["a"]
    with pytest.raises(UnknownNameError, match="unknown thing 'b'; valid: a"):
        r.get("b")
    with pytest.raises(ConfigError, match="thing name must be a non-empty string; got ' a'"):
        r.register(" a", 1)
    r.unregister("a")
    with pytest.raises(UnknownNameError, match=r"valid: \(none registered\)"):
        r.get("a")
