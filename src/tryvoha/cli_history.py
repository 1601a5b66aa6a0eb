"""
`tryvoha history ...` (import the official sirens dataset and the attacks register, look up a
night) and `tryvoha stats ...` (statistics as text, JSON or CSV, and pictures).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import orjson
import typer

from tryvoha.config import Settings
from tryvoha.core.model import AlertLevel, AlertType, RegionLevel
from tryvoha.history.options import ALL, BEST, Bin, Lang, NightOrder, PlotKind, RankBy

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from tryvoha.history.analytics import Analytics
    from tryvoha.history.dataset import Selection
    from tryvoha.history.importer import ImportSummary
    from tryvoha.history.repository import HistoryRepository

# The statistics (pandas, matplotlib) are imported by the commands that use them, so that
# every other `tryvoha` command starts fast.

history_app = typer.Typer(
    help="Import the official alert history and the attacks register; look up a night.",
    no_args_is_help=True,
)

DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Overrides TRYVOHA_DATABASE_URL.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    """Add `history` and `stats` to the `tryvoha` CLI."""
    app.add_typer(history_app, name="history")
    app.command("stats")(stats)


def _fail(message: str) -> NoReturn:
    # Imported here: tryvoha.cli imports this module while it is being loaded.
    from tryvoha.cli import fail

    fail(message)


def _database_url(database_url: str | None) -> str:
    return database_url or Settings().database_url


@contextmanager
def _opened(database_url: str | None) -> Iterator[tuple[Any, HistoryRepository]]:
    from tryvoha.history.repository import HistoryRepository
    from tryvoha.storage.factory import open_store

    store = open_store(_database_url(database_url))
    repository = HistoryRepository.for_store(store)
    try:
        yield store, repository
    finally:
        repository.close()
        store.close()


def _registry() -> Any:
    from tryvoha.regions_io import load_bundled, load_from_dir

    regions_dir = Settings().regions_dir
    return load_from_dir(regions_dir) if regions_dir else load_bundled()


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


class RichProgress:
    """The import's stages as a progress bar on stderr."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def stage(self, description: str, total: int | None) -> None:
        if self._task is not None:
            task = self._progress.tasks[-1]
            self._progress.update(self._task, completed=task.total or 1, total=task.total or 1)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)


@contextmanager
def _progress(quiet: bool) -> Iterator[RichProgress | None]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    if quiet:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as progress:
        sink = RichProgress(progress)
        yield sink
        sink.stage("done", 1)
        sink.advance(1)


def _report(summary: ImportSummary, rejects: Path | None) -> None:
    for line in summary.describe():
        print(line)
    if rejects is not None:
        summary.write_rejections(rejects)
        print(f"  rejections written to {rejects}")


# -- history ----------------------------------------------------------------------------------


