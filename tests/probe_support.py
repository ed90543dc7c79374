"""Helpers for the probe tests: a real local HTTP server, and a HOME laid out like the fixtures."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FAKE_TOKEN = "sk-ant-oat01-FIXTURE-NOT-A-REAL-TOKEN"


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer until the server stops (a timeout)


@dataclass
class UsageServer:
    url: str
    routes: dict[str, Route]
    requests: list[tuple[str, dict[str, str]]]
    release: threading.Event

    def route(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


@contextmanager
def usage_server() -> Iterator[UsageServer]:
    routes: dict[str, Route] = {}
    requests: list[tuple[str, dict[str, str]]] = []
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            r = routes.get(self.path, Route(404, b"not found"))
            if r.hang:
                release.wait(10)
                return
            self.send_response(r.status)
            for k, v in r.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(r.body)))
            self.end_headers()
            self.wfile.write(r.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield UsageServer(f"http://127.0.0.1:{server.server_address[1]}", routes, requests, release)
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def fixture_home(fixtures: Path, home: Path) -> Path:
    """A HOME with the claude and codex fixtures in their real places."""
    claude = home / ".claude"
    claude.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixtures / "claude" / "credentials.json", claude / ".credentials.json")
    shutil.copytree(fixtures / "claude" / "projects", claude / "projects", dirs_exist_ok=True)
    codex = home / ".codex"
    codex.mkdir(parents=True, exist_ok=True)
    shutil.copytree(fixtures / "codex" / "sessions", codex / "sessions", dirs_exist_ok=True)
    return home


def cache_seconds(states: list, options: dict, default: float) -> float:
    """How long rota keeps claude-code's probe answer: the profile's rule, with `default` as
    [quota] cache_minutes, as rota.probes asks it."""
    from rota.harnesses.claude_code import profile

    opts = dict(options)
    opts.setdefault("cache_minutes", default / 60.0)
    return profile().cache_seconds(states, opts)
