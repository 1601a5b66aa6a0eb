"""
Nearest shelters: great-circle distances, ordering, walking minutes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.web.conftest import KHRESHCHATYK_POINT, MAIDAN_POINT
from tryvoha.shelters.model import Nearby, Shelter
from tryvoha.shelters.nearest import ShelterIndex, haversine_m


def test_haversine_matches_known_distances() -> None:
    # One degree of latitude is 111.2 km on the mean sphere; Kyiv to Lviv is about 468 km.
    one_degree = haversine_m(50.0, 30.0, np.array([51.0]), np.array([30.0]))[0]
    assert one_degree == pytest.approx(111_195, rel=1e-4)
    kyiv_lviv = haversine_m(50.4501, 30.5234, np.array([49.8397]), np.array([24.0297]))[0]
    assert kyiv_lviv == pytest.approx(468_000, rel=0.01)


@given(
    st.floats(-89, 89),
    st.floats(-179, 179),
    st.floats(-89, 89),
    st.floats(-179, 179),
)
def test_haversine_is_symmetric_and_bounded(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    there = haversine_m(lat1, lon1, np.array([lat2]), np.array([lon2]))[0]
    back = haversine_m(lat2, lon2, np.array([lat1]), np.array([lon1]))[0]
    assert there == pytest.approx(back, abs=1e-6)
    assert 0 <= there <= np.pi * 6_371_008.8 + 1


def test_nearest_in_central_kyiv(kyiv_centre: list[Shelter]) -> None:
    index = ShelterIndex(kyiv_centre)
    at_khreshchatyk = index.nearest(*KHRESHCHATYK_POINT, 3)
    assert [n.shelter.name_uk for n in at_khreshchatyk] == [
        "Хрещатик",
        "Майдан Незалежності",
        "Театральна",
    ]
    assert at_khreshchatyk[0].distance_m == pytest.approx(51, abs=2)
    at_maidan = index.nearest(*MAIDAN_POINT, 2)
    assert [n.shelter.name_en for n in at_maidan] == ["Independence Square", "Khreschatyk"]
    distances = [n.distance_m for n in index.nearest(*MAIDAN_POINT, 12)]
    assert distances == sorted(distances)


def test_n_larger_than_the_index_and_max_distance(kyiv_centre: list[Shelter]) -> None:
    index = ShelterIndex(kyiv_centre)
    assert len(index.nearest(*MAIDAN_POINT, 100)) == len(kyiv_centre)
    within = index.nearest(*MAIDAN_POINT, 100, max_distance_m=700)
    assert within and all(n.distance_m <= 700 for n in within)
    assert len(within) < len(kyiv_centre)
    assert index.nearest(49.84, 24.03, 3, max_distance_m=20_000) == []
    assert ShelterIndex([]).nearest(*MAIDAN_POINT, 3) == []
    assert index.nearest(*MAIDAN_POINT, 0) == []


def test_equal_distances_are_ordered_by_id() -> None:
    twins = [Shelter(sid, sid, sid, 50.0, 30.0, "shelter") for sid in ("b", "c", "a")]
    assert [n.shelter.id for n in ShelterIndex(twins).nearest(50.0, 30.0, 3)] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("metres", "minutes"),
    [(0, 1), (50, 1), (83, 1), (84, 2), (320, 4), (1000, 12), (5000, 60)],
)
def test_walking_minutes_round_up_at_five_km_an_hour(metres: float, minutes: int) -> None:
    shelter = Shelter("x", "x", "x", 0, 0, "shelter")
    assert Nearby(shelter, metres).walking_minutes == minutes
    assert Nearby(shelter, metres).to_dict()["walking_minutes"] == minutes
