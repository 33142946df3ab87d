"""The HTTP API (FastAPI on uvicorn): decisions, batches, packs, the decision log, replay, and the
health, info and OpenAPI endpoints an HMPPS service has."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import signal
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from typing import Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

import engine
from engine.packs.facts_schema import (
    RepeatedKeyError,
    first_repeated_key,
    healthcare_repeats_apart,
)
from service.auth import Authenticator, Caller
from service.decision_route import DecisionRoute
from service.errors import ApiError, error_body
from service.exact_json import canonical, parse_json
from service.log_record import LogRecord, sha256
from service.log_store import LogStore, now, open_store
from service.log_writer import LogWriter
from service.masking import mask
from service.openapi import customise
from service.registry import PackRegistry
from service.result_parts import ResultSplitter
from service.settings import Settings

log = logging.getLogger("regime.service")
AUDIENCES = ("custodial", "healthcare")
INSECURE_WARNING = (
    "authentication is OFF (--insecure-no-auth): every caller may ask for any audience, "
    "including healthcare-only decisions"
)

DECISION_REQUEST = {
    "type": "object",
    "required": ["facts"],
    "additionalProperties": False,
    "properties": {
        "facts": {"type": "object", "description": "One facts document (schemas/facts/)."},
        "as_of": {
            "type": ["string", "null"],
            "format": "date",
            "description": "Evaluation date; default the facts' as_of, else today.",
        },
        "audience": {"enum": ["custodial", "healthcare"], "default": "custodial"},
    },
}


class NdjsonStream(Response):
    """A streamed NDJSON response that, unlike StreamingResponse, does not read `receive` while
    streaming, so the generator itself can go on reading the request body line by line."""

    media_type = "application/x-ndjson"

    def __init__(self, lines: AsyncIterator[bytes], headers: dict[str, str]):
        super().__init__(status_code=200, media_type=self.media_type)
        self.raw_headers = [(b"content-type", b"application/x-ndjson")] + [
            (k.lower().encode(), v.encode()) for k, v in headers.items()
        ]
        self.lines = lines

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        async for chunk in self.lines:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def package_version() -> str:
    try:
        return dist_version("regime-policy")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class Parsed:
    facts: dict[str, Any]
    as_of: dt.date | None
    audience: str


def parse_request(data: Any) -> Parsed:
    """A decision request body: {facts, as_of?, audience?}; 400 for anything else."""
    if not isinstance(data, dict):
        raise _bad("the body must be a JSON object with `facts`")
    extra = set(data) - {"facts", "as_of", "audience"}
    if extra:
        raise _bad(f"unknown field(s): {', '.join(sorted(map(str, extra)))}")
    facts = data.get("facts")
    if not isinstance(facts, dict):
        raise _bad("`facts` must be a JSON object (one facts document)")
    audience = data.get("audience", "custodial")
    if audience not in AUDIENCES:
        raise _bad(f"`audience` must be custodial or healthcare, not `{_as_sent(audience)}`")
    as_of = data.get("as_of")
    day = None
    if as_of is not None:  # read as the library and the command line read it: YYYY-MM-DD only
        try:
            day = engine.as_date(as_of) if isinstance(as_of, str) else None
        except engine.EvaluationError:
            day = None
        if day is None:
            raise _bad(f"`as_of` must be a date YYYY-MM-DD, not `{_as_sent(as_of)}`")
    return Parsed(facts, day, audience)


def _as_sent(value: Any) -> str:
    """A value of a request as its JSON (`null`, `true`, `[...]`), text as itself."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _bad(message: str) -> ApiError:
    return ApiError(400, "E-HTTP-BAD-REQUEST", message)


_BOM = b"\xef\xbb\xbf"  # the UTF-8 byte order mark some tools write first


