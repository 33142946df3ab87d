"""The `regime` command lines that README.md, docs/*.md and the commands' help show name
subcommands, options and option values the click application has, and README's command-line
section lists every option of every subcommand: a renamed or removed flag, or a new
undocumented one, fails here. Nothing is run; each line is read against the commands'
declared parameters."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from cli.main import SUBCOMMANDS, cli

ROOT = Path(__file__).resolve().parents[2]
# docs/errors.md is generated from the error catalogue and shows no command lines of its own
PAGES = [
    ROOT / "README.md",
    *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "errors.md"),
]
OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_.:-]*$")


def command(words: list[str]) -> tuple[str, click.Command]:
    """The (sub)command a command line names, as `regime` resolves it; fails when it has none."""
    ctx = click.Context(cli)
    cmd = cli.get_command(ctx, words[0]) if words else None
    if cmd is None:
        raise LookupError(f"no subcommand `{words[0] if words else ''}`")
    name = words[0]
    if isinstance(cmd, click.Group):
        sub = cmd.get_command(ctx, words[1]) if len(words) > 1 else None
        if sub is None:
            raise LookupError(f"`regime {name}` has no subcommand `{' '.join(words[1:2])}`")
        return f"{name} {words[1]}", sub
    return name, cmd


def options(cmd: click.Command) -> dict[str, click.Option]:
    """Every spelling of every option of `cmd`, with --help."""
    found: dict[str, click.Option] = {}
    for param in cmd.params:
        if isinstance(param, click.Option):
            for spelling in (*param.opts, *param.secondary_opts):
                found[spelling] = param
    return found


def command_lines() -> Iterator[tuple[str, str]]:
    """(where, line) for every `regime ...` command line in the pages: the lines of fenced
    blocks (only the `$ ` prompts where a block shows output too, continuations joined,
    comments dropped) and every inline `regime ...` code span."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        rel = page.relative_to(ROOT)
        for block in re.finditer(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S):
            start = text.count("\n", 0, block.start()) + 2
            lines = block.group(1).split("\n")
            prompts = any(line.startswith("$ ") for line in lines)
            joined: list[tuple[int, str]] = []
            for n, line in enumerate(lines):
                if joined and joined[-1][1].endswith("\\"):
                    joined[-1] = (joined[-1][0], joined[-1][1][:-1] + " " + line.strip())
                elif joined and not prompts and line.startswith(" ") and line.strip():
                    joined[-1] = (joined[-1][0], joined[-1][1] + " " + line.strip())
                else:
                    joined.append((start + n, line))
            for n, line in joined:
                if prompts:
                    if not line.startswith("$ regime "):
                        continue
                    line = line[2:]
                elif not line.startswith("regime "):
                    continue
                yield f"{rel}:{n}", re.sub(r"\s+#.*$", "", line)
        for span in re.finditer(r"`(regime [^`]+)`", text):
            yield f"{rel}:{text.count(chr(10), 0, span.start()) + 1}", span.group(1)


def help_lines() -> Iterator[tuple[str, str]]:
    """(where, line) for every `regime ...` example in the commands' own help texts."""
    ctx = click.Context(cli)
    found: list[tuple[str, click.Command]] = [("regime", cli)]
    for name in sorted(SUBCOMMANDS):
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        found.append((f"regime {name}", cmd))
        if isinstance(cmd, click.Group):
            found += [
                (f"regime {name} {s}", cmd.get_command(ctx, s)) for s in cmd.list_commands(ctx)
            ]
    for where, cmd in found:
        joined: list[str] = []
        for line in (cmd.help or "").splitlines():
            line = line.strip()
            if joined and joined[-1].endswith("\\"):
                joined[-1] = joined[-1][:-1] + " " + line
            else:
                joined.append(line)
        for line in joined:
            if line.startswith("regime "):
                yield f"{where} --help", re.sub(r"\s+#.*$", "", line)


def check_line(line: str) -> list[str]:
    """What in one command line the click application does not have (up to a shell pipe,
    told from a synopsis's `|` between options by the lower-case command after it)."""
    line = re.split(r" \| (?=[a-z])", line)[0]
    words = line.split()[1:]
    try:
        name, cmd = command(words)
    except LookupError as e:
        return [str(e)]
    have = options(cmd)
    problems = []
    tokens = re.findall(r"[^\s\[\]()]+", line)
    for i, token in enumerate(tokens):
        if not OPTION.fullmatch(token) or token.startswith("-" * 3):
            continue
        if token not in have and token not in ("-h", "--help"):
            problems.append(f"`regime {name}` has no option `{token}`")
            continue
        param = have.get(token)
        value = tokens[i + 1] if i + 1 < len(tokens) else ""
        if param is not None and isinstance(param.type, click.Choice) and value:
            for choice in value.split("|"):
                if choice in ("...", "") or PLACEHOLDER.match(choice):
                    continue
                if choice not in param.type.choices:
                    problems.append(f"`regime {name} {token}` has no choice `{choice}`")
    return problems


