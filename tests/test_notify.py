"""Notifications: a command that gets each event as JSON on stdin, Healthchecks-style pings to a
local HTTP server on 127.0.0.1, once per occurrence, and never more than the timeout."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rota.config import parse_config
from rota.config.monitoring import NotifySettings
from rota.errors import ConfigError
from rota.quota.state import Block
from rota.report import events
from rota.report.notify import Notifier
from rota.store.base import SessionRecord

RECORDER = """\
import json, sys
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(json.load(sys.stdin)) + "\\n")
"""


class Hub:
    """A Healthchecks-like ping endpoint on 127.0.0.1: records each request's path and body."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                hub.requests.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ping/abc-123"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub():
    h = Hub()
    yield h
    h.close()


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[list[str], Path]:
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    out = tmp_path / "events.jsonl"
    return [sys.executable, str(script), str(out)], out


def received(out: Path) -> list[dict]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines()]


def names(out: Path) -> list[str]:
    return [e["event"] for e in received(out)]


def notifier(tmp_path: Path, hub: Hub, command: list[str], clock: Clock, **kw) -> Notifier:
    settings = NotifySettings(
        command=tuple(command), ping_url=hub.url, timeout_seconds=kw.pop("timeout", 10.0), **kw
    )
    return Notifier(settings, state_file=str(tmp_path / "notify-state.json"), clock=clock)


def session(sid: int, status: str, arm: str = "codex:gpt-5.4", **detail) -> SessionRecord:
    return SessionRecord(
        id=sid,
        category="code",
        arm=arm,
        arm_ran=None,
        status=status,
        started_at=1_800_000_000.0,
        ended_at=1_800_000_600.0,
        exit_code=0 if status == "completed" else 1,
        reward=0.7 if status == "completed" else None,
        detail=detail,
    )


def test_command_gets_the_event_as_json_and_pings_follow_healthchecks(tmp_path, hub, recorder):
    command, out = recorder
    n = notifier(tmp_path, hub, command, Clock())
    events.session_started(n, session_id=7, category="code", arm="codex:gpt-5.4")
    events.session_ended(n, session(7, "completed"))
    events.session_ended(n, session(8, "crashed"))
    got = received(out)
    assert [e["event"] for e in got] == ["session_started", "session_ended", "session_ended"]
    assert got[0]["session"] == 7 and got[0]["arm"] == "codex:gpt-5.4"
    assert got[1]["outcome"] == "completed" and got[1]["grade"] == 0.7
    assert got[0]["machine"] and got[0]["at"].endswith("Z")
    assert hub.paths() == ["/ping/abc-123/start", "/ping/abc-123", "/ping/abc-123/fail"]
    assert hub.requests[2][1]["outcome"] == "crashed"  # the event rides along as the ping's body


def test_explicit_ping_urls_and_event_filter(tmp_path, hub, recorder):
    command, out = recorder
    base = hub.url.rsplit("/", 2)[0]
    settings = NotifySettings(
        command=tuple(command),
        events=("session_ended",),
        ping_start_url=f"{base}/run?state=run",
        ping_success_url=f"{base}/run?state=complete",
        ping_fail_url=f"{base}/run?state=fail",
    )
    n = Notifier(settings, state_file=str(tmp_path / "s.json"))
    events.session_started(n, session_id=1, category="code", arm="a:b")
    events.session_ended(n, session(1, "timed_out"))
    assert names(out) == ["session_ended"]  # the command only gets the events it asked for
    assert hub.paths() == ["/run?state=run", "/run?state=fail"]


def test_a_limit_block_is_announced_once_per_block(tmp_path, hub, recorder):
    command, out = recorder
    clock = Clock()
    n = notifier(tmp_path, hub, command, clock)
    until = clock.t + 3600
    blocks = [
        Block("harness", "claude-code", until, "usage limit", "rate_limit", clock.t),
        Block("pool", "claude-5h", until, "usage limit", "rate_limit", clock.t),
    ]
    limit = {"message": "usage limit reached", "scopes": ["harness:claude-code", "pool:claude-5h"]}
    rec = session(1, "rate_limited", "claude-code:opus", limit=limit)
    events.session_ended(n, rec, blocks=blocks)
    # Another session (another machine of the fleet) hits the same block: no second alert.
    clock.t += 600
    events.session_ended(
        n, session(2, "rate_limited", "claude-code:opus", limit=limit), blocks=blocks
    )
    blocked = [e for e in received(out) if e["event"] == "limit_blocked"]
    assert len(blocked) == 1
    assert blocked[0]["scopes"] == ["harness:claude-code", "pool:claude-5h"]
    assert blocked[0]["until"] == until
    # The block ran out; a new hit makes a new block: a new alert.
    clock.t = until + 60
    later = [b._replace(until=clock.t + 7200, created_at=clock.t) for b in blocks]
    events.session_ended(
        n, session(3, "rate_limited", "claude-code:opus", limit=limit), blocks=later
    )
    assert [e["event"] for e in received(out)].count("limit_blocked") == 2


