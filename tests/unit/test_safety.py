"""Nothing is shared and nothing breaks the rest: decisions own their values, one bad pack
leaves the others usable, a pack may bring its own facts schema, and the library, the command
line and the file readers reject bad arguments and bad input with the engine's own errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.packs.facts_schema import read_facts_file
from engine.packs.read_yaml import read_yaml_file
from engine.problems import EvaluationError, FactsError, PackError

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2020, 7, 1)


@cache
def policies() -> engine.Packs:
    return engine.load(ROOT / "policies")


def facts_of(name: str) -> dict[str, Any]:
    return dict(read_yaml_file(ROOT / "examples" / "prisoners" / name).data)


def _vandalise(value: Any) -> None:
    """Change every list and record inside a value, in place."""
    if isinstance(value, list):
        for v in value:
            _vandalise(v)
        value.append("vandalised")
    elif isinstance(value, dict):
        for v in list(value.values()):
            _vandalise(v)
        value["vandalised"] = True


@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
def test_changing_a_decision_changes_no_later_decision(audience: str) -> None:
    for pid in sorted(policies()):
        for f in sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))[:3]:
            facts = facts_of(f.name)
            day = DAY if pid != "pmp" else dt.date(2022, 6, 1)
            try:
                first = policies().evaluate(pid, facts, day, audience)
            except EvaluationError:
                continue
            before = (json.dumps(first.to_dict(), sort_keys=True), first.explain())
            for value in first.outputs.values():
                _vandalise(value)
            for ob in first.obligations:
                _vandalise(ob.due)
                _vandalise(ob.frequency)
                for record in ob.record:
                    _vandalise(record)
            for step in first.steps:
                _vandalise(step.value)
            first.outputs.clear()
            again = policies().evaluate(pid, facts, day, audience)
            assert (json.dumps(again.to_dict(), sort_keys=True), again.explain()) == before


def _folder_with_bad_packs(tmp_path: Path) -> Path:
    good = (ROOT / "tests" / "data" / "ntk" / "pack.yaml").read_text()
    (tmp_path / "good.yaml").write_text(good)
    (tmp_path / "self.yaml").write_text(
        good.replace("id: ntk_probe", "id: selfie\nimports: [selfie]")
    )
    (tmp_path / "nofacts.yaml").write_text(
        good.replace("id: ntk_probe", "id: nofacts\nfacts: nope")
    )
    (tmp_path / "broken.yaml").write_text("# $schema=pack.schema.json\nid: broken\ntitle: [\n")
    return tmp_path


def test_one_bad_pack_leaves_the_others_usable(tmp_path: Path) -> None:
    folder = _folder_with_bad_packs(tmp_path)
    with pytest.raises(PackError):
        engine.load(folder)  # strict by default, as the library contract says
    packs = engine.load(folder, partial=True)
    assert sorted(packs) == ["ntk_probe"]
    codes = {p.code for p in packs.problems if p.is_error}
    assert {"E-IMPORT-CYCLE", "E-FACTS-SCHEMA", "E-YAML"} <= codes
    with pytest.raises(PackError) as info:
        packs["selfie"]
    assert info.value.problems[0].code == "E-IMPORT-CYCLE"
    decision = packs.evaluate("ntk_probe", {"prisoner": {}}, dt.date(2022, 1, 1))
    assert decision.pack == "ntk_probe"
    facts = tmp_path / "facts.json"
    facts.write_text("{}")
    for args in (["eval"], ["explain"]):
        extra = ["eligible"] if args == ["explain"] else []
        result = CliRunner().invoke(
            cli, [*args, "ntk_probe", *extra, "--packs", str(folder), "--facts", str(facts)]
        )
        assert result.exit_code == 0, result.output
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        )
    result = CliRunner().invoke(
        cli, ["eval", "selfie", "--packs", str(folder), "--facts", str(facts)]
    )
    assert result.exit_code == 1 and "E-IMPORT-CYCLE" in result.output
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 1 and "E-FACTS-SCHEMA" in result.output
    assert "Traceback" not in result.output


def test_a_pack_may_bring_its_own_facts_schema(tmp_path: Path) -> None:
    example = ROOT / "examples" / "custom_pack"
    packs = engine.load(example)
    facts = json.loads((example / "facts.json").read_text())
    decision = packs.evaluate("visits", facts, dt.date(2024, 3, 15))
    assert decision.outputs == {"visits_this_month": 1, "entitlement_met": False}
    assert [o.due for o in decision.obligations] == [dt.date(2024, 3, 31)]
    with pytest.raises(FactsError) as info:
        packs.evaluate("visits", {"person": {"visits": "many"}}, dt.date(2024, 3, 15))
    assert "$.person.visits" in str(info.value)
    # the same pack with its schema named from a `schemas` folder beside it
    shutil.copytree(example, tmp_path / "p")
    pack = tmp_path / "p" / "visits.yaml"
    pack.write_text(pack.read_text().replace("facts: schemas/visits.schema.json", "facts: visits"))
    assert engine.load(tmp_path / "p")["visits"].facts.endswith("visits.schema.json")


def test_loading_or_checking_a_folder_without_packs_fails(tmp_path: Path) -> None:
    with pytest.raises(PackError) as info:
        engine.load(tmp_path)
    assert info.value.problems[0].code == "E-NO-PACKS"
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 1 and "no packs or local plans in" in result.output


@pytest.mark.parametrize(
    "as_of", ["junk", "", "2020-13-01", "20200701", dt.datetime(2020, 7, 1), 20200701, 1.5]
)
def test_the_library_rejects_a_bad_as_of(as_of: Any) -> None:
    with pytest.raises(EvaluationError) as info:
        policies().evaluate("keywork_edm", facts_of("a2041kw_open_acct.yaml"), as_of)
    assert info.value.code in ("E-ARG", "E-DATE")


def test_the_library_rejects_bad_arguments() -> None:
    facts = facts_of("a2041kw_open_acct.yaml")
    with pytest.raises(EvaluationError) as info:
        policies().evaluate(42, facts, DAY)  # type: ignore[arg-type]
    assert info.value.code == "E-ARG"
    with pytest.raises(EvaluationError):
        policies().evaluate("keywork_edm", ["not", "facts"], DAY)  # type: ignore[arg-type]
    with pytest.raises(EvaluationError) as info:
        policies().evaluate("keywork_edm", facts, DAY).explain("nope")
    assert info.value.code == "E-EXPLAIN-TARGET"
    with pytest.raises(EvaluationError) as info:
        policies()["omu_edm"].plan(stage="3")  # type: ignore[arg-type]
    assert info.value.code == "E-ARG"
    assert policies().evaluate("keywork_edm", facts, "2020-07-01").as_of == DAY
    # evaluate_many takes documents: one document (a dict) or nothing is not mistaken for them
    for wrong in (facts, None, 42):
        with pytest.raises(EvaluationError) as info:
            list(policies().evaluate_many("keywork_edm", wrong, DAY))  # type: ignore[arg-type]
        assert info.value.code == "E-ARG" and "evaluate_many" in str(info.value)


def test_a_pack_that_is_not_there_is_the_librarys_own_error() -> None:
    # an unknown id (a typo) or a pack id where a loaded pack belongs: E-ARG naming it, not a
    # KeyError or an AttributeError from inside; the packs still answer `in` and `get` as a
    # mapping does
    facts = facts_of("a2041kw_open_acct.yaml")
    packs = policies()
    for call in (
        lambda: packs.evaluate("keywork_edn", facts, DAY),
        lambda: list(packs.evaluate_many("keywork_edn", [facts], DAY)),
        lambda: packs.with_plan("keywork_edn", "lei"),
        lambda: packs["keywork_edn"],
    ):
        with pytest.raises(EvaluationError) as info:
            call()
        assert info.value.code == "E-ARG" and "did you mean `keywork_edm`?" in str(info.value)
    for wrong in ("keywork_edm", None, packs):
        with pytest.raises(EvaluationError) as info:
            engine.evaluate(wrong, facts, DAY)  # type: ignore[arg-type]
        assert info.value.code == "E-ARG" and "loaded pack" in str(info.value)
    for plan in (None, 42):
        with pytest.raises(EvaluationError) as info:
            packs.with_plan("keywork_edm", plan)  # type: ignore[arg-type]
        assert info.value.code == "E-ARG" and "establishment code" in str(info.value)
    assert packs.get("nope") is None and "nope" not in packs and 42 not in packs
    with pytest.raises(KeyError):
        packs["nope"]


def test_a_pack_or_plan_named_twice_is_read_once() -> None:
    # `regime check policies policies/pmp.yaml` reported pack `pmp` as "also defined in"
    # itself, and the local plans under a folder named twice were counted twice
    pmp = ROOT / "policies" / "pmp.yaml"
    assert list(engine.load(pmp, str(pmp))) == ["pmp"]
    code, out = _run("check", str(ROOT / "policies"), str(pmp), "--no-tests")
    assert code == 0 and "E-DUP-PACK" not in out, out
    code, out = _run(
        "check", str(ROOT / "policies"), str(ROOT / "policies" / "local"), "--no-tests"
    )
    assert code == 0 and "4 pack(s) and 4 local plan(s)" in out, out


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


def test_facts_files_are_limited_and_must_be_regular(tmp_path: Path) -> None:
    facts = ROOT / "examples" / "prisoners" / "a2041kw_open_acct.yaml"
    code, out = _run("eval", "keywork_edm", "--facts", "/dev/zero")
    assert code == 2 and "not a regular file" in out
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    code, out = _run("eval", "keywork_edm", "--facts", str(fifo))  # must not wait for a writer
    assert code == 2 and "not a regular file" in out
    code, out = _run(
        "eval", "keywork_edm", "--facts", str(facts), env={"REGIME_MAX_FACTS_BYTES": "100"}
    )
    assert code == 2 and "E-INPUT-SIZE" in out


@pytest.mark.parametrize(
    ("text", "code", "at"),
    [
        (
            '{"prisoner": {"release_date": "2020-01-01", "release_date": "2021-01-01"}}',
            "E-JSON-DUPKEY",
            (1, 45),
        ),
        ("[" * 900 + "]" * 900, "E-FACTS-DEPTH", (1, 65)),
        # the repeat, not the first: in a nested object, after a value that is itself a key's
        # text, and a key written with an escape
        (
            '{"prisoner": {\n  "acct": "acct",\n  "alerts": [{"a": 1}, {"a": 2}],\n'
            '  "rosh": null, "\\u0061cct": "none"}}',
            "E-JSON-DUPKEY",
            (4, 17),
        ),
        ('{"a": [{"k": 1}, {"k": 2, "k": 3}]}', "E-JSON-DUPKEY", (1, 27)),
        ("{\n" * 3 + '"x": ' + "[" * 70 + "]" * 70 + "}" * 3, "E-FACTS-DEPTH", (4, 67)),
    ],
)
def test_bad_json_facts_are_clear_errors(
    tmp_path: Path, text: str, code: str, at: tuple[int, int]
) -> None:
    f = tmp_path / "facts.json"
    f.write_text(text)
    with pytest.raises(FactsError) as info:
        read_facts_file(f)
    (problem,) = info.value.problems
    assert (problem.code, problem.line, problem.col) == (code, *at)


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), int("9" * 4000), 10**5000, -(10**20_000), "x" * 200_001],
    ids=["nan", "inf", "4000-digits", "5001-digits", "minus-20001-digits", "long-text"],
)
def test_nan_infinity_huge_numbers_and_long_text_in_facts_are_clear_errors(value: Any) -> None:
    facts = {"prisoner": {"cell_location": value}}
    with pytest.raises(FactsError) as info:
        policies().evaluate("keywork_edm", facts, DAY)
    assert info.value.problems[0].code in ("E-FACTS-NUMBER", "E-FACTS-LIMIT")


def test_every_as_of_goes_through_one_parser() -> None:
    facts = str(ROOT / "examples" / "prisoners" / "a2041kw_open_acct.yaml")
    for args in (["eval", "keywork_edm"], ["explain", "keywork_edm", "is_priority"]):
        code, out = _run(*args, "--facts", facts, "--as-of", "20200701")
        assert code == 2 and "is not a date" in out


def test_diff_with_an_empty_version_and_docs_to_an_uncreatable_folder_are_errors() -> None:
    code, out = _run("diff", "policies/pmp.yaml@", "policies/pmp.yaml")
    assert code == 2 and "names no version" in out
    code, out = _run("docs", str(ROOT / "policies" / "pmp.yaml"), "--out", "/proc/no/such")
    assert code == 2 and "cannot write the site" in out


def _regime(*args: str, stdout: Any = None, **env: str) -> Any:
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=120,
    )


def test_a_full_disk_and_a_latin1_terminal_are_clear_errors() -> None:
    facts = "examples/prisoners/a2041kw_open_acct.yaml"
    with open("/dev/full", "w") as full:
        done = _regime("eval", "keywork_edm", "--facts", facts, stdout=full)
    assert done.returncode == 2 and b"No space left" in done.stderr
    assert b"Traceback" not in done.stderr
    done = _regime("eval", "keywork_edm", "--facts", facts, PYTHONIOENCODING="latin-1")
    assert done.returncode == 2 and b"PYTHONIOENCODING=utf-8" in done.stderr
    assert b"Traceback" not in done.stderr


def test_json_and_content_hash_are_the_same_across_processes_and_hash_seeds() -> None:
    facts = "examples/prisoners/b3152kw_high_rosh_release.yaml"
    runs = [
        _regime("eval", "keywork_edm", "--facts", facts, "--format", "json", PYTHONHASHSEED=seed)
        for seed in ("1", "4242")
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
    assert json.loads(runs[0].stdout)["content_hash"].startswith("sha256:")


def _doubling_pack(folder: Path, start: str, step: str, count: int = 40) -> Path:
    lines = [
        "# yaml-language-server: $schema=../../schemas/pack.schema.json",
        "id: doubling",
        "title: Names that double a value forty times",
        "version: 0.1.0",
        "status: draft",
        "source: {title: Test}",
        "versions:",
        '  - {id: "1", effective_from: 2020-01-01, effective_to: null}',
        "definitions:",
        f"  v0: '{start}'",
    ]
    lines += [f"  v{i}: {step.format(p=f'v{i - 1}')}" for i in range(1, count + 1)]
    lines += ["outputs:", f"  last: {{value: v{count}}}"]
    (folder / "doubling.yaml").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize(
    ("start", "step", "count", "code", "estimate"),
    [
        ("3", "{p} * {p}", 12, "E-EVAL-LIMIT-INT", "6.6e+20"),
        ("[1, 2]", "{p} + {p}", 16, "E-EVAL-LIMIT-LIST", "2.2e+12"),
        ('"ab"', "{p} + {p}", 19, "E-EVAL-LIMIT-STRING", "2.2e+12"),
    ],
)
def test_values_that_double_stop_at_a_budget(
    tmp_path: Path, start: str, step: str, count: int, code: str, estimate: str
) -> None:
    # doubled forty times, the static cost estimate rejects the pack when it is checked,
    # showing how large the last name would make the work
    with pytest.raises(PackError) as rejected:
        engine.load(_doubling_pack(tmp_path, start, step))
    (problem,) = [p for p in rejected.value.problems if p.is_error]
    assert problem.code == "E-COST-LIMIT"
    assert f"up to {estimate} (definition `v40`)" in problem.message
    # fewer times, it passes the estimate and meets a runtime budget instead
    packs = engine.load(_doubling_pack(tmp_path, start, step, count))
    with pytest.raises(EvaluationError) as info:
        packs.evaluate("doubling", {}, DAY)
    assert info.value.code == code


def test_decimals_are_exact_or_an_error(tmp_path: Path) -> None:
    from engine.language.runtime import divide

    assert str(divide(10, 4, lambda: None)) == "2.5"
    for start, step in (("1", "{p} / 3"), ("99999999999.99", "{p} * {p}")):
        packs = engine.load(_doubling_pack(tmp_path, start, step))
        with pytest.raises(EvaluationError) as info:
            packs.evaluate("doubling", {}, DAY)
        assert info.value.code == "E-EVAL-RANGE"


LIBRARY = sorted((ROOT / "tests" / "corpus" / "library").iterdir())


@pytest.mark.parametrize("path", LIBRARY, ids=[p.stem for p in LIBRARY])
def test_library_corpus(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/corpus/library: library calls with a bad argument, each a YAML description of the
    call (`call`, `pack` and its arguments) under its `# expect: CODE` line, or a folder."""
    if path.is_dir():
        expect = (path / "EXPECT").read_text().split()[2]
        with pytest.raises(PackError) as info:
            engine.load(path)
        assert info.value.problems[0].code == expect
        return
    expect = path.read_text().split()[2]
    call = read_yaml_file(path).data
    with pytest.raises((EvaluationError, FactsError)) as caught:
        if call["call"] == "read_facts":
            monkeypatch.setenv("REGIME_MAX_FACTS_BYTES", str(call["limit"]))
            read_facts_file(ROOT / call["file"])
        elif call["call"] == "plan":
            policies()[call["pack"]].plan(stage=call["stage"])
        else:
            facts = facts_of("a2041kw_open_acct.yaml")
            decision = policies().evaluate(call["pack"], facts, call.get("as_of", DAY))
            decision.explain(call["target"])
    error = caught.value
    code = error.code if isinstance(error, EvaluationError) else error.problems[0].code
    assert code == expect


