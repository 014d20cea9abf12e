"""``lifeos-gql``: serve, migrate, token, export-schema."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from lifeos_gql.config import Settings, load_settings
from lifeos_gql.core.errors import ConfigError

app = typer.Typer(
    name="lifeos-gql",
    help="LifeOS GraphQL API: a personal knowledge graph over GraphQL.",
    no_args_is_help=True,
    add_completion=False,
)

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
        proxy_headers=True,
        reload=reload,
        lifespan="on",
    )


@app.command()
@_config_errors_exit
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    down: Annotated[bool, typer.Option("--down", help="Downgrade to REVISION.")] = False,
) -> None:
    """Apply (or revert) database migrations."""
    from lifeos_gql.app import resolve_database_url
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
