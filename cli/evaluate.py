"""`regime eval`: evaluate a facts file against a pack and print the decision."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    decide,
    dump_json,
    evaluation_options,
    format_option,
    load_packs,
    pack_target,
    resolve_packs_dir,
    user_errors,
)
from .report import render_markdown, render_text


@click.command("eval")
@click.argument("pack")
@format_option("text", "json", "markdown")
@evaluation_options
@user_errors
def command(
    pack: str,
    facts_path: Path,
    as_of: str | None,
    audience: str,
    fmt: str,
    packs_dir: Path | None,
    establishment_plan: str | None,
) -> None:
    """Evaluate FACTS against PACK: outputs, obligations, interpretations, missing facts.

    \b
    Exit codes: 0 evaluated, 1 the packs have errors, 2 bad usage or bad facts.
    Examples:
      regime eval keywork_edm --facts examples/prisoners/a2041kw_open_acct.yaml
      regime eval pmp --facts examples/pmp/a1101pm_immunosuppressed_plan.yaml \\
          --audience healthcare --format json
      regime eval keywork_edm --facts examples/local/g8607kw_post_closure.yaml \\
          --establishment-plan LEI
    """
    pack, packs_dir = pack_target(pack, packs_dir)
    packs = load_packs(resolve_packs_dir(packs_dir), pack)
    decision, facts = decide(
        packs, pack, facts_path, as_of, audience, establishment_plan, packs_dir
    )
    if fmt == "json":
        click.echo(dump_json(decision.to_dict()))
    elif fmt == "markdown":
        click.echo(render_markdown(decision, facts), nl=False)
    else:
        click.echo(render_text(decision, facts))
