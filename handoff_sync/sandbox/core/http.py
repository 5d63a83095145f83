"""Request, response and routing types shared by the sandbox's API emulations.

Handlers are plain functions ``handler(request) -> Response`` that raise :class:`ApiError`
for anything that is not a success; the server turns that into the vendor's error body.
Nothing here knows about Salesforce or HubSpot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

ApiName = Literal["salesforce", "hubspot", "control"]


class ApiError(Exception):
    """A non-2xx answer, with the body already in the emulated vendor's shape."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls, method: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> Request:
        path, _, query_string = raw_path.partition("?")
        return cls(
            method=method.upper(),
            path=path,
            query=parse_qs(query_string, keep_blank_values=True),
            headers=headers,
            body=body,
        )

    def header(self, name: str, default: str | None = None) -> str | None:
        value = self.headers.get(name)
        return default if value is None else value

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """All values of a repeatable parameter, accepting both ``a=1&a=2`` and ``a=1,2``."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(part for part in (p.strip() for p in value.split(",")) if part)
        return out

    def json(self) -> Any:
        """The parsed JSON body; malformed JSON becomes ``ValueError`` for the API to phrase."""
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        content_type = {"Content-Type": "application/json;charset=UTF-8"}
        return cls(status, data, {**content_type, **(headers or {})})

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status)

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain") -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": f"{content_type};charset=UTF-8"})


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    api: ApiName
    method: str
    pattern: re.Pattern[str]
    name: str  # stable label for stats, e.g. "GET /services/data/{v}/query"
    handler: Handler
    auth: bool = True  # False for token endpoints, which authenticate by their own body


class Router:
    """Method + regex routing; patterns are full-matched against the path."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(
        self,
        api: ApiName,
        method: str,
        pattern: str,
        handler: Handler,
        name: str,
        *,
        auth: bool = True,
    ) -> None:
        self._routes.append(Route(api, method.upper(), re.compile(pattern), name, handler, auth))

    def resolve(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Return (route, path params, path_known). path_known tells 405 from 404."""
        path_known = False
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            path_known = True
            if route.method == method:
                return route, match.groupdict(), True
        return None, {}, path_known


def api_for_path(path: str) -> ApiName:
    """Which emulated API a path belongs to; the two vendors' paths never collide."""
    if path.startswith("/__sandbox__"):
        return "control"
    if path.startswith("/services/"):
        return "salesforce"
    return "hubspot"
