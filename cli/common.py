"""Shared pieces of the command line: finding packs, reading facts, reporting errors."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

import engine
import engine.api
from engine.packs.facts_positions import positioned
from engine.packs.facts_schema import healthcare_roots, read_facts_file, root_types
from engine.paths import same_file
from engine.problems import EvaluationError, FactsError, PackError, Problem, did_you_mean
from engine.tools import whole_files

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def packs_option(fn: F) -> F:
    return click.option(
        "--packs",
        "packs_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Directory of packs, or one pack file (default: $REGIME_PACKS, else ./policies).",
    )(fn)


def pack_target(pack: str, packs_dir: Path | None) -> tuple[str, Path | None]:
    """PACK as a pack id, or as the path of a pack file: the id, and where to load it from
    (the file itself), so that `regime eval policies/pmp.yaml` is `regime eval pmp`."""
    if not pack.endswith((".yaml", ".yml")) and "/" not in pack and os.sep not in pack:
        return pack, packs_dir
    path = Path(pack)
    if packs_dir is not None:
        fail(
            f"`{pack}` names a file, but with --packs PACK is a pack id",
            f"give the pack file alone, or its id with --packs: e.g. `{path.stem}`",
        )
    if not path.is_file():
        fail(
            f"no pack file `{pack}`",
            "PACK is a pack id (e.g. keywork_edm), found under --packs DIR, or the path of a "
            "pack file",
        )
    if engine.api.is_overlay_file(path):
        fail(
            f"`{pack}` is a local plan, not a pack",
            f"give the national pack as PACK and the plan as --establishment-plan {pack}",
        )
    packs, problems = engine.check_paths([path], overlays=False)
    if len(packs) != 1:
        show_problems([p for p in problems if p.is_error])
        fail(f"`{pack}` does not load as a pack; run `regime check {pack}`", code=EXIT_PROBLEMS)
    return next(iter(packs)), path


def path_option(*decls: str, directory: bool = False, **kwargs: Any) -> Callable[[F], F]:
    """An option naming a file (or, with `directory`, a folder) as a Path, default None: the
    declaration every command that reads or writes files repeats."""
    kwargs.setdefault("default", None)
    kind = {"file_okay": False} if directory else {"dir_okay": False}
    return click.option(*decls, type=click.Path(path_type=Path, **kind), **kwargs)


def existing_targets(paths: tuple[Path, ...]) -> list[Path]:
    """The files and folders a command was given (default: $REGIME_PACKS, else ./policies, as
    for commands that take a pack id), each of which must exist: the check every command that
    reads packs starts with."""
    targets = list(paths) or [resolve_packs_dir(None)]
    for t in targets:
        if not t.exists():
            hint = None if paths else "pass PATHS, or set REGIME_PACKS to the packs directory"
            fail(f"no such file or directory `{t}`", hint)
    return targets


def refuse_facts_documents(targets: list[Path]) -> None:
    """A usage error for a facts document given where packs are read: it is named as what it
    is, with the command that checks it, rather than reported as a pack missing every field."""
    from engine.api import is_facts_document

    for t in targets:
        if is_facts_document(t):
            fail(
                f"`{t}` is a facts document, not a pack",
                f"evaluate it against a pack, which checks it against the pack's facts schema: "
                f"regime eval PACK --facts {t}",
            )


def _refuse_pack_as_facts(path: Path) -> None:
    """A usage error for a pack or a worked-example file given as facts: named as what it is,
    rather than as a facts document with every one of its keys unknown."""
    from engine.api import file_head

    head = file_head(path)
    if head is None:
        return
    lines, tops = head
    if (lines and "pack.schema.json" in lines[0]) or {"id", "versions"} <= tops:
        fail(
            f"`{path}` is a pack, not a facts document",
            "give the pack as PACK (its id, or this file) and a facts document with --facts",
        )
    if {"pack", "cases"} <= tops:
        fail(
            f"`{path}` is a file of worked examples, not a facts document",
            f"run its cases with: regime test {path}",
        )


def resolve_packs_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    env = os.environ.get("REGIME_PACKS")
    return Path(env) if env else Path("policies")


def refuse_onto_inputs(outputs: list[Path], inputs: list[Path]) -> None:
    """Refuse, before anything is written, an output that is one of the `inputs` (the run
    would overwrite what it read) or two outputs that are one file (one would replace the
    other)."""
    for n, out in enumerate(outputs):
        for read in inputs:
            if same_file(out, read):
                fail(
                    f"`{out}` is the same file as the input `{read}`: writing there would "
                    "overwrite it",
                    hint="choose another output file",
                )
        for other in outputs[n + 1 :]:
            if same_file(out, other):
                fail(
                    f"`{out}` and `{other}` are the same file: one output would replace the other",
                    hint="choose a file of its own for each",
                )


def write_whole(out: Path, text: str, inputs: list[Path]) -> None:
    """Write `text` to `out` whole or not at all (a temporary file beside it, then a rename),
    refusing an `out` that is one of the `inputs`: the run would overwrite what it read."""
    refuse_onto_inputs([out], inputs)
    try:
        whole_files.write_whole(out, text)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror or e}")


def fail(message: str, hint: str | None = None, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)
    sys.exit(code)


def show_problems(problems: list[Problem], limit: int | None = None) -> None:
    """Each problem's line, then the offending source line with a caret under the column."""
    for p in problems[:limit]:
        head, _, hint = p.format().partition("\n")
        click.echo(head)
        for line in caret_lines(p):
            click.echo(line)
        if hint:
            click.echo(hint)


