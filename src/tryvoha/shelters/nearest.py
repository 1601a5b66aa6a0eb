"""
Nearest shelters to a point: great-circle distance to every shelter at once, with numpy.

A full scan is the right tool at this size: 14,000 shelters (all of Ukraine in
OpenStreetMap) take well under a millisecond, with no index to keep in step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tryvoha.shelters.model import Nearby, Shelter

EARTH_RADIUS_M = 6_371_008.8
"""The mean radius (IUGG)."""

Floats = npt.NDArray[np.float64]


def haversine_m(lat: float, lon: float, lats: Floats, lons: Floats) -> Floats:
    """
    Metres from (lat, lon) to each of (lats, lons), in degrees, on a spherical Earth.
    """
    phi1 = np.radians(lat)
    phi2 = np.radians(lats)
    dphi = phi2 - phi1
    dlambda = np.radians(lons - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2) ** 2
    distances: Floats = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return distances


class ShelterIndex:
    """
    An immutable snapshot of shelters, answering "which are nearest to this point".
    """

    def __init__(self, shelters: Sequence[Shelter]) -> None:
        self._shelters = tuple(shelters)
        self._lats = np.array([s.lat for s in shelters], dtype=np.float64)
        self._lons = np.array([s.lon for s in shelters], dtype=np.float64)

    def __len__(self) -> int:
        return len(self._shelters)

    def nearest(
        self, lat: float, lon: float, n: int, max_distance_m: float | None = None
    ) -> list[Nearby]:
        """
        Up to *n* shelters, nearest first (ties by id), within *max_distance_m* if given.
        """
        if n <= 0 or not self._shelters:
            return []
        distances = haversine_m(lat, lon, self._lats, self._lons)
        candidates = np.arange(distances.size)
        if n < distances.size:
            candidates = np.argpartition(distances, n - 1)[:n]
        found = [Nearby(self._shelters[i], float(distances[i])) for i in candidates]
        found.sort(key=lambda near: (near.distance_m, near.shelter.id))
        if max_distance_m is not None:
            found = [near for near in found if near.distance_m <= max_distance_m]
        return found
