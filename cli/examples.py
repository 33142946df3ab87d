"""Worked-example files given as PATHS: which packs they run against, loaded once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import click

import engine
from engine.packs import model as M
from engine.problems import Problem
from engine.tools.worked_examples import named_pack

from .common import F, fail, path_option, resolve_packs_dir

Loaded = tuple[dict[str, M.Pack], list[Problem]]


def examples_packs_option(doing: str) -> Callable[[F], F]:
    """--packs: the folder of packs that worked-example files given in PATHS are `doing` (e.g.
    "run against"), chosen by `examples_packs` when not given."""
    return path_option(
        "--packs",
        "packs_dir",
        directory=True,
        help=f"Packs that worked-example files given in PATHS {doing} (default: the folder "
        "above their `tests` folder when it holds the pack they name, else $REGIME_PACKS, else "
        "./policies).",
    )


def examples_packs(file: Path, packs_dir: Path | None, loaded: dict[Path, Loaded]) -> Path:
    """The packs a worked-example file runs against: `--packs`; else, when the file is in a
    pack's `tests` folder (the folder above it holds the pack the file names), that folder;
    else $REGIME_PACKS or ./policies, as for commands that take a pack id, said on stderr
    since the file's place does not say it. A folder loaded to look is kept in `loaded`, for
    the command to use rather than load it again."""
    if packs_dir is not None:
        return packs_dir
    pack_id = named_pack(file)
    if file.parent.name == "tests" and pack_id is not None:
        beside = file.parent.parent
        if beside not in loaded:
            loaded[beside] = engine.check_paths([beside])
        if pack_id in loaded[beside][0]:
            return beside
    chosen = resolve_packs_dir(None)
    if not chosen.exists():
        fail(
            f"no packs directory `{chosen}` for the worked examples in `{file}`, which are not "
            "in the `tests` folder of the pack they name",
            "pass --packs DIR, or set REGIME_PACKS to the packs directory",
        )
    click.echo(
        f"note: the worked examples in `{file}` run against the packs in `{chosen}` "
        "(they are not in the `tests` folder of the pack they name; --packs DIR chooses others)",
        err=True,
    )
    return chosen


def load_packs(pack_targets: list[Path], loaded: Mapping[Path, Loaded]) -> Loaded:
    """The packs (and problems) under `pack_targets`: those `examples_packs` already loaded
    when the targets are that one folder, else loaded now."""
    if len(pack_targets) == 1 and pack_targets[0] in loaded:
        packs, problems = loaded[pack_targets[0]]
        return dict(packs), list(problems)
    return engine.check_paths(pack_targets)


def refuse_missing_pack(file: Path, packs: Mapping[str, object], where: list[Path]) -> None:
    """A usage error, before any case runs, for a worked-example file naming a pack that is not
    among the packs loaded: every case would fail the same way, for a reason not in the file."""
    pack_id = named_pack(file)
    if pack_id is not None and pack_id not in packs:
        shown = ", ".join(f"`{p}`" for p in where)
        fail(
            f"no pack `{pack_id}` in {shown} for the worked examples in `{file}`",
            "pass --packs DIR (or set REGIME_PACKS) to the folder that holds it; packs "
            f"there: {', '.join(sorted(packs)) or 'none'}",
        )
