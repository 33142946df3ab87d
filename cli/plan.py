"""`regime plan`: the tasks of a stage in dependency order, from a pack's task graph."""

from __future__ import annotations

from pathlib import Path

import click

from engine.tools.local_plan_views import render_local_plan
from engine.tools.render_plan import render

from .common import (
    fail,
    load_packs,
    pack_target,
    packs_option,
    resolve_packs_dir,
    user_errors,
    with_plan,
)


@click.command("plan")
@click.argument("pack")
@click.option("--stage", type=int, default=None, help="Only the tasks of this stage.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "mermaid", "dot"]),
    default="text",
    show_default=True,
)
@click.option(
    "--establishment-plan",
    "establishment_plan",
    default=None,
    help="Show a local plan's choices beside the national tasks: a plan file or an "
    "establishment code (text and json formats).",
)
@packs_option
@user_errors
def command(
    pack: str, stage: int | None, fmt: str, packs_dir: Path | None, establishment_plan: str | None
) -> None:
    """Print PACK's tasks in an order that respects every dependency.

    \b
    Examples:
      regime plan omu_edm --stage 3
      regime plan omu_edm --stage 3 --format mermaid
      regime plan omu_edm --format dot | dot -Tsvg > plan.svg
      regime plan omu_edm --stage 3 --establishment-plan LEI
    """
    pack, packs_dir = pack_target(pack, packs_dir)
    packs = with_plan(
        load_packs(resolve_packs_dir(packs_dir), pack), pack, establishment_plan, packs_dir
    )
    model = packs[pack]
    if model.task_graph is None:
        fail(f"pack `{pack}` has no tasks")
    stages = sorted({s for t in model.tasks.values() for s in t.stages})
    if stage is not None and stages and stage not in stages:
        fail(
            f"pack `{pack}` has no tasks at stage {stage}", f"stages: {', '.join(map(str, stages))}"
        )
    if model.local_plan is not None and fmt in ("text", "json"):
        click.echo(render_local_plan(model, stage, fmt).rstrip("\n"))
        return
    click.echo(render(model.task_graph, stage, fmt).rstrip("\n"))
