"""
The names the official sirens dataset gives regions, mapped to region ids.

`data/history_names.csv` (built by scripts/build_history_names.py) lists every oblast, raion
and hromada of the alert channel with its parent and its Ukrainian and English names as the
dataset writes them. Here it becomes a table keyed by the (oblast, raion, hromada) columns of a
sirens row, in both languages, for a vectorised join.
"""

from __future__ import annotations

import functools
import io
from importlib import resources

import pandas as pd

NAMES_FILE = "history_names.csv"
KEY_COLUMNS = ["oblast", "raion", "hromada"]


@functools.cache
def name_table() -> pd.DataFrame:
    """
    Columns oblast, raion, hromada (empty strings above the row's level), level, region_id;
    one row per region and language.
    """
    data = resources.files("tryvoha").joinpath("data", NAMES_FILE).read_bytes()
    regions = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    by_id = regions.set_index("region_id")
    frames = []
    for lang in ("name_uk", "name_en"):
        names = by_id[lang]
        parent = by_id["parent_id"]
        own = regions[lang]
        up1 = regions["parent_id"].map(names).fillna("")
        up2 = regions["parent_id"].map(parent).map(names).fillna("")
        level = regions["level"]
        frame = pd.DataFrame(
            {
                "oblast": own.where(level == "oblast", up1.where(level == "raion", up2)),
                "raion": own.where(level == "raion", up1.where(level == "hromada", "")),
                "hromada": own.where(level == "hromada", ""),
                "level": level,
                "region_id": regions["region_id"],
            }
        )
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True).drop_duplicates([*KEY_COLUMNS, "level"])
    return table.reset_index(drop=True)
