"""`regime docs`: render packs as a static HTML site and the same pages as Markdown."""

from __future__ import annotations

from pathlib import Path

import click

import engine
import engine.api
from engine.tools.docs_site import write_site
from engine.tools.local_plan_views import local_plan_page
from engine.tools.worked_examples import examples_folder, read_cases, run_case, test_files

from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    existing_targets,
    fail,
    refuse_facts_documents,
    show_problems,
)


def _refuse_out_among_packs(out: Path, targets: list[Path]) -> None:
    """Refuse an `out` that is a packs folder read, or a folder inside one, or the folder of a
    pack file read: the pages would be mixed into the packs' own sources."""
    where = out.resolve()
    for t in targets:
        read = t.resolve()
        if where == read.parent if t.is_file() else where.is_relative_to(read):
            fail(
                f"`{out}` is among the packs read (`{t}`): the site would be written into them",
                "write the site to a folder of its own, e.g. --out site/",
            )


@click.command("docs")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write the site into (created when missing).",
)
def command(paths: tuple[Path, ...], out: Path) -> None:
    """Render packs for review: an index page and a page per pack, as HTML and Markdown.

    Local plans found under PATHS get a page each, listing every variation with its
    autonomy level and sign-off. Each pack page shows the source document and versions, the
    vocabulary, parameters with their dated values, every rule in plain English with its
    expression, citation and the worked examples that apply it, what a local plan may vary
    (for a pack with a `local:` block), the interpretations and what relies on them, and the
    task graph drawn as SVG. The HTML needs no JavaScript and prints
    cleanly. PATHS default to $REGIME_PACKS, else ./policies.

    \b
    Exit codes: 0 written, 1 a pack has errors (the others are still written), 2 bad usage.
    Examples:
      regime docs policies/ --out site/
      regime docs policies/omu_edm.yaml --out site/
    """
    targets = existing_targets(paths)
    refuse_facts_documents(targets)
    if out.exists() and not out.is_dir():
        fail(f"`{out}` is not a directory")
    _refuse_out_among_packs(out, targets)
    packs, problems = engine.check_paths(targets, overlays=False)
    errors = [p for p in problems if p.is_error]
    show_problems(errors)
    example_dirs = sorted({t if t.is_dir() else examples_folder(t) for t in targets})
    cases, _ = read_cases(test_files(example_dirs), packs)
    results = [run_case(c, packs) for c in cases if c.pack in packs]
    extra = []
    for plan_file in engine.api.overlay_files(targets):
        merged, found = engine.api.load_overlay(plan_file, packs)
        if merged is None:
            errors += [p for p in found if p.is_error]
            show_problems([p for p in found if p.is_error])
            continue
        national = packs.get(merged.id)
        if national is not None:
            extra.append(local_plan_page(national, merged))
    if errors and not packs:  # a site of no packs would be all it could write
        click.echo(
            f"{len(errors)} error(s) and no pack without errors: nothing written to {out}; "
            "run `regime check`",
            err=True,
        )
        raise SystemExit(EXIT_PROBLEMS)
    try:
        written = write_site(packs, results, out, extra)
    except OSError as e:
        fail(
            f"cannot write the site to `{out}`: {e.strerror or e}",
            "choose a folder you can create",
        )
    pages = sum(1 for f in written if f.suffix == ".html")
    click.echo(
        f"wrote {pages} HTML page(s) and {pages} Markdown page(s) for {len(packs)} "
        f"pack(s)"
        + (f" and {len(extra)} local plan(s)" if extra else "")
        + f" to {out}/ (start at {out / 'index.html'})"
    )
    if errors:
        click.echo(
            f"{len(errors)} error(s): packs with errors are not in the site; run `regime check`",
            err=True,
        )
    raise SystemExit(EXIT_PROBLEMS if errors else EXIT_OK)
