"""
`tryvoha shelters import FILE.geojson` and `tryvoha shelters nearest LAT LON`.

Both work on the database directly (`--database-url` or TRYVOHA_DATABASE_URL): a running
server sees imported shelters on its next nearest-shelter request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

shelters_app = typer.Typer(help="Import shelters and find the nearest ones.", no_args_is_help=True)

DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Overrides TRYVOHA_DATABASE_URL.")
]


def _metres(value: float) -> str:
    return f"{value:.0f} m" if value < 1000 else f"{value / 1000:.1f} km"


@shelters_app.command("import")
def import_shelters(
    path: Annotated[Path, typer.Argument(help="A GeoJSON FeatureCollection of points.")],
    prune: Annotated[
        bool,
        typer.Option(help="Remove shelters an earlier import of this file name no longer lists."),
    ] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Import shelters from GeoJSON points (names from name, name:uk, name:en); idempotent."""
    from tryvoha.cli import fail, settings_from
    from tryvoha.shelters.geojson import EXAMPLES_PER_REASON, ShelterFileError, read_shelters
    from tryvoha.shelters.repository import ShelterRepository
    from tryvoha.storage.factory import open_store

    if not path.is_file():
        fail(f"no such file: {path}")
    try:
        result = read_shelters(path.read_bytes())
    except ShelterFileError as exc:
        fail(f"{path}: {exc}")
    url = settings_from(database_url).database_url
    if url.lower().startswith("memory:"):
        fail("memory:// keeps nothing after this command: import into a database file")
    store = open_store(url)
    repository = ShelterRepository.for_store(store)
    try:
        counts = repository.save(result.shelters, path.name, prune=prune)
    finally:
        repository.close()
        store.close()
    summary = (
        f"{path.name}: {counts.imported} imported, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {len(result.rejected)} rejected"
    )
    if prune:
        summary += f", {counts.removed} removed"
    print(summary)
    for reason, features in result.rejected_by_reason().items():
        examples = ", ".join(features[:EXAMPLES_PER_REASON])
        more = f" and {len(features) - EXAMPLES_PER_REASON} more" if len(features) > 3 else ""
        print(f"  rejected {len(features)}: {reason}: {examples}{more}")


@shelters_app.command("nearest")
def nearest(
    lat: Annotated[float, typer.Argument(min=-90, max=90)],
    lon: Annotated[float, typer.Argument(min=-180, max=180)],
    n: Annotated[int, typer.Option("-n", "--count", min=1, max=50, help="How many.")] = 3,
    database_url: DatabaseOpt = None,
) -> None:
    """The nearest shelters to a point: distance as the crow flies, walking minutes at 5 km/h."""
    from tryvoha.cli import fail, settings_from
    from tryvoha.shelters.repository import ShelterRepository
    from tryvoha.storage.factory import open_store

    store = open_store(settings_from(database_url).database_url)
    repository = ShelterRepository.for_store(store)
    try:
        found = repository.index().nearest(lat, lon, n)
    finally:
        repository.close()
        store.close()
    if not found:
        fail("no shelters are known: import some with `tryvoha shelters import FILE.geojson`")
    for near in found:
        shelter = near.shelter
        print(
            f"{_metres(near.distance_m)}\t{near.walking_minutes} min\t{shelter.name_uk}\t"
            f"{shelter.name_en}\t{shelter.lat:.6f},{shelter.lon:.6f}\t{shelter.id}"
        )


def register(app: typer.Typer) -> None:
    """Add `tryvoha shelters ...` to the CLI."""
    app.add_typer(shelters_app, name="shelters")