def _read_body(raw: bytes, where: str, first: bool = True) -> Any:
    """JSON from a request body (or a line of one), read as a facts file is: a byte order
    mark at the start (`first`: of the body, not a later line) dropped, numbers exact (see
    exact_json), a key given twice in one object a bad request (which one is meant cannot be
    guessed); 400 for anything that is not JSON."""
    if first and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        data = parse_json(raw)
    except orjson.JSONDecodeError as e:
        raise _bad(f"{where} is not JSON: {e}") from e
    key = first_repeated_key(raw)
    if key is not None:
        try:  # one inside a healthcare-only part of the facts: that part is left unread
            data = healthcare_repeats_apart(
                data, raw.decode("utf-8", "replace"), "<request>", under=("facts",)
            )
        except RepeatedKeyError as e:
            raise _bad(
                f"{where} gives the key `{e.key}` twice in one object; keep one of them"
            ) from None
    return data


def _same_input(supplied: dict[str, Any], record: LogRecord, facts_schema: str) -> bool:
    """Whether facts given to a replay are those a decision was logged with, as far as its
    log holds them (masked as it was): the hash of the input as logged. A record logged
    before that hash was taken over the input as sent, masked facts included."""
    shown, _ = mask(supplied, record.audience, facts_schema)
    if sha256(canonical(shown)) == record.input_hash:
        return True
    earlier, _ = mask(supplied, record.audience, facts_schema, legacy=True)
    if sha256(canonical(earlier)) == record.input_hash:
        return True  # a record masked before an unsent healthcare part was logged as null
    hashed_as_sent = sha256(record.input.encode()) != record.input_hash
    return hashed_as_sent and sha256(canonical(supplied)) == record.input_hash


def _read_by(pack: Any, paths: list[str]) -> list[str]:
    """Those of `paths` (masked in a logged input) that hold facts the pack reads: a masked
    part it does not read leaves the logged input complete for it."""
    read = {path for _, e in pack.expressions() for path in e.checked.fact_paths}
    return [
        m
        for m in paths
        if any(r == m or r.startswith(m + ".") or r.startswith(m + "[") for r in read)
    ]


def evaluation_error(e: Exception) -> ApiError:
    """The engine's facts and evaluation errors as 422s with its codes and positions."""
    if isinstance(e, engine.FactsError):
        first = e.problems[0] if e.problems else None
        return ApiError(
            422,
            first.code if first else "E-FACTS",
            "The facts do not match the facts schema; nothing was evaluated",
            "; ".join(p.format() for p in e.problems[:5]),
            [p.to_dict() for p in e.problems],
        )
    assert isinstance(e, engine.EvaluationError)
    return ApiError(422, e.code, str(e), f"{e}; {e.hint}" if e.hint else None)


