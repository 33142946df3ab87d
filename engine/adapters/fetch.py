"""Fetching the records a mapping names: one subject's records, or an establishment's whole
population page by page, through a JsonClient. Requests come from the mapping's `request`
entries; `{subject}` and `{establishment}` in them are replaced."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from engine.adapters.http_client import ClientSettings, JsonClient, RemoteError
from engine.adapters.mapping import RecordMapping
from engine.packs.read_yaml import read_yaml_file
from engine.problems import PackError

STOPPING = frozenset({"E-HTTP-UNAUTHORISED", "E-HTTP-CONFIG", "E-HTTP-SETUP"})
"""Failures that stop a population run: they are not about one person."""

_SETTINGS_KEYS = {"base_urls", "token", "token_env", "timeout", "retries", "backoff", "backoff_max"}


def settings_from(
    mapping: RecordMapping,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ClientSettings:
    """Client settings: a config file's values first, then the environment variables the
    mapping names (`base_url_env` of each service, `token_env`)."""
    env = os.environ if env is None else env
    config: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = read_yaml_file(config_file).data
        except PackError as e:
            first = e.problems[0] if e.problems else None
            raise RemoteError(
                "E-HTTP-CONFIG",
                f"{first.file}:{first.line}:{first.col}: {first.message}"
                if first
                else f"cannot read `{config_file}`",
                "give a YAML file with base_urls, token_env (or token), timeout, retries, backoff",
            ) from None
        if not isinstance(data, Mapping) or set(data) - _SETTINGS_KEYS:
            unknown = sorted(set(data) - _SETTINGS_KEYS) if isinstance(data, Mapping) else []
            raise RemoteError(
                "E-HTTP-CONFIG",
                f"`{config_file}` is not a client configuration"
                + (f": unknown keys {', '.join(unknown)}" if unknown else ""),
                f"use the keys {', '.join(sorted(_SETTINGS_KEYS))}",
            )
        config = dict(data)
    given_urls = config.get("base_urls") or {}
    if not isinstance(given_urls, Mapping) or not all(
        isinstance(v, str) for v in given_urls.values()
    ):
        raise RemoteError(
            "E-HTTP-CONFIG",
            f"`base_urls` in `{config_file}` must map each service to its URL",
            "e.g. base_urls: {SERVICE: https://service.example}, one for each service",
        )
    base_urls = {str(k): v for k, v in given_urls.items()}
    for name, service in mapping.services.items():
        if name not in base_urls and env.get(service["base_url_env"]):
            base_urls[name] = env[service["base_url_env"]]
    token = config.get("token")
    token_env = config.get("token_env") or mapping.data.get("token_env")
    if token is None and token_env:
        token = env.get(str(token_env))
    numbers: dict[str, Any] = {}
    for key in ("timeout", "retries", "backoff", "backoff_max"):
        if key in config:
            value = config[key]
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal) or value < 0:
                raise RemoteError(
                    "E-HTTP-CONFIG",
                    f"`{key}` in `{config_file}` must be a number of "
                    + ("attempts" if key == "retries" else "seconds"),
                    "e.g. timeout: 10, retries: 3, backoff: 0.5",
                )
            numbers[key] = int(value) if key == "retries" else float(value)
    return ClientSettings(base_urls=base_urls, token=str(token) if token else None, **numbers)


def _fill(value: Any, names: Mapping[str, str], in_path: bool = False) -> Any:
    """The request value with `{subject}` and `{establishment}` replaced."""
    if isinstance(value, str):
        for key, text in names.items():
            value = value.replace("{" + key + "}", quote(text, safe="") if in_path else text)
        return value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, Mapping):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _call(
    client: JsonClient,
    service: str,
    request: Mapping[str, Any],
    names: Mapping[str, str],
    absent_on: frozenset[int],
    extra_query: Mapping[str, Any] | None = None,
) -> Any:
    return client.request(
        service,
        str(request["method"]),
        _fill(str(request["path"]), names, in_path=True),
        query={**_fill(dict(request.get("query", {})), names), **(extra_query or {})},
        headers=_fill(dict(request.get("headers", {})), names),
        body=_fill(request.get("body"), names),
        absent_on=absent_on,
    )


def _dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


class Fetcher:
    """Fetches records for a mapping; establishment-wide records are fetched once each."""

    def __init__(self, mapping: RecordMapping, client: JsonClient):
        self.mapping = mapping
        self.client = client
        self.notes: list[str] = []
        self._per_establishment: dict[tuple[str, str], Any] = {}
        self._unconfigured: set[str] = set()

    def _require(self, service: str) -> None:
        """A clear error naming the variable to set when a needed service has no base URL."""
        if not self.client.settings.base_urls.get(service):
            env = self.mapping.services[service]["base_url_env"]
            raise RemoteError(
                "E-HTTP-CONFIG",
                f"no base URL for the `{service}` service",
                f"set {env}, or base_urls.{service} in the --config file",
            )

    def _configured(self, source: str) -> bool:
        service = self.mapping.sources[source]["service"]
        if self.client.settings.base_urls.get(service):
            return True
        if source not in self._unconfigured:
            self._unconfigured.add(source)
            env = self.mapping.services[service]["base_url_env"]
            self.notes.append(
                f"no base URL for the `{service}` service ({env}): "
                f"no `{source}` records were fetched, so their facts are gaps"
            )
        return False

    def records(self, subject: str, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every source's record for one subject (None where the service holds none)."""
        found: dict[str, Any] = dict(known or {})
        names = {"subject": subject}
        ordered = sorted(
            self.mapping.sources.items(),
            key=lambda kv: (kv[1].get("scope") == "establishment", not kv[1].get("required")),
        )
        for name, source in ordered:
            if name in found:
                continue
            required = bool(source.get("required"))
            if not required and not self._configured(name):
                found[name] = None
                continue
            absent_on = frozenset(source.get("absent_on", [404]))
            if source.get("scope") == "establishment":
                establishment = self._establishment(found)
                if establishment is None:
                    found[name] = None
                    continue
                key = (name, establishment)
                if key not in self._per_establishment:
                    self._per_establishment[key] = _call(
                        self.client,
                        source["service"],
                        source["request"],
                        {**names, "establishment": establishment},
                        absent_on,
                    )
                found[name] = self._per_establishment[key]
                continue
            if required:
                self._require(source["service"])
                absent_on = frozenset()
            try:
                found[name] = _call(
                    self.client, source["service"], source["request"], names, absent_on
                )
            except RemoteError as e:
                if required and e.status == 404:
                    raise RemoteError(
                        "E-HTTP-NOT-FOUND",
                        f"no `{name}` record for `{subject}`: {e.message}",
                        "check the identifier (a prison number such as A1234BC)",
                        404,
                    ) from None
                raise
        return found

    def _establishment(self, found: Mapping[str, Any]) -> str | None:
        path = self.mapping.data.get("establishment_from")
        if not path:
            return None
        source, _, rest = str(path).partition(".")
        value = _dig(found.get(source), rest)
        return str(value) if value else None

    def population(
        self, establishment: str, failed: Callable[[str, RemoteError], None] | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(subject, records) for everyone the population request lists, page by page. With
        `failed`, a person whose records cannot be fetched is handed to it and the run goes on
        (a refused token or a missing configuration still stops it: everyone would fail)."""
        spec = self.mapping.data.get("population")
        if spec is None:
            raise RemoteError(
                "E-HTTP-CONFIG",
                f"the mapping `{self.mapping.id}` has no population request",
                "add a `population` entry to the mapping",
            )
        self._require(spec["service"])
        paging = spec["paging"]
        page = int(paging.get("first_page", 0))
        names = {"establishment": establishment}
        while True:
            answer = _call(
                self.client,
                spec["service"],
                spec["request"],
                names,
                frozenset(),
                {paging["page_param"]: page, paging["size_param"]: paging["size"]},
            )
            items = _dig(answer, paging["items"]) or []
            for item in items:
                subject = _dig(item, spec["subject_field"])
                if not subject:
                    continue
                try:
                    found = self.records(str(subject), {spec["record_as"]: item})
                except RemoteError as e:
                    if failed is None or e.code in STOPPING:
                        raise
                    failed(str(subject), e)
                    continue
                yield str(subject), found
            total = _dig(answer, paging["total_pages"])
            page += 1
            if (
                not items
                or not isinstance(total, int)
                or page - int(paging.get("first_page", 0)) >= total
            ):
                return
