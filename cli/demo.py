"""`regime demo`: evaluate the example facts against every pack and print a readable report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from engine.api import is_pack_file
from engine.evaluation.decision import Decision
from engine.packs.facts_schema import read_facts_file
from engine.problems import EvaluationError, FactsError

from .common import load_packs, packs_option, parse_date, resolve_packs_dir


def _short(value: object, width: int = 90) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(decision: Decision, person: bool = True) -> str:
    """A short report for one person: what is decided, what must happen, what is missing; or,
    without a person, what the pack decides about the establishment alone."""
    d = decision.to_dict()
    about = d["status"] if person else "for the establishment"
    lines = [f"  {d['pack']} (policy version {d['policy_version']}, as of {d['as_of']}): {about}"]
    outputs = {k: v for k, v in d["outputs"].items() if person or k not in set(d["undetermined"])}
    width = max((len(k) for k in outputs), default=0)
    for name, value in outputs.items():
        shown = (
            "undetermined"
            if name in d["undetermined"]
            else ("none" if value is None else _short(value))
        )
        lines.append(f"    {name.ljust(width)}  {shown}")
    musts = [o for o in d["obligations"] if o["modality"] in ("must", "must_not")]
    others = len(d["obligations"]) - len(musts)
    if musts:
        lines.append("    must:")
        for o in musts:
            due = f" (due {o['due']})" if o["due"] else ""
            lines.append(f"      - {_short(o['text'], 100)}{due} [{o['rule']}]")
    if others:
        lines.append(
            f"    and {others} more should/may obligation(s): regime eval {d['pack']} --facts FILE"
        )
    if d["missing_facts"] and person:
        lines.append(f"    needs: {', '.join(d['missing_facts'])}")
    elif len(outputs) < len(d["outputs"]):
        lines.append(f"    and {len(d['outputs']) - len(outputs)} output(s) about a person")
    if d["withheld"]:
        lines.append(f"    withheld from custodial staff: {', '.join(d['withheld'])}")
    return "\n".join(lines)


@click.command("demo")
@click.argument(
    "examples", type=click.Path(file_okay=False, path_type=Path), default=Path("examples")
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Evaluation date (default: each file's as_of, else today).",
)
@packs_option
def command(examples: Path, as_of: str | None, packs_dir: Path | None) -> None:
    """Evaluate every facts file under EXAMPLES against each pack that reads its facts, for a
    custodial audience, and print a short report per file."""
    packs = load_packs(resolve_packs_dir(packs_dir))
    day = parse_date(as_of)
    files = sorted(examples.rglob("*.yaml")) + sorted(examples.rglob("*.json"))
    read_anywhere = {root for pack in packs.values() for root in _roots_read(pack)}
    for path in files:
        if path.name.endswith(".schema.json") or (path.suffix == ".yaml" and is_pack_file(path)):
            continue  # a pack brought with its own facts schema, not facts
        try:
            facts = read_facts_file(path, custodial=True)  # the decisions are custodial
        except FactsError as e:
            click.echo(f"{path}: skipped ({e})")
            continue
        roots = set(facts) - {"as_of"}
        if not roots & read_anywhere:
            continue  # facts for packs kept elsewhere (e.g. a pack with its own schema)
        who = (
            (facts.get("prisoner") or {}).get("prison_number")
            or (facts.get("establishment") or {}).get("name")
            or path.stem
        )
        click.echo("=" * 78)
        click.echo(f"{who}  ({path})")
        shown = 0
        for pid, pack in sorted(packs.items()):
            if not (_roots_read(pack) & roots):
                continue
            # a pack about people, given an establishment alone: what it decides for that
            person = "prisoner" in roots or "prisoner" not in _roots_read(pack)
            try:
                decision = packs.evaluate(pid, facts, as_of=day, facts_name=str(path))
            except EvaluationError as e:
                click.echo(f"  {pid}: not evaluated: {e}")
                continue
            except FactsError as e:
                click.echo(f"  {pid}: bad facts: {e}")
                continue
            if not person and len(decision.undetermined) == len(decision.outputs):
                continue  # nothing of it is decided for the establishment alone
            click.echo(summary(decision, person))
            shown += 1
        if not shown:
            click.echo("  (every pack here decides about a person: add a prisoner to evaluate)")
    click.echo("=" * 78)


def _roots_read(pack: Any) -> set[str]:
    exprs = [e for o in pack.outputs.values() for e in (o.expr, o.default) if e]
    exprs += [r.when for r in pack.rules if r.when]
    exprs += [d.expr for d in pack.definitions.values()]
    exprs += [e for t in pack.tables.values() for _, e in t.inputs]
    return {root for e in exprs for root in e.checked.roots}
