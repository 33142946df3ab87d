"""Coverage-guided fuzzing with atheris (libFuzzer for Python), beside the structure-aware
hypothesis targets: bytes mutated towards new branches of the YAML reader and the pack
pipeline, the expression parser, checker, cost estimate and compiled code, and facts reading,
validation and evaluation. The rule is the hypothesis targets' rule: an input gives a result
or one of the engine's own errors with a code; any other exception is a crash, which libFuzzer
saves (its bytes) for the corpus.

Run one target: `python tests/fuzz/atheris_targets.py TARGET [libFuzzer options] [CORPUS...]`
(`make fuzz` runs each for ATHERIS_SECONDS through tests/fuzz/atheris_run.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import resource
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import atheris

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("REGIME_CACHE_DIR", "off")  # fuzz inputs must not fill the pack cache

# the engine and the libraries it reads input with are instrumented, so that libFuzzer sees
# which branches an input reaches
with atheris.instrument_imports(include=["engine", "yaml", "lark", "jsonschema"]):
    from engine.api import check_paths, evaluate
    from engine.language import cost
    from engine.language.check import check
    from engine.language.codegen import compile_checked
    from engine.language.parse import ExprError, parse
    from engine.packs.build import Loading, run_stages
    from engine.packs.facts_schema import parse_json, read_facts_file
    from engine.problems import EvaluationError, FactsError, PackError

from tests.unit.language_scope import AS_OF, scope  # noqa: E402

SCOPE = scope()
MAX_TEXT = 4096  # bytes per input: the expression limit, and enough for small packs and facts


def _text(data: bytes) -> str:
    return atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(MAX_TEXT)


def yaml_pipeline(data: bytes) -> None:
    """The pack pipeline from YAML text to a compiled pack: a pack or problems with codes."""
    loading = Loading(Path("fuzz.yaml"), "fuzz.yaml")
    loading.text = _text(data)
    loading.content = loading.text.encode("utf-8")
    try:
        run_stages(loading, start="yaml")
    except PackError:
        return
    for p in loading.problems:
        assert p.code and p.line >= 1 and p.col >= 1, p


def expressions(data: bytes) -> None:
    """Parse, check, estimate the cost of, compile and run one expression over small facts."""
    fdp = atheris.FuzzedDataProvider(data)
    n = fdp.ConsumeIntInRange(-(10**6), 10**6)
    xs = [fdp.ConsumeIntInRange(-1000, 1000) for _ in range(fdp.ConsumeIntInRange(0, 6))]
    text = fdp.ConsumeUnicodeNoSurrogates(MAX_TEXT)
    try:
        node = parse(text)
    except ExprError as e:
        assert e.code.startswith("E-") and e.line >= 1 and e.col >= 1
        return
    checked = check(node, SCOPE)
    if checked.errors:
        return
    assert cost.estimate(checked, lambda name: None).cost >= 1
    facts = {"n": n, "xs": xs, "s": text[:20], "d": dt.date(2020, 2, 29)}
    try:
        compile_checked(checked).fn({"as_of": AS_OF, "version": "1", "p": facts}, _no_names)
    except EvaluationError as e:
        assert e.code.startswith("E-EVAL")
    except (OverflowError, ValueError, ArithmeticError):
        pass  # a date or decimal out of range: engine.evaluate reports these as E-EVAL-RANGE


def _no_names(name: str) -> Any:
    raise EvaluationError("E-EVAL-PARAM", f"no value for `{name}`")


@cache
def _packs() -> dict[str, Any]:
    """The national packs (loaded on the first facts input, not by the other targets)."""
    loaded, _ = check_paths([ROOT / "policies"])
    return dict(loaded)


@cache
def _examples() -> list[Any]:
    return [
        read_facts_file(f)
        for folder in ("prisoners", "pmp", "local")
        for f in sorted((ROOT / "examples" / folder).glob("*.yaml"))
    ]


def _fuzzed_value(fdp: Any) -> Any:
    """A JSON value of any kind, at the edges facts validation must hold against."""
    kind = fdp.ConsumeIntInRange(0, 9)
    if kind == 0:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 16))
    if kind == 1:
        return fdp.ConsumeFloat()
    if kind == 2:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 64))
    if kind == 3:
        return fdp.PickValueInList(["2020-02-29", "9999-12-31", "0001-01-01", "2020-13-01"])
    if kind == 4:
        return None
    if kind == 5:
        return fdp.ConsumeBool()
    if kind == 6:
        return [_fuzzed_value(fdp) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    if kind == 7:
        return {fdp.ConsumeUnicodeNoSurrogates(8): _fuzzed_value(fdp)}
    return {}


def _damaged(doc: Any, fdp: Any, depth: int = 0) -> Any:
    """The document with one node (chosen by the input) replaced by a fuzzed value."""
    if depth > 6 or not isinstance(doc, dict | list) or not doc or fdp.ConsumeBool():
        return _fuzzed_value(fdp)
    if isinstance(doc, dict):
        key = fdp.PickValueInList(sorted(doc))
        return {**doc, key: _damaged(doc[key], fdp, depth + 1)}
    i = fdp.ConsumeIntInRange(0, len(doc) - 1)
    return [*doc[:i], _damaged(doc[i], fdp, depth + 1), *doc[i + 1 :]]


def facts(data: bytes) -> None:
    """Facts as JSON text (half the inputs), or an example document with one node damaged,
    read, validated and evaluated against every national pack for both audiences."""
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeBool():
        text = fdp.ConsumeUnicodeNoSurrogates(MAX_TEXT)
        try:
            document = parse_json(text, "fuzz.json")
        except FactsError as e:
            assert all(p.code.startswith("E-") for p in e.problems)
            return
    else:
        examples = _examples()
        base = examples[fdp.ConsumeIntInRange(0, len(examples) - 1)]
        document = _damaged(base, fdp)
    if not isinstance(document, dict):
        return
    day = dt.date(2020, 7, 1) + dt.timedelta(days=fdp.ConsumeIntInRange(-400, 800))
    for pack in _packs().values():
        for audience in ("custodial", "healthcare"):
            try:
                decision = evaluate(pack, document, day, audience)
            except FactsError as e:
                assert all(p.code.startswith("E-") for p in e.problems)
            except EvaluationError as e:
                assert e.code.startswith("E-")
            else:
                json.dumps(decision.to_dict(), default=str)


def every(data: bytes) -> None:
    """All three targets in one process, the first byte choosing (the smoke run of `make test`
    pays for one instrumented start-up, not three)."""
    if data:
        ALL[data[0] % len(ALL)](data[1:])


ALL: list[Callable[[bytes], None]] = [yaml_pipeline, expressions, facts]
TARGETS: dict[str, Callable[[bytes], None]] = {
    "yaml": yaml_pipeline,
    "expressions": expressions,
    "facts": facts,
    "all": every,
}


def _warm_up(name: str) -> None:
    """Do the one-time work (loading the packs, compiling the facts check, building the
    parser) before the clock of the first input starts, so it is not taken for a hang."""
    parse("1 + 1")
    if name in ("facts", "all"):
        for pack in _packs().values():
            with contextlib.suppress(FactsError, EvaluationError):
                evaluate(pack, _examples()[0], dt.date(2020, 7, 1), "custodial")


RSS_HEADROOM_MB = 2048  # libFuzzer's own default limit, counted from where the process starts


def _rss_limit(args: list[str]) -> list[str]:
    """`args` with libFuzzer's memory limit counted from this process's peak at start, where
    none is given: a process inherits the peak of the one that started it (a test worker may
    hold gigabytes), and libFuzzer reads that peak as its own, failing the first input."""
    if any(a.startswith("-rss_limit_mb=") for a in args):
        return args
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # (KiB on Linux)
    return [*args, f"-rss_limit_mb={start + RSS_HEADROOM_MB}"]


def main() -> None:
    target = TARGETS[sys.argv[1]]
    _warm_up(sys.argv[1])
    atheris.Setup([sys.argv[0], *_rss_limit(sys.argv[2:])], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