class Service:
    """The state a running worker shares between requests."""

    def __init__(self, settings: Settings, loaded: engine.Packs | None = None):
        self.settings = settings
        self.auth = Authenticator(
            settings.auth_enabled,
            settings.roles,
            settings.public_key_file,
            settings.jwks_file,
            settings.jwt_issuer,
            settings.jwt_audience,
        )
        self.store: LogStore = open_store(settings.database_url)
        self.store.migrate()
        self.writer = LogWriter(self.store)
        self.registry = PackRegistry(settings.packs_dir, self.store, loaded)
        self.splitter = ResultSplitter()
        self.started_at = now()

    def close(self) -> None:
        self.writer.close()
        self.store.close()

    def caller(self, request: Request) -> Caller:
        return self.auth.caller(request.headers.get("authorization"))

    def pack(self, packs: engine.Packs, pack_id: str) -> Any:
        if pack_id not in packs:
            raise ApiError(
                404,
                "E-HTTP-NOT-FOUND",
                f"No pack `{pack_id}`",
                f"packs loaded: {', '.join(sorted(packs))}",
            )
        return packs[pack_id]

    def decide(
        self,
        caller: Caller,
        pack: Any,
        req: Parsed,
        explain: bool,
        batch: tuple[str, int] | None = None,
    ) -> Decided:
        """Evaluate and queue the log record: the answer's JSON and the wait for durability.
        The result is serialised once: the log keeps those bytes and the answer splices its
        `decisionId` (and batch line, explanation) around them; its pack-constant part is
        serialised once per pack version and audience (service/result_parts.py)."""
        try:
            decision = engine.evaluate(pack, req.facts, req.as_of, req.audience, "request")
        except (engine.FactsError, engine.EvaluationError) as e:
            raise evaluation_error(e) from e
        split = self.splitter.split(decision)
        # the input is logged, and hashed, with healthcare-only facts masked for a custodial
        # decision: a hash of them beside the masked input would let whoever reads the record
        # test guesses of them
        logged, masked = mask(req.facts, req.audience, pack.facts)
        logged_json = canonical(logged)
        decision_id = new_decision_id()
        record = LogRecord(
            decision_id=decision_id,
            recorded_at=now(),
            client_id=caller.client_id,
            user_name=caller.user_name,
            pack=decision.pack,
            version=decision.version,
            policy_version=decision.policy_version,
            content_hash=decision.content_hash,
            as_of=decision.as_of.isoformat(),
            audience=decision.audience,
            input_hash=sha256(logged_json),
            input=logged_json.decode(),
            masked_paths=canonical(masked).decode(),
            result=split.stored.decode(),
            batch_id=batch[0] if batch else None,
            batch_line=batch[1] if batch else None,
            result_parts=split.parts_ref,
        ).sealed({"input": logged_json, "result": split.stored})
        durable = self.writer.submit(record, split.parts)
        before: list[bytes] = []
        after = [b'"decisionId":"' + decision_id.encode() + b'"']
        if batch:
            before = [
                b'"line":' + str(batch[1]).encode(),
                b'"batchId":"' + batch[0].encode() + b'"',
            ]
        if explain:
            after.append(b'"explanation":' + orjson.dumps(decision.explain(facts=req.facts)))
        return Decided(splice(before, split.full, after), durable)


@dataclass
class Decided:
    """One decision's answer (JSON bytes) and the wait until its log record is durable."""

    body: bytes
    durable: Awaitable[None]


def splice(before: list[bytes], obj: bytes, after: list[bytes]) -> bytes:
    """JSON object `obj` (compact, as orjson writes it) with members added before and after its
    own (`"key":value` bytes); its members are joined in place, not copied first."""
    inner = memoryview(obj)[1:-1]
    members: list[bytes | memoryview] = [*before, *([inner] if len(inner) else []), *after]
    if not members:
        return b"{}"
    pieces: list[bytes | memoryview] = [b"{"]
    for member in members:
        pieces += (member, b",")
    pieces[-1] = b"}"
    return b"".join(pieces)


_ids: list[str] = []
_ids_pid = [0]


def new_decision_id() -> str:
    """A random (version 4) UUID, from random bytes drawn 256 ids at a time (drawn afresh in a
    forked process, so no two processes hand out the same ids)."""
    if _ids_pid[0] != os.getpid():
        _ids.clear()
        _ids_pid[0] = os.getpid()
    if not _ids:
        pool = os.urandom(16 * 256)
        _ids.extend(
            str(uuid.UUID(bytes=pool[i : i + 16], version=4)) for i in range(0, len(pool), 16)
        )
    return _ids.pop()


def serving_app(settings: Settings, loaded: engine.Packs | None = None) -> DecisionRoute:
    """What uvicorn serves: the application behind the direct decision route, which answers
    `POST /v1/packs/{pack}/decisions` before any of the framework's middleware runs."""
    app = create_app(settings, loaded)
    return DecisionRoute(app, app.state.answer_decision)


