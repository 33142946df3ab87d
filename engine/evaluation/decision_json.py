"""A decision's JSON written straight to bytes: exactly `orjson.dumps(decision.to_dict())`,
with the parts fixed by the pack (an obligation's rule, text and citations; the
interpretations relied upon) serialised once and reused, and no intermediate dicts for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from engine.language.convert import to_json

if TYPE_CHECKING:
    from engine.evaluation.decision import DecidedObligation, Decision

MAX_ENTRIES = 4096  # each cache keeps at most this many entries (cleared when full)

# values to_json returns unchanged (an exact class test: a subclass goes through to_json)
_SCALAR = frozenset({str, int, bool, float, type(None)})

# fixed obligation parts: key -> (the citations held, so their id is never reused; bytes
# before `due`; bytes after `record`), or the whole obligation's bytes when nothing varies
_obligations: dict[tuple[Any, ...], tuple[Any, bytes, bytes]] = {}
# obligations with nothing that varies: id of the object -> (the object, held; its JSON)
_whole: dict[int, tuple[Any, bytes]] = {}
# interpretations relied upon: id of the tuple -> (the tuple, held; its JSON array)
_interpretations: dict[int, tuple[Any, bytes]] = {}


# citations as data: id of the tuple -> (the tuple, held; its citations' dicts)
_citations: dict[int, tuple[Any, tuple[dict[str, Any], ...]]] = {}
# interpretations as data: id of the tuple -> (the tuple, held; their dicts)
_interpretation_dicts: dict[int, tuple[Any, tuple[dict[str, Any], ...]]] = {}


def citation_dicts(cites: tuple[Any, ...]) -> list[dict[str, Any]]:
    """`[c.to_dict() for c in cites]`, from dicts made once per tuple and copied (each a flat
    record of text, so a shallow copy is the caller's own)."""
    found = _citations.get(id(cites))
    if found is None or found[0] is not cites:
        _bounded(_citations)
        found = _citations[id(cites)] = (cites, tuple(c.to_dict() for c in cites))
    return [d.copy() for d in found[1]]


def interpretation_dicts(interpretations: tuple[Any, ...]) -> list[dict[str, Any]]:
    """The `interpretations` member of `Decision.to_dict()`, each record and citation list the
    caller's own, from records made once per tuple of interpretations."""
    found = _interpretation_dicts.get(id(interpretations))
    if found is None or found[0] is not interpretations:
        made = tuple(
            {
                "id": i.id,
                "kind": i.kind,
                "question": i.question,
                "choice": i.choice,
                "why": i.why,
                "citations": tuple(c.to_dict() for c in i.cites),
            }
            for i in interpretations
        )
        _bounded(_interpretation_dicts)
        found = _interpretation_dicts[id(interpretations)] = (interpretations, made)
    return [{**i, "citations": [c.copy() for c in i["citations"]]} for i in found[1]]


def _value(v: Any) -> Any:
    """`to_json(v)`, skipping the call for plain values and flat lists and records of them."""
    cls = v.__class__
    if cls in _SCALAR:
        return v
    if cls is list:
        for x in v:
            if x.__class__ not in _SCALAR:
                return to_json(v)
        return v
    if cls is dict:
        for k, x in v.items():
            if k.__class__ is not str or x.__class__ not in _SCALAR:
                return to_json(v)
        return v
    return to_json(v)


def _bounded(cache: dict[Any, Any]) -> None:
    if len(cache) >= MAX_ENTRIES:
        cache.clear()


def _obligation_parts(o: DecidedObligation) -> tuple[Any, bytes, bytes]:
    """The bytes of an obligation's fixed members, before `due` and after `record`."""
    key = (
        o.rule,
        o.title,
        o.modality,
        o.text,
        o.who,
        id(o.cites),
        tuple(o.interpretations),
        o.reasons_withheld,
    )
    found = _obligations.get(key)
    if found is None or found[0] is not o.cites:
        head = orjson.dumps(
            {
                "rule": o.rule,
                "title": o.title,
                "modality": o.modality,
                "text": o.text,
                "who": o.who,
            }
        )
        tail = orjson.dumps(
            {
                "citations": [c.to_dict() for c in o.cites],
                "interpretations": list(o.interpretations),
                "reasons_withheld": o.reasons_withheld,
            }
        )
        _bounded(_obligations)
        found = _obligations[key] = (o.cites, head[:-1] + b',"due":', b"," + tail[1:-1])
    return found


def obligation_json(o: DecidedObligation) -> bytes:
    """`orjson.dumps(o.to_dict())`."""
    found = _whole.get(id(o))
    if found is not None and found[0] is o:
        return found[1]
    _, head, tail = _obligation_parts(o)
    if o.due is None and o.frequency is None and not o.record and not o.local:
        # nothing varies: kept whole for this object (one object serves every decision when
        # its rule's obligation has no due date, frequency or records)
        whole = head + b'null,"frequency":null,"record":[]' + tail + b"}"
        _bounded(_whole)
        _whole[id(o)] = (o, whole)
        return whole
    parts = [
        head,
        orjson.dumps(_value(o.due)),
        b',"frequency":',
        orjson.dumps(_value(o.frequency)),
        b',"record":',
        _records(o.record),
        tail,
    ]
    if o.local:
        parts += (b',"local":', _records(o.local))
    parts.append(b"}")
    return b"".join(parts)


def _records(records: Any) -> bytes:
    """`orjson.dumps([dict(r) for r in records])`, without the copies when each is a dict."""
    if not records:
        return b"[]"
    for r in records:
        if r.__class__ is not dict:
            return orjson.dumps([dict(r) for r in records])
    return orjson.dumps(records)


def interpretations_json(interpretations: tuple[Any, ...]) -> bytes:
    """The `interpretations` member's JSON array, made once per tuple of interpretations."""
    found = _interpretations.get(id(interpretations))
    if found is None or found[0] is not interpretations:
        body = orjson.dumps(
            [
                {
                    "id": i.id,
                    "kind": i.kind,
                    "question": i.question,
                    "choice": i.choice,
                    "why": i.why,
                    "citations": [c.to_dict() for c in i.cites],
                }
                for i in interpretations
            ]
        )
        _bounded(_interpretations)
        found = _interpretations[id(interpretations)] = (interpretations, body)
    return found[1]


def decision_json_parts(d: Decision) -> tuple[bytes, bytes, bytes]:
    """The decision's JSON in three pieces: everything up to and including
    `"interpretations":`, that member's array, and the rest; joined, `orjson.dumps(d.to_dict())`."""
    head = orjson.dumps(
        {
            "pack": d.pack,
            "version": d.version,
            "policy_version": d.policy_version,
            "content_hash": d.content_hash,
            "as_of": d.as_of.isoformat(),
            "audience": d.audience,
            "status": d.status,
            "outputs": {
                k: v if v.__class__ in _SCALAR else _value(v) for k, v in d.outputs.items()
            },
        }
    )
    # an obligation kept whole (one object serving every decision) is looked up in line
    whole = _whole
    obligations = []
    for o in d.obligations:
        found = whole.get(id(o))
        obligations.append(found[1] if found is not None and found[0] is o else obligation_json(o))
    before = b"".join(
        (
            head[:-1],
            b',"obligations":[',
            b",".join(obligations),
            b'],"interpretations":',
        )
    )
    rest: dict[str, Any] = {
        "missing_facts": list(d.missing_facts),
        "undetermined": list(d.undetermined),
        "withheld": list(d.withheld),
    }
    if d.local_plan is not None:
        rest["local_plan"] = d.local_plan
    after = b"," + orjson.dumps(rest)[1:]
    return before, interpretations_json(d.interpretations), after
