"""The OpenAPI document at /v3/api-docs: FastAPI's, with the decision schema from
schemas/decision.schema.json, the HMPPS error shape, and bearer JWT security."""

from __future__ import annotations

import copy
from typing import Any

from service.errors import ERROR_SCHEMA
from service.schemas import decision_schema

PUBLIC_PATHS = ("/health", "/info", "/v3/api-docs", "/swagger-ui")

ERROR_TEXT = {
    400: "The request is not what this endpoint takes",
    401: "No valid bearer token",
    403: "The token's roles do not allow this",
    404: "No such pack or decision",
    409: "Replay facts do not match the logged input hash",
    410: "The pack version of a logged decision cannot be loaded",
    413: "The request body is too large",
    422: "The facts do not match the facts schema, or cannot be evaluated",
    503: "Not ready, or the decision log is unavailable",
}


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, list):
        return [_rewrite_refs(n, prefix) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/"):
            out[k] = "#/components/schemas/" + prefix + v[len("#/$defs/") :]
        else:
            out[k] = _rewrite_refs(v, prefix)
    return out


def decision_components() -> dict[str, Any]:
    """Decision, DecisionResponse and the decision schema's $defs as OpenAPI components."""
    schema = decision_schema()
    defs = schema.pop("$defs", {})
    for k in ("$schema", "$id"):
        schema.pop(k, None)
    components = {f"Decision_{k}": _rewrite_refs(v, "Decision_") for k, v in defs.items()}
    decision = _rewrite_refs(schema, "Decision_")
    components["Decision"] = decision
    response = copy.deepcopy(decision)
    response["title"] = "DecisionResponse"
    response["properties"]["decisionId"] = {
        "type": "string",
        "description": "The id under which the decision is logged.",
    }
    response["properties"]["explanation"] = {
        "type": "string",
        "description": "The reasons step by step (with ?explain=true).",
    }
    response["required"] = [*response["required"], "decisionId"]
    components["DecisionResponse"] = response
    components["Error"] = ERROR_SCHEMA
    return components


def customise(doc: dict[str, Any], auth_enabled: bool) -> dict[str, Any]:
    """Add components, security and the error responses every operation can give."""
    comps = doc.setdefault("components", {})
    comps.setdefault("schemas", {}).update(decision_components())
    comps["securitySchemes"] = {
        "hmpps-auth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A token from HMPPS Auth; roles in its `authorities` claim.",
        }
    }
    for path, ops in doc.get("paths", {}).items():
        public = path.startswith(PUBLIC_PATHS)
        for op in ops.values():
            if not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]
            wanted = [503] if public else [400, 401, 403, 404, 413, 422, 503]
            if path.endswith("/replay"):
                wanted += [409, 410]
            for status in wanted:
                responses.setdefault(
                    str(status),
                    {
                        "description": ERROR_TEXT[status],
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
            if not public and auth_enabled:
                op["security"] = [{"hmpps-auth": []}]
    comps["schemas"].pop("HTTPValidationError", None)
    comps["schemas"].pop("ValidationError", None)
    return doc