@pytest.mark.parametrize(
    "where,line",
    [*command_lines(), *help_lines()],
    ids=lambda v: v if ":" in v or v.endswith("--help") else "",
)
def test_documented_command_line_names_what_the_command_has(where: str, line: str) -> None:
    problems = check_line(line)
    assert not problems, f"{where}: {line}\n" + "\n".join(problems)


def test_the_pages_show_command_lines() -> None:
    """The extraction finds the pages' commands (an empty list would pass the test above)."""
    found = {line.split()[1] for _, line in command_lines()}
    assert set(SUBCOMMANDS) <= found


def readme_synopsis() -> dict[str, str]:
    """README's command-line block: each subcommand's synopsis, its lines joined."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The command line", 1)[1]
    block = re.search(r"^```\n(.*?)^```", section, re.M | re.S)
    assert block is not None
    synopsis: dict[str, str] = {}
    last = ""
    for line in block.group(1).splitlines():
        line = re.sub(r"\s+#.*$", "", line)
        if line.startswith("regime "):
            words = line.split()[1:]
            last = words[0] if words[0] not in ("facts",) else " ".join(words[:2])
            synopsis[last] = synopsis.get(last, "") + " " + line
        elif line.strip():
            synopsis[last] += " " + line.strip()
    return synopsis


def test_readme_lists_every_subcommand_and_option() -> None:
    synopsis = readme_synopsis()
    ctx = click.Context(cli)
    missing = []
    for name in sorted(SUBCOMMANDS):
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        subs = (
            [(f"{name} {s}", cmd.get_command(ctx, s)) for s in cmd.list_commands(ctx)]
            if isinstance(cmd, click.Group)
            else [(name, cmd)]
        )
        for full, sub in subs:
            assert sub is not None
            if full not in synopsis:
                missing.append(f"`regime {full}` has no line")
                continue
            shown = set(OPTION.findall(synopsis[full]))
            for param in sub.params:
                if isinstance(param, click.Option) and not shown & set(param.opts):
                    missing.append(f"`regime {full}` does not show `{param.opts[-1]}`")
    assert not missing, "README.md, The command line:\n" + "\n".join(missing)


def test_a_renamed_option_is_caught() -> None:
    """The check itself: a flag, a choice and a subcommand the application lacks."""
    assert check_line("regime check policies/ --format xml") == [
        "`regime check --format` has no choice `xml`"
    ]
    assert check_line("regime eval keywork_edm --fact F") == [
        "`regime eval` has no option `--fact`"
    ]
    assert check_line("regime evaluate keywork_edm") == ["no subcommand `evaluate`"]
    assert check_line("regime batch PACK --engine duckdb|spark|python [--threads N]") == []
    assert check_line("regime plan omu_edm --format dot | dot -Tsvg > plan.svg") == []


REPO_PATH = re.compile(
    r"(?<![\w./-])((?:engine|cli|service|tests|schemas|policies|examples|bench|scripts|adapters|docs)"
    r"/[\w./-]*[\w/])(?![\w<>*{}])"
)
# not paths from the root: the input of an error example, and a path relative to a pack
NOT_FROM_THE_ROOT = {"schemas/nope.schema.json", "schemas/visits.schema.json"}


def test_paths_the_pages_name_exist() -> None:
    """Every repository path a page names (`engine/...`, `tests/...`, `examples/...`) is there,
    from the repository root or from the page's own folder."""
    missing = []
    for page in PAGES:
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for match in REPO_PATH.finditer(line):
                path = match.group(1).split("::")[0]
                if path in NOT_FROM_THE_ROOT:
                    continue
                if not (ROOT / path).exists() and not (page.parent / path).exists():
                    missing.append(f"{page.relative_to(ROOT)}:{n}: {path}")
    assert not missing, "\n".join(missing)


ITEM_ID = re.compile(r"(?<![\w-])((?:I-)?[A-Z]{2,4}(?:-[A-Z0-9]+)*-\d{2})(?![\w-])")


def test_rule_and_interpretation_ids_the_pages_name_exist() -> None:
    """Rules and interpretations keep stable ids; one the pages name (`KW-PG-02`, `I-KW-03`)
    is declared in a pack under policies/."""
    declared: set[str] = set()
    for path in (ROOT / "policies").rglob("*.yaml"):
        declared |= set(re.findall(r"\bid:\s*['\"]?([A-Z][\w-]*)", path.read_text("utf-8")))
    missing = [
        f"{page.relative_to(ROOT)}:{n}: {item}"
        for page in PAGES
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        for item in ITEM_ID.findall(line)
        if item not in declared
    ]
    assert not missing, "\n".join(missing)


def test_pack_format_shows_every_top_level_key_of_the_pack_schema() -> None:
    doc = (ROOT / "docs" / "pack-format.md").read_text(encoding="utf-8")
    block = doc.split("## Top level", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    schema = json.loads((ROOT / "schemas" / "pack.schema.json").read_text(encoding="utf-8"))
    assert set(re.findall(r"^(\w+):", block, re.M)) == set(schema["properties"])
