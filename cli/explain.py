"""`regime explain`: the reasons behind one output or rule, step by step, with citations."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    fail,
    load_packs,
    packs_option,
    parse_date,
    read_facts,
    resolve_packs_dir,
    user_errors,
)


@click.command("explain")
@click.argument("pack")
@click.argument("target")
@click.option("--facts", "facts_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Facts file (YAML or JSON).")
@click.option("--as-of", "as_of", default=None, help="Evaluation date YYYY-MM-DD.")
@click.option("--audience", type=click.Choice(["custodial", "healthcare"]), default="custodial",
              show_default=True)
@packs_option
@user_errors
def command(pack: str, target: str, facts_path: Path, as_of: str | None, audience: str,
            packs_dir: Path | None) -> None:
    """Explain how PACK reached TARGET (an output, definition or rule id) for FACTS.

    \b
    Examples:
      regime explain keywork_edm session_frequency --facts examples/prisoners/a1234bc.yaml
      regime explain pmp eligible --facts examples/pmp/p1.yaml --audience custodial
    """
    packs = load_packs(resolve_packs_dir(packs_dir), pack)
    model = packs[pack]
    known = set(model.outputs) | set(model.definitions) | {r.id for r in model.rules} | set(
        model.tables)
    if target not in known:
        from engine.check import suggest

        fail(f"pack `{pack}` has no output, definition, table or rule `{target}`",
             suggest(target, known) or "see `regime docs` for the pack's names")
    if not facts_path.exists():
        fail(f"no facts file `{facts_path}`")
    decision = packs.evaluate(pack, read_facts(facts_path), as_of=parse_date(as_of),
                              audience=audience, facts_name=str(facts_path))
    click.echo(decision.explain(target))
