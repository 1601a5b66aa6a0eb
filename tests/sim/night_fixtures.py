"""
Small scenarios for tests, built like the shipped night but a fraction of its size.
"""

from __future__ import annotations

from typing import Any

from tryvoha.sim.scenario import Scenario, common_table, parse_scenario


def group(
    name: str, threat: str, count: int, fates: dict[str, int], **extra: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "class": threat,
        "count": count,
        "launch_from": {"kursk": 1, "bryansk": 1, "oryol": 1},
        "launch_start": "2025-07-03T20:00:00Z",
        "launch_end": "2025-07-03T21:00:00Z",
        "targets": {"kyiv": 2, "sumy": 1, "chernihiv": 1, "poltava": 1},
        "speed_kmh": [150, 185],
        "doglegs": [1, 2],
        "fates": fates,
    }
    data.update(extra)
    return data


def table(name: str, groups: list[dict[str, Any]], end: str, seed: int) -> dict[str, Any]:
    return {
        "name": name,
        "start": "2025-07-03T19:55:00Z",
        "end": end,
        "seed": seed,
        "groups": groups,
    }


def reduced_night() -> Scenario:
    """
    A slice of 2025-07-04 in 3.5 hours: 40 drones, a cruise and a ballistic missile (the
    night's mix: about one ballistic missile for 80 drones, so this slice has more).
    """
    groups = [
        group(
            "Shahed-136/131",
            "shahed",
            40,
            {"impact": 10, "destroyed": 16, "lost": 14},
            launch_end="2025-07-03T20:30:00Z",
        ),
        group(
            "Iskander-K",
            "cruise_missile",
            2,
            {"impact": 1, "destroyed": 1},
            launch_from={"kursk": 1},
            launch_start="2025-07-03T21:30:00Z",
            launch_end="2025-07-03T21:40:00Z",
            targets={"kyiv": 1},
            speed_kmh=[800, 950],
            doglegs=[0, 1],
        ),
        group(
            "Iskander-M",
            "ballistic_missile",
            2,
            {"impact": 2},
            launch_from={"bryansk": 1},
            launch_start="2025-07-03T21:30:00Z",
            launch_end="2025-07-03T21:40:00Z",
            targets={"kyiv": 1},
            speed_kmh=[4500, 6000],
            doglegs=[0, 0],
        ),
    ]
    return parse_scenario(table("reduced", groups, "2025-07-03T23:30:00Z", 11), common_table())


def tiny_table() -> dict[str, Any]:
    """Six drones from Kursk at Sumy, an hour and a half: for command-line tests."""
    groups = [
        group(
            "drones",
            "shahed",
            6,
            {"impact": 2, "destroyed": 2, "lost": 2},
            launch_from={"kursk": 1},
            launch_end="2025-07-03T20:15:00Z",
            targets={"sumy": 1},
        )
    ]
    return table("tiny", groups, "2025-07-03T21:30:00Z", 5)
