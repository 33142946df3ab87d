"""`regime impact`: what changes, for whom, if a pack goes from one version (or file) to
another, over the same population."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import click

from engine.packs.model import Pack
from engine.problems import did_you_mean
from engine.tools.impact import Side, impact
from engine.tools.impact_report import render_html, render_text
from engine.tools.impact_sql import impact_sql

from .common import (
    check_id_field,
    check_plan_dates,
    dump_json,
    fail,
    format_option,
    load_packs,
    pack_target,
    plan_option,
    resolve_packs_dir,
    user_errors,
    with_plan,
    write_whole,
)
from .diff import load_one
from .population import (
    decide_with,
    load_population,
    parse_range,
    planned_population,
    population_options,
    subject_of,
)


def _from_git(path: Path, rev: str) -> Pack:
    """The pack file as it stood at a git revision (never one starting `-`, which git would
    take as an option: `--output=FILE` made it write a file)."""
    if rev.startswith("-"):
        fail(f"`{rev}` is not a git revision", "e.g. policies/pmp.yaml@HEAD~1")
    try:
        shown = subprocess.run(
            ["git", "show", f"{rev}:./{path.name}"],
            cwd=path.parent.resolve(),
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as e:
        fail(f"cannot run git to read `{path}@{rev}`: {e}")
    if shown.returncode != 0:
        fail(
            f"`{rev}` is neither a version of `{path}` nor a git revision holding it",
            shown.stderr.decode(errors="replace").strip().splitlines()[-1:][0]
            if shown.stderr
            else None,
        )
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        copy.write_bytes(shown.stdout)
        return load_one(copy)


_LOADED: dict[Path, Pack] = {}


def _load(path: Path) -> Pack:
    """A pack file loaded once per command, however many sides name it."""
    key = path.resolve()
    if key not in _LOADED:
        _LOADED[key] = load_one(path)
    return _LOADED[key]


def resolve_side(arg: str) -> Side:
    """`FILE`, `FILE@VERSION` (a version of the pack in that file) or `FILE@REV` (the file
    at a git revision, e.g. policies/pmp.yaml@HEAD~1)."""
    path = Path(arg)
    if path.exists() or "@" not in arg:
        return Side(_load(path), None, arg)
    name, _, rev = arg.rpartition("@")
    path = Path(name)
    if not path.exists():
        fail(f"no such file `{path}`")
    pack = _load(path)
    if any(v.id == rev for v in pack.versions):
        return Side(pack, rev, arg)
    return Side(_from_git(path, rev), None, arg)


def _check_track(track: str, pack: Pack, audience: str) -> None:
    """--track names an output of the pack that `audience` may see (else every day would
    count as undetermined, silently)."""
    output = pack.outputs.get(track)
    if output is None:
        fail(
            f"pack `{pack.id}` has no output `{track}`",
            did_you_mean(track, pack.outputs) or f"outputs: {', '.join(pack.outputs)}",
        )
    if audience != "healthcare" and output.custodial_withheld:
        fail(
            f"output `{track}` is withheld from a custodial audience",
            "track an output this audience may see, or use --audience healthcare",
        )


def _plain_files(*sides: str | None) -> list[Path]:
    """The pack files that OLD and NEW read (without an `@VERSION` or `@REVISION`)."""
    return [
        Path(a) if Path(a).exists() or "@" not in a else Path(a.rpartition("@")[0])
        for a in sides
        if a
    ]


@click.command("impact")
@click.argument("pack")
@click.argument("old", required=False)
@click.argument("new", required=False)
@population_options("--population")
@click.option("--as-of", "as_of", required=True, help="DATE or START..END (YYYY-MM-DD).")
@click.option("--from-version", default=None, help="The pack's own policy version before.")
@click.option("--to-version", default=None, help="The pack's own policy version after.")
@click.option("--track", default=None, help="Output to count day by day (default: chosen).")
@plan_option
@format_option("text", "json", "html")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here."
)
@user_errors
def command(
    pack: str,
    old: str | None,
    new: str | None,
    population_path: Path,
    audience: str,
    id_field: str,
    engine: str,
    packs_dir: Path | None,
    as_of: str,
    from_version: str | None,
    to_version: str | None,
    track: str | None,
    fmt: str,
    out: Path | None,
    establishment_plan: str | None,
) -> None:
    """Compare two versions of PACK (--from-version A --to-version B), two pack files OLD
    and NEW (each `FILE`, `FILE@VERSION` or `FILE@GIT-REVISION`), or the national pack and
    an establishment's local plan (--establishment-plan CODE|FILE), on the same population:
    how many decisions change, the before/after cross-table of each output, the rules
    responsible, and example subjects (identifier only) for each kind of change.

    Over a range (--as-of START..END) the figures count document-days, and the HTML report
    charts the tracked output day by day and the change points per week.

    With the duckdb engine (the default where the pack compiles to SQL) each side decides
    every document on every day in DuckDB; with python the interpreter finds each document's
    change points. The two give the same figures.

    \b
    Exit codes: 0 compared, 1 the packs have errors, 2 bad usage or unreadable input.
    Examples:
      regime impact pmp --population examples/population/pmp_2022.jsonl \\
          --from-version 1 --to-version 2 --as-of 2022-11-01
      regime impact pmp policies/pmp.yaml@HEAD~1 policies/pmp.yaml \\
          --population examples/population/pmp_2022.jsonl --as-of 2022-11-01 --format json
      regime impact keywork_edm --population examples/population/keywork_2020.jsonl \\
          --from-version 1 --to-version 1 --as-of 2020-06-01..2020-12-31 \\
          --format html --out impact.html
      regime impact keywork_edm --population leeds.jsonl --as-of 2020-08-03 \\
          --establishment-plan LEI
    """
    start, end = parse_range(as_of)
    _LOADED.clear()
    pack, packs_dir = pack_target(pack, packs_dir)
    if (old or new) and (from_version or to_version):
        fail("give either --from-version/--to-version or OLD NEW, not both")
    if establishment_plan is not None and (old or new or from_version or to_version):
        fail(
            "--establishment-plan compares the national pack with the plan: give it alone",
            "leave out OLD NEW and --from-version/--to-version",
        )
    planned: tuple[int, list[str]] | None = None
    if establishment_plan is not None:
        packs = load_packs(resolve_packs_dir(packs_dir), pack)
        local = with_plan(packs, pack, establishment_plan, packs_dir)
        check_plan_dates(local, pack, start, end)
        plan = local[pack].local_plan
        assert plan is not None
        population, rejected, reasons = planned_population(
            load_population(population_path, packs[pack].facts, audience), plan
        )
        planned = (rejected, reasons)
        before = Side(packs[pack], None, "national")
        after = Side(local[pack], None, f"local plan {plan.establishment_code} {plan.version}")
    elif old or new:
        if not (old and new):
            fail("OLD and NEW go together", "e.g. policies/pmp.yaml@HEAD~1 policies/pmp.yaml")
        before, after = resolve_side(old), resolve_side(new)
        if before.pack.id != pack or after.pack.id != pack:
            fail(f"OLD and NEW must both be pack `{pack}`")
        population = load_population(population_path, after.pack.facts, audience)
    elif from_version and to_version:
        packs = load_packs(resolve_packs_dir(packs_dir), pack)
        model = packs[pack]
        population = load_population(population_path, model.facts, audience)
        for v in (from_version, to_version):
            if not any(pv.id == v for pv in model.versions):
                known = ", ".join(pv.id for pv in model.versions)
                fail(f"pack `{pack}` has no version `{v}`", f"versions: {known}")
        before = Side(model, from_version, f"version {from_version}")
        after = Side(model, to_version, f"version {to_version}")
    else:
        fail("say what to compare: --from-version A --to-version B, or OLD NEW")
    check_id_field(id_field, before.pack.facts, audience)
    if track is not None:
        _check_track(track, before.pack, audience)
    report, _, fallback = decide_with(
        engine,
        lambda: impact_sql(before, after, population, start, end, audience, id_field, track),
        lambda: impact(
            before,
            after,
            population,
            start,
            end,
            audience,
            lambda facts: subject_of(facts, id_field),
            track,
        ),
    )
    report.engine_note = fallback
    if planned is not None:  # the documents that contradict the plan, decided on neither side
        report.rejected += planned[0]
        report.reasons = planned[1] + [r for r in report.reasons if r not in planned[1]]
    if (
        track is not None
        and report.tracked is not None
        and not any(report.daily[s] for s in report.daily)
    ):
        fail(f"output `{track}` has no value this audience may see")
    if fmt == "json":
        text = dump_json(report.to_dict()) + "\n"
    elif fmt == "html":
        text = render_html(report)
    else:
        text = render_text(report)
    if out is not None:
        write_whole(out, text, [population_path, *_plain_files(old, new)])
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)
