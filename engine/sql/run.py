"""Running a compiled pack: facts into a table, the query over it, rows back as decision data."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from engine.evaluation.decision import Decision
from engine.language import static_types as T
from engine.language.convert import iso_duration
from engine.language.convert import to_json as plain
from engine.language.runtime import EXACT
from engine.packs.facts_schema import root_types
from engine.problems import EvaluationError
from engine.sql.expressions import NONE_DATE, NONE_TEXT
from engine.sql.query import CompiledPack
from engine.sql.session import set_up

# -- facts as Arrow -----------------------------------------------------------------------


def arrow_type(t: T.Type) -> Any:
    """The Arrow type of facts of static type `t` (the facts table's column types)."""
    import pyarrow as pa

    k = t.kind
    if k == "bool":
        return pa.bool_()
    if k == "int":
        return pa.int64()
    if k == "decimal":
        return pa.float64()
    if k == "date":
        return pa.date32()
    if k == "list":
        return pa.list_(arrow_type(t.elem) if t.elem is not None else pa.string())
    if k == "record":
        return pa.struct([(n, arrow_type(ft)) for n, ft, _ in t.fields or ()])
    return pa.string()


def facts_arrow_schema(schema: str = "facts") -> Any:
    import pyarrow as pa

    fields = [("record", pa.int64()), ("as_of", pa.date32())]
    fields += [(root, arrow_type(t)) for root, t in root_types(schema).items()]
    return pa.schema(fields)


def _shape(value: Any, t: T.Type) -> Any:
    """Prepared facts cut to the schema's shape (ISO dates as dates; unknown keys dropped)."""
    if value is None:
        return None
    if t.kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if t.kind == "record" and isinstance(value, Mapping):
        out = {}
        for n, ft, _ in t.fields or ():
            if value.get(n) is None and n in value and getattr(ft, "null_none", False):
                out[n] = NONE_DATE if ft.kind == "date" else NONE_TEXT  # a known none
            else:
                out[n] = _shape(value.get(n), ft)
        return out
    if t.kind == "list" and isinstance(value, list) and t.elem is not None:
        return [_shape(v, t.elem) for v in value]
    if t.kind == "decimal" and isinstance(value, Decimal):
        return float(value)
    return value


def facts_table(
    records: Iterable[tuple[int, dt.date, Mapping[str, Any]]], schema: str = "facts"
) -> Any:
    """An Arrow table of facts documents: (record id, as_of, document) each."""
    import pyarrow as pa

    types = root_types(schema)
    rows = []
    for rid, as_of, doc in records:
        row: dict[str, Any] = {"record": rid, "as_of": as_of}
        for root, t in types.items():
            row[root] = _shape(doc.get(root), t)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=facts_arrow_schema(schema))


# -- rows back as decision data -----------------------------------------------------------


