"""``lifeos-gql audit``: commands over the audit log (``verify``)."""

from __future__ import annotations

from typing import Annotated

import typer

from lifeos_gql.config import Settings, load_settings
from lifeos_gql.core.errors import ConfigError

audit_app = typer.Typer(
    name="audit",
    help="Inspect the append-only, hash-chained audit log.",
    no_args_is_help=True,
    add_completion=False,
)


@audit_app.command()
def verify(
    chain: Annotated[
        str | None,
        typer.Option("--chain", help="Verify only this chain (e.g. system, user:p_…)."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only failed chains and the summary.")
    ] = False,
) -> None:
    """Recompute every chain's hashes and sequence from the database.

    Prints OK or FAILED per chain (with the first bad seq and why) and a
    summary. Exits 0 when every chain verifies, 1 when any was tampered
    with (an altered, removed or reordered row, or a moved head), 2 on a
    bad setting or an unknown --chain.
    """
    import asyncio

    try:
        checked, failed = asyncio.run(_verify(load_settings(), chain, quiet))
    except ConfigError as exc:
        typer.echo(f"lifeos-gql: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if chain is not None and checked == 0:
        typer.echo(f"lifeos-gql: no audit chain {chain!r}", err=True)
        raise typer.Exit(code=2)
    typer.echo(f"audit verify: {checked} chains checked, {failed} failed")
    if failed:
        raise typer.Exit(code=1)


async def _verify(settings: Settings, chain: str | None, quiet: bool) -> tuple[int, int]:
    from lifeos_gql.bootstrap import open_runtime
    from lifeos_gql.domains.audit.service import verify_chains

    checked = failed = 0
    async with open_runtime(settings) as rt:
        # Every chain, beyond any one user's row-level-security view.
        async for report in verify_chains(rt.system_db, chain=chain):
            checked += 1
            if report.ok:
                if not quiet:
                    typer.echo(f"OK      {report.chain_id} ({report.rows} rows)")
            else:
                failed += 1
                typer.echo(
                    f"FAILED  {report.chain_id} at seq {report.bad_seq}: {report.reason} "
                    f"({report.rows} rows)"
                )
    return checked, failed
