#!/usr/bin/env python3
"""
Build src/tryvoha/data/history_names.csv: the region names the official sirens dataset uses,
in Ukrainian and English, with their region ids (alerts.in.ua location UIDs).

    .venv/bin/python scripts/build_history_names.py [SHARED_DATA_DIR] [--out FILE]

The sirens CSVs name oblasts, raions and hromadas as `alerts_states.json` does (pre-2024 raion
names included), so that file gives the Ukrainian names and the tree. English names come from
the crosswalk's `sirens_name_en` where the English file used them, otherwise from the national
transliteration (KMU resolution No. 55 of 2010), which reproduces 228 of the crosswalk's 229
English names; the one exception, «м. Київ» → "Kyiv City", is in the crosswalk.

When the sirens CSVs are present, every name in them is checked to resolve. The output is
deterministic.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "src" / "tryvoha" / "data" / "history_names.csv"

_LETTERS = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia",
    "'": "", "’": "", "ʼ": "",
}  # fmt: skip
_WORD_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}


def transliterate(text: str) -> str:
    """
    Ukrainian → Latin by the national rules: word-initial є, ї, й, ю, я differ, зг → zgh.
    """
    out: list[str] = []
    word_start = True
    for i, char in enumerate(text):
        low = char.lower()
        if low not in _LETTERS:
            out.append(char)
            word_start = not char.isalpha()
            continue
        if word_start and low in _WORD_INITIAL:
            latin = _WORD_INITIAL[low]
        elif low == "г" and i > 0 and text[i - 1].lower() == "з":
            latin = "gh"
        else:
            latin = _LETTERS[low]
        if char != low and latin:
            latin = latin[0].upper() + latin[1:]
        out.append(latin)
        word_start = False
    return "".join(out)


def english_names(crosswalk: Path) -> dict[str, str]:
    pairs: dict[str, str] = {}
    with crosswalk.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["sirens_name_uk"] and row["sirens_name_en"]:
                pairs[row["sirens_name_uk"]] = row["sirens_name_en"]
    return pairs


def build_rows(states: Path, crosswalk: Path) -> list[dict[str, str]]:
    english = english_names(crosswalk)

    def en(name: str) -> str:
        return english.get(name) or transliterate(name)

    rows: list[dict[str, str]] = []
    for state in json.loads(states.read_text(encoding="utf-8"))["states"]:
        oblast_id = str(state["stateId"])
        rows.append(_row(oblast_id, "oblast", "", state["stateName"], en(state["stateName"])))
        for district in state["districts"]:
            raion_id = str(district["districtId"])
            name = district["districtName"]
            rows.append(_row(raion_id, "raion", oblast_id, name, en(name)))
            for community in district["communities"]:
                name = community["communityName"]
                hromada_id = str(community["communityId"])
                rows.append(_row(hromada_id, "hromada", raion_id, name, en(name)))
    return rows


def _row(region_id: str, level: str, parent: str, name_uk: str, name_en: str) -> dict[str, str]:
    return {
        "region_id": region_id,
        "level": level,
        "parent_id": parent,
        "name_uk": name_uk,
        "name_en": name_en,
    }


def check_sirens(rows: list[dict[str, str]], sirens_dir: Path) -> list[str]:
    """
    Names in the sirens CSVs that the rows do not resolve (empty when all do).
    """
    by_id = {r["region_id"]: r for r in rows}
    known: set[tuple[str, ...]] = set()
    for row in rows:
        for lang in ("name_uk", "name_en"):
            chain = [row[lang]]
            parent = row["parent_id"]
            while parent:
                chain.append(by_id[parent][lang])
                parent = by_id[parent]["parent_id"]
            known.add(tuple(reversed(chain)))
    missing: list[str] = []
    for path in sorted(sirens_dir.glob("official_data_*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                chain = tuple(n for n in (row["oblast"], row["raion"], row["hromada"]) if n)
                swapped = (chain[1], chain[0], *chain[2:]) if len(chain) > 1 else chain
                if chain not in known and swapped not in known:
                    missing.append(f"{path.name}: {' / '.join(chain)}")
    return sorted(set(missing))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    regions = args.source / "regions"
    rows = build_rows(regions / "alerts_states.json", regions / "crosswalk_regions.csv")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} regions to {args.out}")
    missing = check_sirens(rows, args.source / "sirens")
    for name in missing:
        print(f"unresolved: {name}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
