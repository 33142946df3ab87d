"""Worked examples: reading test files, running their cases against packs, and rule coverage."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import disk_cache
from engine.api import evaluate, file_head, is_pack_file, pack_files
from engine.evaluation.decision import Decision
from engine.language.convert import to_json
from engine.packs import model as M
from engine.packs.facts_positions import json_path_steps, unknown_key
from engine.packs.facts_schema import read_facts_file
from engine.packs.read_yaml import Document, read_text_file, read_yaml
from engine.packs.task_graph import natural_key
from engine.packs.validate_schema import validate_document
from engine.problems import EvaluationError, FactsError, PackError, Problem, did_you_mean, problem


@dataclass(frozen=True)
class Case:
    file: str
    line: int
    pack: str
    name: str
    data: Mapping[str, Any]
    base: Path


@dataclass
class CaseResult:
    case: Case
    failures: list[str] = field(default_factory=list)
    decision: Decision | None = None
    # the case could not be run as written (its pack or plan did not load, or the evaluation
    # stopped where no error was expected): an error, where a failure is a result not expected
    errored: bool = False

    @property
    def passed(self) -> bool:
        return not self.failures


def test_files(paths: Iterable[Path | str]) -> list[Path]:
    """Worked-example files: `tests/*.yaml` under each directory, and the files named."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*.yaml")):
                if "tests" in f.relative_to(p).parts[:-1] and not is_pack_file(f):
                    found.append(f)
        elif p.suffix in (".yaml", ".yml") and not is_pack_file(p):
            found.append(p)  # a file named, wherever it is
    return found


def examples_folder(pack_file: Path) -> Path:
    """Where the worked examples of a pack file are looked for: the nearest folder, from the
    pack's own upwards, whose `tests/` holds worked-example files (a pack in a subfolder of
    the packs folder has its examples in that folder's `tests/`); else the pack's own."""
    for folder in (pack_file.parent, *pack_file.parent.parents):
        tests = folder / "tests"
        if tests.is_dir() and any(named_pack(f) for f in sorted(tests.glob("*.yaml"))):
            return folder
    return pack_file.parent


def named_pack(path: Path) -> str | None:
    """The pack id a worked-example file names (`pack:`), also when the rest of the file does
    not have the shape of one (reading it again reports why); None when it names none or is
    not YAML."""
    try:
        data, _, _ = _case_file(path)
    except PackError:  # not YAML as a whole: its own `pack:` line, where it has one
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        found = re.search(r"^pack:[ \t]*([a-z][a-z0-9_]*)[ \t]*(?:#.*)?$", text, re.MULTILINE)
        return found.group(1) if found else None
    pack = data.get("pack") if isinstance(data, Mapping) else None
    return pack if isinstance(pack, str) else None


def read_cases(
    files: Iterable[Path], packs: Mapping[str, M.Pack]
) -> tuple[list[Case], list[Problem]]:
    """The cases of test files and of packs' inline `tests`, with problems reading them."""
    cases: list[Case] = []
    problems: list[Problem] = []
    for f in files:
        try:
            data, lines, found = _case_file(f)
        except PackError as e:
            problems.extend(e.problems)
            continue
        if found:
            problems.extend(found)
            continue
        pack_id = str(data.get("pack"))
        for i, case in enumerate(data.get("cases") or []):
            cases.append(
                Case(
                    str(f),
                    lines[i],
                    pack_id,
                    str(case.get("name", f"case {i + 1}")),
                    case,
                    f.parent,
                )
            )
    for pack in packs.values():
        for i, case in enumerate(pack.tests):
            cases.append(
                Case(
                    pack.file,
                    pack.test_lines[i] if i < len(pack.test_lines) else 0,
                    pack.id,
                    str(case.get("name", f"case {i + 1}")),
                    case,
                    Path(pack.file).parent,
                )
            )
    return cases, problems


def _case_file(f: Path) -> tuple[Any, list[int], list[Problem]]:
    """A test file's data, the line of each case and the problems validating it; kept in the
    disk cache by content (a file with problems is read afresh, for its positions). The cases
    themselves are run every time: only what reading the file works out is kept."""
    content, text = read_text_file(f)
    entry = disk_cache.key(_CASES, str(f), content)
    kept = disk_cache.load(_CASES, entry)
    if isinstance(kept, tuple) and len(kept) == 2 and isinstance(kept[1], list):
        return kept[0], kept[1], []
    doc = read_yaml(text, str(f))
    found = validate_document(doc.data, "tests", str(f), doc)
    if found:
        return doc.data, [], found
    lines = [doc.span(("cases", i)).line for i in range(len(doc.data.get("cases") or []))]
    disk_cache.store(_CASES, entry, (doc.data, lines))
    return doc.data, lines, []


