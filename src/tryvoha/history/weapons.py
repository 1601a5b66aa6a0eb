"""
Which class of weapon an attacks-register `model` is: drone, cruise or ballistic missile...

The reference table `missiles_and_uavs.csv` (its `model` and `category` columns) decides when
it is given. Models missing from it are classified by rule:

- a combined model, "A and B" (e.g. "Iskander-M and Iskander-K"), takes its parts' class when
  they agree, `mixed_missile` when they are missiles of different kinds, `unknown` otherwise;
- otherwise, by well-known names and words in the model (`KNOWN_MODELS`), so that the register
  is usable without the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

import pandas as pd


class WeaponClass(StrEnum):
    UAV = "uav"
    CRUISE_MISSILE = "cruise_missile"
    BALLISTIC_MISSILE = "ballistic_missile"
    MIXED_MISSILE = "mixed_missile"
    """One row counting missiles of several kinds together."""
    SURFACE_TO_AIR_MISSILE = "surface_to_air_missile"
    """S-300/S-400 missiles fired at ground targets."""
    GUIDED_BOMB = "guided_bomb"
    UNKNOWN = "unknown"


DRONES = frozenset({WeaponClass.UAV})
MISSILES = frozenset(
    {
        WeaponClass.CRUISE_MISSILE,
        WeaponClass.BALLISTIC_MISSILE,
        WeaponClass.MIXED_MISSILE,
        WeaponClass.SURFACE_TO_AIR_MISSILE,
    }
)

CATEGORIES = {
    "uav": WeaponClass.UAV,
    "cruise missile": WeaponClass.CRUISE_MISSILE,
    "ballistic missile": WeaponClass.BALLISTIC_MISSILE,
    "surface-to-air missile": WeaponClass.SURFACE_TO_AIR_MISSILE,
    "surface-to-air and ballistic": WeaponClass.MIXED_MISSILE,
    "guided bomb": WeaponClass.GUIDED_BOMB,
}
"""The reference table's `category` values."""

KNOWN_MODELS: tuple[tuple[str, WeaponClass], ...] = (
    # Checked in order; the first pattern found in the model decides.
    (
        r"iskander-k|kalibr|x-101|x-555|x-22|x-32|x-35|x-59|x-69|x-31|oniks|zircon|banderol",
        WeaponClass.CRUISE_MISSILE,
    ),
    (r"iskander-m|kn-23|kinzhal|x-47|ballistic", WeaponClass.BALLISTIC_MISSILE),
    (r"c-300|c-400|s-300|s-400", WeaponClass.SURFACE_TO_AIR_MISSILE),
    (r"\bbomb\b|\bgbu\b|\bkab\b", WeaponClass.GUIDED_BOMB),
    (r"missile", WeaponClass.MIXED_MISSILE),
    # Картограф, Привет-82, Фенікс and Молнія are Russian reconnaissance and strike drones.
    (
        r"uav|drone|shahed|geran|lancet|orlan|zala|supercam|forpost|merlin|eleron|granat|"
        r"\bkub\b|mohajer|orion|картограф|привет|фенікс|молнія",
        WeaponClass.UAV,
    ),
)
_COMPILED = tuple((re.compile(pattern), cls) for pattern, cls in KNOWN_MODELS)


class WeaponTable:
    def __init__(self, categories: Mapping[str, str] | None = None) -> None:
        self._table: dict[str, WeaponClass] = {}
        for model, category in (categories or {}).items():
            cls = CATEGORIES.get(category.strip().casefold())
            if cls is not None:
                self._table[model.strip()] = cls

    @classmethod
    def from_csv(cls, path: Path) -> WeaponTable:
        """The reference table: a CSV with `model` and `category` columns."""
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = {"model", "category"} - set(frame.columns)
        if missing:
            raise ValueError(f"{path.name}: missing columns {', '.join(sorted(missing))}")
        return cls(dict(zip(frame["model"], frame["category"], strict=True)))

    def __len__(self) -> int:
        return len(self._table)

    def classify(self, model: str) -> WeaponClass:
        model = model.strip()
        known = self._table.get(model)
        if known is not None:
            return known
        parts = [p.strip() for p in model.split(" and ")]
        if len(parts) > 1:
            classes = {self.classify(p) for p in parts}
            if len(classes) == 1:
                return classes.pop()
            if classes <= MISSILES:
                return WeaponClass.MIXED_MISSILE
            return WeaponClass.UNKNOWN
        text = model.casefold()
        for pattern, cls in _COMPILED:
            if pattern.search(text):
                return cls
        return WeaponClass.UNKNOWN


def group_of(cls: WeaponClass) -> str:
    """The headline group: drones, missiles or other."""
    if cls in DRONES:
        return "drones"
    if cls in MISSILES:
        return "missiles"
    return "other"
