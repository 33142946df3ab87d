"""`regime serve`: the decision service over HTTP, with its decision log."""

from __future__ import annotations

from pathlib import Path

import click

from .common import fail, packs_option, resolve_packs_dir


@click.command("serve")
@packs_option
@click.option(
    "--database-url",
    default="sqlite:///decisions.db",
    show_default=True,
    help="The decision log: sqlite:///FILE (WAL) or postgresql://USER@HOST:PORT/DB.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Processes."
)
@click.option(
    "--jwt-public-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM public key that verifies bearer tokens (HMPPS Auth's).",
)
@click.option(
    "--jwks",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JWKS file (HMPPS Auth's /.well-known/jwks.json, saved) that verifies bearer tokens.",
)
@click.option(
    "--jwt-issuer",
    envvar="REGIME_JWT_ISSUER",
    help="Accept only tokens whose `iss` is this (HMPPS Auth's issuer URL).",
)
@click.option(
    "--jwt-audience",
    envvar="REGIME_JWT_AUDIENCE",
    help="Accept only tokens whose `aud` names this.",
)
@click.option("--custodial-role", default="ROLE_REGIME_DECISIONS", show_default=True)
@click.option("--healthcare-role", default="ROLE_REGIME_HEALTHCARE_DECISIONS", show_default=True)
@click.option("--admin-role", default="ROLE_REGIME_ADMIN", show_default=True)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Accept every request without a token, for any audience. Development only.",
)
def command(
    packs_dir: Path | None,
    database_url: str,
    host: str,
    port: int,
    workers: int,
    jwt_public_key: Path | None,
    jwks: Path | None,
    jwt_issuer: str | None,
    jwt_audience: str | None,
    custodial_role: str,
    healthcare_role: str,
    admin_role: str,
    insecure_no_auth: bool,
) -> None:
    """Serve decisions over HTTP; every decision is logged before it is answered.

    \b
    Examples:
      regime dev-token --role ROLE_REGIME_DECISIONS        # makes .regime-dev/ keys once
      regime serve --packs policies/ --database-url sqlite:///decisions.db \\
          --jwt-public-key .regime-dev/public.pem
      regime serve --packs policies/ --insecure-no-auth     # no tokens: development only
    """
    import engine
    from service.auth import Authenticator, KeyConfigError, Roles
    from service.log_store import BadDatabaseUrl, PostgresStore, open_store, shown_url
    from service.server import serve
    from service.settings import Settings

    directory = resolve_packs_dir(packs_dir)
    if directory.is_file():
        fail(f"`{directory}` is a file: the service serves a folder of packs", "pass --packs DIR")
    if not directory.is_dir():
        fail(f"no packs directory `{directory}`", "pass --packs DIR")
    if insecure_no_auth and (jwt_public_key is not None or jwks is not None):
        fail(
            "--insecure-no-auth turns authentication off, and a key to check tokens with was "
            "given too",
            "drop --insecure-no-auth to check tokens, or the key to run without them",
        )
    roles = Roles(custodial_role, healthcare_role, admin_role)
    try:
        Authenticator(not insecure_no_auth, roles, jwt_public_key, jwks, jwt_issuer, jwt_audience)
        store = open_store(database_url)
    except (KeyConfigError, BadDatabaseUrl) as e:
        fail(str(e))
    if isinstance(store, PostgresStore):
        try:
            store.reach()
        except BadDatabaseUrl as e:
            fail(str(e), "start the database server, or check the URL's host, port and login")
    try:
        packs = engine.load(directory)
    except engine.PackError as e:
        for p in e.problems[:20]:
            click.echo(p.format(), err=True)
        fail(f"the packs in `{directory}` have errors; nothing is served", code=1)
    click.echo(
        f"regime serve: {len(packs)} pack(s) from {directory}: "
        + ", ".join(f"{pid} {p.version}" for pid, p in sorted(packs.items())),
        err=True,
    )
    if insecure_no_auth:
        click.echo(
            "regime serve: WARNING: authentication is OFF (--insecure-no-auth); every caller "
            "may ask for any audience, including healthcare",
            err=True,
        )
    click.echo(
        f"regime serve: decision log {shown_url(database_url)}; listening on http://{host}:{port} "
        f"({workers} worker(s)); OpenAPI at /v3/api-docs",
        err=True,
    )
    serve(
        Settings(
            packs_dir=directory,
            database_url=database_url,
            host=host,
            port=port,
            workers=workers,
            auth_enabled=not insecure_no_auth,
            public_key_file=jwt_public_key,
            jwks_file=jwks,
            jwt_issuer=jwt_issuer,
            jwt_audience=jwt_audience,
            roles=roles,
        ),
        packs if workers == 1 else None,
    )
