"""`regime diff`: a semantic diff of two packs, or of two versions inside one pack, each named
by its file or by its pack id."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import click

import engine
import engine.api
from engine.packs.model import Pack
from engine.tools.local_plan_views import render_variations
from engine.tools.pack_diff import diff_packs, render_text

from .common import (
    EXIT_OK,
    EXIT_USAGE,
    dump_json,
    fail,
    load_packs,
    packs_option,
    resolve_packs_dir,
    show_problems,
)

PACK_ID = re.compile(r"[a-z][a-z0-9_]*")  # as the pack schema's `pack_id`


def split_target(arg: str) -> tuple[Path, str | None]:
    """`pack.yaml` or `pack.yaml@VERSION`, `pmp` or `pmp@VERSION` (a file whose name holds `@`
    is taken whole)."""
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


class ById:
    """Packs named by id, found among the packs under the packs folder (--packs, else
    $REGIME_PACKS, else ./policies), loaded once for both sides when they can be."""

    def __init__(self, packs_dir: Path | None) -> None:
        self.packs_dir = packs_dir
        self.loaded: dict[str, Pack] = {}

    def locate(self, path: Path) -> tuple[Path, Pack | None]:
        """An argument that is not an existing file and reads as a pack id: the file of that
        pack, and the pack; anything else: the path as given, to be loaded as a file."""
        name = str(path)
        if path.exists() or not PACK_ID.fullmatch(name):
            return path, None
        if name not in self.loaded:
            # the wanted pack must load; a broken unrelated one is left out with a note
            self.loaded = dict(load_packs(resolve_packs_dir(self.packs_dir), wanted=name).packs)
        pack = self.loaded[name]
        return Path(pack.file), pack


def load_side(path: Path, found: Pack | None) -> Pack:
    if found is not None:
        return found
    if not path.exists():
        fail(
            f"no such file `{path}`",
            "OLD and NEW are pack files or pack ids (found under --packs DIR), "
            "e.g. policies/pmp.yaml@1 or pmp@1",
        )
    return load_one(path)


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@packs_option
def command(old: str, new: str, fmt: str, packs_dir: Path | None) -> None:
    """Compare two packs, or two versions of one pack, by meaning rather than by line.

    With a national pack as OLD and a local plan file of it as NEW, lists every local
    variation with its autonomy level and the national passage that allows it.

    OLD and NEW are each a pack file or a pack id (an argument that is no file and reads as a
    pack id names the pack of that id under --packs DIR, else $REGIME_PACKS, else
    ./policies), optionally followed by `@VERSION` to take one version: the rules in force
    in it, each parameter's value on its first day and its metadata. Reports rules,
    parameters, definitions, outputs, tables, vocabulary, tasks and their dependencies,
    interpretations and versions added, removed or changed; a changed item shows what it is
    for (`means:`, its description) beside the change.

    \b
    Exit codes: 0 compared (whether or not there are differences), 2 bad input
    (a missing file, an unknown pack id or version, a file that is not a pack),
    1 a pack named by id has errors.
    Examples:
      regime diff pmp@1 pmp@2
      regime diff policies/pmp.yaml@1 policies/pmp.yaml@2
      regime diff pmp@1 pmp@2 --packs policies --format json
      regime diff old/keywork_edm.yaml keywork_edm --format json
      regime diff omu_edm policies/local/lei/omu_edm.yaml
    """
    (old_path, old_version), (new_path, new_version) = split_target(old), split_target(new)
    by_id = ById(packs_dir)
    old_path, old_found = by_id.locate(old_path)
    new_path, new_found = by_id.locate(new_path)
    if engine.api.is_overlay_file(new_path):
        national = load_side(old_path, old_found)
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
    old_pack = load_side(old_path, old_found)
    same = new_found is None and new_path.resolve() == old_path.resolve()
    new_pack = old_pack if same else load_side(new_path, new_found)
    try:
        result = diff_packs(old_pack, new_pack, old_version, new_version, old, new)
    except KeyError as e:
        fail(str(e.args[0]))
    result = dataclasses.replace(result, old_file=str(old_path), new_file=str(new_path))
    click.echo(dump_json(result.to_dict()) if fmt == "json" else render_text(result), nl=False)
    if fmt == "json":
        click.echo()
    raise SystemExit(EXIT_OK)
