"""
Build `src/tryvoha/data/nights/2025-07-04.csv`, the real night the demo replays.

Source: shared/data/sirens/derived/night_2025-07-03_to_04_oblast_events.csv (MIT, see
NOTICE). Oblast names are mapped to alerts.in.ua UIDs through crosswalk_regions.csv. Rows
whose interval merges weeks of alerts (n_subalerts > 50, the caveat in the data README)
are left out: they are artefacts of the upstream merge, not that night's sirens.

    python scripts/build_demo_night.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINDOW = ("2025-07-03T15:00:00Z", "2025-07-04T06:00:00Z")
MAX_SUBALERTS = 50


def main(argv: list[str]) -> int:
    shared = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data"
    crosswalk = shared / "regions" / "crosswalk_regions.csv"
    night = shared / "sirens" / "derived" / "night_2025-07-03_to_04_oblast_events.csv"
    uid_by_name: dict[str, tuple[str, str]] = {}
    with crosswalk.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["level"] == "oblast" and row["sirens_name_en"] and row["alerts_uid"]:
                uid_by_name[row["sirens_name_en"]] = (row["alerts_uid"], row["sirens_name_uk"])
    out_rows = []
    with night.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if int(row["n_subalerts"]) > MAX_SUBALERTS:
                continue
            uid, name_uk = uid_by_name[row["region"]]
            out_rows.append(
                {
                    "region_id": uid,
                    "region_name": name_uk,
                    "started_at": row["started_at"].replace(" ", "T").replace("+00:00", "Z"),
                    "finished_at": row["finished_at"].replace(" ", "T").replace("+00:00", "Z"),
                    "window_start": WINDOW[0],
                    "window_end": WINDOW[1],
                }
            )
    out_rows.sort(key=lambda r: (r["started_at"], r["region_id"]))
    target = ROOT / "src" / "tryvoha" / "data" / "nights" / "2025-07-04.csv"
    with target.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(out_rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(out_rows)
    print(f"wrote {len(out_rows)} intervals to {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
