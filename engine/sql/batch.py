"""A population through a pack in one run: facts files in, one decision row per record and day
out, rejects with their reasons beside, and a summary. DuckDB reads, validates and writes;
the decisions are made by DuckDB, by Spark, or by the Python interpreter."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.language import static_types as T
from engine.packs import model as M
from engine.packs.facts_schema import facts_schema, healthcare_roots, prepare, root_types
from engine.paths import same_file
from engine.problems import EvaluationError, FactsError
from engine.sql.csv_columns import ColumnError, root_json
from engine.sql.expressions import NONE_DATE, NONE_TEXT
from engine.sql.output_columns import (
    file_column,
    holds,
    is_json_text,
    narrowed,
    output_types,
    shaped,
    unfit_value,
)
from engine.sql.plan_facts import plan_update
from engine.sql.query_cache import RenderedQuery, rendered
from engine.sql.read_checks import (
    NOT_HELD,
    TWICE,
    column_checks,
    every_object_checked,
    json_checks,
    repeated_key,
    reserved_sql,
    sql_str,
    unknown_fields,
)
from engine.sql.session import set_up
from engine.sql.types import DECIMAL_PRECISION, DECIMAL_SCALE, duckdb_type_text
from engine.sql.validate import reasons_expr

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
ENGINES = ("duckdb", "spark", "python")
# the decision's own columns, text whatever the engine holds them as (DuckDB ENUMs, Spark
# strings), and the obligations' type
FIXED = ("pack", "version", "policy_version", "content_hash", "status")
OBLIGATIONS = 'STRUCT("rule" VARCHAR, modality VARCHAR, due VARCHAR, frequency VARCHAR)[]'


# told how far a run has got: the stage, then the decisions made so far and the total (both
# 0 for a stage that cannot count its decisions as it goes, such as a SQL query)
Progress = Callable[[str, int, int], None]


class BatchError(Exception):
    """Bad input to a batch run: a file that cannot be read, a date range the wrong way round."""


@dataclass
class BatchResult:
    out: Path
    rejects: Path
    rows: int
    rejected: int
    seconds: float
    summary: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    undetermined: int = 0
    errors: int = 0  # decisions stopped by a run-time error (status `error`, the error beside)


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BatchError(f"`{path}`: use a .parquet, .csv or .jsonl file")
    return fmt


def _reader(con: Any, path: Path, roots: list[str], types: dict[str, T.Type], facts: str) -> str:
    """A view `typed` of the facts file: record, key columns and typed roots, plus reasons
    found while reading (JSON that is not JSON, values of the wrong type)."""
    fmt = file_format(path)
    if not path.exists():
        raise BatchError(f"no facts file `{path}`")
    src = sql_str(str(path))
    if fmt == "parquet":
        cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({src})").fetchall()}
        parts = [
            f"TRY_CAST({r} AS {duckdb_type_text(types[r])}) AS {r}"
            if r in cols
            else f"CAST(NULL AS {duckdb_type_text(types[r])}) AS {r}"
            for r in roots
        ]
        schema = facts_schema(facts)
        rel = con.sql(f"SELECT * FROM read_parquet({src})")
        checks = [
            c
            for r, t in zip(rel.columns, rel.types, strict=True)
            if r in roots
            for c in column_checks(schema["properties"][r], t, r, r)
        ]
        reasons = f"list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL)"
        con.execute(
            f"CREATE VIEW typed AS SELECT row_number() OVER () AS record, {', '.join(parts)}, "
            f"CAST({reasons if checks else '[]'} AS VARCHAR[]) AS read_reasons "
            f"FROM read_parquet({src})"
        )
        return "typed"
    if fmt == "jsonl":
        con.execute(
            "CREATE VIEW lines AS SELECT row_number() OVER () AS record, line, "
            f"TRY_CAST(line AS JSON) AS doc FROM {_jsonl_lines(src)} WHERE {_NOT_BLANK}"
        )
        json_of = {r: f"doc->'{r}'" for r in roots}
        known = list(facts_schema(facts)["properties"])
        first = [  # (placed at their line and column afterwards: `_place_unreadable_lines`)
            f"CASE WHEN doc IS NULL THEN '{_NOT_JSON}' END",
            f"CASE WHEN doc IS NOT NULL AND json_type(doc) <> 'OBJECT' THEN '{_NOT_OBJECT}' END",
            unknown_fields("doc", "'$'", known, "document", False),
            repeated_key("doc", "'$'", "document", False),
        ]
        base = "lines"
    else:
        names = _csv_header(path)
        header = set(names)
        columns = ", ".join(f"{sql_str(n)}: 'VARCHAR'" for n in names)
        # the CSV dialect stated, not guessed: one ragged row made DuckDB's sniffer read the
        # whole file another way (every row lost, the run "successful" with no decisions)
        dialect = (
            f"header=true, auto_detect=false, delim=',', quote='\"', escape='\"', "
            f"columns={{{columns}}}"
        )
        try:
            assembled = root_json(names, roots, types)
        except ColumnError as e:
            raise BatchError(f"`{path}`:1: {e}") from None
        if roots and not header & set(roots) and not assembled:
            raise BatchError(
                f"`{path}`:1: no column gives a fact: name a column for a root of the facts "
                f"({', '.join(roots)}) holding its JSON, or a dotted path such as "
                f"`{roots[0]}.{_first_field(types[roots[0]])}`"
            )
        _read_csv_once(con, path, src, dialect, len(names))
        json_of = {
            r: f"TRY_CAST({r} AS JSON)"
            if r in header
            else f"TRY_CAST(({assembled[r]}) AS JSON)"
            if r in assembled
            else "NULL::JSON"
            for r in roots
        }
        first = [
            f"CASE WHEN {r} IS NOT NULL AND TRY_CAST({r} AS JSON) IS NULL THEN '{r}: not JSON' END"
            for r in roots
            if r in header
        ]
        base = "lines"
    schema = facts_schema(facts)
    checks = list(first)
    for r in roots:
        checks += json_checks(schema["properties"][r], f"j_{r}", r, [])
    j_cols = ", ".join(f"{json_of[r]} AS j_{r}" for r in roots)
    con.execute(f"CREATE VIEW jsoned AS SELECT *, {j_cols} FROM {base}")
    typed_cols = ", ".join(f"{typed_json(f'j_{r}', types[r])} AS {r}" for r in roots)
    reasons = f"list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL)"
    con.execute(
        f"CREATE VIEW typed AS SELECT record, {typed_cols}, {reasons} AS read_reasons FROM jsoned"
    )
    return "typed"


def _first_field(t: T.Type) -> str:
    return next(iter(t.field_names()), "field")


def _jsonl_lines(src: str) -> str:
    """DuckDB's read of a JSONL file as one text column `line`, a row for every line of the
    file in order (an empty line a NULL)."""
    return (
        f"read_csv({src}, columns={{'line': 'VARCHAR'}}, delim=chr(1), quote='', escape='', "
        "header=false, auto_detect=false)"
    )


# a line holding a document: not empty, nor only JSON's whitespace (spaces, tabs), which holds
# none, as the population reader of `regime impact` reads it
_NOT_BLANK = "trim(line, ' ' || chr(9) || chr(13)) <> ''"
_NOT_JSON, _NOT_OBJECT = "not a JSON document", "not a JSON object"
# A comma before a closing bracket, which DuckDB's JSON reader passes over and the facts
# reader refuses (`{"a": 1,}`): only the lines holding one are read again, by Python's.
_MAY_HAVE_A_COMMA_TOO_MANY = r",[ \t\r\n]*[]}]"


def _place_unreadable_lines(
    con: Any, path: Path, every_key_checked: bool, custodial: bool = False
) -> None:
    """Give each record of `checked` whose line is not JSON, or not one document, the reason
    at its place in the file (`file:line:col: not JSON: ...`, the column where reading it
    stopped), in the words `regime impact` and `regime eval` use for the same line; a line
    DuckDB reads but the facts reader would not (a comma too many, a key given twice in one
    object) is rejected the same way. Only such lines are read again: none in a well-formed
    file, unless the facts schema allows objects whose keys the column-wise checks do not see
    (`every_key_checked` false), when every line is read for a key given twice. For a
    `custodial` reader the line alone is given, not the column: that moves with the length of
    the healthcare-only text before it on the line."""
    marked = [_NOT_JSON, _NOT_OBJECT]
    rows = con.execute(
        "SELECT n.record, n.line_no, n.line, c.reasons FROM (SELECT row_number() OVER () AS "
        "record, line_no, line FROM (SELECT row_number() OVER () AS line_no, line FROM "
        f"{_jsonl_lines(sql_str(str(path)))}) WHERE {_NOT_BLANK}) n JOIN checked c USING "
        "(record) WHERE list_has_any(c.reasons, ?) OR (len(c.reasons) = 0 AND "
        "regexp_matches(n.line, ?)) OR len(list_filter(c.reasons, lambda r: contains(r, ?))) > 0"
        f"{'' if every_key_checked else ' OR true'}",
        [marked, _MAY_HAVE_A_COMMA_TOO_MANY, TWICE],
    ).fetchall()
    placed: list[tuple[int, list[str]]] = []
    for record, line_no, line, reasons in rows:
        where = f"{path}:{line_no}"
        twice = _twice(line, where, custodial)
        if twice is not None:  # the facts reader refuses the line for this before all else
            others = [r for r in reasons if r not in marked and TWICE not in r]
            placed.append((record, [twice, *others]))
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as e:
            reason = f"{where}{'' if custodial else f':{e.colno}'}: not JSON: {e.msg}"
        except (ValueError, RecursionError):  # too deep, or an integer Python will not read
            reason = f"{where}:1: {_NOT_JSON}"
        else:
            if _NOT_OBJECT in reasons or not isinstance(doc, dict):
                reason = f"{where}:1: {_NOT_OBJECT} (each line is one facts document)"
            elif _NOT_JSON in reasons:  # JSON to Python, not to DuckDB (half a UTF-16 pair)
                reason = f"{where}:1: {_NOT_JSON}"
            else:
                continue  # the comma was inside a text
        placed.append((record, [reason, *(r for r in reasons if r not in marked)]))
    if placed:
        con.execute("CREATE TEMP TABLE unreadable (record BIGINT, reasons VARCHAR[])")
        con.executemany("INSERT INTO unreadable VALUES (?, ?)", placed)
        con.execute(
            "UPDATE checked SET reasons = u.reasons FROM unreadable u "
            "WHERE checked.record = u.record"
        )


def _twice(line: str, where: str, custodial: bool = False) -> str | None:
    """The facts reader's reason for a key given twice in one object of the JSONL `line`,
    placed at the key's column (`where` is `file:line`; the column not for a `custodial`
    reader), or None."""
    from engine.packs.facts_schema import first_repeated_key, parse_json

    if first_repeated_key(line) is None:
        return None
    try:
        parse_json(line, where)
    except FactsError as e:
        p = e.problems[0]
        if p.code == "E-JSON-DUPKEY":
            return f"{where}{'' if custodial else f':{p.col}'}: {p.message} ({p.hint})"
    return None


def _csv_header(path: Path) -> list[str]:
    """The column names of a CSV facts file's header row; BatchError when it has none or
    names a column twice (which column a value belongs to could not be told)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:  # (a BOM is not a name)
            names = next(csv.reader(f), None)
    except (UnicodeDecodeError, csv.Error) as e:
        raise BatchError(f"`{path}`:1: cannot read the header row: {e}") from None
    if not names:
        raise BatchError(
            f"`{path}`:1: no header row: the first line names the columns (a column for each "
            "root of the facts, such as the pack's, holding its JSON)"
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BatchError(f"`{path}`:1: the header names column `{twice[0]}` twice: keep one")
    return names


def _read_csv_once(con: Any, path: Path, src: str, dialect: str, width: int) -> None:
    """A CSV facts file read once, into a table `lines` (record, then its columns), or a
    BatchError naming the first rows whose number of values is not the header's: which value
    belongs to which column cannot be known, so none is decided. One read: the rows checked
    are the rows decided, even if the file changes while the run goes on."""
    con.execute(
        "CREATE TEMP TABLE lines AS SELECT row_number() OVER () AS record, * FROM "
        f"read_csv({src}, {dialect}, store_rejects=true, "
        "rejects_table='regime_csv_errors', rejects_scan='regime_csv_scans')"
    )  # (the rows it rejects are stored as it reads)
    bad = con.execute(
        "SELECT line, error_type FROM regime_csv_errors ORDER BY line LIMIT 3"
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS regime_csv_errors")
    con.execute("DROP TABLE IF EXISTS regime_csv_scans")
    if bad:
        how = {"TOO MANY COLUMNS": "more than", "MISSING COLUMNS": "fewer than"}
        where = ", ".join(
            f"line {line} ({how[kind]} {width} values)" if kind in how else f"line {line} ({kind})"
            for line, kind in bad
        )
        raise BatchError(
            f"`{path}`:{bad[0][0]}: rows whose number of values is not the header's {width}: "
            f"{where}; quote a value holding a comma (JSON in a CSV cell is written between "
            "double quotes, its own quotes doubled)"
        )


# A JSON number DuckDB may not hold as written (it parses a number with a fraction or an
# exponent as a double, and holds a decimal at 10 places): one with an exponent, more than 10
# places, or 15 digits or more. Only the records whose text has one are read again, exactly.
_MAY_NOT_BE_HELD = r"[0-9][eE][-+]?[0-9]|[.][0-9]{11}|[0-9.]{16}"


def _reject_numbers_not_held(con: Any, fmt: str, roots: list[str]) -> None:
    """Add a reason to each record of `checked` holding a JSON number that its typed value is
    not (the interpreter reads the number as its text says): rejected, rather than decided on
    another number. Parquet columns are checked as they are read (`read_checks`)."""
    if fmt == "parquet":
        return
    if fmt == "jsonl":
        text_cols, where = ["line"], "regexp_matches(l.line, ?)"
    else:
        header = {r[0] for r in con.execute("DESCRIBE lines").fetchall()}
        text_cols = [r for r in roots if r in header]
        if not text_cols:
            return
        where = " OR ".join(f"regexp_matches(coalesce(l.{c}, ''), ?)" for c in text_cols)
    picked = ", ".join(f"l.{c}" for c in text_cols)
    rows = con.execute(
        f"SELECT l.record, {picked}, {', '.join(f'c.{r}' for r in roots)} FROM lines l "
        f"JOIN checked c USING (record) WHERE len(c.reasons) = 0 AND ({where})",
        [_MAY_NOT_BE_HELD] * (1 if fmt == "jsonl" else len(text_cols)),
    ).fetchall()
    found: list[tuple[int, list[str]]] = []
    for record, *values in rows:
        texts, typed = (
            values[: len(text_cols)],
            dict(zip(roots, values[len(text_cols) :], strict=True)),
        )
        if fmt == "jsonl":
            doc = _exact_json(texts[0])
            exact = {r: doc.get(r) for r in roots} if isinstance(doc, dict) else {}
        else:
            exact = {c: _exact_json(x) for c, x in zip(text_cols, texts, strict=True)}
        reasons = [reason for r in roots for reason in _not_held(exact.get(r), typed.get(r), r)]
        if reasons:
            found.append((record, reasons))
    if found:
        con.execute("CREATE TEMP TABLE not_held (record BIGINT, reasons VARCHAR[])")
        con.executemany("INSERT INTO not_held VALUES (?, ?)", found)
        con.execute(
            "UPDATE checked SET reasons = list_concat(checked.reasons, n.reasons) "
            "FROM not_held n WHERE checked.record = n.record"
        )


def _exact_json(text: str | None) -> Any:
    """JSON text as the interpreter reads it (numbers exact), or None when it cannot."""
    from engine.packs.facts_schema import parse_json

    if text is None:
        return None
    try:
        return parse_json(text, "<facts>")
    except FactsError:
        return None


def _not_held(exact: Any, typed: Any, name: str) -> Iterator[str]:
    """A reason for each number of `exact` (as written) that `typed` (as DuckDB holds the same
    value) holds as another number or as none."""
    if isinstance(exact, bool) or exact is None:
        return
    if isinstance(exact, (int, Decimal)):
        held = typed if isinstance(typed, (int, Decimal)) and not isinstance(typed, bool) else None
        if held is None or Decimal(held) != Decimal(exact):
            yield f"{name}: {exact} is {NOT_HELD}"
    elif isinstance(exact, dict) and isinstance(typed, dict):
        for key, value in exact.items():
            yield from _not_held(value, typed.get(key), f"{name}.{key}")
    elif isinstance(exact, list) and isinstance(typed, list):
        for value, held in zip(exact, typed, strict=False):
            yield from _not_held(value, held, f"{name}[]")


def _field_type(t: T.Type, name: str) -> T.Type | None:
    return next((ft for fname, ft, _ in t.fields or () if fname == name), None)


def _nulled(column: str, t: T.Type, parts: list[str]) -> str | None:
    """SQL for `column` (of record type `t`) with the field at `parts` set to a typed null;
    None when the path goes through a list or leaves the type."""
    inner = _field_type(t, parts[0]) if t.kind == "record" else None
    if inner is None:
        return None
    if len(parts) == 1:
        value = f"CAST(NULL AS {duckdb_type_text(inner)})"
    else:
        nested = _nulled(f'{column}."{parts[0]}"', inner, parts[1:])
        if nested is None:
            return None
        value = nested
    return f'struct_update({column}, "{parts[0]}" := {value})'


def _leave_out_broken_healthcare_parts(con: Any, types: dict[str, T.Type], facts: str) -> None:
    """For a custodial audience, a record whose healthcare-only part breaks the facts schema
    is decided without that part (as the library decides it), and its reasons are not shown:
    which clinical field is wrong, or that one is, is not custodial staff's to know."""
    for path in healthcare_roots(facts):
        root, *parts = path.split(".")
        if root not in types or not parts or any("[" in p for p in parts):
            continue  # a part inside a list cannot be left out alone: its reasons stay
        nulled = _nulled(root, types[root], parts)
        if nulled is None:
            continue
        hidden = (
            f"lambda x: starts_with(x, {sql_str(path + ':')}) "
            f"OR starts_with(x, {sql_str(path + '.')}) OR starts_with(x, {sql_str(path + '[')})"
        )
        con.execute(
            f"UPDATE checked SET {root} = {nulled}, "
            f"reasons = list_filter(reasons, lambda x: NOT ({hidden.removeprefix('lambda x: ')})) "
            f"WHERE len(list_filter(reasons, {hidden})) > 0"
        )


def _has_known_none(t: T.Type) -> bool:
    """Whether a value of type `t` holds a field whose null the schema reads as a known none."""
    if getattr(t, "null_none", False):
        return True
    if t.kind == "record":
        return any(_has_known_none(ft) for _, ft, _ in t.fields or ())
    if t.kind == "list" and t.elem is not None:
        return _has_known_none(t.elem)
    return False


# the sentinels of engine.sql.expressions in DuckDB's spelling (a NUL is written with chr)
KNOWN_NONE_SQL = {
    "date": f"DATE '{NONE_DATE.isoformat()}'",
    "string": reserved_sql(NONE_TEXT),
}


def typed_json(j: str, t: T.Type, depth: int = 0) -> str:
    """DuckDB SQL for the typed value of the JSON `j`: an explicit null of a field the schema
    marks `x-null: none` becomes the known-none sentinel, an absent key stays NULL (unknown),
    as the facts table keeps them (see engine.sql.expressions.NONE_DATE)."""
    type_text = duckdb_type_text(t)
    if t.kind in ("record", "list") and not _has_known_none(t):
        return f"TRY_CAST({j} AS {type_text})"
    if t.kind == "record":
        parts = []
        for name, ft, _ in t.fields or ():
            sub = f"json_extract({j}, {sql_str('$.' + json.dumps(name))})"
            value = typed_json(sub, ft, depth + 1)
            if getattr(ft, "null_none", False) and ft.kind in KNOWN_NONE_SQL:
                null = f"json_type({sub}) = 'NULL'"
                if ft.none_when is not None:  # a known none only under those values of a sibling
                    sibling, values = ft.none_when
                    text = f"json_extract({j}, {sql_str('$.' + json.dumps(sibling))})"
                    listed = ", ".join(sql_str(str(v)) for v in values)
                    null += (
                        f" AND json_type({text}) = 'VARCHAR'"
                        f" AND json_extract_string({text}, '$') IN ({listed})"
                    )
                value = f"CASE WHEN {null} THEN {KNOWN_NONE_SQL[ft.kind]} ELSE {value} END"
            parts.append(f'"{name}" := {value}')
        packed = f"CAST(struct_pack({', '.join(parts)}) AS {type_text})"
        return f"CASE WHEN coalesce(json_type({j}), 'NULL') = 'OBJECT' THEN {packed} END"
    if t.kind == "list" and t.elem is not None:
        e = f"e{depth}"
        each = typed_json(e, t.elem, depth + 1)
        items = f"list_transform(CAST({j} AS JSON[]), lambda {e}: {each})"
        return f"CASE WHEN coalesce(json_type({j}), 'NULL') = 'ARRAY' THEN {items} END"
    if t.kind == "string":
        return f"json_extract_string({j}, '$')"
    return f"TRY_CAST(json_extract_string({j}, '$') AS {type_text})"


def _establishment_override(path: Path, t: T.Type, facts: str) -> str:
    """An establishment facts file (YAML or JSON, with or without the root key) as SQL."""
    from engine.packs.facts_schema import read_facts_file

    data = read_facts_file(path)
    if "establishment" in data:
        data = data["establishment"]
    prepare({"establishment": data}, str(path), facts)  # raises FactsError with every problem
    text = json.dumps(data, default=str)
    return f"TRY_CAST({sql_str(text)}::JSON AS {duckdb_type_text(t)})"


MAX_DAYS = 3660  # ten years of days: the bound `regime upcoming --days` has too


def check_range(start: dt.date, end: dt.date) -> None:
    """A range that ends before it starts, or is longer than MAX_DAYS (a mistyped year would
    decide every record on hundreds of thousands of days), is refused before anything is read."""
    if end < start:
        raise BatchError(f"the range {start}..{end} ends before it starts")
    if (end - start).days + 1 > MAX_DAYS:
        raise BatchError(
            f"the range {start}..{end} is {(end - start).days + 1:,} days; at most {MAX_DAYS} "
            "days (ten years) in one run: check the years, or split the range"
        )


def _days(start: dt.date, end: dt.date) -> str:
    check_range(start, end)
    return (
        f"SELECT CAST(range AS DATE) AS as_of FROM range(DATE '{start}', "
        f"DATE '{end}' + INTERVAL 1 DAY, INTERVAL 1 DAY)"
    )


def _copy(con: Any, select: str, out: Path, temps: list[str]) -> str:
    """Write a query's rows to a temporary file beside `out` (added to `temps`, renamed to
    `out` by the caller once every file of the run is written)."""
    fmt = file_format(out)
    opts = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER true", "jsonl": "FORMAT json"}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    temps.append(tmp)
    try:
        con.execute(f"COPY ({select}) TO {sql_str(tmp)} ({opts[fmt]})")
    except RuntimeError as e:  # DuckDB's answer to Ctrl-C during a COPY: an interrupt
        if "interrupted" in str(e).lower():
            raise KeyboardInterrupt from None
        raise
    return tmp


_DECIMAL_SCALES = re.compile(r"DECIMAL\(\d+,\s*(\d+)\)")


def _unfit_text(value: str, name: str) -> str:
    """The row's error for the decimal `value` (SQL) of output `name` (an output, or the field
    or element of one: `total.share`, `paid[]`), the python engine's words (`unfit_value`):
    the value as a number is written, without trailing zeros."""
    column = f"DECIMAL({DECIMAL_PRECISION}, {DECIMAL_SCALE})"
    shown = f"CAST({value} AS VARCHAR)"
    shown = (
        f"CASE WHEN contains({shown}, '.') THEN rtrim(rtrim({shown}, '0'), '.') ELSE {shown} END"
    )
    return (
        f"'output `{name}` is ' || {shown} || ', which the {column} column "
        "of the results does not hold exactly (`regime eval` shows it) [E-EVAL-RANGE]'"
    )


def _first_unfit(value: str, t: T.Type, name: str, depth: int = 0) -> str | None:
    """SQL for the error of the first decimal in `value` (of type `t`, output `name`) that
    has more places than the results' column, in the order the python engine looks (a
    record's fields in order, a list's elements in order, each whole before the next); NULL
    when every one fits. None when `t` holds no decimal."""
    column = f"DECIMAL({DECIMAL_PRECISION}, {DECIMAL_SCALE})"
    if t.kind == "decimal":
        bad = f"{value} IS NOT NULL AND {value} <> CAST({value} AS {column})"
        return f"CASE WHEN {bad} THEN {_unfit_text(value, name)} END"
    if t.kind == "record":
        parts = [
            found
            for fname, ft, _ in t.fields or ()
            if (found := _first_unfit(f'{value}."{fname}"', ft, f"{name}.{fname}", depth))
            is not None
        ]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
    if t.kind == "list" and t.elem is not None:
        e = f"u{depth}"
        each = _first_unfit(e, t.elem, f"{name}[]", depth + 1)
        if each is None:
            return None
        found = f"list_filter(list_transform({value}, lambda {e}: {each}), lambda m: m IS NOT NULL)"
        return f"{found}[1]"
    return None


def _unfit_decimals(con: Any, outputs: Iterable[str], types: Mapping[str, T.Type]) -> None:
    """Make each row of `results` whose decimal output (or a decimal inside a list or record
    output) has more places than the results' DECIMAL(38, 10) column keeps an error, as the
    python engine makes it (see `unfit_value`): the query holds a product at the places of its
    operands together, which casting to the column would round, and decimals are never
    rounded."""
    described = {str(r[0]): str(r[1]) for r in con.execute("DESCRIBE results").fetchall()}
    present = set(described)
    whens: list[str] = []
    for n in outputs:
        if n not in present:
            continue
        scales = [int(x) for x in _DECIMAL_SCALES.findall(described[n])]
        if not any(scale > DECIMAL_SCALE for scale in scales):
            continue  # (a column of at most the file's places holds every value exactly)
        found = _first_unfit(f'r."{n}"', types[n], n)
        if found is not None:
            whens.append(f"WHEN r.error IS NULL AND ({found}) IS NOT NULL THEN {found}")
    if not whens:
        return
    unfit = f"(CASE {' '.join(whens)} END)"
    con.execute(f"CREATE TEMP TABLE unfit AS SELECT rowid AS id, {unfit} AS why FROM results r")
    kept = ("record", "as_of", "policy_version", *FIXED, "error")
    nulls = ", ".join(f'"{c}" = NULL' for c in sorted(present) if c not in kept)
    con.execute(
        f"UPDATE results SET status = 'error', error = u.why{', ' + nulls if nulls else ''} "
        "FROM unfit u WHERE results.rowid = u.id AND u.why IS NOT NULL"
    )


@contextmanager
def _written_together(temps: list[str]) -> Iterator[None]:
    """The temporary files of a run are removed when it fails or is interrupted, so the
    results and rejects appear whole and together, or not at all."""
    try:
        yield
    except BaseException:
        for tmp in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise


def _count(con: Any, sql: str) -> int:
    found = con.execute(sql).fetchone()
    return int(found[0]) if found else 0


def rejects_path(out: Path) -> Path:
    return out.with_name(out.stem + ".rejects" + (".jsonl" if out.suffix != ".csv" else ".csv"))


def refuse_overwriting_inputs(out: Path, inputs: list[Path | None]) -> None:
    """Results or rejects written onto an input would lose it: refuse before reading anything."""
    for written in (out, rejects_path(out)):
        for read in inputs:
            if read is not None and same_file(written, read):
                raise BatchError(
                    f"`{written}` is the same file as the input `{read}`: writing the "
                    "results there would overwrite it; choose another --out"
                )


def run_batch(
    pack: M.Pack,
    facts: Path,
    out: Path,
    start: dt.date,
    end: dt.date,
    engine: str = "duckdb",
    establishment: Path | None = None,
    outputs: list[str] | None = None,
    key: str | None = None,
    audience: str = "custodial",
    threads: int | None = None,
    progress: Progress | None = None,
    spark: Callable[[str, Path, Path], None] | None = None,
    spark_probe: Callable[[], tuple[int, int] | None] | None = None,
) -> BatchResult:
    """Decide every record of `facts` on every day from `start` to `end`; see module doc."""
    import duckdb

    began = time.perf_counter()
    if engine not in ENGINES:
        raise BatchError(f"unknown engine `{engine}` (engines: {', '.join(ENGINES)})")
    file_format(out)
    check_range(start, end)
    refuse_overwriting_inputs(out, [facts, establishment])
    plan = pack.local_plan
    if plan is not None and (why := plan.not_in_force(start, end)) is not None:
        raise BatchError(f"{why}: give dates within it")
    compiled = _prepared(pack, audience, engine, outputs)
    out_types = output_types(pack)
    types = root_types(pack.facts)  # the roots of the pack's own facts schema
    roots = list(types)
    con = duckdb.connect()
    try:
        set_up(con)
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        # DuckDB tracks a query's progress for `progress` to tell (its own bar never prints:
        # one bar, the caller's)
        con.execute(f"SET enable_progress_bar = {'true' if progress else 'false'}")
        con.execute("SET enable_progress_bar_print = false")
        tell = progress or (lambda stage, done, total: None)
        tell("reading the facts", 0, 0)
        try:
            _reader(con, facts, roots, types, pack.facts)
        except duckdb.Error as e:
            raise BatchError(f"cannot read `{facts}`: {str(e).splitlines()[0]}") from None
        est = "establishment"
        if establishment is not None and "establishment" in types:
            given = _establishment_override(establishment, types["establishment"], pack.facts)
            est = f"{given} AS establishment"
        key_sql = "NULL"
        if key:
            root, *rest = key.split(".")
            if root in types:
                key_sql = root + "".join(f'."{p}"' for p in rest)
        others = [r for r in roots if r != "establishment"]
        cols = ", ".join([*others, est] if "establishment" in roots else others)
        reasons_sql = f"list_concat(read_reasons, {reasons_expr(pack.facts).sql('duckdb')})"
        con.execute(
            f"CREATE TABLE checked AS SELECT record, CAST({key_sql} AS VARCHAR) AS key, {cols}, "
            f"{reasons_sql} AS reasons FROM typed"
        )
        if file_format(facts) == "jsonl":
            _place_unreadable_lines(
                con,
                facts,
                every_object_checked(facts_schema(pack.facts)),
                audience != "healthcare" and bool(healthcare_roots(pack.facts)),
            )
        _reject_numbers_not_held(con, file_format(facts), roots)
        if audience != "healthcare":
            _leave_out_broken_healthcare_parts(con, types, pack.facts)
        if plan is not None and (update := plan_update(plan, types)) is not None:
            con.execute(update)  # what the plan supplies; a record contradicting it, rejected
        con.execute(
            "CREATE VIEW facts AS SELECT c.record, d.as_of, "
            + ", ".join(f"c.{r}" for r in roots)
            + f" FROM checked c CROSS JOIN ({_days(start, end)}) d WHERE len(c.reasons) = 0"
        )
        tell(f"deciding ({engine})", 0, 0)
        if engine == "python":
            _python_results(con, pack, compiled, roots, audience, out_types, tell)
        elif engine == "spark":
            assert spark is not None, "the spark engine needs a runner"
            with tempfile.TemporaryDirectory(prefix="regime-spark-") as tmp:
                facts_pq = Path(tmp) / "facts.parquet"
                con.execute(
                    f"COPY (SELECT * FROM facts) TO {sql_str(str(facts_pq))} (FORMAT parquet)"
                )
                out_dir = Path(tmp) / "results"
                with _polled(progress, "deciding (spark)", spark_probe):
                    spark(compiled.text, facts_pq, out_dir)
                con.execute(
                    "CREATE TABLE results AS SELECT * FROM "
                    f"read_parquet({sql_str(str(out_dir / '*.parquet'))})"
                )
        else:
            with _polled(progress, "deciding (duckdb)", lambda: _duckdb_progress(con)):
                con.execute(f"CREATE TABLE results AS {compiled.text}")
        from_json = engine == "python"
        if not from_json:  # a decimal the file's column would round: the row's error instead
            _unfit_decimals(con, compiled.outputs, out_types)
        shown = ", ".join(
            file_column(f'r."{n}"', out_types[n], n, from_json) for n in compiled.outputs
        )
        fixed = ", ".join(f"CAST(r.{c} AS VARCHAR) AS {c}" for c in FIXED)
        con.execute(
            "CREATE VIEW decisions AS SELECT CAST(r.record AS BIGINT) AS record, "
            f"CAST(c.key AS VARCHAR) AS key, CAST(r.as_of AS DATE) AS as_of, {fixed}"
            f"{', ' + shown if shown else ''}, "
            f"CAST(r.obligations AS {OBLIGATIONS}) AS obligations, "
            "CAST(r.missing_facts AS VARCHAR[]) AS missing_facts, "
            "CAST(r.undetermined AS VARCHAR[]) AS undetermined, "
            "CAST(r.error AS VARCHAR) AS error FROM results r JOIN checked c USING (record) "
            "WHERE r.policy_version IS NOT NULL"
        )
        select = "SELECT * FROM decisions ORDER BY record, as_of"
        # a record the interpreter's own facts check refused: its reasons, once, as for the
        # column-wise checks; any other row without a version: no version in force that day
        refused = "r.refused" if engine == "python" else "NULL::VARCHAR[]"
        rejects_sql = (
            "SELECT record, key, NULL::DATE AS as_of, reasons FROM checked WHERE len(reasons) > 0 "
            f"UNION ALL SELECT DISTINCT r.record, c.key, CASE WHEN {refused} IS NULL THEN r.as_of "
            f"END, coalesce({refused}, ['no version of the pack is in force on ' "
            "|| CAST(r.as_of AS VARCHAR)]) FROM results r JOIN checked c USING (record) "
            "WHERE r.policy_version IS NULL ORDER BY record, as_of"
        )
        tell("writing the results", 0, 0)
        rej = rejects_path(out)
        temps: list[str] = []
        with _written_together(temps):
            rej_tmp = _copy(con, rejects_sql, rej, temps)
            with _polled(progress, "writing the results", lambda: _duckdb_progress(con)):
                out_tmp = _copy(con, select, out, temps)
            os.replace(rej_tmp, rej)
            os.replace(out_tmp, out)
        n_rows = _count(con, "SELECT count(*) FROM decisions")
        n_rej = _count(con, f"SELECT count(*) FROM ({rejects_sql})")
        undetermined = _count(con, "SELECT count(*) FROM decisions WHERE status = 'undetermined'")
        errors = _count(con, "SELECT count(*) FROM decisions WHERE status = 'error'")
        summary = _summary(con, compiled, out_types)
    finally:
        con.close()
    return BatchResult(
        out,
        rej,
        int(n_rows),
        int(n_rej),
        time.perf_counter() - began,
        summary,
        int(undetermined),
        int(errors),
    )


@contextmanager
def _polled(
    progress: Progress | None, stage: str, probe: Callable[[], tuple[int, int] | None] | None
) -> Iterator[None]:
    """While the block runs (a query, which cannot count its decisions as it goes), tell
    `stage`'s progress as `probe` reads it, five times a second, from a thread of its own."""
    if progress is None or probe is None:
        yield
        return
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.2):
            try:
                found = probe()
            except Exception:  # the engine finished or went away: nothing more to tell
                return
            if found is not None:
                progress(stage, *found)

    watcher = threading.Thread(target=poll, name="batch-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def _duckdb_progress(con: Any) -> tuple[int, int] | None:
    """The running query's progress in per cent, as DuckDB estimates it; None before."""
    done = con.query_progress()
    return (int(done), 100) if done >= 0 else None


_PREPARED: dict[tuple[int, str, str, tuple[str, ...] | None], RenderedQuery] = {}


def _prepared(pack: M.Pack, audience: str, engine: str, outputs: list[str] | None) -> RenderedQuery:
    """The pack's query for the engine, narrowed to `outputs`, as text: from the disk cache
    for a pack compiled so before (see engine.sql.query_cache), and kept for the process's
    next run of the same pack object. Keyed here by the object, not the content hash: a pack
    pinned to one version keeps its content hash."""
    if engine == "python":  # the interpreter needs no SQL form: every pack can be decided
        return _interpreted(pack, audience, outputs)
    dialect = "spark" if engine == "spark" else "duckdb"
    key = (id(pack), audience, dialect, tuple(outputs) if outputs else None)
    found = _PREPARED.get(key)
    if found is not None and found.pack is pack:
        return found
    made = rendered(pack, audience, dialect, outputs)  # status and missing facts stay whole
    if len(_PREPARED) >= 8:
        _PREPARED.pop(next(iter(_PREPARED)))
    _PREPARED[key] = made
    return made


def _interpreted(pack: M.Pack, audience: str, outputs: list[str] | None) -> RenderedQuery:
    """The outputs a decision shows this audience, for the interpreter (no query)."""
    custodial = audience != "healthcare"
    shown = {n: T.ANY for n, o in pack.outputs.items() if not (custodial and o.custodial_withheld)}
    withheld = tuple(n for n in pack.outputs if n not in shown)
    keep = narrowed(pack, shown, outputs)
    kept = {n: t for n, t in shown.items() if n in keep}
    return RenderedQuery(pack, audience, "python", "", kept, withheld)


SUMMARY_VALUES = 8  # the most frequent values of each output the summary names


def _summary(
    con: Any, compiled: RenderedQuery, types: Mapping[str, T.Type]
) -> dict[str, list[tuple[str, int]]]:
    """The most frequent values of each output among the decisions made, read from the
    rows as written (so the same whatever the engine)."""
    summary: dict[str, list[tuple[str, int]]] = {}
    for name in compiled.outputs:
        counted = (
            f'SELECT "{name}" AS v, count(*) AS n FROM decisions '
            "WHERE status <> 'error' GROUP BY 1"
        )
        rows = con.execute(
            f"{counted} ORDER BY n DESC, CAST(v AS VARCHAR) LIMIT {SUMMARY_VALUES}"
        ).fetchall()
        summary[name] = [(_show(v, is_json_text(types[name])), n) for v, n in rows]
        found = con.execute(f"SELECT count(*), coalesce(sum(n), 0) FROM ({counted})").fetchone()
        values, decided = (int(found[0]), int(found[1])) if found else (0, 0)
        if values > len(rows):  # the rest, counted together
            rest = decided - sum(n for _, n in rows)
            summary[name].append((f"{values - len(rows)} other values", rest))
    return summary


def _show(value: Any, json_text: bool) -> str:
    """A value of the results as the summary names it: its JSON, decimals without the
    trailing zeros of the column's scale."""
    if value is None:
        return "undetermined/none"
    text = value if json_text else json.dumps(_summary_plain(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _summary_plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _summary_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_summary_plain(v) for v in value]
    return value


def _python_results(
    con: Any,
    pack: M.Pack,
    compiled: RenderedQuery,
    roots: list[str],
    audience: str,
    types: Mapping[str, T.Type],
    tell: Progress,
) -> None:
    """The interpreter's decisions over the same facts, as a `results` table of plain values."""
    import pyarrow as pa

    from engine import api
    from engine.language.convert import to_json as plain

    # the outputs whose values may not fit their column, and those holding records
    bounded = [n for n in compiled.outputs if holds(types[n], ("int", "decimal"))]
    records = {n for n in compiled.outputs if holds(types[n], ("record",))}
    types_of = root_types(pack.facts)  # (the facts' types: which nulls are known nones)
    total = _count(con, "SELECT count(*) FROM facts")
    cur = con.execute("SELECT * FROM facts ORDER BY record, as_of")
    names = [d[0] for d in cur.description]
    rows: list[dict[str, Any]] = []
    while batch := cur.fetchmany(1_000):
        tell("deciding (python)", len(rows), total)
        for values in batch:
            rec = dict(zip(names, values, strict=True))
            doc = {r: from_table(rec[r], types_of[r]) for r in roots if rec[r] is not None}
            base = {
                "record": rec["record"],
                "as_of": rec["as_of"],
                "pack": pack.id,
                "version": pack.version,
                "content_hash": pack.content_hash,
            }
            try:
                d = api.evaluate(pack, doc, rec["as_of"], audience)
            except EvaluationError as e:  # the decision stopped: its error is the row's
                version = pack.version_at(rec["as_of"])
                in_force = version.id if version is not None else None
                failed = {"policy_version": in_force, "status": "error", "error": str(e)}
                rows.append({**base, **failed})
                continue
            except FactsError as e:  # refused by the interpreter's own facts check
                refused = [p.message for p in e.problems]
                rows.append({**base, "policy_version": None, "status": None, "refused": refused})
                continue
            row = {**base, "policy_version": d.policy_version, "status": d.status}
            unfit = next(
                (w for n in bounded if (w := unfit_value(n, d.outputs.get(n), types[n]))), None
            )
            if unfit is not None:  # a value the results' column cannot hold: the row's error
                rows.append({**row, "status": "error", "error": unfit})
                continue
            for n in compiled.outputs:
                value = plain(d.outputs.get(n))
                row[n] = json.dumps(shaped(value, types[n]) if n in records else value)
            row["obligations"] = [
                {
                    "rule": o.rule,
                    "modality": o.modality,
                    "due": _json_text(plain(o.due)),
                    "frequency": _json_text(plain(o.frequency)),
                }
                for o in d.obligations
            ]
            row["missing_facts"] = list(d.missing_facts)
            row["undetermined"] = list(d.undetermined)
            rows.append(row)
    ob = pa.list_(pa.struct([(k, pa.string()) for k in ("rule", "modality", "due", "frequency")]))
    schema = pa.schema(
        [
            ("record", pa.int64()),
            ("as_of", pa.date32()),
            ("pack", pa.string()),
            ("version", pa.string()),
            ("content_hash", pa.string()),
            ("policy_version", pa.string()),
            ("status", pa.string()),
        ]
        + [(n, pa.string()) for n in compiled.outputs]
        + [
            ("obligations", ob),
            ("missing_facts", pa.list_(pa.string())),
            ("undetermined", pa.list_(pa.string())),
            ("error", pa.string()),
            ("refused", pa.list_(pa.string())),
        ]
    )
    tell("deciding (python)", len(rows), total)
    table = pa.Table.from_pylist(rows, schema=schema)
    con.register("python_results", table)
    con.execute("CREATE TABLE results AS SELECT * FROM python_results")


def _json_text(value: Any) -> str | None:
    """A due date or frequency as its JSON text; none when there is none or it is unknown,
    as the SQL engines write it."""
    return None if value is None else json.dumps(value)


def from_table(value: Any, t: T.Type | None) -> Any:
    """Facts of type `t` read back from a facts table (or a Parquet file of one) as JSON data:
    a known-none sentinel is a null again in a field whose null is a known none (elsewhere the
    same day or text is a value as any other), NULL absent."""
    if t is not None and t.null_none and (value == NONE_DATE or value == NONE_TEXT):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        fields = t if t is not None and t.kind == "record" else None
        return {
            k: from_table(v, _field_type(fields, k) if fields is not None else None)
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [from_table(v, t.elem if t is not None else None) for v in value]
    return value
