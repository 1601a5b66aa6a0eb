"""
The `tryvoha` command line: serve, tokens, regions, alerts.

Errors print one line on stderr and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer

from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.errors import TryvohaError
from tryvoha.core.model import AlertLevel, AlertType
from tryvoha.storage.base import DuplicateToken, StoreError
from tryvoha.storage.factory import open_store

app = typer.Typer(
    name="tryvoha",
    help="An open, self-hostable civil air-raid alert server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
regions_app = typer.Typer(help="Look up and import regions.", no_args_is_help=True)
alert_app = typer.Typer(
    help="Raise and lift alerts through a running server.", no_args_is_help=True
)
app.add_typer(token_app, name="token")
app.add_typer(regions_app, name="regions")
app.add_typer(alert_app, name="alert")


class CliError(Exception):
    """An expected failure: printed as one line, exit status 1."""


def fail(message: str) -> NoReturn:
    raise CliError(message)


def settings_from(database_url: str | None = None) -> Settings:
    settings = Settings()
    if database_url:
        settings.database_url = database_url
    return settings


DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Overrides TRYVOHA_DATABASE_URL.")
]


# -- serve ----------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    database_url: DatabaseOpt = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Run the server."""
    import uvicorn

    from tryvoha.api.app import create_app
    from tryvoha.compat.protocol import compat_http_protocol

    # The store's writer thread gives up the interpreter lock during each disk sync; with the
    # default 5 ms switch interval a busy event loop would hold it back that long.
    sys.setswitchinterval(0.001)
    settings = settings_from(database_url)
    settings.host = host or settings.host
    settings.port = port or settings.port
    application = create_app(settings)
    print(f"tryvoha serving on http://{settings.host}:{settings.port}/", flush=True)
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        loop="uvloop",
        # httptools, with the polled compatibility GETs answered from cache in the protocol.
        http=compat_http_protocol(application),
        timeout_graceful_shutdown=3,
        # Compressing each event once per WebSocket costs CPU and ~50 KiB per connection.
        ws_per_message_deflate=False,
    )


@app.command()
def demo(
    speed: Annotated[float, typer.Option(help="Replay speed (times real time).")] = 60.0,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    database_url: DatabaseOpt = None,
    exit_after: Annotated[
        float | None, typer.Option(help="Stop the server this many seconds after the replay.")
    ] = None,
) -> None:
    """Serve, then replay the simulated 2025-07-04 night through the live warning engine."""
    from tryvoha.demo import run_demo

    settings = settings_from(database_url or "sqlite:///./var/demo.db")
    settings.host, settings.port = host, port
    run_demo(settings, speed=speed, exit_after=exit_after)


