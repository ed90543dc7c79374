"""A local HTTP server on 127.0.0.1 that answers as a model provider would.

One `MockAPI` serves every provider's paths at once (Anthropic Messages, OpenAI Responses and Chat
Completions, Gemini), so a test points a CLI at `api.url` and scripts what the provider says with a
`Scenario` (tests/mockapi/plan.py). Every request is kept (`api.requests`) for asserts and for the
recorded fixtures. Stdlib only: `http.server` with a thread per connection, HTTP/1.1 keep-alive,
chunked streaming for server-sent events.

A "hang" answer holds the connection open without a byte until the server stops, so a CLI that
waits forever is ended by its caller's timeout, never by this server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    at: float = field(default_factory=time.time)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def summary(self) -> dict[str, Any]:
        """What a recording keeps of a request: no prompt text, no credentials."""
        out: dict[str, Any] = {"method": self.method, "path": self.path, "bytes": len(self.body)}
        if self.query:
            out["query"] = {k: v for k, v in self.query.items() if k.lower() not in ("key",)}
        auth = [h for h in ("authorization", "x-api-key", "x-goog-api-key") if h in self.headers]
        if auth:
            out["auth_headers"] = auth
        body = self.json
        if isinstance(body, dict):
            for key in ("model", "stream", "max_tokens", "max_output_tokens"):
                if key in body:
                    out[key] = body[key]
            tools = body.get("tools")
            if isinstance(tools, list):
                out["tools"] = sorted(tool_name(t) for t in tools)
            for key in ("messages", "input", "contents"):
                if isinstance(body.get(key), list):
                    out[f"n_{key}"] = len(body[key])
        return out


def tool_name(tool: Any) -> str:
    """A tool's name in any of the wire formats (Anthropic, OpenAI chat/responses, Gemini)."""
    if not isinstance(tool, dict):
        return "?"
    if isinstance(tool.get("function"), dict):
        return str(tool["function"].get("name", "?"))
    if "name" in tool:
        return str(tool["name"])
    if isinstance(tool.get("functionDeclarations"), list):
        return ",".join(str(d.get("name", "?")) for d in tool["functionDeclarations"])
    return str(tool.get("type", "?"))


@dataclass
class Reply:
    """One HTTP answer. `chunks` streams (chunked transfer, flushed each); `hang` never answers."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunks: Iterable[bytes] | None = None
    hang: bool = False

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Reply:
        return cls(
            status=status,
            headers=[("content-type", "application/json"), *headers],
            body=json.dumps(obj).encode(),
        )

    @classmethod
    def sse(cls, events: Iterable[bytes], headers: Iterable[tuple[str, str]] = ()) -> Reply:
        return cls(
            status=200,
            headers=[
                ("content-type", "text/event-stream; charset=utf-8"),
                ("cache-control", "no-cache"),
                *headers,
            ],
            chunks=events,
        )


def sse_event(data: Any, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


Handler = Callable[[Request], Reply]


class MockAPI:
    """The server. `handler(request) -> Reply` decides every answer; it can be swapped per test."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the mock provider listens on loopback only")
        self.handler = handler
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "mockapi/1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the requests are recorded instead

            def _serve(self) -> None:
                api._serve(self)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = _serve
            do_OPTIONS = _serve

        class _Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client that gives up mid-request (a CLI killed on timeout) is not an error.
                pass

        self._server = _Server((host, 0), _Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> MockAPI:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> MockAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests -------------------------------------------------------------------------------

    def requests_to(self, fragment: str, method: str = "POST") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if fragment in r.path and r.method == method]

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length > 0 else b""
        if h.headers.get("transfer-encoding", "").lower() == "chunked":
            body = _read_chunked(h)
        req = Request(
            method=h.command,
            path=split.path,
            query=parse_qs(split.query),
            headers={k.lower(): v for k, v in h.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(req)
        try:
            reply = self.handler(req)
        except Exception as exc:  # a bug in a scenario: answer 500 and say why
            reply = Reply.json({"error": {"message": f"mockapi handler failed: {exc!r}"}}, 500)
        self._write(h, reply)

    def _write(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.hang:
            while not self._stopping.wait(0.2):
                pass
            h.close_connection = True
            return
        try:
            h.send_response(reply.status)
            names = {k.lower() for k, _ in reply.headers}
            for k, v in reply.headers:
                h.send_header(k, v)
            if "request-id" not in names and "x-request-id" not in names:
                h.send_header("x-request-id", f"req_mock_{len(self.requests):04d}")
            if reply.chunks is None:
                h.send_header("content-length", str(len(reply.body)))
                h.end_headers()
                if h.command != "HEAD":
                    h.wfile.write(reply.body)
                h.wfile.flush()
                return
            h.send_header("transfer-encoding", "chunked")
            h.end_headers()
            for chunk in _iter(reply.chunks):
                if not chunk:
                    continue
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                h.wfile.flush()
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            h.close_connection = True


def _iter(chunks: Iterable[bytes]) -> Iterator[bytes]:
    yield from chunks


def _read_chunked(h: BaseHTTPRequestHandler) -> bytes:
    out = bytearray()
    while True:
        size_line = h.rfile.readline()
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            h.rfile.readline()
            return bytes(out)
        out += h.rfile.read(size)
        h.rfile.readline()
