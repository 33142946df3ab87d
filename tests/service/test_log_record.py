"""Sealing a log record: the same record `dataclasses.replace` would give, its hash checking."""

from __future__ import annotations

import dataclasses

from service.log_record import LogRecord


def _record(**changes: object) -> LogRecord:
    fields: dict[str, object] = {
        "decision_id": "d1",
        "recorded_at": "2026-01-01T00:00:00.000000Z",
        "client_id": "c",
        "user_name": None,
        "pack": "p",
        "version": "1.0.0",
        "policy_version": "1",
        "content_hash": "sha256:00",
        "as_of": "2020-07-01",
        "audience": "custodial",
        "input_hash": "sha256:11",
        "input": '{"a":1}',
        "masked_paths": "[]",
        "result": '{"status":"decided","interpretations":null}',
        **changes,
    }
    return LogRecord(**fields)  # type: ignore[arg-type]


def test_a_sealed_record_equals_the_record_with_its_hash_replaced() -> None:
    for record in (_record(), _record(batch_id="b", batch_line=3, result_parts='{"x":"y"}')):
        sealed = record.sealed({"input": record.input.encode()})
        assert sealed is not record and record.record_hash == ""
        assert sealed == dataclasses.replace(record, record_hash=record.computed_hash())
        assert sealed.intact() and not record.intact()
        assert not dataclasses.replace(sealed, input='{"a":2}').intact()
