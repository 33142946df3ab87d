"""`regime explain`: the reasons behind one output or rule, step by step, with citations."""

from __future__ import annotations

from pathlib import Path

import click

from engine.packs.model import Pack
from engine.problems import did_you_mean

from .common import (
    decide,
    evaluation_options,
    fail,
    load_packs,
    pack_target,
    resolve_packs_dir,
    user_errors,
)


@click.command("explain")
@click.argument("pack")
@click.argument("target")
@evaluation_options
@user_errors
def command(
    pack: str,
    target: str,
    facts_path: Path,
    as_of: str | None,
    audience: str,
    packs_dir: Path | None,
    establishment_plan: str | None,
) -> None:
    """Explain how PACK reached TARGET (an output, definition or rule id) for FACTS.

    \b
    Examples:
      regime explain keywork_edm session_frequency \\
          --facts examples/prisoners/b3152kw_high_rosh_release.yaml
      regime explain pmp eligible --facts examples/pmp/a1101pm_immunosuppressed_plan.yaml
    """
    pack, packs_dir = pack_target(pack, packs_dir)
    packs = load_packs(resolve_packs_dir(packs_dir), pack)
    model = packs[pack]
    known = (
        set(model.outputs)
        | set(model.definitions)
        | {r.id for r in model.rules}
        | set(model.tables)
    )
    if target not in known:
        fail(
            f"pack `{pack}` has no output, definition, table or rule `{target}`",
            did_you_mean(target, known) or "see `regime docs` for the pack's names",
        )
    if audience != "healthcare" and _withheld(model, target):
        fail(
            f"`{target}` is withheld from a custodial audience: it is worked out from "
            "healthcare-only facts",
            "explain an output this audience may see, or use --audience healthcare",
        )
    decision, facts = decide(
        packs, pack, facts_path, as_of, audience, establishment_plan, packs_dir
    )
    click.echo(decision.explain(target, facts))


def _withheld(model: Pack, target: str) -> bool:
    """Whether a custodial explanation leaves `target` out whatever the facts: a name worked
    out from healthcare-only facts, unless it is a releasable output, or a rule read from them
    whose obligation is not releasable and which sets no releasable output."""
    output = model.outputs.get(target)
    if output is not None:
        return output.custodial_withheld
    for rule in model.rules:
        if rule.id == target:
            released = rule.obligation is not None and rule.obligation.releasable
            sets_released = any(model.outputs[o].releasable for o, _ in rule.sets)
            return rule.healthcare and not released and not sets_released
    return target in model.healthcare_names
