"""`regime plan`: the tasks of a stage in dependency order, from a pack's task graph."""

from __future__ import annotations

from pathlib import Path

import click

from engine.tools.render_plan import render

from .common import fail, load_packs, packs_option, resolve_packs_dir, user_errors


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
@packs_option
@user_errors
def command(pack: str, stage: int | None, fmt: str, packs_dir: Path | None) -> None:
    """Print PACK's tasks in an order that respects every dependency.

    \b
    Examples:
      regime plan omu_edm --stage 3
      regime plan omu_edm --stage 3 --format mermaid
      regime plan omu_edm --format dot | dot -Tsvg > plan.svg
    """
    model = load_packs(resolve_packs_dir(packs_dir), pack)[pack]
    if model.task_graph is None:
        fail(f"pack `{pack}` has no tasks")
    stages = sorted({s for t in model.tasks.values() for s in t.stages})
    if stage is not None and stages and stage not in stages:
        fail(
            f"pack `{pack}` has no tasks at stage {stage}", f"stages: {', '.join(map(str, stages))}"
        )
    click.echo(render(model.task_graph, stage, fmt).rstrip("\n"))
