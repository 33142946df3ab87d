"""`regime test`: run the worked examples beside the packs and report what they cover."""

from __future__ import annotations

from pathlib import Path

import click

from engine.api import is_pack_file
from engine.tools.worked_examples import (
    coverage,
    examples_folder,
    read_cases,
    run_case,
    test_files,
)

from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    existing_targets,
    fail,
    show_problems,
)
from .examples import (
    Loaded,
    examples_packs,
    examples_packs_option,
    load_packs,
    refuse_missing_pack,
)
from .formats import cases_junit


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "junit"]), default="text", show_default=True
)
@click.option(
    "--coverage",
    "show_coverage",
    is_flag=True,
    help="Also list the rules, table rows and outputs that no passing example exercises.",
)
@click.option("-k", "select", default=None, help="Only cases whose name contains this text.")
@examples_packs_option("run against")
def command(
    paths: tuple[Path, ...],
    fmt: str,
    show_coverage: bool,
    select: str | None,
    packs_dir: Path | None,
) -> None:
    """Run worked examples (policies/tests/*.yaml and packs' inline tests) and report, per pack,
    how many of its rules, table rows and outputs the passing examples exercise.

    PATHS default to $REGIME_PACKS, else ./policies. A folder runs the examples under it
    against its packs; a pack file, the examples beside it that name it; a worked-example
    file, its own cases against the packs chosen as --packs says.

    \b
    Exit codes: 0 all passed, 1 a case failed or a pack has errors, 2 bad usage (no
    example ran: none found, or none matching -k).
    Examples:
      regime test policies/
      regime test policies/ --coverage
      regime test policies/ --format junit > examples.xml
    """
    targets = existing_targets(paths)
    loaded: dict[Path, Loaded] = {}
    pack_targets, example_targets, only = _targets(targets, packs_dir, loaded)
    packs, problems = load_packs(pack_targets, loaded)
    errors = [p for p in problems if p.is_error]
    if not errors:
        for t in targets:
            if _is_examples_file(t):
                refuse_missing_pack(t, packs, pack_targets)
    cases, case_problems = read_cases(test_files(example_targets), packs)
    if only:
        cases = [c for c in cases if c.pack in packs]
    if all(_is_examples_file(t) for t in targets):  # their cases, not packs' inline tests
        cases = [c for c in cases if Path(c.file) in targets]
    if select:
        cases = [c for c in cases if select in c.name]
    results = [run_case(c, packs) for c in cases]
    failed = [r for r in results if not r.passed]
    if fmt == "junit":
        click.echo(cases_junit(results, errors + case_problems))
    else:
        show_problems(errors + case_problems)
        for r in failed:
            click.echo(f"FAIL {r.case.file}:{r.case.line}: {r.case.pack}: {r.case.name}")
            for f in r.failures:
                click.echo(f"     {f}")
        run = {r.case.pack for r in results}
        for pid, cov in sorted(coverage(results, packs).items()):
            if pid not in run:
                continue
            click.echo(
                f"coverage {pid}: rules {cov['rules'][0]}/{cov['rules'][1]}, "
                f"table rows {cov['rows'][0]}/{cov['rows'][1]}, "
                f"outputs {cov['outputs'][0]}/{cov['outputs'][1]}"
            )
            for key in ("rules_not_covered", "rows_not_covered", "outputs_not_covered"):
                if show_coverage and cov[key]:
                    click.echo(f"  {key.replace('_', ' ')}: {', '.join(cov[key])}")
        click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    bad = failed or errors or case_problems
    if not results and not bad:  # a typo in -k, or no examples where they were looked for
        where = ", ".join(str(t) for t in targets)
        fail(
            f"no worked examples ran ({len(cases)} selected under {where})",
            f"no case name contains `{select}`"
            if select
            else "worked examples live in tests/*.yaml beside the packs, or in a pack's `tests:`",
        )
    raise SystemExit(EXIT_PROBLEMS if bad else EXIT_OK)


def _targets(
    targets: list[Path], packs_dir: Path | None, loaded: dict[Path, Loaded]
) -> tuple[list[Path], list[Path], bool]:
    """Where to load packs from and where to find worked examples, for the paths given.

    A directory gives both; a pack file runs the worked examples that name it in the `tests`
    folder next to it, or in the nearest folder above that has one (`examples_folder`); a
    worked-example file runs against the packs `examples_packs` chooses. The flag is true when
    only pack files were given, so that the examples of other packs in that folder are left
    out."""
    packs: list[Path] = []
    examples: list[Path] = []
    pack_files = 0
    for t in targets:
        if t.is_dir():
            packs.append(t)
            examples.append(t)
        elif _is_examples_file(t):
            packs.append(examples_packs(t, packs_dir, loaded))
            examples.append(t)
        else:
            packs.append(t)
            examples.append(examples_folder(t))
            pack_files += 1
    return list(dict.fromkeys(packs)), list(dict.fromkeys(examples)), pack_files == len(targets)


def _is_examples_file(path: Path) -> bool:
    return not path.is_dir() and not is_pack_file(path)
