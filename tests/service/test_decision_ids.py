"""Decision ids: random version 4 UUIDs, drawn from a pool, never repeated, and drawn afresh in a
forked process so two processes never hand out the same ids."""

from __future__ import annotations

import os
import uuid

from service.app import new_decision_id


def test_ids_are_version_4_uuids_and_never_repeat() -> None:
    ids = [new_decision_id() for _ in range(2000)]  # several pools
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)


def test_a_forked_process_does_not_repeat_the_parents_ids() -> None:
    new_decision_id()  # the parent has a pool with ids left in it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, ",".join(new_decision_id() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as f:
        child = set(f.read().decode().split(","))
    parent = {new_decision_id() for _ in range(100)}
    assert len(child) == 100 and not child & parent


def test_splice_adds_members_around_an_object() -> None:
    import orjson

    from service.app import splice

    obj = orjson.dumps({"a": 1, "b": [1, {"c": None}]})
    assert orjson.loads(splice([b'"x":0'], obj, [b'"y":"z"'])) == {
        "x": 0, "a": 1, "b": [1, {"c": None}], "y": "z"
    }  # fmt: skip
    assert splice([], obj, [b'"y":1']) == b'{"a":1,"b":[1,{"c":null}],"y":1}'
    assert splice([b'"x":0'], b"{}", []) == b'{"x":0}'
    assert splice([], b"{}", []) == b"{}"
