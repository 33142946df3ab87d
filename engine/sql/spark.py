"""Running a compiled pack on Spark: one session per process, local by default.

Spark's JVM writes its log (warnings at start, a Java trace for every failed task) on its
console, and pyspark logs a failed query's trace again as JSON on stderr: neither is for the
user of a command, who gets one error. Both go to a log file instead (`log_file()`), which
that error names."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from engine.sql.query import CompiledPack

_SESSION: Any = None
_LOG: Path | None = None

_CONFIG = (
    ("spark.ui.enabled", "false"),
    # no stage bars of Spark's own on the console: `regime batch` shows one bar
    ("spark.ui.showConsoleProgress", "false"),
    ("spark.sql.shuffle.partitions", "1"),
    ("spark.sql.legacy.sizeOfNull", "false"),
    ("spark.sql.session.timeZone", "UTC"),
    # decimals exact, as the interpreter's: never rounded to fit (see docs/sql.md)
    ("spark.sql.decimalOperations.allowPrecisionLoss", "false"),
    # rules for joins the query does not have (runtime filters, dynamic partition pruning):
    # they change no result, yet on a pack's query (one scan and a chain of projections)
    # they took most of the optimiser's time (about 57 s of 64 s for the largest pack)
    ("spark.sql.optimizer.runtime.bloomFilter.enabled", "false"),
    ("spark.sql.optimizer.runtimeFilter.semiJoinReduction.enabled", "false"),
    ("spark.sql.optimizer.dynamicPartitionPruning.enabled", "false"),
)
# pyspark's loggers that write a failed query's Java trace on stderr
_PYSPARK_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")


class SparkSetupError(Exception):
    """Spark cannot be set up in this environment (pyspark missing, no Spark where SPARK_HOME
    says): the user's environment to fix, with `hint` saying how."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


def session(master: str | None = None) -> Any:
    """The process's SparkSession (local[1] unless SPARK_MASTER or `master` says otherwise),
    its JVM's console and pyspark's loggers writing to `log_file()`; raises SparkSetupError
    when pyspark is not installed or Spark's launcher cannot be run."""
    global _SESSION, _LOG
    if _SESSION is None:
        try:
            from pyspark import SparkConf, SparkContext
            from pyspark.java_gateway import launch_gateway
            from pyspark.sql import SparkSession
        except ImportError as e:
            raise SparkSetupError(
                f"pyspark is not installed ({e})",
                "install the spark extra: pip install 'regime-policy[spark]' (or use "
                "--engine duckdb, the default)",
            ) from e

        conf = SparkConf().setAppName("regime")
        conf.setMaster(master or os.environ.get("SPARK_MASTER", "local[1]"))
        for key, value in _CONFIG:
            conf.set(key, value)
        if _LOG is None:
            fd, name = tempfile.mkstemp(prefix="regime-spark-", suffix=".log")
            os.close(fd)
            _LOG = Path(name)
        _log_pyspark_to(_LOG)
        gateway = None
        if SparkContext._gateway is None:  # the JVM is started once per process
            with _LOG.open("ab") as log:
                try:
                    gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})
                except OSError as e:  # the launcher is not there, or cannot be run
                    raise SparkSetupError(
                        f"cannot run Spark's launcher `{e.filename}`: {e.strerror or e}",
                        "SPARK_HOME names the folder of a Spark installation (unset it to use "
                        "the Spark that pyspark brings)",
                    ) from e
        if SparkContext._active_spark_context is None:
            SparkContext(conf=conf, gateway=gateway)
        _SESSION = SparkSession.builder.config(conf=conf).getOrCreate()
        _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def _log_pyspark_to(path: Path) -> None:
    """Send pyspark's own error loggers to `path` instead of stderr (pyspark 4 has them)."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:
        return
    for name in _PYSPARK_LOGGERS:
        logger = PySparkLogger.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.addHandler(logging.FileHandler(path, encoding="utf-8"))
        logger.propagate = False


def started() -> bool:
    """Whether the process's SparkSession is running."""
    return _SESSION is not None


