"""`regime diff`: a semantic diff of two pack files, or of two versions inside one pack."""

from __future__ import annotations

from pathlib import Path

import click

import engine
import engine.api
from engine.packs.model import Pack
from engine.tools.local_plan_views import render_variations
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

    With a national pack as OLD and a local plan of it as NEW, lists every local variation
    with its autonomy level and the national passage that allows it.

    OLD and NEW are pack files, each optionally followed by `@VERSION` to take one version:
    the rules in force in it, each parameter's value on its first day and its metadata.
    Reports rules, parameters, definitions, outputs, tables, vocabulary, tasks and their
    dependencies, interpretations and versions added, removed or changed.

    \b
    Exit codes: 0 compared (whether or not there are differences), 2 bad input.
    Examples:
      regime diff policies/pmp.yaml@1 policies/pmp.yaml@2
      regime diff old/keywork_edm.yaml policies/keywork_edm.yaml --format json
      regime diff policies/omu_edm.yaml policies/local/lei/omu_edm.yaml
    """
    (old_path, old_version), (new_path, new_version) = split_target(old), split_target(new)
    if engine.api.is_overlay_file(new_path):
        national = load_one(old_path)
        merged, problems = engine.api.load_overlay(new_path, {national.id: national})
        if merged is None or merged.id != national.id:
            show_problems([p for p in problems if p.is_error])
            fail(
                f"`{new_path}` is not a valid local plan of `{national.id}`; "
                f"run `regime check {new_path}`",
                code=EXIT_USAGE,
            )
        click.echo(render_variations(national, merged, fmt), nl=False)
        raise SystemExit(EXIT_OK)
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