def create_app(settings: Settings, loaded: engine.Packs | None = None) -> FastAPI:
    """The application for one worker process (`loaded`: packs already loaded from the
    directory, so a single-process server does not load them twice)."""
    state: dict[str, Service] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = await asyncio.to_thread(Service, settings, loaded)
        state["svc"] = svc
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(_reload(svc)))
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        if not settings.auth_enabled:
            log.warning("regime serve: %s", INSECURE_WARNING)
        try:
            yield
        finally:
            svc.close()

    app = FastAPI(
        title="regime decision service",
        version=package_version(),
        description="Policy decisions from regime rule packs, each one logged and replayable.",
        openapi_url="/v3/api-docs",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )

    def svc() -> Service:
        return state["svc"]

    @app.exception_handler(ApiError)
    async def api_error(_: Request, e: ApiError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
        resp = _json(e.body(), e.status)
        if headers:
            resp.headers.update(headers)
        return resp

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, e: RequestValidationError) -> Response:
        where = "; ".join(
            f"{'.'.join(map(str, err.get('loc', ())))}: {err.get('msg')}" for err in e.errors()
        )
        return _json(error_body(400, "E-HTTP-BAD-REQUEST", "Bad request parameters", where), 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, e: StarletteHTTPException) -> Response:
        code = {404: "E-HTTP-NOT-FOUND", 405: "E-HTTP-METHOD"}.get(
            e.status_code, "E-HTTP-BAD-REQUEST"
        )
        return _json(error_body(e.status_code, code, str(e.detail)), e.status_code)

    @app.exception_handler(Exception)
    async def internal_error(_: Request, e: Exception) -> Response:
        log.exception("unexpected error")
        return _json(
            error_body(500, "E-HTTP-INTERNAL", "Unexpected server error", type(e).__name__), 500
        )

    async def read_json(chunks: AsyncIterator[bytes], declared: str | None) -> Any:
        """A request body read within the size limit and parsed; 413 or 400 otherwise."""
        limit = settings.max_body_bytes
        if declared and declared.isdigit() and int(declared) > limit:
            raise ApiError(413, "E-HTTP-TOO-LARGE", f"The body is over {limit} bytes")
        parts, size = [], 0
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise ApiError(413, "E-HTTP-TOO-LARGE", f"The body is over {limit} bytes")
            parts.append(chunk)
        return _read_body(b"".join(parts), "the body")

    async def answer_decision(
        pack: str,
        authorization: str | None,
        chunks: AsyncIterator[bytes],
        declared: str | None,
        explain: bool,
    ) -> bytes:
        """POST /v1/packs/{pack}/decisions: the answer's JSON once its record is durable."""
        s = svc()
        caller = s.auth.caller(authorization)
        s.auth.require_audience(caller, "custodial")
        req = parse_request(await read_json(chunks, declared))
        s.auth.require_audience(caller, req.audience)
        decided = s.decide(caller, s.pack(s.registry.current, pack), req, explain)
        await durable_or_503(decided.durable)
        return decided.body

    app.state.answer_decision = answer_decision

    async def durable_or_503(wait: Awaitable[None]) -> None:
        try:
            await wait
        except Exception as e:
            raise ApiError(
                503,
                "E-HTTP-UNAVAILABLE",
                "The decision could not be logged, so it is not given",
                f"decision log: {type(e).__name__}: {e}",
            ) from e

    # --- decisions ------------------------------------------------------------------------------

    @app.post(
        "/v1/packs/{pack}/decisions",
        tags=["decisions"],
        summary="Evaluate one facts document; the decision, logged, with its id",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": DECISION_REQUEST}},
            }
        },
        responses={
            200: {
                "description": "decision.to_dict() with decisionId (and explanation)",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/DecisionResponse"}
                    }
                },
            }
        },
        response_class=Response,
    )
    async def decide(
        pack: str,
        request: Request,
        explain: bool = Query(False, description="Add the explanation, step by step."),
    ) -> Response:
        body = await answer_decision(
            pack,
            request.headers.get("authorization"),
            request.stream(),
            request.headers.get("content-length"),
            explain,
        )
        return Response(body, media_type="application/json")

    @app.post(
        "/v1/packs/{pack}/decisions/batch",
        tags=["decisions"],
        summary="NDJSON in (one decision request a line), NDJSON out, streamed in order",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            }
        },
        responses={
            200: {
                "description": "One line per input line: a decision with decisionId and line, "
                "or {line, error}",
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            }
        },
        response_class=Response,
    )
    async def decide_batch(pack: str, request: Request) -> Response:
        s = svc()
        caller = s.caller(request)
        s.auth.require_audience(caller, "custodial")
        model = s.pack(s.registry.current, pack)
        limit, window = settings.max_body_bytes, settings.batch_window
        batch_id = new_decision_id()  # every logged line carries it (and its line number)

        def error_line(n: int, e: ApiError) -> bytes:
            return orjson.dumps({"line": n, "error": e.body()}) + b"\n"

        def one(n: int, raw: bytes) -> tuple[int, Decided | bytes]:
            try:
                req = parse_request(_read_body(raw, f"line {n}", first=n == 1))
                s.auth.require_audience(caller, req.audience)
                return n, s.decide(caller, model, req, False, (batch_id, n))
            except ApiError as e:
                return n, error_line(n, e)

        async def lines() -> AsyncIterator[bytes]:
            pending: deque[tuple[int, Decided | bytes]] = deque()
            buf, n, skipping = b"", 0, False

            async def flush(keep: int) -> AsyncIterator[bytes]:
                while len(pending) > keep:
                    line_number, item = pending.popleft()
                    if isinstance(item, bytes):
                        yield item
                        continue
                    try:
                        await item.durable
                    except Exception as e:
                        yield error_line(
                            line_number,
                            ApiError(
                                503,
                                "E-HTTP-UNAVAILABLE",
                                "The decision could not be logged",
                                str(e),
                            ),
                        )
                        continue
                    yield item.body + b"\n"

            def take(raw: bytes) -> None:
                nonlocal n
                n += 1
                if raw.strip():
                    pending.append(one(n, raw))

            async for chunk in request.stream():
                buf += chunk
                while True:
                    cut = buf.find(b"\n")
                    if cut < 0:
                        break
                    line, buf = buf[:cut], buf[cut + 1 :]
                    if skipping:
                        skipping = False
                        continue
                    take(line)
                    async for out in flush(window):
                        yield out
                if len(buf) > limit:
                    n += 1
                    pending.append(
                        (
                            n,
                            error_line(
                                n,
                                ApiError(
                                    413, "E-HTTP-TOO-LARGE", f"line {n} is over {limit} bytes"
                                ),
                            ),
                        )
                    )
                    buf, skipping = b"", True
            if buf.strip() and not skipping:
                take(buf)
            async for out in flush(0):
                yield out

        return NdjsonStream(lines(), {"X-Batch-Id": batch_id})

    # --- packs ----------------------------------------------------------------------------------

    @app.get("/v1/packs", tags=["packs"], summary="The packs loaded, with content hashes")
    async def list_packs(request: Request) -> dict[str, Any]:
        s = svc()
        s.auth.require_reader(s.caller(request))
        return {"packs": [pack_summary(p) for _, p in sorted(s.registry.current.items())]}

    @app.get("/v1/packs/{pack}", tags=["packs"], summary="One pack: versions, outputs, rules...")
    async def get_pack(pack: str, request: Request) -> dict[str, Any]:
        s = svc()
        s.auth.require_reader(s.caller(request))
        return pack_detail(s.pack(s.registry.current, pack))

    # --- the log --------------------------------------------------------------------------------

    def logged(s: Service, caller: Caller, decision_id: str) -> LogRecord:
        s.auth.require_audience(caller, "custodial")
        record = s.store.get(decision_id)
        if record is None:
            raise ApiError(404, "E-HTTP-NOT-FOUND", f"No decision `{decision_id}` in the log")
        s.auth.require_audience(caller, record.audience)
        return record

    @app.get(
        "/v1/decisions/{decision_id}",
        tags=["decision log"],
        summary="A logged decision: who asked, on which pack version, the (masked) input, result",
    )
    def get_decision(decision_id: str, request: Request) -> dict[str, Any]:
        s = svc()
        record = logged(s, s.caller(request), decision_id)
        return record.to_api(s.store.parts(record.part_hashes()))

    @app.get(
        "/v1/batches/{batch_id}",
        tags=["decision log"],
        summary="The logged decisions of one batch request, by line (the X-Batch-Id it answered)",
    )
    def get_batch(batch_id: str, request: Request) -> dict[str, Any]:
        s = svc()
        caller = s.caller(request)
        s.auth.require_audience(caller, "custodial")
        records = s.store.batch(batch_id)
        if not records:
            raise ApiError(404, "E-HTTP-NOT-FOUND", f"No batch `{batch_id}` in the log")
        return {
            "batchId": batch_id,
            "decisions": [
                {
                    "line": r.batch_line,
                    "decisionId": r.decision_id,
                    "recordedAt": r.recorded_at,
                    "audience": r.audience,
                    "contentHash": r.content_hash,
                    "intact": r.intact(),
                }
                for r in records
            ],
        }

    @app.post(
        "/v1/decisions/{decision_id}/replay",
        tags=["decision log"],
        summary="Re-evaluate the logged input on the logged pack version; identical or not",
        openapi_extra={
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "facts": {
                                    "type": "object",
                                    "description": "The original facts (checked against the "
                                    "logged input hash) to replay with fields the log masked.",
                                }
                            },
                        }
                    }
                },
            }
        },
    )
    async def replay(decision_id: str, request: Request) -> dict[str, Any]:
        s = svc()
        caller = s.caller(request)
        record = await asyncio.to_thread(logged, s, caller, decision_id)
        raw = await request.body()
        supplied = None
        if raw.strip():
            data = _read_body(raw, "the body")
            if not isinstance(data, dict) or set(data) - {"facts"}:
                raise _bad("the body may only have `facts`")
            supplied = data.get("facts")
            if supplied is not None and not isinstance(supplied, dict):
                raise _bad("`facts` must be a JSON object")
        pack = await asyncio.to_thread(s.registry.by_hash, record.content_hash)
        if pack is None:
            raise ApiError(
                410,
                "E-HTTP-PACK-GONE",
                f"Pack version {record.content_hash} can no longer be loaded",
                "it is neither loaded nor stored in the log's pack sources",
            )
        if supplied is not None and not _same_input(supplied, record, pack.facts):
            raise ApiError(
                409,
                "E-HTTP-INPUT-MISMATCH",
                "These facts are not the ones the decision was made on",
                f"their hash differs from the logged input hash {record.input_hash}",
            )
        facts = supplied if supplied is not None else parse_json(record.input)
        masked = orjson.loads(record.masked_paths) if supplied is None else []
        try:
            again = engine.evaluate(
                pack, facts, dt.date.fromisoformat(record.as_of), record.audience, "logged input"
            ).to_dict()
        except (engine.FactsError, engine.EvaluationError) as e:
            raise evaluation_error(e) from e
        bodies = await asyncio.to_thread(s.store.parts, record.part_hashes())
        original = record.to_api(bodies)["decision"]  # parts missing or altered stay null
        differences = sorted(
            k for k in original.keys() | again.keys() if original.get(k) != again.get(k)
        )
        return {
            "decisionId": record.decision_id,
            "identical": not differences,
            "differences": differences,
            "contentHash": record.content_hash,
            "inputComplete": not _read_by(pack, masked),
            "maskedPaths": masked,
            "replayedAt": now(),
            "decision": again,
        }

    # --- administration -------------------------------------------------------------------------

    @app.post(
        "/admin/reload-packs", tags=["admin"], summary="Reload packs; a failing set is refused"
    )
    async def reload_packs(request: Request) -> Response:
        s = svc()
        s.auth.require_admin(s.caller(request))
        result = await _reload(s)
        supervisor = os.environ.get("REGIME_SUPERVISOR_PID")
        if result.ok and supervisor and supervisor.isdigit():
            os.kill(int(supervisor), signal.SIGHUP)  # the other workers reload too
        body = {
            "reloaded": result.ok,
            "packs": result.packs,
            "changed": result.changed,
            "problems": result.problems,
        }
        if not result.ok:
            err = error_body(
                422,
                "E-HTTP-RELOAD-FAILED",
                "The packs on disk have errors; the loaded packs keep serving",
                "; ".join(result.problems[:5]),
            )
            return _json({**err, **body}, 422)
        return _json(body)

    # --- HMPPS conventions ----------------------------------------------------------------------

    def health_body() -> tuple[dict[str, Any], int]:
        s = state.get("svc")
        db_up = bool(s and s.store.ping())
        packs_up = bool(s and len(s.registry.current) > 0)
        up = db_up and packs_up
        body = {
            "status": "UP" if up else "DOWN",
            "components": {
                "packs": {
                    "status": "UP" if packs_up else "DOWN",
                    "details": {
                        "loaded": len(s.registry.current) if s else 0,
                        "loadedAt": s.registry.loaded_at if s else None,
                        "reloadsRefused": s.registry.refused if s else 0,
                    },
                },
                "decisionLog": {
                    "status": "UP" if db_up else "DOWN",
                    "details": {
                        "backend": s.store.backend if s else None,
                        **(s.writer.stats() if s else {}),
                    },
                },
            },
        }
        return body, 200 if up else 503

    @app.get("/health", tags=["health"], summary="Overall health with components")
    def health() -> Response:
        body, status = health_body()
        return _json(body, status)

    @app.get("/health/ping", tags=["health"], summary="Up")
    async def ping() -> dict[str, str]:
        return {"status": "UP"}

    @app.get("/health/liveness", tags=["health"], summary="The process is alive")
    async def liveness() -> dict[str, str]:
        return {"status": "UP"}

    @app.get("/health/readiness", tags=["health"], summary="Packs loaded and the log reachable")
    def readiness() -> Response:
        body, status = health_body()
        return _json({"status": body["status"]}, status)

    @app.get("/info", tags=["health"], summary="Name, version, packs and their hashes, auth mode")
    async def info() -> dict[str, Any]:
        s = svc()
        return {
            "build": {"name": "regime", "version": package_version()},
            "startedAt": s.started_at,
            "packs": [
                {"id": pid, "version": p.version, "contentHash": p.content_hash}
                for pid, p in sorted(s.registry.current.items())
            ],
            "auth": {
                "enabled": settings.auth_enabled,
                **({} if settings.auth_enabled else {"warning": INSECURE_WARNING}),
                "issuer": settings.jwt_issuer,
                "audience": settings.jwt_audience,
                "roles": {
                    "custodial": settings.roles.custodial,
                    "healthcare": settings.roles.healthcare,
                    "admin": settings.roles.admin,
                },
            },
            "decisionLog": {"backend": s.store.backend},
        }

    @app.get("/swagger-ui.html", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/v3/api-docs", title="regime decision service")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            doc = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = customise(doc, settings.auth_enabled)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


async def _reload(s: Service) -> Any:
    return await asyncio.to_thread(s.registry.reload)


def pack_summary(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "version": p.version,
        "status": p.status,
        "contentHash": p.content_hash,
    }


def pack_detail(p: Any) -> dict[str, Any]:
    """What a caller needs to know about a pack: versions, outputs, rules, interpretations."""
    return {
        **pack_summary(p),
        "summary": p.summary,
        "source": {"title": p.source.title, "publisher": p.source.publisher, "url": p.source.url},
        "versions": [
            {
                "id": v.id,
                "title": v.title,
                "effectiveFrom": v.effective_from.isoformat(),
                "effectiveTo": v.effective_to.isoformat() if v.effective_to else None,
            }
            for v in p.versions
        ],
        "outputs": [
            {
                "name": o.name,
                "description": o.description,
                "releasable": o.releasable,
                "healthcareOnly": o.custodial_withheld,
            }
            for o in p.outputs.values()
        ],
        "rules": [{"id": r.id, "title": r.title} for r in p.rules],
        "interpretations": [
            {"id": i.id, "kind": i.kind, "question": i.question, "choice": i.choice}
            for i in p.interpretations.values()
        ],
    }
