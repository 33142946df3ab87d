"""A population's decisions over a range through the SQL path, as the states that change.

The population's documents (read once by `population_source.read_population`, whatever the
file's format) are written to a typed Parquet facts table in which a known none stays apart
from an absent fact (`engine.sql.run.facts_table`; the JSONL and CSV readers of a batch run do
not yet keep them apart). `engine.sql.batch.run_batch` then decides every record on every day
of the range in DuckDB; a window query over its rows keeps, for each record, the first day and the
days on which what the audience sees (status, policy version, outputs, obligations, missing
facts) differs from the day before. Those rows are read back as the same states the
interpreter's change points give (`Timeline.states()`), so that the upcoming and impact
reports are made the same way from either engine, and the two can be compared.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.evaluation.evaluate import Evaluation
from engine.language import static_types as T
from engine.packs import model as M
from engine.problems import EvaluationError
from engine.sql.batch import run_batch
from engine.sql.output_columns import output_types, read_back
from engine.sql.query import DECISION_COLUMNS
from engine.sql.read_checks import sql_str
from engine.tools.population_source import prepared
from engine.tools.timeline import duty_ids, seen_value, undetermined_duties

State = dict[str, Any]
SHOWN_REASONS = 5  # reject reasons quoted in a report


@dataclass(frozen=True)
class RecordStates:
    """One record of the population: its position in the file (from 1), its subject, and
    what the audience sees from the first day and from each day it changes on."""

    record: int
    subject: str
    states: list[tuple[dt.date, State]]


@dataclass
class SqlStates:
    """The states of every record decided, and what could not be decided."""

    records: list[RecordStates] = field(default_factory=list)
    rows: int = 0  # record-days decided
    rejected: int = 0  # records (or record-days with no version in force) not decided
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0


def plain(value: Any, t: T.Type) -> Any:
    """A value read back from the decisions file as the plain data a decision shows (as
    `engine.language.convert.to_json` gives it for the interpreter's values)."""
    if value is None:
        return None
    if isinstance(value, bool | int | str | float):
        return value  # durations and months too: the decisions file holds their ISO text
    if isinstance(value, Decimal):  # the column's 10 places, shown by value as the other side
        return seen_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        fields = {n: ft for n, ft, _ in t.fields or ()} if t.kind == "record" else {}
        return {k: plain(v, fields.get(k, T.ANY)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        elem = t.elem if t.kind == "list" and t.elem is not None else T.ANY
        return [plain(v, elem) for v in value]
    return value


def _state(
    pack: M.Pack, row: Mapping[str, Any], types: Mapping[str, T.Type], outputs: list[str]
) -> State:
    """A decisions row as what a change point compares (`timeline.observable`)."""
    seen: State = {
        "status": row["status"],
        "policy_version": row["policy_version"],
        "missing_facts": list(row["missing_facts"] or []),
    }
    for name in outputs:
        t = types.get(name, T.ANY)
        seen[f"outputs.{name}"] = plain(read_back(row[name], t), t)
    for ob in row["obligations"] or []:
        seen[f"obligations.{ob['rule']}"] = {
            "modality": ob["modality"],
            "due": None if ob.get("due") is None else json.loads(ob.get("due")),
            "frequency": None if ob.get("frequency") is None else json.loads(ob.get("frequency")),
        }
    seen.update(undetermined_duties(pack, row["undetermined"] or []))
    return seen


def write_facts(
    documents: list[dict[str, Any]],
    path: Path,
    day: dt.date,
    custodial: bool = False,
    schema: str = "facts",
) -> Path:
    """The documents as a Parquet facts table, in order (record n is documents[n - 1]), each
    validated and prepared as the interpreter prepares it for the audience (raises FactsError
    naming the document, as the interpreter's path does)."""
    import pyarrow.parquet as pq

    from engine.sql.run import facts_table

    ready = (
        (n, day, prepared(documents, n, schema, custodial)) for n in range(1, len(documents) + 1)
    )
    pq.write_table(facts_table(ready, schema), path)
    return path


def population_states(
    pack: M.Pack,
    documents: list[dict[str, Any]],
    start: dt.date,
    end: dt.date,
    audience: str = "custodial",
    id_field: str | None = None,
) -> SqlStates:
    """`sql_states` over documents already read, written to a temporary facts table."""
    with tempfile.TemporaryDirectory(prefix="regime-facts-") as tmp:
        custodial = audience != "healthcare"
        path = write_facts(documents, Path(tmp) / "facts.parquet", start, custodial, pack.facts)
        return sql_states(pack, path, start, end, audience, id_field)


def versions_cover(pack: M.Pack, start: dt.date, end: dt.date) -> None:
    """Raise the interpreter's own error (E-EVAL-VERSION) when some day of the range has no
    version of the pack in force, rather than leaving those days out of the SQL rows."""
    for i in range((end - start).days + 1):
        day = start + dt.timedelta(days=i)
        if pack.version_at(day) is None:
            Evaluation(pack, {}, day, True)  # raises, naming the versions and their dates
            raise EvaluationError("E-EVAL-VERSION", f"no version of `{pack.id}` on {day}")


def sql_states(
    pack: M.Pack,
    population: Path,
    start: dt.date,
    end: dt.date,
    audience: str = "custodial",
    id_field: str | None = None,
) -> SqlStates:
    """Every record of `population` decided by DuckDB on every day from `start` to `end`,
    kept as its first state and the states that differ from the day before. Raises what
    `run_batch` raises: `Unsupported` when the pack has no SQL form, `BatchError` for input
    it cannot read."""
    import duckdb

    began = time.perf_counter()
    versions_cover(pack, start, end)
    with tempfile.TemporaryDirectory(prefix="regime-states-") as tmp:
        out = Path(tmp) / "decisions.parquet"
        batch = run_batch(
            pack, population, out, start, end, "duckdb", key=id_field, audience=audience
        )
        con = duckdb.connect()
        try:
            src = "read_parquet('" + str(out).replace("'", "''") + "')"
            columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
            outputs = [c for c in columns if c not in DECISION_COLUMNS and c != "key"]
            duties = "[" + ", ".join(sql_str(r) for r in duty_ids(pack)) + "]::VARCHAR[]"
            seen = ", ".join(
                ["status", "policy_version", "missing_facts", "obligations"]
                + [f"list_filter(undetermined, lambda x: list_contains({duties}, x))"]
                + [f'"{c}"' for c in outputs]
            )
            cur = con.execute(
                "SELECT * EXCLUDE (now_seen, before_seen, day_before) FROM ("
                f"SELECT *, row({seen}) AS now_seen, "
                f"lag(row({seen})) OVER (PARTITION BY record ORDER BY as_of) AS before_seen, "
                "lag(as_of) OVER (PARTITION BY record ORDER BY as_of) AS day_before "
                f"FROM {src}) WHERE day_before IS NULL OR now_seen IS DISTINCT FROM before_seen "
                "ORDER BY record, as_of"
            )
            names = [d[0] for d in cur.description]
            changed = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            rejects = (
                con.execute(
                    "SELECT DISTINCT reasons FROM read_json_auto(?) ORDER BY 1 LIMIT ?",
                    [str(batch.rejects), SHOWN_REASONS],
                ).fetchall()
                if batch.rejected
                else []
            )
        finally:
            con.close()
    types = output_types(pack)
    result = SqlStates(rows=batch.rows, rejected=batch.rejected)
    result.reasons = ["; ".join(r[0]) for r in rejects]
    current: RecordStates | None = None
    for row in changed:
        if current is None or current.record != row["record"]:
            subject = row["key"] if row["key"] is not None else "?"
            current = RecordStates(int(row["record"]), str(subject), [])
            result.records.append(current)
        current.states.append((row["as_of"], _state(pack, row, types, outputs)))
    result.seconds = time.perf_counter() - began
    return result
