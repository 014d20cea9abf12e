"""``lifeos-gql``: serve, worker, migrate, token, import, rotate-master-key, export-schema."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from lifeos_gql.cli_audit import audit_app
from lifeos_gql.config import Settings, load_settings
from lifeos_gql.core.errors import BadInput, ConfigError, DomainError

if TYPE_CHECKING:
    import uuid

    from rich.console import Console

    from lifeos_gql.importers.runner import ImportReport
    from lifeos_gql.infra.crypto.rotation import RotationReport

app = typer.Typer(
    name="lifeos-gql",
    help="LifeOS GraphQL API: a personal knowledge graph over GraphQL.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(audit_app)

F = TypeVar("F", bound=Callable[..., Any])


def _config_errors_exit(func: F) -> F:
    """A bad setting stops the command with one line naming it."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            typer.echo(f"lifeos-gql: {exc}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


def _user_errors_exit(func: F) -> F:
    """A bad setting or a refused request stops the command with one line, exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ConfigError, DomainError) as exc:
            typer.echo(f"lifeos-gql: {exc}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    return load_settings()


@app.command()
@_config_errors_exit
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (LIFEOS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (LIFEOS_PORT).")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Run the API server (embedded Postgres unless DATABASE_URL is set)."""
    import uvicorn

    from lifeos_gql.app import create_app

    settings = _settings()
    application = create_app(settings)
    uvicorn.run(
        application,
        host=host or settings.lifeos_host,
        port=port or settings.lifeos_port,
        log_level=settings.lifeos_log_level,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        # Subscription events are small JSON; per-connection zlib state costs
        # ~300 KB, which 1,000 WebSockets turn into 300 MB.
        ws_per_message_deflate=False,
        proxy_headers=True,
        reload=reload,
        lifespan="on",
    )


@app.command()
@_config_errors_exit
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(help="Jobs run at once (LIFEOS_WORKER_CONCURRENCY).", min=1, max=64),
    ] = None,
) -> None:
    """Run a background job worker (capture analysis) until SIGTERM or Ctrl-C.

    Run as many as the load needs, on any machines that reach the database;
    each also sweeps for captures whose analysis was lost. Set
    LIFEOS_INPROCESS_WORKER=false on the API servers when workers run apart.
    """
    import asyncio
    import logging

    settings = _settings()
    logging.basicConfig(
        level=settings.lifeos_log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(_work(settings, concurrency))


async def _work(settings: Settings, concurrency: int | None) -> None:
    from lifeos_gql.bootstrap import open_runtime
    from lifeos_gql.jobs.worker import run_standalone_worker

    size = (concurrency or settings.lifeos_worker_concurrency) + 2
    async with open_runtime(settings, pool_size=size) as rt:
        await run_standalone_worker(rt, concurrency=concurrency)


@app.command()
@_config_errors_exit
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    down: Annotated[bool, typer.Option("--down", help="Downgrade to REVISION.")] = False,
) -> None:
    """Apply (or revert) database migrations."""
    from lifeos_gql.bootstrap import resolve_database_url
    from lifeos_gql.db import migrate as migrations

    url = resolve_database_url(_settings())
    if down:
        migrations.downgrade(url, revision)
    else:
        migrations.upgrade(url, revision)
    typer.echo(f"database at revision {migrations.current_revision(url) or 'base'}")


@app.command()
@_config_errors_exit
def token(
    email: Annotated[str, typer.Option(help="Email of the dev user.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    hours: Annotated[float, typer.Option(help="Validity in hours.")] = 12.0,
) -> None:
    """Print a dev token (signed by the local dev issuer; refused in prod)."""
    from datetime import timedelta

    from lifeos_gql.infra.auth.dev_issuer import DevIssuer

    settings = _settings()
    if settings.is_prod:
        raise ConfigError("LIFEOS_ENV=prod: dev tokens are not accepted in production")
    if "@" not in email:
        raise typer.BadParameter("must be an email address", param_hint="--email")
    issuer = DevIssuer.load_or_create(settings.lifeos_data_dir)
    typer.echo(issuer.mint(email, name=name, ttl=timedelta(hours=hours)))


@app.command("import")
@_user_errors_exit
def import_(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="Source format (mbox, ics …).")],
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="File, folder or archive to import.")
    ],
    stream: Annotated[str, typer.Option("--stream", help="Stream id (GraphQL global id).")],
    as_email: Annotated[
        str | None,
        typer.Option("--as", metavar="EMAIL", help="Acting user (default: the only user)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Items per transaction.", min=1)] = 500,
    progress: Annotated[bool, typer.Option(help="Progress bar (drawn on a terminal only).")] = True,
) -> None:
    """Import a file into a stream; re-running skips what is already stored.

    Each batch commits on its own, so an interrupted import keeps what it
    stored and running the same command again resumes it without duplicates.
    """
    import asyncio

    from rich.console import Console

    from lifeos_gql.core.ids import decode_global_id
    from lifeos_gql.importers.registry import get_importer

    # Cheap checks first: a typo should not wait for the database.
    get_importer(fmt).total_units(path)
    try:
        stream_id = decode_global_id(stream, expected="Stream").id
    except DomainError:
        raise BadInput(f"--stream: {stream!r} is not a Stream id", field="stream") from None
    console = Console(stderr=True)
    sink = _ImportProgress(console if progress and console.is_terminal else None, path.name)
    try:
        report = asyncio.run(_import(_settings(), fmt, path, stream_id, as_email, batch_size, sink))
    except KeyboardInterrupt:
        sink.stop()  # before printing, so the line is not drawn over
        done = sink.last
        stored = f"{done.created} new items from {done.batches} batches" if done else "nothing"
        typer.echo(f"interrupted: {stored} stored; run the same command to resume", err=True)
        raise typer.Exit(code=130) from None
    finally:
        sink.stop()
    _print_import_report(fmt, path, report)


