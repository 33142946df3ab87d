"""One Spark session for every test that needs it, stopped when the test session ends."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.fail("no Java runtime for Spark: run `bash scripts/ensure-java` as root")
    from engine.sql import spark

    yield spark.session("local[1]")
    spark.stop()
