"""`regime explain`: the reasons behind one output or rule, step by step, with citations."""

from __future__ import annotations

from pathlib import Path

import click

from engine.problems import did_you_mean

from .common import decide, evaluation_options, fail, load_packs, resolve_packs_dir, user_errors


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
    decision = decide(packs, pack, facts_path, as_of, audience, establishment_plan, packs_dir)
    click.echo(decision.explain(target))