@pytest.mark.parametrize(
    "args",
    [
        ["check", "{pipe}"],
        ["test", "{pipe}"],
        ["diff", "{pipe}", "{pipe}"],
        ["eval", "keywork_edm", "--packs", "{pipe}", "--facts", "{pipe}"],
        ["upcoming", "keywork_edm", "--facts", "{jsonl}"],
        ["facts", "mapping-table", "--check", "{pipe}"],
        ["batch", "keywork_edm", "--facts", "{jsonl}", "--as-of", "2020-07-01", "--out", "{out}"],
        ["serve", "--packs", str(ROOT / "policies"), "--jwt-public-key", "{pipe}"],
        ["facts", "from-hmpps", "--prisoner", "A1234BC", "--config", "{pipe}"],
    ],
    ids=lambda a: a[0] if a[0] != "facts" else a[1],
)
def test_a_named_pipe_is_refused_without_waiting_for_it(tmp_path: Path, args: list[str]) -> None:
    pipe, jsonl = tmp_path / "pack.yaml", tmp_path / "people.jsonl"
    os.mkfifo(pipe)
    os.mkfifo(jsonl)
    argv = [a.format(pipe=pipe, jsonl=jsonl, out=tmp_path / "out.jsonl") for a in args]
    pipe = jsonl if "{jsonl}" in args else pipe
    done: list[tuple[int, str]] = []
    worker = threading.Thread(target=lambda: done.append(_run(*argv)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    waited = worker.is_alive()
    if waited:  # a reader waits on the pipe: give it an end so the thread finishes
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=5)
    assert not waited and done, f"`regime {args[0]}` waited on a named pipe"
    code, out = done[0]
    assert code in (1, 2) and "is not a regular file" in out, out