def caret_lines(p: Problem) -> list[str]:
    """The source line a problem points at and a caret under its column (underlining the
    problem's span when it ends on the same line); nothing when the line cannot be read."""
    if p.whole_file:
        return []
    source = _source_lines(p.file)
    if not 1 <= p.line <= len(source):
        return []
    text = source[p.line - 1]
    if p.col > len(text) + 1:
        return []
    width = 1
    if p.end_line == p.line and p.end_col is not None and p.end_col > p.col:
        width = min(p.end_col, len(text) + 1) - p.col
    col = p.col
    if len(text) > EXCERPT:  # a long line (a one-line JSON document): the part around the column
        first = max(0, col - 1 - EXCERPT // 3)
        shown = text[first : first + EXCERPT]
        before, after = ("…" if first else ""), ("…" if first + EXCERPT < len(text) else "")
        text, col = before + shown + after, col - first + len(before)
        width = min(width, len(before) + len(shown) + 1 - col)
    gutter = str(p.line)
    # keep tabs, so the caret lines up however the terminal shows them
    lead = "".join(c if c == "\t" else " " for c in text[: col - 1])
    return [
        f" {gutter} | {text}",
        f" {' ' * len(gutter)} | {lead}{'^' * max(width, 1)}",
    ]


EXCERPT = 100  # the most characters of a source line shown under a problem


@functools.lru_cache(maxsize=64)
def _source_lines(file: str) -> tuple[str, ...]:
    try:
        if not Path(file).is_file():  # a pipe or device might never end: no excerpt
            return ()
        return tuple(Path(file).read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return ()


def load_packs(directory: Path, wanted: str | None = None) -> engine.Packs:
    """The packs under `directory`. With `wanted`, a broken unrelated pack does not stop the
    command; the wanted pack must load without errors."""
    if not directory.exists():
        fail(
            f"no packs directory `{directory}`",
            "run from the project folder, or pass --packs DIR or set REGIME_PACKS",
        )
    if wanted is None:
        try:
            return engine.load(directory)
        except PackError as e:
            show_problems(e.problems)
            fail(
                f"the packs in `{directory}` have errors; run `regime check {directory}`",
                code=EXIT_PROBLEMS,
            )
    packs, problems = engine.check_paths([directory], overlays=False)
    if wanted not in packs:
        mine = [p for p in problems if p.is_error and _mentions(p, wanted)]
        if not mine and not directory.is_dir():  # one file given: its problems are the answer
            show_problems([p for p in problems if p.is_error])
            fail(
                f"`{directory}` does not load as a pack, so has no pack `{wanted}`; "
                f"run `regime check {directory}`",
                "--packs (or REGIME_PACKS) names a folder of packs, or one pack file",
            )
        if mine:
            show_problems(mine)
            fail(f"pack `{wanted}` has errors; run `regime check {directory}`", code=EXIT_PROBLEMS)

        fail(
            f"no pack `{wanted}` in `{directory}`",
            did_you_mean(wanted, packs) or f"packs: {', '.join(sorted(packs)) or 'none'}",
        )
    broken = sorted({p.file for p in problems if p.is_error})
    if broken:  # said on stderr, so that what the command prints stays as it would be
        click.echo(
            f"note: {len(broken)} other pack file(s) under `{directory}` have errors and were "
            f"left out; run `regime check {directory}`",
            err=True,
        )
    return engine.Packs(packs)


def _mentions(problem: Problem, pack_id: str) -> bool:
    path = Path(problem.file)
    try:
        if not path.is_file():  # a pipe or device might never end
            return False
        with path.open("rb") as f:
            head = f.read(3000).decode("utf-8", errors="replace")
    except OSError:
        return False
    return f"id: {pack_id}" in head


def read_facts(path: Path, audience: str = "custodial") -> dict[str, Any]:
    _refuse_pack_as_facts(path)
    try:
        return read_facts_file(path, custodial=audience != "healthcare")
    except FactsError as e:
        show_problems(e.problems)
        fail(f"cannot read facts from `{path}`", None if e.placeable else _UNPLACED)


_UNPLACED = (
    "for a custodial audience problems are not placed at a line: a line could depend on "
    "healthcare-only facts (--audience healthcare gives lines)"
)


def parse_date(value: str | None) -> dt.date | None:
    """Every command's `--as-of`, read by the engine's one date parser."""
    from engine.api import as_date

    try:
        return as_date(value, "--as-of")
    except EvaluationError:
        fail(f"`{value}` is not a date", "write dates as YYYY-MM-DD, e.g. 2020-07-01")


def parse_days(text: str) -> tuple[dt.date, dt.date]:
    """`DATE` (one day) or `START..END`, both ends given (blanks around each end are not part
    of it): the first and last day, in the order given (the caller checks the order)."""
    first, sep, last = text.partition("..")
    if sep and not (first.strip() and last.strip()):
        missing = "start" if not first.strip() else "end"
        fail(
            f"the range `{text}` has no {missing} date",
            "write START..END, e.g. 2020-06-01..2020-12-31, or one date",
        )
    start = parse_date(first.strip())
    end = parse_date(last.strip()) if sep else start
    assert start is not None and end is not None
    return start, end


def user_errors(fn: F) -> F:
    """Turn the engine's errors about user input into messages and exit codes, never tracebacks."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FactsError as e:
            show_problems(positioned(e.problems) if e.placeable else e.problems)
            fail(
                "the facts do not match the facts schema; nothing was evaluated",
                "fix the fields named above (the facts schema the pack's `facts:` names says "
                "what each takes)" + ("" if e.placeable else "; " + _UNPLACED),
            )
        except EvaluationError as e:
            fail(str(e), e.hint)
        except KeyError as e:
            fail(str(e.args[0]) if e.args else "not found")

    return wrapper  # type: ignore[return-value]


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


def format_option(*choices: str) -> Callable[[F], F]:
    """--format: how the command writes its answer (the first choice is the default)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help="How to write the answer.",
    )


def id_field_option(fn: F) -> F:
    """--id-field: where in a facts document its subject's identifier is."""
    return click.option(
        "--id-field",
        default="prisoner.prison_number",
        show_default=True,
        help="Dotted path of the facts that names each document's subject.",
    )(fn)


_NOT_AN_ID = {"list": "list", "record": "record", "bool": "yes/no"}


def outputs_wanted(outputs: str | None) -> list[str] | None:
    """The names `--outputs a,b` gives (None when not given); one that names nothing (`,,`)
    is a usage error, not a search for an output called ``."""
    if outputs is None:
        return None
    wanted = [o.strip() for o in outputs.split(",") if o.strip()]
    if not wanted:
        fail(f"--outputs names no output (`{outputs}`)", "e.g. --outputs eligible,review_due_on")
    return wanted


def check_id_field(id_field: str, facts_schema: str, audience: str) -> None:
    """Refuse, for a custodial audience, an --id-field that reads healthcare-only facts (the
    field, or a record holding one): each row's label would show them. Refuse one that names
    a list, record or yes/no of the facts schema: not an identifier, and written differently
    by each engine. A path the schema does not have labels every row `?`, as before."""
    for root in healthcare_roots(facts_schema) if audience != "healthcare" else ():
        path = root.replace("[]", "")
        if id_field == path or id_field.startswith(path + ".") or path.startswith(id_field + "."):
            fail(
                f"--id-field `{id_field}` reads healthcare-only facts (`{path}`), which a "
                "custodial audience may not see",
                "name a field custodial staff may see, e.g. prisoner.prison_number",
            )
    parts = id_field.split(".")
    found = root_types(facts_schema).get(parts[0])
    for part in parts[1:]:
        field = found.field(part) if found is not None and found.kind == "record" else None
        found = field[0] if field else None
    if found is not None and found.kind in _NOT_AN_ID:
        fail(
            f"--id-field `{id_field}` is a {_NOT_AN_ID[found.kind]}, not an identifier",
            "name a text, number or date field, e.g. prisoner.prison_number",
        )


def audience_option(fn: F) -> F:
    """--audience: who a decision (or a report made of decisions) is for."""
    return click.option(
        "--audience",
        type=click.Choice(["custodial", "healthcare"]),
        default="custodial",
        show_default=True,
        help="Who the decision is for.",
    )(fn)


def facts_option(fn: F) -> F:
    """--facts: one facts file."""
    return click.option(
        "--facts",
        "facts_path",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Facts file (YAML or JSON).",
    )(fn)


def evaluation_options(fn: F) -> F:
    """--facts, --as-of, --audience and --packs: what every evaluating command takes."""
    fn = audience_option(fn)
    fn = click.option(
        "--as-of",
        "as_of",
        default=None,
        help="Evaluation date YYYY-MM-DD (default: the facts' as_of, else today).",
    )(fn)
    fn = plan_option(fn)
    fn = facts_option(fn)
    return packs_option(fn)


def plan_option(fn: F) -> F:
    """--establishment-plan: decide under an establishment's local plan."""
    return click.option(
        "--establishment-plan",
        "establishment_plan",
        default=None,
        help="Evaluate under an establishment's local plan: a plan file, or an establishment "
        "code (e.g. LEI) found as <packs>/local/<code>/<pack>.yaml.",
    )(fn)


def check_plan_dates(packs: engine.Packs, pack: str, first: dt.date, last: dt.date) -> None:
    """Under a local plan, every day from `first` to `last` lies within the plan's dates."""
    plan = packs[pack].local_plan
    if plan is not None and (why := plan.not_in_force(first, last)) is not None:
        fail(why, "give dates within it")


def with_plan(
    packs: engine.Packs, pack: str, plan: str | None, packs_dir: Path | None
) -> engine.Packs:
    """The packs with `pack` under the establishment plan, when one is given."""
    if plan is None:
        return packs
    directory = resolve_packs_dir(packs_dir)
    if directory.is_file():  # one pack file: establishment plans are looked for beside it
        directory = directory.parent
    path = engine.api.resolve_plan(plan, pack, directory)
    if not path.exists():
        fail(
            f"no local plan `{plan}` for pack `{pack}`",
            f"give a plan file, or an establishment code with a plan at {path}",
        )
    try:
        merged = packs.with_plan(pack, path, directory)
    except PackError as e:
        show_problems(e.problems)
        fail(f"the local plan `{path}` has errors; run `regime check {path}`", code=EXIT_PROBLEMS)
    return engine.Packs({**packs.packs, pack: merged}, packs.warnings)


def decide(
    packs: engine.Packs,
    pack: str,
    facts_path: Path,
    as_of: str | None,
    audience: str,
    plan: str | None = None,
    packs_dir: Path | None = None,
) -> tuple[engine.Decision, dict[str, Any]]:
    """Read a facts file and evaluate it (under a local plan when one is given): the shared
    core of `eval` and `explain`. The facts read come back with the decision, for a reader
    told which entries of a list lack a fact it needs."""
    if not facts_path.exists():
        fail(f"no facts file `{facts_path}`")
    packs = with_plan(packs, pack, plan, packs_dir)
    facts = read_facts(facts_path, audience)
    decision = packs.evaluate(
        pack, facts, as_of=parse_date(as_of), audience=audience, facts_name=str(facts_path)
    )
    return decision, facts