class _ImportProgress:
    """``ImportProgress`` for the CLI: a rich bar on a terminal, else only bookkeeping."""

    def __init__(self, console: Console | None, label: str) -> None:
        self.last: ImportReport | None = None
        self._bar: Any = None
        self._task: Any = None
        self._label = label
        if console is not None:
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeRemainingColumn(),
                console=console,
            )

    def start(self, total: int | None) -> None:
        if self._bar is not None:
            self._task = self._bar.add_task(self._label, total=total, counts="")
            self._bar.start()

    def advance(self, units: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, units)

    def batch_done(self, report: ImportReport) -> None:
        self.last = report
        if self._task is not None:
            counts = f"{report.created} new, {report.duplicates} dup, {report.invalid} invalid"
            self._bar.update(self._task, counts=counts)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


async def _import(
    settings: Settings,
    fmt: str,
    path: Path,
    stream_id: uuid.UUID,
    as_email: str | None,
    batch_size: int,
    sink: _ImportProgress,
) -> ImportReport:
    from lifeos_gql.bootstrap import open_runtime
    from lifeos_gql.importers.runner import import_file, resolve_actor

    async with open_runtime(settings) as rt:
        actor = await resolve_actor(rt.system_db, as_email)
        return await import_file(
            runtime=rt,
            actor=actor,
            stream_id=stream_id,
            fmt=fmt,
            path=path,
            batch_size=batch_size,
            progress=sink,
        )


def _print_import_report(fmt: str, path: Path, report: ImportReport) -> None:
    typer.echo(
        f"imported {path} ({fmt}): {report.created} created, {report.duplicates} duplicates, "
        f"{report.invalid} invalid, {report.skipped} skipped"
    )
    for reason, count in report.reasons.most_common():
        typer.echo(f"  {count} × {reason}")
    for sample in report.samples[:5]:
        typer.echo(f"  e.g. {sample.where or '?'}: {sample.reason}")


@app.command("rotate-master-key")
@_user_errors_exit
def rotate_master_key(
    batch_size: Annotated[int, typer.Option(help="Keys per transaction.", min=1)] = 500,
) -> None:
    """Re-wrap every stored data key under the current LIFEOS_MASTER_KEY.

    Steps: (1) make a new key: python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())".
    (2) With several processes, first deploy it in LIFEOS_PREVIOUS_MASTER_KEYS everywhere.
    (3) Deploy LIFEOS_MASTER_KEY=new and LIFEOS_PREVIOUS_MASTER_KEYS=old.
    (4) Run this command with the same settings; servers may keep running.
    (5) Run it again until it reports scanned 0, then drop the old key from
    LIFEOS_PREVIOUS_MASTER_KEYS.

    Exits 1 when a key could not be re-wrapped (its master key is not configured).
    """
    import asyncio

    settings = _settings()
    if not settings.lifeos_previous_master_keys:
        typer.echo(
            "lifeos-gql: LIFEOS_PREVIOUS_MASTER_KEYS is empty: keys wrapped by an older "
            "master key cannot be unwrapped",
            err=True,
        )
    report = asyncio.run(_rotate(settings, batch_size))
    typer.echo(
        f"master key {report.current_key_id}: scanned {report.scanned}, "
        f"rewrapped {report.rewrapped}, skipped {report.skipped}, failed {len(report.failed)}"
    )
    for owner_id, reason in list(report.failed.items())[:20]:
        typer.echo(f"  failed {owner_id}: {reason}", err=True)
    if report.failed:
        raise typer.Exit(code=1)


async def _rotate(settings: Settings, batch_size: int) -> RotationReport:
    from lifeos_gql.bootstrap import build_keyring, open_runtime
    from lifeos_gql.domains.privacy.key_store import PgDataKeyStore
    from lifeos_gql.infra.crypto.rotation import rotate_all

    async with open_runtime(settings) as rt:
        return await rotate_all(
            build_keyring(settings), PgDataKeyStore(rt.system_db), batch_size=batch_size
        )


@app.command("export-schema")
def export_schema(
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the SDL.")] = Path(
        "schema.graphql"
    ),
) -> None:
    """Write the GraphQL SDL (the committed schema.graphql)."""
    from lifeos_gql.api.sdl import schema_sdl

    output.write_text(schema_sdl(), encoding="utf-8")
    typer.echo(f"wrote {output}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
