"""`regime dev-token`: a development bearer token for `regime serve`, signed by a local key."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("dev-token")
@click.option(
    "--keys",
    "keys_dir",
    default=Path(".regime-dev"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the development key pair lives (made on first use).",
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    default=("ROLE_REGIME_DECISIONS",),
    show_default=True,
    help="A role for the token's `authorities` (repeatable).",
)
@click.option("--user", "user_name", default="dev.user", show_default=True)
@click.option("--client", "client_id", default="regime-dev-client", show_default=True)
@click.option("--minutes", default=60.0, show_default=True, type=click.FloatRange(min=0))
@click.option("--issuer", default="regime-dev", show_default=True, help="The token's `iss`.")
@click.option("--audience", default=None, help="The token's `aud` (none unless given).")
def command(
    keys_dir: Path,
    roles: tuple[str, ...],
    user_name: str,
    client_id: str,
    minutes: float,
    issuer: str,
    audience: str | None,
) -> None:
    """Print a token shaped like HMPPS Auth's; start the service with the printed public key.

    \b
    Examples:
      regime dev-token
      regime dev-token --role ROLE_REGIME_HEALTHCARE_DECISIONS --user nurse.jones
    """
    from service.auth import ensure_dev_keys, mint_token

    private, public, jwks = ensure_dev_keys(keys_dir)
    click.echo(
        f"# verify with: regime serve --jwt-public-key {public}  (or --jwks {jwks})", err=True
    )
    click.echo(
        mint_token(
            private.read_bytes(),
            list(roles),
            user_name,
            client_id,
            minutes,
            issuer=issuer,
            audience=audience,
        )
    )
