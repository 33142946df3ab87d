"""`regime batch --engine spark`, run as a real process, when Spark's query fails on the data:
the user reads one error of ours on stderr (the input named, what is wrong, how to get an
answer), not the JVM's log lines and Java traces nor pyspark's own JSON log of them; those go
to a log file, which the error names."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REGIME = Path(sys.executable).parent / "regime"
PACKS = ROOT / "tests" / "fixtures" / "decimal_facts"

# one JVM at a time: on the worker of the other Spark tests (see tests/sql/conftest.py)
pytestmark = pytest.mark.xdist_group("spark")


def batch_on_spark(
    tmp_path: Path,
    records: str,
    master: str,
    as_of: str = "2020-07-01",
    settings: str | None = None,
) -> tuple[int, str, str, Path]:
    """Exit code, the error and the hint on stderr (failing the test if there is more) and the
    output file of `regime batch --engine spark` run as a process (with `settings` as the
    lines of Spark's own settings file, spark-defaults.conf, where given)."""
    facts = tmp_path / "pay.jsonl"
    facts.write_text(records)
    out = tmp_path / "pay.parquet"
    env = {**os.environ, "SPARK_MASTER": master}
    if settings is not None:
        conf = tmp_path / "spark-conf"
        conf.mkdir()
        (conf / "spark-defaults.conf").write_text(settings)
        env["SPARK_CONF_DIR"] = str(conf)
    args = ["batch", "weekly_pay", "--packs", str(PACKS), "--facts", str(facts)]
    result = subprocess.run(
        [str(REGIME), *args, "--as-of", as_of, "--out", str(out), "--engine", "spark"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr  # the error and its hint, nothing of Spark's own
    error, hint = lines
    assert error.startswith("error: ") and str(facts) in error, error
    assert hint.startswith("  hint: "), hint
    return result.returncode, error, hint, out


def spark_log(hint: str) -> str:
    """The text of the log file a hint names, removed once read."""
    named = re.search(r"Spark's log[^:]*: (\S+)", hint)
    assert named is not None, hint
    log = Path(named.group(1))
    text = log.read_text(encoding="utf-8", errors="replace")
    log.unlink()
    return text


def test_a_failing_spark_query_shows_only_our_error(tmp_path: Path) -> None:
    # a cluster set to refuse dates before the Gregorian calendar (as Spark 3 did by default),
    # and a day of the year 1500 mistyped for 2020: Spark starts, then fails reading the rows
    code, error, hint, out = batch_on_spark(
        tmp_path,
        '{"person": {"id": "a", "hourly_rate": 6.5, "hours": 3}}\n',
        "local[1]",
        as_of="1500-07-01",
        settings="spark.sql.parquet.datetimeRebaseModeInRead  EXCEPTION\n",
    )
    assert code == 1
    assert error.startswith("error: the spark engine failed deciding"), error
    assert "READ_ANCIENT_DATETIME" in error and "reading dates before 1582-10-15" in error
    assert "--engine python" in hint
    assert "\tat org.apache.spark" in spark_log(hint)  # the Java trace, kept for whoever asks
    assert not out.exists()


@pytest.mark.parametrize(
    ("master", "said", "logged"),
    [
        # refused by spark-submit, before pyspark connects to the JVM
        ("nonsense", "[JAVA_GATEWAY_EXITED]", "Master must either be yarn or start with spark"),
        # refused by the JVM's SparkContext, a py4j error (it was a Python traceback)
        ("local[x]", "Could not parse Master URL: 'local[x]'", "Could not parse Master URL"),
    ],
)
def test_spark_that_does_not_start_says_why_in_one_error(
    tmp_path: Path, master: str, said: str, logged: str
) -> None:
    code, error, hint, out = batch_on_spark(
        tmp_path, '{"person": {"id": "b", "hourly_rate": 6.5, "hours": 3}}\n', master
    )
    assert code == 2
    assert error.startswith("error: Spark did not start to decide"), error
    assert said in error and "\tat " not in error
    assert "SPARK_MASTER" in hint
    assert logged in spark_log(hint)
    assert not out.exists()
