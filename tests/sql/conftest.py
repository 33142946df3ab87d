"""One Spark session for every test that needs it, stopped when the test session ends; run on
several workers (pytest-xdist, `--dist loadgroup`), every test that needs it goes to one worker,
so one JVM starts, not one per worker. Spark reads the suite's settings file
(`spark_conf/spark-defaults.conf`), in this process and in the `regime` commands it starts."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SPARK_GROUP = "spark"
SPARK_SETTINGS = Path(__file__).parent / "spark_conf"
os.environ.setdefault("SPARK_CONF_DIR", str(SPARK_SETTINGS))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that uses the Spark session shares one xdist group (and so one worker)."""
    for item in items:
        if "spark_session" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(SPARK_GROUP))


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.fail("no Java runtime for Spark: run `bash scripts/ensure-java` as root")
    from engine.sql import spark

    # every Spark test of the run shares this one driver: Spark's default heap (1 GiB) ran out
    # on the whole key work query's rows after the other tests' queries (SPARK_DRIVER_MEMORY is
    # read when the JVM starts; a value already set wins)
    os.environ.setdefault("SPARK_DRIVER_MEMORY", "2g")
    yield spark.session("local[1]")
    spark.stop()
