"""The settings of a DuckDB connection that runs a pack's query, set in one place for
`regime batch`, the in-process runner and the benchmarks alike."""

from __future__ import annotations

from typing import Any

# DuckDB's statistics propagation works out the range of every value through each level of
# the query's chain of CTEs; the generated query has no filter for it to prune and no join
# whose plan it changes, so it is planning work (about 7% of planning a large pack's query) and
# a little per-row work with nothing saved. Results are the same with it off.
DISABLED_OPTIMIZERS = ("statistics_propagation",)


def set_up(con: Any) -> None:
    """Set up `con` (a DuckDB connection) to run generated queries."""
    con.execute(f"SET disabled_optimizers = '{','.join(DISABLED_OPTIMIZERS)}'")
