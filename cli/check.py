"""`regime check`: validate schemas, type-check expressions, lint and check graphs of packs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

import engine
import engine.api
from engine import disk_cache
from engine.api import pack_files
from engine.language.cost import COST_LIMIT, describe
from engine.packs import model as M
from engine.packs import pack_cost
from engine.tools.source_coverage import check_sources
from engine.tools.worked_examples import check_cases

from .common import EXIT_OK, EXIT_PROBLEMS, dump_json, existing_targets, fail, show_problems


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--sources",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of source documents: check cited headings and report coverage.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit", "sarif"]),
    default="text",
    show_default=True,
)
@click.option("--no-tests", is_flag=True, help="Do not run the packs' worked examples.")
@click.option(
    "--costs",
    is_flag=True,
    help="Show each pack's largest and total estimated evaluation cost (steps).",
)
def command(
    paths: tuple[Path, ...], sources: Path | None, fmt: str, no_tests: bool, costs: bool
) -> None:
    """Check packs: YAML, schema, expressions, tables, task graphs, worked examples.

    PATHS default to $REGIME_PACKS, else ./policies.

    \b
    Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 bad usage.
    Examples:
      regime check policies/
      regime check policies/pmp.yaml --format sarif > check.sarif
      regime check policies/ --sources ../shared/sources
      regime check policies/local/
      regime check policies/ --costs
    """
    targets = existing_targets(paths)
    if not pack_files(targets) and not engine.api.overlay_files(targets):
        fail(
            f"no packs or local plans in {', '.join(f'`{t}`' for t in targets)}",
            "a pack is a YAML file whose first line names schemas/pack.schema.json; a local "
            "plan's names schemas/overlay.schema.json",
            code=EXIT_PROBLEMS,
        )
    if sources is not None and not sources.is_dir():
        fail(f"no sources directory `{sources}`", "pass the folder of source documents")
    if sources is not None and not any(f.is_file() for f in sources.iterdir()):
        fail(f"the sources directory `{sources}` is empty", "pass the folder of source documents")
    packs, problems = engine.check_paths(targets)
    from engine.sql.check import sql_problems

    problems = sorted(problems + sql_problems(packs))
    if sources is not None:
        found, coverage = check_sources(packs, sources)
        problems = sorted(problems + found)
    else:
        coverage = {}
    if not no_tests:
        problems = sorted(problems + check_cases(targets, packs))
    errors = [p for p in problems if p.is_error]
    plans = _merged_plans(targets, packs)
    releasable = [r for pid, pack in sorted(packs.items()) for r in _releasable(pack)]
    releasable += [r for plan in plans for r in _releasable(plan)]
    estimates = _cost_summaries(packs) if costs else {}
    if fmt == "json":
        report = {
            "packs": sorted(packs),
            "problems": [p.to_dict() for p in problems],
            "errors": len(errors),
            "warnings": len(problems) - len(errors),
            "releasable": releasable,
            "source_coverage": coverage,
        }
        if costs:
            report["costs"] = estimates
        click.echo(dump_json(report))
    elif fmt == "junit":
        from .formats import problems_junit

        click.echo(problems_junit(problems, sorted(packs)))
    elif fmt == "sarif":
        from .formats import problems_sarif

        click.echo(problems_sarif(problems))
    else:
        show_problems(problems)
        codes = {p.local_plan.file: p.local_plan.establishment_code for p in plans if p.local_plan}
        for rel in releasable:
            what = f"output `{rel['output']}`" if "output" in rel else f"rule `{rel['rule']}`"
            where = f" local plan {codes[rel['plan']]}" if "plan" in rel else ""
            click.echo(
                f"releasable to custodial staff: {rel['pack']}{where} {what} "
                f"(shown as: {rel['shown_as']})"
            )
        for pid, est in estimates.items():
            click.echo(
                f"estimated cost {pid}: at most {describe(est['max'])} steps in one expression "
                f"({est['max_at']}), {describe(est['total'])} over its {est['expressions']} "
                f"expressions (limit {describe(COST_LIMIT)} an expression)"
            )
        for pid, cov in sorted(coverage.items()):
            click.echo(
                f"source coverage {pid}: {cov['cited']}/{cov['sections']} sections cited"
                + (f"; not cited: {', '.join(cov['uncited'])}" if cov["uncited"] else "")
            )
        plan_files = engine.api.overlay_files(targets)
        click.echo(
            f"{len(packs)} pack(s)"
            + (f" and {len(plan_files)} local plan(s)" if plan_files else "")
            + f" checked: {len(errors)} error(s), "
            f"{len(problems) - len(errors)} warning(s)"
        )
    raise SystemExit(EXIT_PROBLEMS if errors else EXIT_OK)


def _merged_plans(targets: list[Path], packs: dict[str, M.Pack]) -> list[M.Pack]:
    """The local plans under `targets` that merge without errors, each its national pack with
    the plan in (the merge is kept from the check: not built again)."""
    found = []
    for plan_file in engine.api.overlay_files(targets):
        merged, _ = engine.api.load_overlay(plan_file, packs)
        if merged is not None and merged.local_plan is not None:
            found.append(merged)
    return found


def _releasable(pack: M.Pack) -> list[dict[str, Any]]:
    """What `pack` declares releasable to custodial staff: its outputs and obligations; of a
    national pack under a local plan, what the plan itself adds (its own rules), with the
    plan's file."""
    plan = pack.local_plan
    if plan is None:
        found: list[dict[str, Any]] = [
            {"pack": pack.id, "output": name, "shown_as": out.withheld_reason}
            for name, out in pack.outputs.items()
            if out.releasable
        ]
        own = None
    else:
        found = []
        own = {e.target for e in plan.entries if e.kind == "rule"}
    found += [
        {"pack": pack.id, "rule": rule.id, "shown_as": "obligation without its reasons"}
        for rule in pack.rules
        if rule.obligation and rule.obligation.releasable and (own is None or rule.id in own)
    ]
    if plan is not None:
        found = [{"pack": r["pack"], "plan": plan.file, **r} for r in found]
    return found


def _cost_summaries(packs: dict[str, M.Pack]) -> dict[str, dict[str, Any]]:
    """Each pack's largest and total estimated cost, kept in the disk cache: they follow from
    the pack's content and the packs beside it (those it imports among them) alone."""
    beside = sorted(f"{p.file}\0{p.content_hash}" for p in packs.values())
    found: dict[str, dict[str, Any]] = {}
    for pid, pack in sorted(packs.items()):
        entry = disk_cache.key("costs", pid, pack.file, pack.content_hash, *beside)
        kept = disk_cache.load("costs", entry)
        if not isinstance(kept, dict):
            kept = pack_cost.summary(pack_cost.pack_costs(pack))
            disk_cache.store("costs", entry, kept)
        found[pid] = kept
    return found