# -- tokens ---------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="A unique name; it appears in the audit trail.")],
    role: Annotated[Role, typer.Option(help="admin, operator, engine or reader.")],
    regions: Annotated[
        str | None, typer.Option(help="Operator scope: comma-separated region ids.")
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create a token and print it alone on stdout (it is shown only once)."""
    from tryvoha.regions_io import load_bundled
    from tryvoha.tokens import create_token

    scope = tuple(r.strip() for r in regions.split(",") if r.strip()) if regions else ()
    store = open_store(settings_from(database_url).database_url)
    try:
        token = create_token(
            store, name=name, role=role, regions=scope, registry=load_bundled() if scope else None
        )
    except DuplicateToken:
        fail(f"a token named {name!r} already exists")
    finally:
        store.close()
    print(token)


@token_app.command("list")
def token_list(database_url: DatabaseOpt = None) -> None:
    """List tokens (names, roles, scopes; never the tokens)."""
    store = open_store(settings_from(database_url).database_url)
    try:
        for token in store.list_tokens():
            state = "revoked" if token.revoked_at else "active"
            scope = ",".join(token.regions) or "*"
            print(f"{token.name}\t{token.role.value}\t{scope}\t{state}")
    finally:
        store.close()


@token_app.command("revoke")
def token_revoke(name: str, database_url: DatabaseOpt = None) -> None:
    """Revoke a token by name; it stops working at once."""
    from datetime import UTC, datetime

    store = open_store(settings_from(database_url).database_url)
    try:
        if not store.revoke_token(name, datetime.now(UTC)):
            fail(f"no active token named {name!r}")
    finally:
        store.close()
    print(f"revoked {name}")


# -- regions --------------------------------------------------------------------------


@regions_app.command("find")
def regions_find(text: str, limit: int = 20) -> None:
    """Find regions by name (Ukrainian or English), id or KATOTTG code."""
    from tryvoha.regions_io import load_bundled

    found = load_bundled().search(text, limit=limit)
    if not found:
        fail(f"no region matches {text!r}")
    for region in found:
        print(f"{region.id}\t{region.level.value}\t{region.name_uk}\t{region.name_en}")


@regions_app.command("at")
def regions_at(
    lat: Annotated[float, typer.Argument(min=-90, max=90)],
    lon: Annotated[float, typer.Argument(min=-180, max=180)],
) -> None:
    """The hromada, raion and oblast at a point."""
    from tryvoha.regions_io import load_bundled

    location = load_bundled().locate(lat, lon)
    if location is None:
        fail(f"no region contains {lat}, {lon}")
    for region in (location.oblast, location.raion, location.hromada):
        if region is not None:
            print(f"{region.level.value}\t{region.id}\t{region.name_uk}\t{region.name_en}")


@regions_app.command("import")
def regions_import(
    path: Annotated[Path, typer.Argument(help="A GeoJSON FeatureCollection.")],
    out: Annotated[
        Path, typer.Option(help="Directory to write; point TRYVOHA_REGIONS_DIR at it.")
    ] = Path("var/regions"),
    id_property: str = "id",
    name_uk_property: str = "name_uk",
    name_en_property: str = "name_en",
    level_property: str = "level",
    parent_property: str = "parent_id",
    katottg_property: str = "katottg",
) -> None:
    """Import another country's regions from GeoJSON (see docs/regions.md)."""
    from tryvoha.regions_io import read_geojson_regions, save_imported

    if not path.is_file():
        fail(f"no such file: {path}")
    rows = read_geojson_regions(
        path,
        id_property=id_property,
        name_uk_property=name_uk_property,
        name_en_property=name_en_property,
        level_property=level_property,
        parent_property=parent_property,
        katottg_property=katottg_property,
    )
    save_imported(rows, out)
    print(f"imported {len(rows)} regions into {out}; serve them with TRYVOHA_REGIONS_DIR={out}")


# -- alerts through the API -------------------------------------------------------------

UrlOpt = Annotated[
    str,
    typer.Option(envvar="TRYVOHA_URL", help="The server's base URL."),
]
TokenOpt = Annotated[
    str | None, typer.Option(envvar="TRYVOHA_TOKEN", help="An operator token.", show_default=False)
]


def _post(url: str, token: str | None, path: str, body: dict[str, Any]) -> dict[str, Any]:
    if not token:
        fail("a token is required: pass --token or set TRYVOHA_TOKEN")
    try:
        response = httpx.post(
            url.rstrip("/") + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach {url}: {exc}")
    try:
        data: dict[str, Any] = response.json()
    except ValueError:
        fail(f"{url} answered {response.status_code} without JSON")
    if response.status_code >= 400:
        fail(str(data.get("message", f"HTTP {response.status_code}")))
    return data


def _print_results(data: dict[str, Any]) -> None:
    for item in data["results"]:
        seq = f"\tseq {item['seq']}" if item["seq"] is not None else ""
        print(f"{item['region_id']}\t{item['outcome']}{seq}")


@alert_app.command("raise")
def alert_raise(
    regions: Annotated[list[str], typer.Argument(help="Region ids.")],
    type: Annotated[AlertType, typer.Option("--type", help="Alert type.")] = AlertType.AIR_RAID,
    level: Annotated[AlertLevel, typer.Option(help="alert (red) or warning (yellow).")] = (
        AlertLevel.ALERT
    ),
    note: Annotated[str | None, typer.Option(help="A note for people.")] = None,
    url: UrlOpt = "http://127.0.0.1:8080",
    token: TokenOpt = None,
) -> None:
    """Raise an alert on regions."""
    body: dict[str, Any] = {"regions": regions, "type": type.value, "level": level.value}
    if note is not None:
        body["note"] = note
    _print_results(_post(url, token, "/api/alerts", body))


@alert_app.command("lift")
def alert_lift(
    regions: Annotated[list[str], typer.Argument(help="Region ids.")],
    type: Annotated[AlertType, typer.Option("--type", help="Alert type.")] = AlertType.AIR_RAID,
    url: UrlOpt = "http://127.0.0.1:8080",
    token: TokenOpt = None,
) -> None:
    """Lift an alert on regions."""
    _print_results(_post(url, token, "/api/alerts/lift", {"regions": regions, "type": type.value}))


def _register_features() -> None:
    from tryvoha import cli_cap, cli_history, cli_shelters, cli_sim

    for feature in (cli_cap, cli_history, cli_sim, cli_shelters):
        feature.register(app)


_register_features()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status instead of exiting (for tests)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="tryvoha", standalone_mode=False)
    except CliError as exc:
        print(f"tryvoha: error: {exc}", file=sys.stderr)
        return 1
    except (TryvohaError, StoreError) as exc:
        print(f"tryvoha: error: {exc}", file=sys.stderr)
        return 1
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        print("tryvoha: aborted", file=sys.stderr)
        return 1
    except Exception as exc:
        # Usage errors carry their own exit status (2) and message.
        show = getattr(exc, "show", None)
        exit_code = getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            return exit_code
        if os.environ.get("TRYVOHA_DEBUG"):
            raise
        print(f"tryvoha: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0
