"""`regime timeline`: the days on which one facts document's decision changes over a range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from engine.problems import did_you_mean
from engine.tools.timeline import Timeline, show_field, timeline

from .common import (
    audience_option,
    check_id_field,
    check_plan_dates,
    dump_json,
    facts_option,
    fail,
    format_option,
    id_field_option,
    load_packs,
    outputs_wanted,
    pack_target,
    packs_option,
    parse_date,
    plan_option,
    read_facts,
    resolve_packs_dir,
    user_errors,
    with_plan,
)
from .population import subject_of


def show(value: Any, field: str = "", width: int = 0) -> str:
    return show_field(value, field, width)


def render_text(tl: Timeline, subject: str) -> str:
    work = (
        f"; {tl.candidates} candidate day(s) from the pack's date conditions ({tl.method}), "
        f"{tl.evaluated} day(s) evaluated"
        if tl.shows_work
        else f" (found from the pack's date conditions: {tl.method})"
    )
    lines = [
        f"{tl.pack}: {subject}, {tl.start} to {tl.end} ({tl.audience})",
        f"{len(tl.points)} change point(s){work}",
        "",
        f"on {tl.start}:",
    ]
    for name, value in tl.initial.items():
        lines.append(f"  {name} = {show(value, name, 72)}")
    for p in tl.points:
        lines.append("")
        lines.append(f"{p.on}:")
        for c in p.changes:
            lines.append(f"  {c.field}: {show(c.before, c.field)} -> {show(c.after, c.field)}")
        if p.because:
            lines.append(f"  because: {', '.join(p.because)}")
    return "\n".join(lines) + "\n"


def _cell(value: Any, field: str) -> str:
    return show(value, field).replace("|", "\\|")


def render_markdown(tl: Timeline, subject: str) -> str:
    lines = [
        f"# `{tl.pack}` timeline: {subject}",
        "",
        f"From {tl.start} to {tl.end}, for a {tl.audience} audience: {len(tl.points)} change "
        f"point(s), found from the pack's date conditions ({tl.method}).",
        "",
        "| date | field | before | after | because |",
        "| --- | --- | --- | --- | --- |",
    ]
    for p in tl.points:
        for i, c in enumerate(p.changes):
            because = ", ".join(p.because) if i == 0 else ""
            day = str(p.on) if i == 0 else ""
            before, after = _cell(c.before, c.field), _cell(c.after, c.field)
            lines.append(f"| {day} | `{c.field}` | {before} | {after} | {because} |")
    return "\n".join(lines) + "\n"


@click.command("timeline")
@click.argument("pack")
@facts_option
@click.option("--from", "start", required=True, help="First day YYYY-MM-DD.")
@click.option("--to", "end", required=True, help="Last day YYYY-MM-DD.")
@audience_option
@id_field_option
@click.option(
    "--outputs",
    default=None,
    help="Follow only these outputs, comma-separated (one that changes every day, such as a "
    "count of days left, hides the rest); status, version, missing facts and obligations are "
    "followed still.",
)
@format_option("text", "json", "markdown")
@plan_option
@packs_option
@user_errors
def command(
    pack: str,
    facts_path: Path,
    start: str,
    end: str,
    audience: str,
    id_field: str,
    outputs: str | None,
    fmt: str,
    establishment_plan: str | None,
    packs_dir: Path | None,
) -> None:
    """The days from --from to --to on which the decision for FACTS changes if nothing else
    does: each change with its before and after values and the conditions that flipped.

    The candidate days come from the pack's own date conditions (a release date minus four
    weeks, a rolling period of sessions, a birthday, a version's start), so the decision is
    evaluated only on those days, not on every day of the range.

    \b
    Exit codes: 0 done, 1 the packs have errors, 2 bad usage or bad facts.
    Examples:
      regime timeline keywork_edm --facts examples/prisoners/b3152kw_high_rosh_release.yaml \\
          --from 2020-06-01 --to 2020-12-31
      regime timeline pmp --facts examples/pmp/a1101pm_immunosuppressed_plan.yaml \\
          --from 2022-10-01 --to 2023-03-31 --format json
      regime timeline keywork_edm --facts examples/local/g8607kw_post_closure.yaml \\
          --from 2020-07-06 --to 2020-12-31 --establishment-plan LEI
      regime timeline action_plan --facts policies/action_plans/social_care_2018.yaml \\
          --from 2019-01-01 --to 2019-12-31 --outputs findings,finding_count \\
          --id-field action_plan.title
    """
    first, last = parse_date(start), parse_date(end)
    assert first is not None and last is not None
    if last < first:
        fail(f"--to {end} is before --from {start}")
    pack, packs_dir = pack_target(pack, packs_dir)
    packs = load_packs(resolve_packs_dir(packs_dir), pack)
    packs = with_plan(packs, pack, establishment_plan, packs_dir)
    check_plan_dates(packs, pack, first, last)
    if not facts_path.exists():
        fail(f"no facts file `{facts_path}`")
    check_id_field(id_field, packs[pack].facts, audience)
    facts = read_facts(facts_path, audience)
    wanted = outputs_wanted(outputs)
    for name in wanted or ():
        if name not in packs[pack].outputs:
            fail(
                f"pack `{pack}` has no output `{name}`",
                did_you_mean(name, list(packs[pack].outputs))
                or "outputs: " + ", ".join(packs[pack].outputs),
            )
    result = timeline(packs[pack], facts, first, last, audience, outputs=wanted)
    subject = subject_of(facts, id_field)
    if fmt == "json":
        click.echo(dump_json({"subject": subject, **result.to_dict()}))
    elif fmt == "markdown":
        click.echo(render_markdown(result, subject), nl=False)
    else:
        click.echo(render_text(result, subject), nl=False)
