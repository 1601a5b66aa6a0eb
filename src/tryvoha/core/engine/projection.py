"""
A metric plane for the engine: the spherical azimuthal equidistant projection.

Centred on Ukraine, it keeps distances within 0.3 % out to 800 km from the centre, far below
a track's position error, and needs no projection library. Courses are turned into plane
angles point by point, because the plane's "up" drifts from true north away from the
central meridian (by about 7° at the western border).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Projection:
    lat0: float = 48.4
    lon0: float = 31.2

    def forward(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
        """Plane coordinates in metres of points given in degrees."""
        lam = np.radians(np.asarray(lon, dtype=np.float64)) - np.radians(self.lon0)
        phi = np.radians(np.asarray(lat, dtype=np.float64))
        phi0 = np.radians(self.lat0)
        cos_c = np.sin(phi0) * np.sin(phi) + np.cos(phi0) * np.cos(phi) * np.cos(lam)
        c = np.arccos(np.clip(cos_c, -1.0, 1.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            k = np.where(c > 1e-12, c / np.sin(c), 1.0)
        x = EARTH_RADIUS_M * k * np.cos(phi) * np.sin(lam)
        y = (
            EARTH_RADIUS_M
            * k
            * (np.cos(phi0) * np.sin(phi) - np.sin(phi0) * np.cos(phi) * np.cos(lam))
        )
        return x, y

    def inverse(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[Floats, Floats]:
        """Longitudes and latitudes in degrees of plane points."""
        xs = np.asarray(x, dtype=np.float64)
        ys = np.asarray(y, dtype=np.float64)
        rho = np.hypot(xs, ys)
        c = rho / EARTH_RADIUS_M
        phi0 = np.radians(self.lat0)
        with np.errstate(invalid="ignore", divide="ignore"):
            sin_phi = np.where(
                rho > 1e-9,
                np.cos(c) * np.sin(phi0) + ys * np.sin(c) * np.cos(phi0) / rho,
                np.sin(phi0),
            )
        phi = np.arcsin(np.clip(sin_phi, -1.0, 1.0))
        lam = np.arctan2(
            xs * np.sin(c), rho * np.cos(phi0) * np.cos(c) - ys * np.sin(phi0) * np.sin(c)
        )
        return np.degrees(lam) + self.lon0, np.degrees(phi)

    def plane_angle(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike, course_deg: npt.ArrayLike
    ) -> Floats:
        """
        The plane angle (radians, counter-clockwise from +x) of a course given in degrees
        clockwise from true north at each point.
        """
        lon_a = np.asarray(lon, dtype=np.float64)
        lat_a = np.asarray(lat, dtype=np.float64)
        ahead_lon, ahead_lat = destination(lon_a, lat_a, course_deg, 1000.0)
        x0, y0 = self.forward(lon_a, lat_a)
        x1, y1 = self.forward(ahead_lon, ahead_lat)
        return np.arctan2(y1 - y0, x1 - x0)

    def geometry(self, geom: BaseGeometry) -> BaseGeometry:
        """A lon/lat geometry in plane metres."""

        def to_plane(coords: Floats) -> Floats:
            x, y = self.forward(coords[:, 0], coords[:, 1])
            return np.column_stack((x, y))

        return shapely.transform(geom, to_plane)


def destination(
    lon: npt.ArrayLike, lat: npt.ArrayLike, course_deg: npt.ArrayLike, distance_m: npt.ArrayLike
) -> tuple[Floats, Floats]:
    """Where a great-circle path from each point ends after *distance_m* on *course_deg*."""
    phi1 = np.radians(np.asarray(lat, dtype=np.float64))
    lam1 = np.radians(np.asarray(lon, dtype=np.float64))
    theta = np.radians(np.asarray(course_deg, dtype=np.float64))
    d = np.asarray(distance_m, dtype=np.float64) / EARTH_RADIUS_M
    phi2 = np.arcsin(np.sin(phi1) * np.cos(d) + np.cos(phi1) * np.sin(d) * np.cos(theta))
    lam2 = lam1 + np.arctan2(
        np.sin(theta) * np.sin(d) * np.cos(phi1), np.cos(d) - np.sin(phi1) * np.sin(phi2)
    )
    return np.degrees(lam2), np.degrees(phi2)


def course_between(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> Floats:
    """The initial great-circle course (degrees clockwise from north) from 1 towards 2."""
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlam = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    y = np.sin(dlam) * np.cos(phi2)
    x = np.cos(phi1) * np.sin(phi2) - np.sin(phi1) * np.cos(phi2) * np.cos(dlam)
    course: Floats = np.degrees(np.arctan2(y, x)) % 360.0
    return course


def great_circle_m(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> Floats:
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dphi = phi2 - phi1
    dlam = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    distance: Floats = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return distance
