"""Running a compiled pack on Spark: one session per process, local by default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.sql.query import CompiledPack

_SESSION: Any = None


def session(master: str | None = None) -> Any:
    """The process's SparkSession (local[1] unless SPARK_MASTER or `master` says otherwise)."""
    global _SESSION
    if _SESSION is None:
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.appName("regime")
            .master(master or os.environ.get("SPARK_MASTER", "local[1]"))
            .config("spark.ui.enabled", "false")
            # no stage bars of Spark's own on the console: `regime batch` shows one bar
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.sql.legacy.sizeOfNull", "false")
            .config("spark.sql.session.timeZone", "UTC")
            # decimals exact, as the interpreter's: never rounded to fit (see docs/sql.md)
            .config("spark.sql.decimalOperations.allowPrecisionLoss", "false")
        )
        _SESSION = builder.getOrCreate()
        _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def stop() -> None:
    global _SESSION
    if _SESSION is not None:
        _SESSION.stop()
        _SESSION = None


def progress() -> tuple[int, int] | None:
    """Tasks done and tasks in all of the session's running stages; None when none runs."""
    if _SESSION is None:
        return None
    tracker = _SESSION.sparkContext.statusTracker()
    stages = [tracker.getStageInfo(i) for i in tracker.getActiveStageIds()]
    total = sum(s.numTasks for s in stages if s is not None)
    done = sum(s.numCompletedTasks for s in stages if s is not None)
    return (done, total) if total else None


def run_spark(compiled: CompiledPack, facts: Path, out_dir: Path) -> None:
    """Run the Spark rendering of the query over a Parquet facts file into a Parquet folder."""
    spark = session()
    spark.read.parquet(str(facts)).createOrReplaceTempView("facts")
    spark.sql(compiled.sql(pretty=False)).write.mode("overwrite").parquet(str(out_dir))


def rows(compiled: CompiledPack, facts: Path) -> list[dict[str, Any]]:
    """The query's rows as dicts (nested rows as dicts), for comparison in tests."""
    spark = session()
    spark.read.parquet(str(facts)).createOrReplaceTempView("facts")
    return [r.asDict(recursive=True) for r in spark.sql(compiled.sql(pretty=False)).collect()]