def log_file() -> Path | None:
    """Where Spark's own log goes (None before a session started)."""
    return _LOG


def discard_log() -> None:
    """Remove the log file: the run it was kept for went well."""
    if _LOG is not None:
        _LOG.unlink(missing_ok=True)


_ADVICE = re.compile(
    r"\s*(?:If necessary set [^.]*(?:\.[^.]*)*?\.|Use `try_\w+`[^.]*\.)(?=\s|$)|\s*SQLSTATE: \w+"
)


_JAVA_CLASS = re.compile(r"^(?:[a-z]\w*\.)+[A-Z][\w$]*(?:Exception|Error): ")


def is_spark_error(error: BaseException) -> bool:
    """Whether `error` comes from Spark: pyspark's own, or the JVM's through py4j."""
    return type(error).__module__.split(".")[0] in ("pyspark", "py4j")


def message(error: BaseException) -> str:
    """A Spark error's message, on one line, in full: up to its SQLSTATE, without what follows
    (the query plan, the SQL with a caret, the JVM's stack trace), without its SQLSTATE and
    without Spark's advice to change its settings (to get NULL where the interpreter stops, or
    to turn off a check); for an error of the JVM that pyspark did not translate, the Java
    exception's own message."""
    text = str(error).strip()
    java = getattr(error, "java_exception", None)
    if java is not None:
        try:
            text = _JAVA_CLASS.sub("", str(java.toString()).strip())
        except Exception:  # the JVM is gone: py4j's text is what there is
            pass
    kept: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(_AFTER_MESSAGE):
            break
        kept.append(line.strip())
        if "SQLSTATE:" in line:
            break
    said = re.sub(r"\s*SQLSTATE:.*$", "", " ".join(kept))
    sentences = [
        s
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", _ADVICE.sub("", said))
        if not _SETTING.search(s)
    ]
    said = " ".join(" ".join(sentences).split()) or type(error).__name__
    return said if len(said) <= 2000 else said[:1997] + "..."


# where Spark's message ends: the JVM's trace, the SQL with a caret, the plan of a query
_AFTER_MESSAGE = ("\tat ", "== ", "JVM stacktrace:", "Caused by:", "'", "+-", ":- ")
# a sentence advising to change one of Spark's settings
_SETTING = re.compile(r"[\"'`]spark\.[\w.]+[\"'`]")


def stop() -> None:
    """Stop the session and remove its log (the JVM itself lives as long as the process)."""
    global _SESSION, _LOG
    if _SESSION is not None:
        _SESSION.stop()
        _SESSION = None
    discard_log()
    _LOG = None


def progress() -> tuple[int, int] | None:
    """Tasks done and tasks in all of the session's running stages; None when none runs."""
    if _SESSION is None:
        return None
    tracker = _SESSION.sparkContext.statusTracker()
    stages = [tracker.getStageInfo(i) for i in tracker.getActiveStageIds()]
    total = sum(s.numTasks for s in stages if s is not None)
    done = sum(s.numCompletedTasks for s in stages if s is not None)
    return (done, total) if total else None


def run_spark(query: str, facts: Path, out_dir: Path) -> None:
    """Run a query rendered for Spark over a Parquet facts file into a Parquet folder."""
    spark = session()
    spark.read.parquet(str(facts)).createOrReplaceTempView("facts")
    spark.sql(query).write.mode("overwrite").parquet(str(out_dir))


def rows(compiled: CompiledPack, facts: Path) -> list[dict[str, Any]]:
    """The query's rows as dicts (nested rows as dicts), for comparison in tests."""
    spark = session()
    spark.read.parquet(str(facts)).createOrReplaceTempView("facts")
    return [r.asDict(recursive=True) for r in spark.sql(compiled.sql(pretty=False)).collect()]