_CASES = "cases"


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return over


def case_facts(case: Case) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if case.data.get("facts_file"):
        facts = _facts_file(case.base / str(case.data["facts_file"]))
    return _merge(facts, case.data.get("facts") or {})


def _facts_file(path: Path) -> dict[str, Any]:
    """A case's facts file as `read_facts_file` reads it, kept in the disk cache by content
    (each call has its own copy); a file that does not read is read afresh, for its error."""
    try:
        content, _ = read_text_file(path, str(path), "facts")
    except PackError:
        return read_facts_file(path)  # which words the problem
    entry = disk_cache.key(_FACTS, str(path), content)
    kept = disk_cache.load(_FACTS, entry)
    if isinstance(kept, dict):
        return kept
    facts = read_facts_file(path)
    disk_cache.store(_FACTS, entry, facts)
    return facts


_FACTS = "facts-file"


_PLANS: dict[tuple[str, str], M.Pack] = {}


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it lies below it, else as it is."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def case_pack(case: Case, packs: Mapping[str, M.Pack]) -> tuple[M.Pack | None, list[str]]:
    """The pack a case runs against: the national pack, or it under the case's local plan."""
    pack = packs.get(case.pack)
    if pack is None:
        near = did_you_mean(case.pack, packs)
        return None, [f"no pack `{case.pack}`" + (f"; {near}" if near else "")]
    if not case.data.get("plan"):
        return pack, []
    from engine.api import load_overlay

    path = (case.base / str(case.data["plan"])).resolve()
    key = (str(path), pack.content_hash)
    if key not in _PLANS:
        # named as `regime check` names the plan, so the plan it merged is the one reused
        merged, problems = load_overlay(path, packs, _shown(path))
        if merged is None or merged.id != case.pack:
            shown = "; ".join(p.format() for p in problems if p.is_error)
            return None, [
                f"local plan `{case.data['plan']}` does not load for `{case.pack}`: {shown}"
            ]
        _PLANS[key] = merged
    return _PLANS[key], []


def run_case(case: Case, packs: Mapping[str, M.Pack]) -> CaseResult:
    result = CaseResult(case)
    pack, failures = case_pack(case, packs)
    if pack is None:
        result.failures.extend(failures)
        result.errored = True
        return result
    expect = case.data.get("expect") or {}
    if "tasks" in expect:
        failures, bad = _task_failures(pack, expect["tasks"])
        result.failures.extend(failures)
        result.errored = bad
        if (
            set(expect) == {"tasks"}
            and not case.data.get("facts")
            and "facts_file" not in case.data
        ):
            return result  # the tasks alone: there is no decision to compare
    as_of = case.data.get("as_of")
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    try:
        decision = evaluate(
            pack,
            case_facts(case),
            as_of,
            str(case.data.get("audience", "custodial")),
            f"{case.file} ({case.name})",
        )
    except (EvaluationError, FactsError) as e:
        code = getattr(e, "code", None) or "E-FACTS"
        if expect.get("error") == code:
            return result
        if isinstance(e, FactsError) and "facts" in case.data and "facts_file" not in case.data:
            shown = "; ".join(_one_line(p) for p in placed_in_case(case, e.problems)[:3])
            result.failures.append(f"the facts do not match the facts schema: {shown}")
        else:
            result.failures.append(f"evaluation failed: {e}")
        result.errored = "error" not in expect  # (an error other than the one expected fails)
        return result
    result.decision = decision
    if "error" in expect:
        result.failures.append(f"expected error {expect['error']}, but it evaluated")
    got = _compared(decision)
    if "status" in expect and got["status"] != expect["status"]:
        result.failures.append(
            f"status: expected {expect['status']}, got {got['status']}"
            + (f" (needs {', '.join(got['missing_facts'])})" if got["missing_facts"] else "")
        )
    for name, want in (expect.get("outputs") or {}).items():
        if name not in got["outputs"]:
            where = "withheld from this audience" if name in got["withheld"] else "no such output"
            near = did_you_mean(name, pack.outputs) if name not in got["withheld"] else None
            where += f"; {near}" if near else ""
            if want is None and name in got["withheld"]:
                continue
            result.failures.append(f"output `{name}`: {where}")
            continue
        if to_json(want) != got["outputs"][name]:
            result.failures.append(
                f"output `{name}`: expected {_shown_json(to_json(want))}, "
                f"got {_shown_json(got['outputs'][name])}"
            )
    applied = [o["rule"] for o in got["obligations"]]
    for want in expect.get("obligations") or []:
        result.failures += _obligation_failures(want, got["obligations"], applied)
    unknown = _unknown_names(pack, expect, bool(case.data.get("plan")))
    if unknown:
        result.failures.append(unknown)
        result.errored = True
    for rule in expect.get("not_obligations") or []:
        if rule in applied:
            result.failures.append(f"obligation `{rule}` not expected, but it applies")
    open_items = got["undetermined"]
    for name in expect.get("undetermined") or []:
        if name not in open_items:
            result.failures.append(
                f"`{name}` expected undetermined, but it is decided"
                + (f" (undetermined: {', '.join(open_items)})" if open_items else "")
            )
    for name in expect.get("decided") or []:
        if name in open_items:
            result.failures.append(
                f"`{name}` expected decided, but it is undetermined"
                + (f" (needs {', '.join(got['missing_facts'])})" if got["missing_facts"] else "")
            )
    if "missing_facts" in expect and sorted(expect["missing_facts"]) != got["missing_facts"]:
        result.failures.append(
            f"missing facts: expected {_shown_json(sorted(expect['missing_facts']))}, "
            f"got {_shown_json(got['missing_facts'])}"
        )
    relied = [i["id"] for i in got["interpretations"]]
    for iid in expect.get("interpretations") or []:
        if iid not in relied:
            result.failures.append(
                f"interpretation `{iid}` expected, not among {_shown_json(relied)}"
            )
    for name in expect.get("withheld") or []:
        if name not in got["withheld"]:
            result.failures.append(f"`{name}` expected to be withheld, but it is shown")
    return result


