"""Facts files for the SQL tests as `regime batch` reads them (JSONL, CSV of JSON cells, or
Parquet), and the rows a batch run wrote back."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from engine.packs.facts_schema import root_types
from engine.sql.run import converted, facts_table


def write(docs: list[dict[str, Any]], path: Path, day: dt.date) -> None:
    """`docs` as a facts file of the kind its suffix names (Parquet decided on `day`)."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    elif path.suffix == ".csv":
        roots = list(root_types())
        with path.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(roots)
            for d in docs:
                out.writerow([json.dumps(d[r]) if r in d else "" for r in roots])
    else:
        pq.write_table(facts_table((i, day, converted(d)) for i, d in enumerate(docs, 1)), path)


def written_rows(out: Path) -> list[dict[str, Any]]:
    """The rows of a batch run's Parquet result, in record order."""
    con = duckdb.connect()
    try:
        cur = con.execute(f"SELECT * FROM read_parquet('{out}') ORDER BY record")
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