def test_every_arm_exhausted_once_until_a_session_starts(tmp_path, hub, recorder):
    command, out = recorder
    n = notifier(tmp_path, hub, command, Clock())
    for _ in range(3):  # the timer retries every 10 minutes
        events.all_exhausted(n, category="code", earliest_reset=1_800_003_600.0, why="no arm")
    assert names(out) == ["all_exhausted"]
    events.session_started(n, session_id=9, category="code", arm="codex:gpt-5.4")
    events.all_exhausted(n, category="code", earliest_reset=None, why="no arm")
    assert names(out) == ["all_exhausted", "session_started", "all_exhausted"]


def test_crash_streak_and_auth_failure_once_until_the_arm_runs_well(tmp_path, hub, recorder):
    command, out = recorder
    n = notifier(tmp_path, hub, command, Clock())
    arm = "gptme:glm-5"
    for sid in (1, 2):  # the streak goes on: still one alert
        events.session_ended(n, session(sid, "crashed", arm, crash_loop=3 + sid))
    for sid in (3, 4):
        events.session_ended(n, session(sid, "crashed", arm), auth_problem="exit 76: auth failed")
    kinds = [e for e in names(out) if e != "session_ended"]
    assert kinds == ["crash_streak", "auth_failed"]
    auth = [e for e in received(out) if e["event"] == "auth_failed"][0]
    assert auth["harness"] == "gptme" and auth["reason"] == "exit 76: auth failed"
    events.session_ended(n, session(5, "completed", arm))  # runs well again: both are over
    events.session_ended(n, session(6, "crashed", arm, crash_loop=3))
    events.session_ended(n, session(7, "crashed", arm), auth_problem="exit 76: auth failed")
    kinds = [e for e in names(out) if e != "session_ended"]
    assert kinds == ["crash_streak", "auth_failed", "crash_streak", "auth_failed"]


def test_health_turning_unhealthy_and_back_fires_once_each(tmp_path, hub, recorder):
    command, out = recorder
    n = notifier(tmp_path, hub, command, Clock())
    events.health(n, healthy=True, problems=[])  # healthy from the start: nothing to say
    for _ in range(3):
        events.health(n, healthy=False, problems=["recent_success: no session completed in 24h"])
    for _ in range(2):
        events.health(n, healthy=True, problems=[])
    events.health(n, healthy=False, problems=["crash_streak"])
    assert names(out) == ["unhealthy", "healthy", "unhealthy"]
    assert received(out)[0]["problems"] == ["recent_success: no session completed in 24h"]
    assert hub.paths() == ["/ping/abc-123/fail", "/ping/abc-123", "/ping/abc-123/fail"]


def test_state_survives_processes_and_bad_state_files(tmp_path, hub, recorder):
    command, out = recorder
    state = tmp_path / "notify-state.json"
    for _ in range(2):  # two separate processes' worth of notifiers
        n = notifier(tmp_path, hub, command, Clock())
        events.all_exhausted(n, category="code", earliest_reset=None, why="none")
    assert names(out) == ["all_exhausted"]
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    state.write_text("{not json")  # a damaged state: started afresh, never fatal
    events.all_exhausted(
        notifier(tmp_path, hub, command, Clock()), category="c", earliest_reset=None, why="x"
    )
    assert names(out) == ["all_exhausted", "all_exhausted"]


def test_tokens_in_fields_are_redacted(tmp_path, hub, recorder):
    command, out = recorder
    n = notifier(tmp_path, hub, command, Clock())
    n.send("auth_failed", reason="401 for key sk-ant-api03-abcdefghijklmnopqrstuvwxyz")
    assert "sk-ant" not in json.dumps(received(out))
    assert "[redacted]" in received(out)[0]["reason"]


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == pid
    except ChildProcessError:
        return True


