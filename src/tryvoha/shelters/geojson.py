"""
Reading shelters from a GeoJSON FeatureCollection of points (an OpenStreetMap export or any
file with the same tags).

Names come from `name:uk`, `name:en` and `name`; the id from the feature's `id`, its `@id`
or `id` property, else from its name and position. A feature is rejected, with a reason,
when it is not a valid point, has no name, is tagged as not built yet or no longer used, or
is a kind of shelter that protects from weather and not from blasts (a bus stop, a gazebo).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from tryvoha.shelters.model import Shelter

NOT_PROTECTIVE = frozenset(
    {
        "public_transport",
        "picnic_shelter",
        "gazebo",
        "weather_shelter",
        "lean_to",
        "sun_shelter",
        "field_shelter",
        "rock_shelter",
        "pavilion",
        "basic_hut",
        "changing_rooms",
    }
)
"""OpenStreetMap `shelter_type` values of roofs against rain and sun."""

_LIFECYCLE_PREFIXES = ("construction", "proposed", "disused", "abandoned", "demolished")
_KIND_TAGS = ("shelter_type", "station", "military", "bunker_type", "building", "amenity")
EXAMPLES_PER_REASON = 3


class ShelterFileError(ValueError):
    """The file as a whole is unreadable: not JSON, or not a FeatureCollection."""


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str
    feature: str
    """How to find the feature in the file: its id, name or position in the list."""


@dataclass(slots=True)
class ReadResult:
    shelters: list[Shelter] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def rejected_by_reason(self) -> dict[str, list[str]]:
        """Each reason with the features it rejected, most frequent reason first."""
        counts = Counter(r.reason for r in self.rejected)
        grouped: dict[str, list[str]] = {reason: [] for reason, _ in counts.most_common()}
        for rejection in self.rejected:
            grouped[rejection.reason].append(rejection.feature)
        return grouped


def read_shelters(data: bytes) -> ReadResult:
    """
    The shelters of a GeoJSON document, and the features left out with why.
    """
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ShelterFileError(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ShelterFileError("not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise ShelterFileError("the FeatureCollection has no `features` list")
    result = ReadResult()
    seen: set[str] = set()
    for position, feature in enumerate(features):
        shelter, reason = _read_feature(feature)
        if shelter is not None and shelter.id in seen:
            shelter, reason = None, "duplicate id"
        if shelter is None:
            result.rejected.append(Rejection(reason, _describe(feature, position)))
            continue
        seen.add(shelter.id)
        result.shelters.append(shelter)
    return result


def _read_feature(feature: Any) -> tuple[Shelter | None, str]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None, "not a GeoJSON Feature"
    properties = feature.get("properties")
    tags: dict[str, Any] = properties if isinstance(properties, dict) else {}
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None, "not a Point"
    position = _position(geometry.get("coordinates"))
    if position is None:
        return None, "invalid coordinates"
    lon, lat = position
    name_uk = _text(tags, "name:uk") or _text(tags, "name")
    name_en = _text(tags, "name:en") or _text(tags, "int_name") or name_uk
    if not name_uk:
        return None, "no name"
    unusable = _unusable(tags)
    if unusable:
        return None, unusable
    shelter_id = _text(feature, "id") or _text(tags, "@id") or _text(tags, "id")
    if not shelter_id:
        digest = hashlib.sha256(f"{lat:.6f},{lon:.6f},{name_uk}".encode()).hexdigest()
        shelter_id = f"point/{digest[:16]}"
    return Shelter(shelter_id, name_uk, name_en, lat, lon, _kind(tags)), ""


def _position(coordinates: Any) -> tuple[float, float] | None:
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return None
    lon, lat = coordinates[0], coordinates[1]
    if isinstance(lon, bool) or isinstance(lat, bool):
        return None
    if not isinstance(lon, int | float) or not isinstance(lat, int | float):
        return None
    lon, lat = float(lon), float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _text(tags: dict[str, Any], key: str) -> str:
    value = tags.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _unusable(tags: dict[str, Any]) -> str:
    # OpenStreetMap lifecycle tagging: `railway=construction`, `construction=station`,
    # `disused=yes`, `abandoned:amenity=shelter` all mean nobody can shelter there now.
    for key, value in tags.items():
        prefix = key.partition(":")[0]
        if prefix in _LIFECYCLE_PREFIXES and value not in ("no", ""):
            return f"not in use ({key}={value})"
        if isinstance(value, str) and value in _LIFECYCLE_PREFIXES and key != "note":
            return f"not in use ({key}={value})"
    shelter_type = _text(tags, "shelter_type")
    if shelter_type in NOT_PROTECTIVE:
        return f"not a protective shelter (shelter_type={shelter_type})"
    return ""


def _kind(tags: dict[str, Any]) -> str:
    for key in _KIND_TAGS:
        value = _text(tags, key)
        if value and value != "yes":
            return value
    return "shelter"


def _describe(feature: Any, position: int) -> str:
    if isinstance(feature, dict):
        properties = feature.get("properties")
        tags = properties if isinstance(properties, dict) else {}
        key = _text(feature, "id") or _text(tags, "@id") or _text(tags, "id")
        name = _text(tags, "name:uk") or _text(tags, "name")
        if key and name:
            return f"{key} «{name}»"
        if key or name:
            return key or f"«{name}»"
    return f"feature #{position + 1}"
