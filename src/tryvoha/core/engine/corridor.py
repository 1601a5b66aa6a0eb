"""
Corridors: where a threat can be before its track is dropped, as plane polygons.

A corridor is the convex hull of two disks (WarnGen's trapezoid, DESIGN §6): one around the
reported position whose radius covers the position error plus everywhere the threat can
reach within the lead time whatever its heading, and one `length` ahead along the course,
wider by `length x tan(turn)`. Built for a whole batch at once with numpy; each arc's
vertices lie on a circle slightly larger than the disk, so the polygon contains it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

Floats = npt.NDArray[np.float64]
ARC_VERTICES = 16
_ARC = np.linspace(0.0, 1.0, ARC_VERTICES)
_CIRCLE = np.linspace(0.0, 2 * np.pi, 2 * ARC_VERTICES, endpoint=False)


def _circumscribed(radius: Floats, vertices: int, span: Floats) -> Floats:
    # A chord-polygon lies inside its circle; pushing vertices out by 1/cos(half-step) makes
    # the polygon contain the whole disk instead.
    step = span / max(vertices - 1, 1)
    return radius / np.cos(np.minimum(step, np.pi / 2 - 1e-6) / 2)


def corridors(
    x: Floats,
    y: Floats,
    angle: Floats,
    near_radius: Floats,
    length: Floats,
    turn_rad: Floats,
) -> npt.NDArray[np.object_]:
    """
    One polygon per track: hull of disk(position, near_radius) and disk(position + length
    along *angle*, near_radius + length x tan(turn)). A NaN angle (course unknown) or a zero
    length gives the disk that holds the whole hull in every direction.
    """
    n = x.size
    far_radius = near_radius + length * np.tan(turn_rad)
    heading_known = np.isfinite(angle) & (length > 0)
    safe_angle = np.where(heading_known, angle, 0.0)
    # sin(alpha) = (r2 - r1) / D = tan(turn): the tangent lines' tilt against the course.
    alpha = np.arcsin(np.clip(np.tan(turn_rad), 0.0, 1.0 - 1e-9))
    front_span = np.pi + 2 * alpha
    back_span = np.pi - 2 * alpha
    t = _ARC
    front_theta = (safe_angle - np.pi / 2 - alpha)[:, None] + front_span[:, None] * t[None, :]
    back_theta = (safe_angle + np.pi / 2 + alpha)[:, None] + back_span[:, None] * t[None, :]
    r_front = _circumscribed(far_radius, ARC_VERTICES, front_span)[:, None]
    r_back = _circumscribed(near_radius, ARC_VERTICES, back_span)[:, None]
    fx = (x + length * np.cos(safe_angle))[:, None]
    fy = (y + length * np.sin(safe_angle))[:, None]
    coords = np.empty((n, 2 * ARC_VERTICES + 1, 2), dtype=np.float64)
    coords[:, :ARC_VERTICES, 0] = fx + r_front * np.cos(front_theta)
    coords[:, :ARC_VERTICES, 1] = fy + r_front * np.sin(front_theta)
    coords[:, ARC_VERTICES:-1, 0] = x[:, None] + r_back * np.cos(back_theta)
    coords[:, ARC_VERTICES:-1, 1] = y[:, None] + r_back * np.sin(back_theta)
    coords[:, -1] = coords[:, 0]
    result: npt.NDArray[np.object_] = shapely.polygons(coords)
    if not heading_known.all():
        free = ~heading_known
        result[free] = disks(x[free], y[free], near_radius[free] + length[free])
    return result


def disks(x: Floats, y: Floats, radius: Floats) -> npt.NDArray[np.object_]:
    """Polygons that contain the disks of *radius* around each point."""
    vertices = 2 * ARC_VERTICES
    theta = _CIRCLE
    r = (radius / np.cos(np.pi / vertices))[:, None]
    coords = np.empty((x.size, vertices + 1, 2), dtype=np.float64)
    coords[:, :-1, 0] = x[:, None] + r * np.cos(theta)[None, :]
    coords[:, :-1, 1] = y[:, None] + r * np.sin(theta)[None, :]
    coords[:, -1] = coords[:, 0]
    polygons: npt.NDArray[np.object_] = shapely.polygons(coords)
    return polygons