def sql_plain(value: Any, t: T.Type) -> Any:
    """A value read back from the query as the plain JSON data a decision shows."""
    if value is None:
        return None
    k = t.kind
    if k == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if k == "duration":
        return iso_duration(dt.timedelta(microseconds=int(value)))
    if k == "months":
        n = int(value)
        return f"P{n}M" if n % 12 else f"P{n // 12}Y"
    if k == "decimal":
        return str(value)
    if k == "record" and isinstance(value, Mapping):
        ft = {n: ty for n, ty, _ in t.fields or ()}
        return {key: sql_plain(v, ft.get(key, T.ANY)) for key, v in value.items()}
    if k == "list" and isinstance(value, list | tuple):
        return [sql_plain(v, t.elem or T.ANY) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def error_view(policy_version: Any, content_hash: str, error: str) -> dict[str, Any]:
    """A decision that stopped with a run-time error: which pack and version, and the error."""
    return {
        "policy_version": policy_version,
        "content_hash": content_hash,
        "status": "error",
        "error": error,
    }


def row_view(row: Mapping[str, Any], compiled: CompiledPack) -> dict[str, Any]:
    """The decision fields of one result row, as plain data (for comparison and output)."""
    if row.get("error") is not None:
        return error_view(row["policy_version"], row["content_hash"], row["error"])
    obligations = [
        {
            "rule": o["rule"],
            "modality": o["modality"],
            "due": None if o.get("due") is None else json.loads(o.get("due")),
            "frequency": None if o.get("frequency") is None else json.loads(o.get("frequency")),
        }
        for o in row["obligations"] or []
    ]
    return {
        "policy_version": row["policy_version"],
        "content_hash": row["content_hash"],
        "status": row["status"],
        "outputs": {n: sql_plain(row[n], t) for n, t in compiled.outputs.items()},
        "obligations": obligations,
        "missing_facts": list(row["missing_facts"] or []),
        "undetermined": list(row["undetermined"] or []),
        "withheld": list(compiled.withheld),
    }


def decision_view(decision: Decision, outputs: Iterable[str] | None = None) -> dict[str, Any]:
    """The same fields of a decision made by the Python interpreter."""
    shown = list(outputs) if outputs is not None else list(decision.outputs)
    return {
        "policy_version": decision.policy_version,
        "content_hash": decision.content_hash,
        "status": decision.status,
        "outputs": {n: plain(decision.outputs[n]) for n in shown if n in decision.outputs},
        "obligations": [
            {
                "rule": o.rule,
                "modality": o.modality,
                "due": plain(o.due),
                "frequency": plain(o.frequency),
            }
            for o in decision.obligations
        ],
        "missing_facts": list(decision.missing_facts),
        "undetermined": list(decision.undetermined),
        "withheld": list(decision.withheld),
    }


def differences(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The fields where two decision views differ, each as `field: left != right`."""
    out: list[str] = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if isinstance(x, Mapping) and isinstance(y, Mapping):
            out += differences(x, y, f"{prefix}{key}.")
        elif x != y:
            out.append(f"{prefix}{key}: {x!r} != {y!r}")
    return out


def run_duckdb(compiled: CompiledPack, table: Any, threads: int | None = None) -> list[dict]:
    """Run the query in an in-process DuckDB over an Arrow table of facts; rows as dicts."""
    import duckdb

    con = duckdb.connect()
    try:
        set_up(con)
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.register("facts", table)
        cur = con.execute(compiled.sql(pretty=False))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def python_view(
    pack: Any,
    doc: Mapping[str, Any],
    as_of: dt.date,
    outputs: Iterable[str],
    audience: str = "custodial",
    record: bool = False,
    stepwise: bool = False,
) -> dict[str, Any] | None:
    """The interpreter's decision on a prepared (converted) document; None when no version of
    the pack is in force on `as_of` (the query gives that row no policy version). It is the
    compiled program's (as `evaluate` decides) unless `stepwise` or `record` asks for the
    step-by-step evaluator's; steps are kept only with `record` (the view holds none of them;
    the fields are the same whichever decides)."""
    from engine.api import out_of_range
    from engine.evaluation.decision import build_decision
    from engine.evaluation.evaluate import Evaluation
    from engine.evaluation.program import program

    version = pack.version_at(as_of)
    if version is None:
        return None
    custodial = audience != "healthcare"
    try:
        try:
            with decimal.localcontext(EXACT):  # as engine.api decides
                if stepwise or record:
                    ev = Evaluation(pack, dict(doc), as_of, custodial, record=record)
                    ev.run()
                else:
                    ev = program(pack, as_of, custodial, None).run(dict(doc), as_of)
                decision = build_decision(ev, audience, pack.facts)
        except (OverflowError, ValueError, ArithmeticError) as e:
            raise out_of_range(pack.id, e) from None
    except EvaluationError as e:  # the decision stops: the query's row holds the same error
        return error_view(version.id, pack.content_hash, str(e))
    return decision_view(decision, outputs)


def disagreements(
    pack: Any, compiled: CompiledPack, ready: list[tuple[int, dt.date, dict[str, Any]]]
) -> tuple[list[str], int]:
    """Each field where DuckDB's row differs from the interpreter's decision, over records
    of (id, evaluation date, converted document), and how many records were compared (those
    with a version of the pack in force). The facts table has the roots of the pack's own
    facts schema, as the documents do (`converted(doc, pack.facts)`)."""
    rows = {r["record"]: r for r in run_duckdb(compiled, facts_table(ready, pack.facts))}
    failures: list[str] = []
    compared = 0
    for i, as_of, doc in ready:
        expected = python_view(pack, doc, as_of, compiled.outputs)
        if expected is None:
            continue
        compared += 1
        found = differences(expected, row_view(rows[i], compiled))
        failures += [f"record {i} ({as_of}): {d}" for d in found]
    return failures, compared


def converted(doc: Mapping[str, Any], schema: str = "facts") -> dict[str, Any]:
    """A facts document converted for evaluation (dates as dates) without validating it."""
    from engine.packs.facts_schema import convert, settle_nulls

    types = root_types(schema)
    done = {k: convert(v, types[k]) if k in types else v for k, v in doc.items()}
    return settle_nulls(done, schema)