OBLIGATION_FIELDS = ("modality", "who", "due", "frequency")


def _one_line(p: Problem) -> str:
    """A problem with a case's facts inside a failure, on the failure's one line: its place,
    message and code, then its hint in brackets (a hint on a line of its own broke the case's
    report, and the one-line message `regime check` gives every failure)."""
    hint = f" (hint: {p.hint})" if p.hint else ""
    return f"{p.file}:{p.line}:{p.col}: {p.severity}: {p.message} [{p.code}]{hint}"


def _shown_json(value: Any) -> str:
    """A value in a failure as the case file and `--format json` write it (`["legal"]`,
    `{"count": 1, "per": "day"}`, `null`), not as Python prints it (`['legal']`, `None`)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _unknown_names(pack: M.Pack, expect: Mapping[str, Any], planned: bool) -> str | None:
    """The rules (under `not_obligations`) and the outputs or rules (under `undetermined` and
    `decided`) an expectation names that the pack does not have, worded as one failure: a
    misspelt name would otherwise pass for ever (an error in the case, not a result). Under a
    local plan (`planned`), `not_obligations` may name another plan's rule: that it does not
    reach this plan is the point."""
    rules = {r.id for r in pack.rules}
    outputs = set(pack.outputs)
    bad = [] if planned else [r for r in expect.get("not_obligations") or [] if r not in rules]
    bad += [
        n
        for key in ("undetermined", "decided")
        for n in expect.get(key) or []
        if n not in rules and n not in outputs
    ]
    if not bad:
        return None
    shown = ", ".join(f"`{n}`" for n in dict.fromkeys(bad))
    hints = [h for n in dict.fromkeys(bad) if (h := did_you_mean(n, rules | outputs))]
    return f"no rule or output {shown} in pack `{pack.id}`" + "".join(f"; {h}" for h in hints)


def _obligation_failures(
    want: Any, obligations: list[dict[str, Any]], applied: list[str]
) -> list[str]:
    """How the decision's obligations fail an expected one: a rule id that must apply, or an
    object naming the rule and what its obligation must say (each field given, as JSON)."""
    rule = want if isinstance(want, str) else want["rule"]
    if rule not in applied:
        return [f"obligation `{rule}` expected, not among {_shown_json(applied)}"]
    if isinstance(want, str):
        return []
    fields = [f for f in OBLIGATION_FIELDS if f in want]
    expected = {f: to_json(want[f]) for f in fields}
    o = next(o for o in obligations if o["rule"] == rule)  # (a rule gives one obligation)
    return [
        f"obligation `{rule}`: {f}: expected {_shown_json(expected[f])}, got {_shown_json(o[f])}"
        for f in fields
        if o[f] != expected[f]
    ]


def _task_failures(pack: M.Pack, want: Mapping[str, Any]) -> tuple[list[str], bool]:
    """How the pack's plan at the stage `want` names differs from what it expects, and whether
    the expectation names a stage or task the pack does not have (an error in the case, not a
    result other than expected)."""
    stage = want.get("stage")
    known = sorted(pack.tasks, key=natural_key)
    named = [
        *(want.get("include") or []),
        *(want.get("exclude") or []),
        *(want.get("order") or []),
        *(want.get("waits_for") or {}),
        *(t for ts in (want.get("waits_for") or {}).values() for t in ts),
    ]
    unknown = [t for t in dict.fromkeys(named) if t not in pack.tasks]
    if unknown:
        shown = ", ".join(f"`{t}`" for t in unknown)
        return [
            f"tasks: no task {shown} in pack `{pack.id}`; tasks: {', '.join(known) or 'none'}"
        ], True
    try:
        plan = pack.plan(stage)
    except EvaluationError as e:
        return [f"tasks: {e}"], True
    at = f"the plan at stage {stage}" if stage is not None else "the plan"
    order = [t["id"] for t in plan]
    failures = [
        f"tasks: task `{t}` is not in {at}" for t in want.get("include") or [] if t not in order
    ]
    failures += [f"tasks: task `{t}` is in {at}" for t in want.get("exclude") or [] if t in order]
    listed = [t for t in want.get("order") or [] if t in order]
    failures += [
        f"tasks: task `{t}` is not in {at}" for t in want.get("order") or [] if t not in order
    ]
    for first, then in zip(listed, listed[1:], strict=False):
        if order.index(first) > order.index(then):
            failures.append(
                f"tasks: task `{first}` comes after `{then}` in {at}: {', '.join(order)}"
            )
    waits = {t["id"]: list(t["waits_for"]) for t in plan}
    for task, before in (want.get("waits_for") or {}).items():
        if task not in waits:
            failures.append(f"tasks: task `{task}` is not in {at}")
            continue
        for t in before:
            if t not in waits[task]:
                got = ", ".join(f"`{w}`" for w in waits[task]) or "nothing"
                failures.append(
                    f"tasks: task `{task}` does not wait for `{t}` (it waits for {got})"
                )
    return failures, False


def _compared(decision: Decision) -> dict[str, Any]:
    """The parts of `decision.to_dict()` a case's expectations are compared with, built alone:
    the rest of it (citations of every obligation and interpretation) is not read."""
    return {
        "status": decision.status,
        "outputs": {k: to_json(v) for k, v in decision.outputs.items()},
        "obligations": [
            {
                "rule": o.rule,
                "modality": o.modality,
                "who": o.who,
                "due": to_json(o.due),
                "frequency": to_json(o.frequency),
            }
            for o in decision.obligations
        ],
        "interpretations": [{"id": i.id} for i in decision.interpretations],
        "missing_facts": list(decision.missing_facts),
        "withheld": list(decision.withheld),
        "undetermined": list(decision.undetermined),
    }


def check_cases(paths: Iterable[Path | str], packs: Mapping[str, M.Pack]) -> list[Problem]:
    """`regime check`'s view of worked examples: problems reading them, and an `E-TEST` for each
    case of a loaded pack that fails. Kept in the disk cache under everything the answer reads
    (`_results_key`), so that checking unchanged packs and examples again runs none of them."""
    paths = list(paths)  # read twice: for the examples, and for the packs' ids
    files = test_files(paths)
    cases, problems = read_cases(files, packs)
    entry = _results_key(files, cases, packs)
    # worked out afresh each time: it reads the ids of pack files that did not load, which
    # the cache key does not cover
    missing = _packs_not_there(files, cases, packs, paths)
    kept = disk_cache.load(_RESULTS, entry)
    if isinstance(kept, list):
        return sorted(kept + missing)
    for case in cases:
        if case.pack not in packs:
            continue
        result = run_case(case, packs)
        if not result.passed:
            message = f"worked example `{case.name}` fails: " + "; ".join(result.failures)
            problems.append(problem("E-TEST", case.file, case.line or 1, 1, message))
    problems = sorted(problems)
    disk_cache.store(_RESULTS, entry, problems)
    return sorted(problems + missing)


_RESULTS = "examples-checked"


def _packs_not_there(
    files: list[Path], cases: list[Case], packs: Mapping[str, M.Pack], paths: Iterable[Path | str]
) -> list[Problem]:
    """An `E-TEST` at the `pack:` line of each worked-example file naming a pack that no pack
    file checked defines: its cases would otherwise be passed over in silence, as those of a
    pack that did not load are (whose own problems are reported). Said only where every pack
    file's `id` can be read, so a broken pack is never taken for a missing one, and only for
    cases run on a national pack among the files checked (not through a local plan)."""
    ids = set(packs)
    files_of_packs = pack_files(paths)
    if not files_of_packs:
        return []  # local plans alone: their cases' packs are national ones found elsewhere
    for f in files_of_packs:
        try:  # any file that will not read (not UTF-8, gone) is reported as a pack already
            text = f.read_bytes().decode("utf-8", errors="replace") if f.is_file() else ""
        except OSError:
            return []
        found = _ID_LINE.search(text)
        if found is None:
            return []
        ids.add(found.group(1))
    named = {c.file: c.pack for c in cases if c.pack not in ids and not c.data.get("plan")}
    out = []
    for file, pack_id in sorted(named.items()):
        if file not in {str(f) for f in files}:
            continue
        lines = Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
        line = next((i for i, s in enumerate(lines, 1) if s.startswith("pack:")), 1)
        col = lines[line - 1].find(pack_id) + 1 if line <= len(lines) else 1
        out.append(
            problem(
                "E-TEST",
                file,
                line,
                max(col, 1),
                f"the worked examples name pack `{pack_id}`, which no pack checked defines, "
                "so none of them ran",
                did_you_mean(pack_id, sorted(ids)) or "name the `id` of the pack they test",
                (line, max(col, 1) + len(pack_id)),
            )
        )
    return out


_ID_LINE = re.compile(r"^id:[ \t]*[\"']?([A-Za-z0-9_.-]+)", re.MULTILINE)


def _results_key(files: list[Path], cases: list[Case], packs: Mapping[str, M.Pack]) -> str:
    """The key of `check_cases`' answer: the engine (in every key), today's date (a case
    without `as_of` is decided as of today), every pack loaded and its file (which problems
    name), every worked-example file, and what any case reads beside them (a facts file, every
    file of a local plan's folder)."""
    parts: list[bytes | str] = [dt.date.today().isoformat()]
    for pid in sorted(packs):
        parts += [pid, packs[pid].content_hash, str(packs[pid].file)]
    read: set[Path] = set(files)
    for case in cases:
        for field_name in ("facts_file", "plan"):
            if case.data.get(field_name):
                target = (case.base / str(case.data[field_name])).resolve()
                read.add(target)
                if field_name == "plan":
                    read.update(f for f in target.parent.rglob("*") if f.is_file())
    for path in sorted(read):
        parts.append(str(path))
        try:
            parts.append(path.read_bytes())
        except OSError:
            parts.append("<unreadable>")
    return disk_cache.key(_RESULTS, *parts)


def coverage(
    results: Iterable[CaseResult], packs: Mapping[str, M.Pack]
) -> dict[str, dict[str, Any]]:
    """Per pack: which rules applied, which table rows matched and which outputs were checked
    in at least one passing case, against all there are."""
    seen: dict[str, dict[str, set[str]]] = {
        pid: {"rules": set(), "rows": set(), "outputs": set()} for pid in packs
    }
    for r in results:
        if not r.passed or r.decision is None or r.case.pack not in seen:
            continue
        s = seen[r.case.pack]
        for step in r.decision.steps:
            if step.kind == "rule" and step.value is True:
                s["rules"].add(step.name)
            elif step.kind == "table" and isinstance(step.value, list):
                s["rows"].update(f"{step.name}/{row}" for row in step.value)
        s["outputs"].update((r.case.data.get("expect") or {}).get("outputs") or {})
    report: dict[str, dict[str, Any]] = {}
    for pid, pack in packs.items():
        all_rules = [r.id for r in pack.rules]
        all_rows = [f"{t.id}/{row.id}" for t in pack.tables.values() for row in t.rows]
        all_outputs = list(pack.outputs)
        s = seen[pid]
        report[pid] = {
            "rules": (len(s["rules"] & set(all_rules)), len(all_rules)),
            "rows": (len(s["rows"] & set(all_rows)), len(all_rows)),
            "outputs": (len(s["outputs"] & set(all_outputs)), len(all_outputs)),
            "rules_not_covered": [r for r in all_rules if r not in s["rules"]],
            "rows_not_covered": [r for r in all_rows if r not in s["rows"]],
            "outputs_not_covered": [o for o in all_outputs if o not in s["outputs"]],
        }
    return report


def looks_like_examples(path: Path) -> bool:
    """A file of worked examples: it names the tests schema on its first line, or has top-level
    `pack` or `cases` (and no `id` or `versions`, which a pack has, nor a plan's `extends`).
    A pack or local plan given to `regime check` is read as one; this tells a worked-example
    file given in their place."""
    head = file_head(path)
    if head is None:
        return False
    lines, tops = head
    if lines and "tests.schema.json" in lines[0]:
        return True
    return bool({"pack", "cases"} & tops) and not {"id", "versions", "extends"} & tops


def check_examples_file(
    file: Path, packs: Mapping[str, M.Pack], run: bool = True
) -> tuple[list[Problem], int]:
    """`regime check` of one worked-example file against `packs` (which hold the pack it
    names): problems of its schema; each case's facts against the pack's facts schema (every
    part, the healthcare records included), an `E-FACTS` at the value it refuses; and, when
    `run`, an `E-TEST` for each case whose facts are valid and that fails. With the number of
    cases."""
    cases, problems = read_cases([file], {})
    for case in cases:
        pack, failures = case_pack(case, packs)
        if pack is None:
            message = f"worked example `{case.name}` cannot run: " + "; ".join(failures)
            problems.append(problem("E-TEST", case.file, case.line or 1, 1, message))
            continue
        found = _facts_problems(case, pack)
        problems.extend(found)
        if found or not run:
            continue
        result = run_case(case, packs)
        if not result.passed:
            message = f"worked example `{case.name}` fails: " + "; ".join(result.failures)
            problems.append(problem("E-TEST", case.file, case.line or 1, 1, message))
    return sorted(problems), len(cases)


def _facts_problems(case: Case, pack: M.Pack) -> list[Problem]:
    """A case's facts (its facts file, then its own facts over them) against its pack's facts
    schema; nothing for a case that expects an error, whose facts may be wrong on purpose."""
    if "error" in (case.data.get("expect") or {}):
        return []
    try:
        facts = case_facts(case)
    except (FactsError, PackError) as e:
        return list(e.problems)  # the facts file's own problems, at their places
    from engine.packs.facts_schema import validate_facts

    found = validate_facts(facts, case.file, pack.facts)
    return [
        dataclasses.replace(
            p,
            message=f"worked example `{case.name}`: its facts do not match the facts schema of "
            f"`{pack.id}`: {p.message}",
        )
        for p in placed_in_case(case, found)
    ]


def placed_in_case(case: Case, problems: Iterable[Problem]) -> list[Problem]:
    """Facts problems moved to where the case writes the value they name (its own `facts`,
    else the case's line), so a user is sent to the line to fix, not to the case's file."""
    doc, index = _case_document(case)
    out = []
    for p in problems:
        steps = json_path_steps(p.message)
        if doc is not None and index is not None and steps is not None:
            path = ("cases", index, "facts", *steps)
            key = unknown_key(p.message)
            if key is not None and doc.has((*path, key)):
                span = doc.key_span((*path, key))  # the key that is not a field, not its object
            else:
                span = doc.span(path) if doc.has(path) else doc.span(path[:3])
            out.append(
                dataclasses.replace(
                    p,
                    file=case.file,
                    line=span.line,
                    col=span.col,
                    end_line=span.end_line,
                    end_col=span.end_col,
                    whole_file=False,
                )
            )
        else:
            out.append(dataclasses.replace(p, file=case.file, line=case.line or 1, col=1))
    return out


def _case_document(case: Case) -> tuple[Document | None, int | None]:
    """The case's file read again with its positions, and the case's index in its `cases`
    (None, None for a pack's inline tests or a file that no longer reads)."""
    try:
        doc = read_yaml(read_text_file(Path(case.file), case.file, "worked-example")[1], case.file)
    except PackError:
        return None, None
    cases = doc.data.get("cases") if isinstance(doc.data, Mapping) else None
    if not isinstance(cases, list):
        return None, None
    for i in range(len(cases)):
        if doc.span(("cases", i)).line == case.line:
            return doc, i
    return None, None
