"""End to end: one bad pack never breaks another. A folder holds the national packs (with their
local plans and worked examples) and three broken packs: one that imports itself, one naming a
facts schema that does not exist, one that is not YAML. Every command and the library keep
working for the good packs, with the same answers as from a folder without the broken ones,
report the broken packs' problems where they are asked for, exit as the specification says
(0 fine, 1 problems found), and never show a traceback."""

from __future__ import annotations

import json
import os
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.packs.facts_schema import read_facts_file
from engine.problems import PackError

ROOT = Path(__file__).resolve().parents[2]

FACTS = "examples/prisoners/a2041kw_open_acct.yaml"
POPULATION = "examples/population/keywork_2020.jsonl"
BROKEN = {
    "selfie": ("E-IMPORT-CYCLE", "selfie.yaml"),
    "nofacts": ("E-FACTS-SCHEMA", "nofacts.yaml"),
    "broken": ("E-YAML", "broken.yaml"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's packs and examples, with the broken packs among the packs
    (the worked examples name their facts files by paths relative to the packs)."""
    root = tmp_path_factory.mktemp("isolation")
    shutil.copytree(ROOT / "policies", root / "policies")
    shutil.copytree(ROOT / "examples", root / "examples")
    good = (ROOT / "tests" / "data" / "ntk" / "pack.yaml").read_text(encoding="utf-8")
    packs = root / "policies"
    (packs / "selfie.yaml").write_text(
        good.replace("id: ntk_probe", "id: selfie\nimports: [selfie]"), encoding="utf-8"
    )
    (packs / "nofacts.yaml").write_text(
        good.replace("id: ntk_probe", "id: nofacts\nfacts: nope"), encoding="utf-8"
    )
    (packs / "broken.yaml").write_text(
        "# yaml-language-server: $schema=../schemas/pack.schema.json\nid: broken\ntitle: [\n",
        encoding="utf-8",
    )
    return root


@dataclass(frozen=True)
class Result:
    """What a run of `regime` printed and its exit code."""

    returncode: int
    stdout: str
    stderr: str


def regime(*args: str, cwd: Path) -> Result:
    """Run `regime ARGS` in `cwd`; an unexpected exception shows as a traceback on stderr."""
    before = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), prog_name="regime")
    finally:
        os.chdir(before)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return Result(result.exit_code, result.stdout, stderr)


def run(site: Path, *args: str) -> Result:
    result = regime(*args, cwd=site)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def reports(result: Result, pid: str) -> bool:
    """The output names the broken pack's problem: its code, in its own file."""
    code, file = BROKEN[pid]
    text = result.stdout + result.stderr
    return f"[{code}]" in text and file in text


@pytest.mark.parametrize(
    "args",
    [
        ("eval", "keywork_edm", "--facts", FACTS, "--format", "json"),
        ("eval", "pmp", "--facts", "examples/pmp/a1101pm_immunosuppressed_plan.yaml"),
        ("explain", "keywork_edm", "is_priority", "--facts", FACTS),
        ("plan", "omu_edm", "--stage", "3", "--format", "json"),
    ],
    ids=["eval-json", "eval-pmp", "explain", "plan"],
)
def test_good_packs_answer_as_from_a_clean_folder(site: Path, args: tuple[str, ...]) -> None:
    polluted = run(site, *args, "--packs", "policies")
    clean = regime(*args, "--packs", "policies", cwd=ROOT)
    assert polluted.returncode == clean.returncode == 0, polluted.stdout + polluted.stderr
    assert polluted.stdout == clean.stdout
    # and the broken packs are mentioned, on stderr only
    assert "note: 3 other pack file(s) under `policies` have errors" in polluted.stderr
    assert "note:" not in clean.stderr


@pytest.mark.parametrize("pid", sorted(BROKEN))
@pytest.mark.parametrize(
    "command",
    [
        ("eval", "{pid}", "--facts", FACTS),
        ("explain", "{pid}", "eligible", "--facts", FACTS),
        ("plan", "{pid}"),
        (
            "batch",
            "{pid}",
            "--facts",
            POPULATION,
            "--as-of",
            "2020-07-01",
            "--out",
            "out-{pid}.jsonl",
        ),
    ],
    ids=["eval", "explain", "plan", "batch"],
)
def test_asking_for_a_broken_pack_reports_its_problems(
    site: Path, pid: str, command: tuple[str, ...]
) -> None:
    result = run(site, *(part.format(pid=pid) for part in command), "--packs", "policies")
    assert result.returncode == 1
    assert reports(result, pid), result.stdout + result.stderr
    assert not (site / f"out-{pid}.jsonl").exists()


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_batch_decides_a_good_pack_beside_broken_ones(site: Path, engine_name: str) -> None:
    out = site / f"keywork-{engine_name}.jsonl"
    result = run(
        site,
        "batch",
        "keywork_edm",
        "--facts",
        POPULATION,
        "--as-of",
        "2020-07-01",
        "--out",
        out.name,
        "--engine",
        engine_name,
        "--packs",
        "policies",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    population = (ROOT / POPULATION).read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(population) > 0


def test_check_and_test_report_every_broken_pack_and_pass_the_good_ones(site: Path) -> None:
    checked = run(site, "check", "policies")
    assert checked.returncode == 1
    for pid in BROKEN:
        assert reports(checked, pid), pid
    tested = run(site, "test", "policies")
    assert tested.returncode == 1  # the broken packs are problems found
    for pid in BROKEN:
        assert reports(tested, pid), pid
    summary = tested.stdout.strip().splitlines()[-1]
    assert summary.endswith(" 0 failed") and not summary.startswith("0 passed"), summary


def test_the_library_loads_what_it_can(site: Path) -> None:
    folder = site / "policies"
    with pytest.raises(PackError) as strict:
        engine.load(folder)  # all or nothing by default
    assert {BROKEN[pid][0] for pid in BROKEN} <= {p.code for p in strict.value.problems}
    packs = engine.load(folder, partial=True)
    assert {"keywork_edm", "pmp", "omu_edm", "action_plan"} <= set(packs)
    assert not set(BROKEN) & set(packs)
    for pid in ("selfie", "nofacts"):
        with pytest.raises(PackError) as info:
            packs[pid]
        assert info.value.problems[0].code == BROKEN[pid][0]
    clean = engine.load(ROOT / "policies")
    facts = read_facts_file(ROOT / FACTS)
    got = packs.evaluate("keywork_edm", facts).to_dict()
    want = clean.evaluate("keywork_edm", facts).to_dict()
    assert got == want
    plan = packs["omu_edm"].plan(stage=3)
    assert plan and plan == clean["omu_edm"].plan(stage=3)
