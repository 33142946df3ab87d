"""Packs compiled to SQL: one query over a table of facts, for DuckDB in-process or Spark."""
