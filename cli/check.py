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
from engine.problems import Problem
from engine.tools.source_coverage import check_example_sources, check_sources
from engine.tools.worked_examples import (
    check_cases,
    check_examples_file,
    looks_like_examples,
    named_pack,
    test_files,
)

from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    dump_json,
    existing_targets,
    fail,
    refuse_facts_documents,
    show_problems,
)
from .examples import (
    Loaded,
    examples_packs,
    examples_packs_option,
    load_packs,
    refuse_missing_pack,
)


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--sources",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of source documents: check cited headings (packs' and worked examples') "
    "and report coverage.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit", "sarif"]),
    default="text",
    show_default=True,
)
@click.option("--no-tests", is_flag=True, help="Do not run the packs' worked examples.")
@examples_packs_option("are checked against")
@click.option(
    "--costs",
    is_flag=True,
    help="Show each pack's largest and total estimated evaluation cost (steps).",
)
def command(
    paths: tuple[Path, ...],
    sources: Path | None,
    fmt: str,
    no_tests: bool,
    packs_dir: Path | None,
    costs: bool,
) -> None:
    """Check packs: YAML, schema, expressions, tables, task graphs, worked examples.

    PATHS default to $REGIME_PACKS, else ./policies. A worked-example file (tests/*.yaml) is
    checked as one: its schema, the pack it names, each case's facts against that pack's
    facts schema, and its cases (unless --no-tests); `regime test FILE` runs it with coverage.

    \b
    Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 bad usage.
    Examples:
      regime check policies/
      regime check policies/pmp.yaml --format sarif > check.sarif
      regime check policies/ --sources ../shared/sources
      regime check policies/local/
      regime check policies/ --costs
      regime check policies/tests/pmp_pay.yaml
    """
    given = existing_targets(paths)
    refuse_facts_documents(given)
    examples = [t for t in given if looks_like_examples(t)]
    targets = [t for t in given if t not in examples]
    for t in list(targets):  # a folder of worked examples alone (a pack's `tests` folder)
        if t.is_dir() and not pack_files([t]) and not engine.api.overlay_files([t]):
            inside = [f for f in sorted(t.rglob("*.y*ml")) if looks_like_examples(f)]
            if inside:
                targets.remove(t)
                examples += inside
    if sources is not None and not sources.is_dir():
        fail(f"no sources directory `{sources}`", "pass the folder of source documents")
    if sources is not None and not any(f.is_file() for f in sources.iterdir()):
        fail(f"the sources directory `{sources}` is empty", "pass the folder of source documents")
    if examples and not targets:
        _check_examples(examples, packs_dir, fmt, no_tests, sources)
    if not pack_files(targets) and not engine.api.overlay_files(targets):
        fail(
            f"no packs or local plans in {', '.join(f'`{t}`' for t in targets)}",
            "a pack is a YAML file with a top-level `id:` (or whose first line names "
            "schemas/pack.schema.json); a local plan's has `extends:` (or names "
            "schemas/overlay.schema.json)",
            code=EXIT_PROBLEMS,
        )
    packs, problems = engine.check_paths(targets)
    from engine.sql.check import sql_problems

    problems = sorted(problems + sql_problems(packs))
    if sources is not None:
        found, coverage = check_sources(packs, sources)
        for file in test_files(t for t in targets if t.is_dir()):  # their worked examples'
            pack_id = named_pack(file)
            if pack_id in packs:
                found += check_example_sources(file, packs[pack_id], sources)[0]
        problems = sorted(problems + found)
    else:
        coverage = {}
    if not no_tests:
        # the worked examples under the folders given (a file given is a pack, a local plan
        # or, above, a worked-example file: read once, as what it is)
        folders = [t for t in targets if t.is_dir()]
        problems = sorted(problems + check_cases(folders, packs))
    if examples:
        found = _examples_problems(examples, packs_dir, no_tests, sources)[0]
        problems = sorted(problems + found)
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


def _examples_problems(
    files: list[Path], packs_dir: Path | None, no_tests: bool, sources: Path | None = None
) -> tuple[list[Problem], list[dict[str, Any]]]:
    """Each worked-example file checked against the packs it runs against (as `regime test`
    chooses them): the problems of the pack it names (all errors of that folder when the pack
    did not load) and of the file itself, and with `sources` its cases' citations (the
    summary counts them); with a summary of each file."""
    loaded: dict[Path, Loaded] = {}
    problems: list[Problem] = []
    summaries: list[dict[str, Any]] = []
    for file in files:
        where = examples_packs(file, packs_dir, loaded)
        packs, found = load_packs([where], loaded)
        loaded[where] = (packs, found)
        pack_id = named_pack(file)
        pack = packs.get(pack_id) if pack_id is not None else None
        if pack is None and any(p.is_error for p in found):
            problems += [p for p in found if p.is_error]
            summaries.append({"file": str(file), "pack": pack_id, "packs": str(where)})
            continue
        refuse_missing_pack(file, packs, [where])
        problems += [p for p in found if pack is not None and p.file == pack.file]
        own, cases = check_examples_file(file, packs, run=not no_tests)
        problems += own
        summary = {"file": str(file), "pack": pack_id, "packs": str(where), "cases": cases}
        if sources is not None and pack is not None:
            cited, summary["citations"] = check_example_sources(file, pack, sources)
            problems += cited
        summaries.append(summary)
    unique = {(p.file, p.line, p.col, p.code, p.message): p for p in problems}
    return sorted(unique.values()), summaries


def _check_examples(
    files: list[Path], packs_dir: Path | None, fmt: str, no_tests: bool, sources: Path | None
) -> None:
    """`regime check` given only worked-example files: each checked as one (with `sources`,
    its cases' citations too), then exit."""
    problems, summaries = _examples_problems(files, packs_dir, no_tests, sources)
    errors = [p for p in problems if p.is_error]
    if fmt == "json":
        report = {
            "worked_examples": summaries,
            "problems": [p.to_dict() for p in problems],
            "errors": len(errors),
            "warnings": len(problems) - len(errors),
        }
        click.echo(dump_json(report))
    elif fmt == "junit":
        from .formats import problems_junit

        click.echo(problems_junit(problems, []))
    elif fmt == "sarif":
        from .formats import problems_sarif

        click.echo(problems_sarif(problems))
    else:
        show_problems(problems)
        for s in summaries:
            cases = f"{s['cases']} case(s)" if "cases" in s else "no cases (the pack did not load)"
            ran = "" if no_tests or "cases" not in s else ", run"
            named = f"for pack `{s['pack']}`" if s["pack"] else "naming no pack"
            click.echo(
                f"worked examples `{s['file']}` {named} (packs in `{s['packs']}`): "
                f"{cases} checked{ran}"
            )
            if "citations" in s:
                click.echo(f"worked examples `{s['file']}`: " + _citations_checked(s, sources))
        click.echo(
            f"{len(files)} worked-example file(s) checked: {len(errors)} error(s), "
            f"{len(problems) - len(errors)} warning(s)"
        )
    raise SystemExit(EXIT_PROBLEMS if errors else EXIT_OK)


def _citations_checked(summary: dict[str, Any], sources: Path | None) -> str:
    """What `--sources` checked of a worked-example file, in words."""
    if summary["citations"] is None:
        return (
            f"the source of pack `{summary['pack']}` is not in `{sources}`, so nothing was "
            "checked (as for the pack)"
        )
    if not summary["citations"]:
        return f"no case cites the source, so nothing was checked against `{sources}`"
    return f"{summary['citations']} citation(s) checked against `{sources}`"


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