def test_a_hung_command_is_killed_at_the_timeout(tmp_path, hub):
    pidfile = tmp_path / "pid"
    script = tmp_path / "hang.py"
    script.write_text(
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    n = notifier(tmp_path, hub, [sys.executable, str(script)], Clock(), timeout=1.0)
    start = time.monotonic()
    d = n.send("session_ended", outcome="completed")
    took = time.monotonic() - start
    assert d.results["command"] == "timed out (killed)"
    assert d.results["ping success"] == "ok"  # the other notifier was not held up
    assert took < 30  # the hang was 60 s: the caller waited for the timeout, not for it
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while not _pid_gone(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pid_gone(grandchild)  # the whole process group went


def test_a_server_that_never_answers_costs_at_most_the_timeout(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does), never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/ping/x"
        settings = NotifySettings(ping_url=url, timeout_seconds=1.0)
        n = Notifier(settings, state_file=str(tmp_path / "s.json"))
        start = time.monotonic()
        d = n.send("session_started")
        assert time.monotonic() - start < 30
        assert d.results["ping start"] in ("timed out", "failed: timed out")
    finally:
        silent.close()


def test_unreachable_and_failing_notifiers_never_raise(tmp_path):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    free = port.getsockname()[1]
    port.close()  # nothing listens there now
    settings = NotifySettings(
        command=(str(tmp_path / "no-such-program"),),
        ping_url=f"http://127.0.0.1:{free}/p",
    )
    d = Notifier(settings, state_file=str(tmp_path / "s.json")).send("session_started")
    assert d.results["command"].startswith("cannot run")
    assert d.results["ping start"].startswith("failed")
    failing = NotifySettings(command=(sys.executable, "-c", "import sys; sys.exit(3)"))
    d = Notifier(failing, state_file=str(tmp_path / "s.json")).send("healthy")
    assert d.results == {"command": "exit 3"}


def _cfg(extra: dict) -> object:
    return parse_config({"harnesses": {"codex": {"models": {"m": {"tier": "low"}}}}, **extra})


def test_notify_and_metrics_config_is_validated():
    cfg = _cfg(
        {
            "notify": {
                "command": ["ntfy", "publish", "t"],
                "ping_url": "https://hc/x/",
                "timeout_seconds": 5,
            },
            "metrics": {"textfile": "~/m/rota.prom"},
        }
    )
    assert cfg.notify.command == ("ntfy", "publish", "t") and cfg.notify.ping_url == "https://hc/x"
    assert cfg.notify.enabled and cfg.metrics.textfile.endswith("/m/rota.prom")
    assert not cfg.metrics.textfile.startswith("~")
    assert not _cfg({}).notify.enabled and _cfg({}).metrics.textfile == ""
    bad = [
        ({"notify": {"command": "ntfy publish"}}, "notify.command"),
        ({"notify": {"command": []}}, "notify.command"),
        ({"notify": {"ping_url": "ftp://x"}}, "notify.ping_url"),
        ({"notify": {"events": ["session_started", "nope"]}}, "notify.events[1]"),
        ({"notify": {"timeout_seconds": 0}}, "notify.timeout_seconds"),
        ({"notify": {"timeout_seconds": 900}}, "notify.timeout_seconds"),
        ({"notify": {"colour": "red"}}, "notify.colour"),
        ({"metrics": {"textfile": 3}}, "metrics.textfile"),
        ({"metrics": {"port": 9100}}, "metrics.port"),
    ]
    for extra, key in bad:
        with pytest.raises(ConfigError) as exc:
            _cfg(extra)
        assert f"[{key}]" in str(exc.value), (extra, str(exc.value))


def test_run_hooks_never_raise_and_write_metrics(tmp_path, hub, recorder, monkeypatch, capsys):
    from rota.report.hooks import RunHooks

    command, out = recorder
    monkeypatch.setenv("ROTA_STATE_DIR", str(tmp_path / "state"))
    prom = tmp_path / "m" / "rota.prom"
    cfg = _cfg(
        {
            "notify": {"command": command, "ping_url": hub.url},
            "metrics": {"textfile": str(prom)},
            "store": {"url": f"sqlite:///{tmp_path / 'rota.db'}"},
        }
    )
    hooks = RunHooks(cfg)
    hooks.exhausted(category="code", earliest_reset=None, why="none left")
    hooks.exhausted(category="code", earliest_reset=None, why="none left")
    hooks.session_started(session_id=1, category="code", arm="codex:m")
    hooks.write_metrics()
    # The start is announced in the background while the session runs: wait for it to be said.
    assert hooks.notifier is not None and hooks._start is not None
    hooks.notifier.finish(hooks._start)
    assert names(out) == ["all_exhausted", "session_started"]
    assert "# TYPE rota_posterior_mean gauge" in prom.read_text()
    # A metrics file that cannot be written is logged; the run goes on.
    bad = _cfg({"metrics": {"textfile": str(tmp_path / "m" / "rota.prom" / "x.prom")},
                "store": {"url": f"sqlite:///{tmp_path / 'rota.db'}"}})  # fmt: skip
    RunHooks(bad).write_metrics()
    assert "rota: metrics" in capsys.readouterr().err
    # No [notify]: no state file is ever made.
    monkeypatch.setenv("ROTA_STATE_DIR", str(tmp_path / "quiet"))
    quiet = RunHooks(_cfg({}))
    quiet.exhausted(category="code", earliest_reset=None, why="x")
    assert not (tmp_path / "quiet").exists()


def test_a_time_budget_bounds_all_the_notifications_of_a_session_end(tmp_path, hub):
    hang = (sys.executable, "-c", "import time; time.sleep(60)")
    n = Notifier(NotifySettings(command=hang, timeout_seconds=1.0), state_file=str(tmp_path / "s"))
    start = n.begin("session_started")  # under way while the session runs
    n.budget()
    n.finish(start)
    end = n.send("session_ended", outcome="completed")
    streak = n.send("crash_streak", arm="a:b")
    # The start took (nearly) the whole budget: what follows ends by the same deadline, or is
    # skipped when nothing is left, instead of getting a timeout of its own.
    assert start.results["command"] == "timed out (killed)"
    assert end.deadline <= n.budget_until and streak.deadline <= n.budget_until
    assert streak.results["command"].startswith(("skipped", "timed out"))
