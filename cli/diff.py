"""`regime diff`: a semantic diff of two pack files, or of two versions inside one pack."""

from __future__ import annotations

from pathlib import Path

import click

import engine
from engine.packs.model import Pack
from engine.tools.pack_diff import diff_packs, render_text

from .common import EXIT_OK, EXIT_USAGE, dump_json, fail, show_problems


def split_target(arg: str) -> tuple[Path, str | None]:
    """`pack.yaml` or `pack.yaml@VERSION` (a file whose name holds `@` is taken whole)."""
    if Path(arg).exists() or "@" not in arg:
        return Path(arg), None
    path, _, version = arg.rpartition("@")
    if not version.strip():
        fail(f"`{arg}` names no version after `@`", f"e.g. {path}@1, or {path} for the whole pack")
    return Path(path), version


def load_one(path: Path) -> Pack:
    if not path.exists():
        fail(f"no such file `{path}`")
    if path.is_dir():
        fail(f"`{path}` is a directory; name one pack file", "e.g. policies/pmp.yaml@1")
    packs, problems = engine.check_paths([path])
    errors = [p for p in problems if p.is_error]
    if errors or not packs:
        show_problems(errors)
        fail(f"`{path}` does not load as a pack; run `regime check {path}`", code=EXIT_USAGE)
    return next(iter(packs.values()))


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def command(old: str, new: str, fmt: str) -> None:
    """Compare two packs, or two versions of one pack, by meaning rather than by line.

    OLD and NEW are pack files, each optionally followed by `@VERSION` to take one version:
    the rules in force in it, each parameter's value on its first day and its metadata.
    Reports rules, parameters, definitions, outputs, tables, vocabulary, tasks and their
    dependencies, interpretations and versions added, removed or changed.

    \b
    Exit codes: 0 compared (whether or not there are differences), 2 bad input.
    Examples:
      regime diff policies/pmp.yaml@1 policies/pmp.yaml@2
      regime diff old/keywork_edm.yaml policies/keywork_edm.yaml --format json
    """
    (old_path, old_version), (new_path, new_version) = split_target(old), split_target(new)
    old_pack = load_one(old_path)
    new_pack = old_pack if new_path.resolve() == old_path.resolve() else load_one(new_path)
    try:
        result = diff_packs(old_pack, new_pack, old_version, new_version, old, new)
    except KeyError as e:
        fail(str(e.args[0]))
    click.echo(dump_json(result.to_dict()) if fmt == "json" else render_text(result), nl=False)
    if fmt == "json":
        click.echo()
    raise SystemExit(EXIT_OK)
