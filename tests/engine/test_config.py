"""
The engine's parameter file: the shipped one parses, and mistakes are named.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import pytest

from tryvoha.core.engine import ConfigError, parse_config
from tryvoha.core.engine.config import config_from_mapping
from tryvoha.core.model import ThreatClass

TEXT = resources.files("tryvoha.data").joinpath("engine.toml").read_text("utf-8")


def shipped() -> dict[str, Any]:
    return tomllib.loads(TEXT)


def test_the_shipped_config_covers_every_class() -> None:
    config = parse_config(TEXT)
    assert set(config.classes) == set(ThreatClass)
    shahed = config.params(ThreatClass.SHAHED)
    assert shahed.v_max == pytest.approx(190 / 3.6)
    assert config.params(ThreatClass.BALLISTIC_MISSILE).immediate
    assert not shahed.immediate
    assert config.lead_time("31") == 600
    assert config.lead_time("14") == config.lead_time_s
    assert config.max_lead_time_s == 600


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        pytest.param(
            ("engine", "margin_s"), -1, "engine.margin_s: must be positive", id="negative"
        ),
        pytest.param(
            ("engine", "lead_time_s"),
            "soon",
            "engine.lead_time_s: missing or not a number",
            id="text",
        ),
        pytest.param(
            ("classes", "shahed", "v_min_kmh"),
            500,
            "classes.shahed: v_min_kmh is above v_max_kmh",
            id="speeds",
        ),
        pytest.param(
            ("classes", "shahed", "turn_deg"), 95, "turn_deg: must be below 90", id="turn"
        ),
        pytest.param(
            ("classes", "shahed", "immediate"), "yes", "immediate: must be true or false", id="flag"
        ),
        pytest.param(
            ("escalation", "raion_fraction"),
            1.5,
            "escalation.raion_fraction: must be in",
            id="fraction",
        ),
        pytest.param(
            ("escalation", "release_fraction"),
            0.99,
            "release_fraction: must not exceed",
            id="release",
        ),
    ],
)
def test_bad_values_are_named(path: tuple[str, ...], value: object, message: str) -> None:
    data = shipped()
    table = data
    for key in path[:-1]:
        table = table[key]
    table[path[-1]] = value
    with pytest.raises(ConfigError, match=message):
        config_from_mapping(data)


def test_a_missing_class_or_an_unknown_one_is_named() -> None:
    data = shipped()
    del data["classes"]["aircraft"]
    with pytest.raises(ConfigError, match=r"classes\.aircraft: missing table"):
        config_from_mapping(data)
    data = shipped()
    data["classes"]["balloon"] = data["classes"]["shahed"]
    with pytest.raises(ConfigError, match="unknown threat classes"):
        config_from_mapping(data)


def test_not_toml_at_all() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("engine = [")
