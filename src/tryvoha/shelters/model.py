"""
A shelter, and a shelter found near a point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

WALKING_M_PER_HOUR = 5000
"""An ordinary adult pace, 5 km/h: about 83 metres a minute."""


@dataclass(frozen=True, slots=True)
class Shelter:
    id: str
    name_uk: str
    name_en: str
    lat: float
    lon: float
    kind: str
    """What the source says it is: `subway`, `bomb_shelter`, `bunker`, or just `shelter`."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name_uk": self.name_uk,
            "name_en": self.name_en,
            "lat": self.lat,
            "lon": self.lon,
            "kind": self.kind,
        }


@dataclass(frozen=True, slots=True)
class Nearby:
    shelter: Shelter
    distance_m: float
    """Along the Earth's surface (haversine), not along streets."""

    @property
    def walking_minutes(self) -> int:
        """Whole minutes at `WALKING_M_PER_HOUR`, rounded up: a shelter is never nearer."""
        return max(1, math.ceil(self.distance_m * 60 / WALKING_M_PER_HOUR))

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.shelter.to_dict(),
            "distance_m": round(self.distance_m),
            "walking_minutes": self.walking_minutes,
        }