@history_app.command("import")
def history_import(
    file: Annotated[Path, typer.Argument(help="official_data_en.csv, _uk.csv or the parquet.")],
    rejects: Annotated[
        Path | None, typer.Option(help="Write every rejected row (place, reason) to this CSV.")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Import the official sirens dataset; a second import of the same file adds nothing."""
    from tryvoha.history.importer import import_sirens
    from tryvoha.history.sirens import SirensFormatError

    if not file.is_file():
        _fail(f"no such file: {file}")
    known = set(_registry().ids())
    with _opened(database_url) as (_store, repository), _progress(quiet) as sink:
        try:
            summary = import_sirens(repository, file, known_regions=known, progress=sink)
        except SirensFormatError as exc:
            _fail(str(exc))
    _report(summary, rejects)


@history_app.command("import-attacks")
def history_import_attacks(
    file: Annotated[Path, typer.Argument(help="missile_attacks_daily.csv")],
    models: Annotated[
        Path | None,
        typer.Option(
            help="missiles_and_uavs.csv (model → category); by default the one beside FILE."
        ),
    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="Write rejected rows to this CSV.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Import the attacks register; changed rows replace the stored ones (counted as revised)."""
    from tryvoha.history.attacks import AttacksFormatError, import_attacks
    from tryvoha.history.weapons import WeaponTable

    if not file.is_file():
        _fail(f"no such file: {file}")
    if models is None and (file.parent / "missiles_and_uavs.csv").is_file():
        models = file.parent / "missiles_and_uavs.csv"
    if models is not None and not models.is_file():
        _fail(f"no such file: {models}")
    try:
        weapons = WeaponTable.from_csv(models) if models else WeaponTable()
    except ValueError as exc:
        _fail(str(exc))
    with _opened(database_url) as (_store, repository), _progress(quiet) as sink:
        try:
            summary = import_attacks(repository, file, weapons=weapons, progress=sink)
        except AttacksFormatError as exc:
            _fail(str(exc))
    _report(summary, rejects)
    print(f"  weapon classes from {models.name if models else 'built-in rules'}")


@history_app.command("night")
def history_night(
    date: Annotated[str, typer.Argument(help="The date the night ends on: YYYY-MM-DD.")],
    json_out: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """What was launched on one night (18:00 the evening before to 18:00), and the sirens."""
    from tryvoha.history import queries, register
    from tryvoha.history.analytics import Analytics
    from tryvoha.history.calendar import parse_day
    from tryvoha.history.dataset import Selection

    try:
        day = parse_day(date).isoformat()
    except ValueError as exc:
        _fail(str(exc))
    registry = _registry()
    with _opened(database_url) as (store, repository):
        analytics = Analytics(repository, store, registry)
        answer = register.night(analytics.attacks(), day)
        timeline = queries.night_timeline(analytics.history(), registry, day, Selection())
    answer["sirens"] = {
        "regions_under_alert": [lane.region.id for lane in timeline.lanes if lane.own],
        "regions_in_part": [lane.region.id for lane in timeline.lanes if not lane.own],
        "quiet": timeline.quiet,
    }
    if json_out:
        _print_json(answer)
        return
    print(f"Night of {day} ({answer['window_local']})")
    for group in ("drones", "missiles", "other"):
        counts = answer[group]
        if counts["rows"] or group != "other":
            print(f"  {group:9} {counts['launched']:5} launched, {counts['destroyed']:5} destroyed")
    for name, counts in answer["classes"].items():
        print(f"    {name:24} {counts['launched']:5} launched, {counts['destroyed']:5} destroyed")
    whole = answer["whole_day"]["groups"]
    if any(g["rows"] for g in whole.values()):
        added = ", ".join(f"{g}: {c['launched']}" for g, c in whole.items() if c["rows"])
        print(f"  whole-day reports (not added: they overlap the national totals): {added}")
    sirens = answer["sirens"]
    print(
        f"  sirens: {len(sirens['regions_under_alert'])} oblast-level regions under alert, "
        f"{len(sirens['regions_in_part'])} in part, {sirens['quiet']} quiet "
        "(18:00-09:00 Kyiv time)"
    )


@history_app.command("records")
def history_records(
    by: Annotated[
        str, typer.Option(help="launched, drones_launched or missiles_launched.")
    ] = "launched",
    limit: Annotated[int, typer.Option(min=1)] = 10,
    json_out: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """The largest attack nights."""
    from tryvoha.history import register
    from tryvoha.history.analytics import Analytics

    with _opened(database_url) as (store, repository):
        frame = Analytics(repository, store, _registry()).attacks()
    try:
        answer = register.records(frame, by, limit)
    except ValueError as exc:
        _fail(str(exc))
    if json_out:
        _print_json(answer)
        return
    print(f"{'night':10}  {'drones':>7}  {'missiles':>8}  {'launched':>8}")
    for row in answer["rows"]:
        print(
            f"{row['night']:10}  {row['drones_launched']:7}  {row['missiles_launched']:8}  "
            f"{row['launched']:8}"
        )


@history_app.command("sources")
def history_sources(database_url: DatabaseOpt = None) -> None:
    """The imports made so far, and the span each source covers."""
    from tryvoha.core.stats import NEVER
    from tryvoha.history.analytics import Analytics
    from tryvoha.history.calendar import local_label

    with _opened(database_url) as (store, repository):
        imports = repository.imports()
        spans = Analytics(repository, store, _registry()).history().sources()
    for item in imports:
        when = datetime.fromtimestamp(item["imported_ms"] / 1000, UTC).strftime("%Y-%m-%d %H:%M")
        print(
            f"{when}Z  {item['kind']:8} {item['source']:17} {item['file_name']}: "
            f"{item['imported']} imported, {item['duplicates']} duplicates, "
            f"{item['revised']} revised, {item['rejected']} rejected"
        )
    for span in spans:
        first = local_label(span.first_ms)[:10]
        last = "now" if span.last_ms == NEVER else local_label(span.last_ms)[:10]
        print(f"{span.source:17} {first} – {last}  {span.rows} intervals")


# -- stats ------------------------------------------------------------------------------------


def stats(
    region: Annotated[
        str | None, typer.Option(help="A region id or name (e.g. 31, 'Kyiv City', «Київ»).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="A date (Kyiv time) or an ISO time with offset.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="As --since; a date includes that day.")] = None,
    json_out: JsonOpt = False,
    csv_out: Annotated[bool, typer.Option("--csv", help="Print the table as CSV.")] = False,
    rankings: Annotated[
        bool, typer.Option("--rankings", help="Rank all regions of --level.")
    ] = False,
    overlap: Annotated[
        bool, typer.Option("--overlap", help="How long regions were under alert at once.")
    ] = False,
    hourly: Annotated[bool, typer.Option("--hourly", help="Per hour of the day.")] = False,
    monthly: Annotated[bool, typer.Option("--monthly", help="Per month (see --bin).")] = False,
    nights: Annotated[bool, typer.Option("--nights", help="Per night (see --order).")] = False,
    level: Annotated[RegionLevel, typer.Option(help="Regions to rank or overlap.")] = (
        RegionLevel.OBLAST
    ),
    by: Annotated[RankBy, typer.Option(help="What --rankings sorts by.")] = RankBy.TOTAL,
    bin: Annotated[Bin, typer.Option(help="month, week or day, for --monthly.")] = Bin.MONTH,
    order: Annotated[NightOrder, typer.Option(help="date or longest, for --nights.")] = (
        NightOrder.DATE
    ),
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many rows.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Also draw a PNG into this file.")] = None,
    kind: Annotated[
        PlotKind | None,
        typer.Option(help="timeline, monthly, hourly or choropleth (default: by the question)."),
    ] = None,
    date: Annotated[str | None, typer.Option(help="The night of a timeline plot.")] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the plot.")] = Lang.UK,
    alert_type: Annotated[AlertType, typer.Option("--type", help="Alert type.")] = (
        AlertType.AIR_RAID
    ),
    alert_level: Annotated[
        str, typer.Option(help="alert (red), warning (yellow) or any.")
    ] = "alert",
    source: Annotated[
        str, typer.Option(help="best (one source per moment), all, or one source.")
    ] = BEST,
    permanent: Annotated[
        bool, typer.Option(help="Include the Luhansk and Crimea permanent alerts.")
    ] = True,
    database_url: DatabaseOpt = None,
) -> None:
    """Statistics of the alert history: one region, rankings, overlaps, hours, months, nights."""
    from tryvoha.history import pictures
    from tryvoha.history.analytics import Analytics
    from tryvoha.history.dataset import Selection
    from tryvoha.history.queries import rows_to_csv

    flags = {
        "rankings": rankings,
        "overlap": overlap,
        "hourly": hourly,
        "monthly": monthly,
        "nights": nights,
    }
    asked = [name for name, on in flags.items() if on]
    if len(asked) > 1:
        _fail(f"ask one question at a time, not --{' and --'.join(asked)}")
    if json_out and csv_out:
        _fail("--json and --csv exclude each other")
    question = asked[0] if asked else "region"
    if alert_level not in ("alert", "warning", "any"):
        _fail(f"--alert-level: {alert_level!r} is not alert, warning or any")
    selection = Selection(
        alert_type, None if alert_level == "any" else AlertLevel(alert_level), source, permanent
    )
    registry = _registry()
    region_id = _find_region(registry, region) if region else None
    needs_region = question in ("region", "hourly", "monthly", "nights")
    if needs_region and region_id is None and not (plot and question == "region"):
        what = "a region summary" if question == "region" else f"--{question}"
        _fail(f"--region is required for {what}")
    with _opened(database_url) as (store, repository):
        analytics = Analytics(repository, store, registry)
        history = analytics.history()
        if source not in (BEST, ALL) and source not in {s.source for s in history.sources()}:
            known = ", ".join(sorted({s.source for s in history.sources()} | {BEST, ALL}))
            _fail(f"--source: {source!r} is not one of {known}")
        try:
            period = analytics.period(since, until, datetime.now(UTC))
        except ValueError as exc:
            _fail(str(exc))
        answer: dict[str, Any] | None = None
        if region_id is not None or question not in ("region",):
            answer = _ask(
                question, history, registry, region_id, period, selection, level, by, bin, order
            )
            if limit is not None:
                answer["rows"] = answer["rows"][:limit]
        if plot is not None:
            chosen = kind or _default_kind(question, region_id)
            png = _draw(
                pictures, analytics, chosen, region_id, period, selection, level, bin, date, lang
            )
            plot.write_bytes(png)
    if answer is not None:
        if json_out:
            _print_json(answer)
        elif csv_out:
            sys.stdout.write(rows_to_csv(answer["rows"]))
        else:
            _print_text(question, answer)
    if plot is not None:
        print(f"wrote {plot}", file=sys.stderr if (json_out or csv_out) else sys.stdout)


def _find_region(registry: Any, text: str) -> str:
    found = registry.find(text) or registry.find_by_name(text)
    if found is None:
        _fail(f"unknown region: {text!r} (try `tryvoha regions find`)")
    return str(found.id)


def _ask(
    question: str,
    history: Any,
    registry: Any,
    region_id: str | None,
    period: Any,
    selection: Selection,
    level: RegionLevel,
    by: RankBy,
    size: Bin,
    order: NightOrder,
) -> dict[str, Any]:
    from tryvoha.history import queries

    if question == "rankings":
        return queries.rankings(history, registry, level, period, selection, by)
    if question == "overlap":
        return queries.overlap_stats(history, registry, level, period, selection)
    assert region_id is not None
    if question == "hourly":
        return queries.hourly(history, registry, region_id, period, selection)
    if question == "monthly":
        return queries.calendar(history, registry, region_id, period, selection, size)
    if question == "nights":
        return queries.night_stats(history, registry, region_id, period, selection, order)
    return queries.region_stats(history, registry, region_id, period, selection)


def _default_kind(question: str, region_id: str | None) -> PlotKind:
    if question == "hourly":
        return PlotKind.HOURLY
    if question in ("rankings", "overlap") or region_id is None:
        return PlotKind.CHOROPLETH
    return PlotKind.MONTHLY


def _draw(
    pictures: Any,
    analytics: Analytics,
    kind: PlotKind,
    region_id: str | None,
    period: Any,
    selection: Selection,
    level: RegionLevel,
    size: Bin,
    date: str | None,
    lang: Lang,
) -> bytes:
    from tryvoha.history.calendar import parse_day

    if kind is PlotKind.TIMELINE:
        if date is None:
            _fail("--date is required for a timeline plot")
        try:
            day = parse_day(date).isoformat()
        except ValueError as exc:
            _fail(str(exc))
        return bytes(pictures.timeline_png(analytics, day, selection, lang))
    if kind is PlotKind.CHOROPLETH:
        return bytes(pictures.choropleth_png(analytics, period, selection, lang, level))
    if region_id is None:
        _fail(f"--region is required for a {kind.value} plot")
    if kind is PlotKind.MONTHLY:
        return bytes(pictures.monthly_png(analytics, region_id, period, selection, lang, size))
    return bytes(pictures.hourly_png(analytics, region_id, period, selection, lang))


# -- text output ------------------------------------------------------------------------------


def duration(seconds: float) -> str:
    """12d 03h 04m, 3h 05m, 7m 12s: short and exact enough for people."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def _print_text(question: str, answer: dict[str, Any]) -> None:
    period = answer["period"]
    span = f"{period['since_local']} – {period['until_local']} (Kyiv time)"
    if question == "region":
        _print_region(answer, span)
        return
    title = {
        "rankings": f"regions ({answer.get('level_of_regions')}) by {answer.get('by')}",
        "overlap": "regions under alert at once",
        "hourly": "by hour of day",
        "monthly": f"per {answer.get('bin')}",
        "nights": "nights (18:00-06:00)",
    }[question]
    who = answer.get("region")
    head = f"{who['name_en']} ({who['id']}): " if who else ""
    print(f"{head}{title}, {span}")
    if question == "overlap":
        print(
            f"  all {answer['units']} at once: {duration(answer['all_seconds'])} "
            f"in {answer['all_episodes']} episodes"
        )
    for row in answer["rows"]:
        print("  " + "  ".join(_cell(k, v) for k, v in row.items() if k not in ("name_uk",)))


def _cell(key: str, value: Any) -> str:
    if key.endswith("seconds") and isinstance(value, (int, float)):
        return f"{key.removesuffix('_seconds') or key}={duration(value)}"
    return f"{key}={value}"


def _local_date(text: str, *, end: bool = False) -> str:
    """The Kyiv date of a time; of the moment before it for an (exclusive) end."""
    from tryvoha.core.codec import parse_time
    from tryvoha.history.calendar import local_label, to_ms

    return local_label(to_ms(parse_time(text)) - (1 if end else 0))[:10]


def _print_region(answer: dict[str, Any], span: str) -> None:
    region = answer["region"]
    print(f"{region['name_en']} / {region['name_uk']} ({region['id']}), {span}")
    covering = answer["covering"]
    if len(covering) > 1:
        print(f"  counts alerts on: {', '.join(covering)} (the region and its ancestors)")
    print(f"  alerts:             {answer['count']} episodes ({answer['alerts']} alert records)")
    print(
        f"  time under alert:   {duration(answer['total_seconds'])} "
        f"({100 * answer['share']:.1f} % of the period)"
    )
    print(
        f"  mean / median:      {duration(answer['mean_seconds'])} / "
        f"{duration(answer['median_seconds'])}"
    )
    longest = answer["longest_started_at"] or "-"
    print(f"  longest:            {duration(answer['longest_seconds'])} (from {longest})")
    night = answer["longest_night"]
    print(
        f"  nights with alerts: {answer['nights_with_alerts']} of {answer['nights']}"
        + (f"; longest {night}: {duration(answer['longest_night_seconds'])}" if night else "")
    )
    sources = ", ".join(
        f"{s['source']} {_local_date(s['first'])}..{_local_date(s['last'], end=True)}"
        for s in answer["sources"]
    )
    print(f"  sources ({answer['source']}): {sources or 'none'}")
