"""The decision service: `regime serve`. Facts in over HTTP, decisions out, every one logged.

It uses the engine only through its public API (`import engine`); the JSON Schemas it reads
(the facts schema for need-to-know masking, the decision schema for OpenAPI) come from
`service.schemas`.
"""
