"""`regime demo`: evaluate the example facts against every pack and print a readable report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from engine.facts import read_facts_file
from engine.problems import EvaluationError, FactsError

from .common import load_packs, packs_option, resolve_packs_dir
from .report import render_text


@click.command("demo")
@click.argument("examples", type=click.Path(file_okay=False, path_type=Path),
                default=Path("examples"))
@click.option("--as-of", "as_of", default=None, help="Evaluation date (default: each file's "
              "as_of, else today).")
@packs_option
def command(examples: Path, as_of: str | None, packs_dir: Path | None) -> None:
    """Evaluate every facts file under EXAMPLES against the packs whose facts it holds."""
    packs = load_packs(resolve_packs_dir(packs_dir))
    day = dt.date.fromisoformat(as_of) if as_of else None
    files = sorted(examples.rglob("*.yaml")) + sorted(examples.rglob("*.json"))
    for path in files:
        try:
            facts = read_facts_file(path)
        except FactsError as e:
            click.echo(f"{path}: skipped ({e})")
            continue
        roots = set(facts) - {"as_of"}
        for pid, pack in sorted(packs.items()):
            if not pack.outputs:
                continue
            uses = {root for o in pack.outputs.values() for e in (o.expr, o.default) if e
                    for root in e.checked.roots}
            uses |= {root for r in pack.rules if r.when for root in r.when.checked.roots}
            uses |= {root for d in pack.definitions.values() for root in d.expr.checked.roots}
            if not (uses & roots):
                continue
            if "prisoner" in uses and "prisoner" not in roots and "establishment" in roots:
                pass
            click.echo("=" * 78)
            click.echo(f"{path}")
            try:
                decision = packs.evaluate(pid, facts, as_of=day, facts_name=str(path))
            except (EvaluationError, FactsError) as e:
                click.echo(f"  not evaluated: {e}")
                continue
            click.echo(render_text(decision))
    click.echo("=" * 78)
