"""`regime batch --engine spark` when Spark cannot be set up (pyspark missing, a SPARK_HOME
without Spark): one error of ours naming what to fix, exit 2 as for any other environment
problem, no traceback; and a failing Spark query's error keeps the whole of Spark's message
(not its first line only), without the Java trace, the query plan or settings advice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.sql.spark import message

ROOT = Path(__file__).resolve().parents[2]
REGIME = Path(sys.executable).parent / "regime"
PACKS = ROOT / "tests" / "fixtures" / "decimal_facts"


def batch(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    facts = tmp_path / "pay.jsonl"
    facts.write_text('{"person": {"id": "a", "hourly_rate": 6.5, "hours": 3}}\n')
    args = ["batch", "weekly_pay", "--packs", str(PACKS), "--facts", str(facts)]
    args += ["--as-of", "2020-07-01", "--out", str(tmp_path / "out.parquet"), "--engine", "spark"]
    return subprocess.run(
        [str(REGIME), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=600,
    )


def test_without_pyspark_spark_is_a_usage_error_that_says_how_to_install_it(
    tmp_path: Path,
) -> None:
    shadow = tmp_path / "shadow" / "pyspark"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'pyspark'\")\n")
    result = batch(tmp_path, {"PYTHONPATH": str(shadow.parent)})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "error: " in result.stderr and "pyspark" in result.stderr
    assert "regime-policy[spark]" in result.stderr
    assert not (tmp_path / "out.parquet").exists()


def test_a_spark_home_without_spark_is_named(tmp_path: Path) -> None:
    result = batch(tmp_path, {"SPARK_HOME": str(tmp_path / "no-spark")})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "cannot write" not in result.stderr
    assert "Spark did not start" in result.stderr and "SPARK_HOME" in result.stderr
    assert not (tmp_path / "out.parquet").exists()


class _Captured(Exception):
    """Stands for pyspark's translated errors: their text is Spark's message."""


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        (
            "[DUPLICATED_MAP_KEY] Duplicate map key 1 was found, please check the input data.\n"
            'If you want to remove the duplicated keys, you can set "spark.sql.mapKeyDedupPolicy"'
            ' to "LAST_WIN" so that the key inserted at last takes precedence. SQLSTATE: 23505',
            ["Duplicate map key 1 was found"],
            ["spark.sql.mapKeyDedupPolicy", "SQLSTATE"],
        ),
        (
            "[FAILED_READ_FILE.CANNOT_READ_FILE_FOOTER] Encountered error while reading file "
            "file:/x/pay.parquet. Could not read footer. Please ensure that the file is in "
            "either ORC or Parquet format.\nIf not, please convert it to a valid format. If the "
            "file is in the valid format, please check if it is corrupt.\nIf it is, you can "
            "choose to either ignore it or fix the corruption. SQLSTATE: KD001\n\tat org.apache"
            ".spark.sql.errors.QueryExecutionErrors$.cannotReadFooterForFileError(Q.scala:1109)",
            ["Could not read footer", "check if it is corrupt", "fix the corruption"],
            ["\tat ", "SQLSTATE", "QueryExecutionErrors"],
        ),
        (
            "[UNRESOLVED_COLUMN.WITHOUT_SUGGESTION] A column, variable, or function parameter "
            "with name `nope` cannot be resolved.  SQLSTATE: 42703; line 1 pos 7;\n"
            "'Project ['nope]\n+- OneRowRelation\n",
            ["with name `nope` cannot be resolved."],
            ["Project", "OneRowRelation", "line 1 pos 7", ";"],
        ),
        (
            "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and "
            'return NULL instead. If necessary set "spark.sql.ansi.enabled" to "false" to bypass '
            "this error. SQLSTATE: 22012\n== SQL (line 1, position 8) ==\nselect 1/(id-id)\n",
            ["Division by zero."],
            ["try_divide", "ansi", "== SQL", "select"],
        ),
        (
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'x'.(line 1, pos 7)\n\n== SQL ==\n"
            "select x x x\n-------^^^\n",
            ["Syntax error at or near 'x'"],
            ["== SQL", "^^^"],
        ),
        (
            "[INTERNAL_ERROR] boom happened\n\nJVM stacktrace:\norg.apache.spark.SparkException"
            ": boom\n\tat org.apache.X.y(X.scala:1)",
            ["boom happened"],
            ["\tat ", "JVM stacktrace", "SparkException"],
        ),
    ],
)
def test_a_spark_errors_whole_message_is_kept_without_trace_plan_or_advice(
    text: str, kept: list[str], dropped: list[str]
) -> None:
    said = message(_Captured(text))
    assert "\n" not in said
    for part in kept:
        assert part in said, said
    for part in dropped:
        assert part not in said, said
