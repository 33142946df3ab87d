"""Some outputs of a whole decision: `--outputs a,b` narrows the columns a query returns, never
the decision. Status, error, undetermined items, missing facts and obligations stay those of
the whole decision, as the interpreter makes it: a query compiled for some outputs alone
decides only those, and would call a record decided whose obligation's due date stops the
whole decision with a run-time error."""

from __future__ import annotations

import dataclasses

from engine.sql.query import CompiledPack


def with_outputs(compiled: CompiledPack, wanted: list[str]) -> CompiledPack:
    """The whole decision's query (`compiled`) returning only the `wanted` outputs among its
    columns; an output the audience may not see stays out, as in the whole query."""
    unknown = [n for n in wanted if n not in compiled.pack.outputs]
    if unknown:
        raise ValueError(f"pack `{compiled.pack.id}` has no output {', '.join(unknown)}")
    dropped = {n for n in compiled.outputs if n not in wanted}
    query = compiled.query.copy()
    query.set("expressions", [e for e in query.expressions if e.alias_or_name not in dropped])
    outputs = {n: t for n, t in compiled.outputs.items() if n in wanted}
    return dataclasses.replace(compiled, query=query, outputs=outputs)
