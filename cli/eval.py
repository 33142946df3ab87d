"""`regime eval`: evaluate a facts file against a pack and print the decision."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    dump_json,
    fail,
    load_packs,
    packs_option,
    parse_date,
    read_facts,
    resolve_packs_dir,
    user_errors,
)
from .report import render_markdown, render_text


@click.command("eval")
@click.argument("pack")
@click.option("--facts", "facts_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Facts file (YAML or JSON).")
@click.option("--as-of", "as_of", default=None, help="Evaluation date YYYY-MM-DD (default: "
              "the facts' as_of, else today).")
@click.option("--audience", type=click.Choice(["custodial", "healthcare"]), default="custodial",
              show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
@packs_option
@user_errors
def command(pack: str, facts_path: Path, as_of: str | None, audience: str, fmt: str,
            packs_dir: Path | None) -> None:
    """Evaluate FACTS against PACK: outputs, obligations, interpretations, missing facts.

    \b
    Exit codes: 0 evaluated, 1 the packs have errors, 2 bad usage or bad facts.
    Examples:
      regime eval keywork_edm --facts examples/prisoners/a1234bc.yaml --as-of 2020-07-01
      regime eval pmp --facts examples/pmp/p1.yaml --audience healthcare --format json
    """
    packs = load_packs(resolve_packs_dir(packs_dir), pack)
    if not facts_path.exists():
        fail(f"no facts file `{facts_path}`")
    facts = read_facts(facts_path)
    decision = packs.evaluate(pack, facts, as_of=parse_date(as_of), audience=audience,
                              facts_name=str(facts_path))
    if fmt == "json":
        click.echo(dump_json(decision.to_dict()))
    elif fmt == "markdown":
        click.echo(render_markdown(decision), nl=False)
    else:
        click.echo(render_text(decision))
