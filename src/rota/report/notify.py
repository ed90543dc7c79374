"""Notifications, in borgmatic's spirit: a command that gets each event as JSON on stdin, and
Healthchecks-style pings (`URL/start` when a session starts, `URL` when it ends well, `URL/fail`
when it crashes or `rota health` turns unhealthy).

A notifier never fails its caller: all deliveries of one event share one deadline
([notify] timeout_seconds), a command still running then is killed with its process group, a
request still open is abandoned, and every outcome is logged (one journal line, never a token).

Conditions fire once per occurrence. A small state file ($ROTA_STATE_DIR/notify-state.json,
updated under a lock) remembers which are active: a block on a scope until it ends, every arm
exhausted until a session starts, a crash streak or an authentication failure until the arm or
harness runs well again, `rota health` unhealthy until it is healthy (which is announced too).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rota import __version__, journal
from rota.config.monitoring import NotifySettings
from rota.report.files import read_json, state_dir, write_json

STATE_FILE = "notify-state.json"
USER_AGENT = f"rota/{__version__}"
FAIL_OUTCOMES = ("crashed", "timed_out")


@dataclass(slots=True, eq=False)  # eq=False: hashed by identity (kept in _PENDING)
class Delivery:
    """What happened to one event: per target, "ok" or why not."""

    event: str
    results: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    started: float = 0.0  # time.monotonic() values
    deadline: float = 0.0
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r == "ok" for r in self.results.values())


def ping_url(settings: NotifySettings, kind: str) -> str:
    """The URL for a ping kind ("start", "success", "fail"): explicit, else Healthchecks style."""
    explicit = {
        "start": settings.ping_start_url,
        "success": settings.ping_success_url,
        "fail": settings.ping_fail_url,
    }[kind]
    if explicit or not settings.ping_url:
        return explicit
    return settings.ping_url + {"start": "/start", "success": "", "fail": "/fail"}[kind]


def ping_kind(event: str, fields: Mapping[str, Any]) -> str | None:
    if event == "session_started":
        return "start"
    if event == "session_ended":
        return "fail" if fields.get("outcome") in FAIL_OUTCOMES else "success"
    if event == "unhealthy":
        return "fail"
    if event == "healthy":
        return "success"
    return None


class Notifier:
    def __init__(
        self,
        settings: NotifySettings,
        *,
        state_file: str | None = None,
        clock: Callable[[], float] = time.time,
        machine: str = "",
    ) -> None:
        self.settings = settings
        self.state_file = state_file or os.path.join(state_dir(), STATE_FILE)
        self.clock = clock
        # as rota.session.decide.machine_name: $ROTA_MACHINE, else the host name
        self.machine = machine or os.environ.get("ROTA_MACHINE") or socket.gethostname()
        self.budget_until: float | None = None  # time.monotonic(); see budget()

    # -- once per occurrence ------------------------------------------------------------------
    def mark(self, keys: list[str], event: str, until: float | None = None) -> list[str]:
        """Mark the conditions `keys` active (until `until`, or until cleared); returns those that
        were not active already (an entry past its `until` counts as ended)."""
        now = self.clock()
        new = []
        with self._state() as state:
            for key in keys:
                cur = state.get(key)
                if isinstance(cur, dict):
                    end = cur.get("until")
                    if not isinstance(end, (int, float)) or end > now:
                        continue
                state[key] = {"since": now, "until": until, "event": event}
                new.append(key)
        return new

    def raise_once(
        self, key: str, event: str, *, until: float | None = None, **fields: Any
    ) -> Delivery | None:
        """Send `event` unless the condition `key` is already active (and not past its `until`);
        mark it active. Returns the delivery, or None when it was already known."""
        if not self.mark([key], event, until):
            return None
        return self.send(event, **fields)

    def clear(self, key: str, event: str | None = None, **fields: Any) -> Delivery | None:
        """End the condition `key`; if it was active and `event` is given, announce that."""
        with self._state() as state:
            was = state.pop(key, None)
        if was is None or event is None:
            return None
        return self.send(event, **fields)

    def clear_prefix(self, prefix: str) -> None:
        with self._state() as state:
            for key in [k for k in state if k.startswith(prefix)]:
                del state[key]

    def active(self) -> dict[str, Any]:
        return read_json(self.state_file)

    @contextmanager
    def _state(self):  # type: ignore[no-untyped-def]
        """The state, read and written under an exclusive lock (rota run, loop and health may
        run at once). A state that cannot be kept only means an event may repeat."""
        import fcntl

        lock_fd = None
        try:
            os.makedirs(os.path.dirname(self.state_file) or ".", mode=0o700, exist_ok=True)
            lock_fd = os.open(self.state_file + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
        except OSError:
            pass
        try:
            state = read_json(self.state_file)
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                try:
                    write_json(self.state_file, state)
                except OSError as exc:
                    journal.log_event("notify_state", level="warning", error=str(exc))
        finally:
            if lock_fd is not None:
                os.close(lock_fd)

    # -- delivery -----------------------------------------------------------------------------
    def payload(self, event: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        now = self.clock()
        out: dict[str, Any] = {
            "event": event,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "ts": now,
            "machine": self.machine,
            "rota_version": __version__,
        }
        for k, v in fields.items():
            out[k] = journal.redact(v) if isinstance(v, str) else v
        return out

    def send(self, event: str, **fields: Any) -> Delivery:
        """Deliver one event to every target it has, within the timeout (and the time budget, if
        one is set). Never raises."""
        return self.finish(self.begin(event, **fields))

    def begin(self, event: str, **fields: Any) -> Delivery:
        """Start delivering `event` in the background; finish() waits for it (at most until its
        deadline) and logs the outcome. For an event whose news may travel while work goes on
        (a session's start: the session runs meanwhile)."""
        delivery = Delivery(event)
        delivery.started = time.monotonic()
        s = self.settings
        try:
            body = json.dumps(self.payload(event, fields), sort_keys=True, default=str).encode()
        except Exception as exc:  # a field that cannot be shown must not stop the rest
            body = json.dumps({"event": event, "error": repr(exc)}).encode()
        jobs: list[tuple[str, Callable[[float], str]]] = []
        # The command is stopped a little before the deadline, so that killing it fits in too.
        margin = min(0.25, s.timeout_seconds / 4)
        if s.command and event in s.events:
            jobs.append(
                ("command", lambda deadline: _run_command(s.command, body, deadline - margin))
            )
        kind = ping_kind(event, fields)
        url = ping_url(s, kind) if kind else ""
        if url:
            jobs.append((f"ping {kind}", lambda deadline: _ping(url, body, deadline)))
        deadline = delivery.started + s.timeout_seconds
        if self.budget_until is not None:
            deadline = min(deadline, self.budget_until)
        delivery.deadline = deadline
        for name, job in jobs:
            if deadline - delivery.started < 0.05:
                delivery.results[name] = "skipped: the time for notifications is spent"
                continue
            delivery.results[name] = "timed out"

            def target(name: str = name, job: Callable[[float], str] = job) -> None:
                try:
                    delivery.results[name] = job(deadline)
                except Exception as exc:  # never let a notifier escape
                    delivery.results[name] = f"failed: {exc!r}"

            th = threading.Thread(target=target, name=f"rota-notify-{name}", daemon=True)
            th.start()
            delivery.threads.append(th)
        if delivery.threads:
            _under_way(delivery)
        return delivery

    def finish(self, delivery: Delivery) -> Delivery:
        for th in delivery.threads:
            th.join(max(0.0, delivery.deadline - time.monotonic()))
        delivery.threads = []
        _PENDING.discard(delivery)
        delivery.seconds = time.monotonic() - delivery.started
        for name, result in delivery.results.items():
            journal.log_event(
                "notify",
                level="info" if result == "ok" else "warning",
                event=delivery.event,
                target=name,
                result=result,
                seconds=round(delivery.seconds, 2),
            )
        return delivery

    def budget(self, seconds: float | None = None) -> None:
        """From now on, every delivery ends within `seconds` (default: the timeout) in all: the
        notifications of one session end cost it at most that, however many there are."""
        span = self.settings.timeout_seconds if seconds is None else seconds
        self.budget_until = time.monotonic() + span


_PENDING: set[Delivery] = set()  # begun and not finished: finished (bounded) before exit


def _under_way(delivery: Delivery) -> None:
    """Remember a delivery in flight, so that an early exit (an error, a signal) still waits
    for it until its deadline: a command left running would outlive rota."""
    if not _PENDING:
        import atexit

        atexit.register(_finish_pending)
    _PENDING.add(delivery)


def _finish_pending() -> None:
    for delivery in list(_PENDING):
        for th in delivery.threads:
            th.join(max(0.0, delivery.deadline - time.monotonic()))
        _PENDING.discard(delivery)


def _run_command(argv: tuple[str, ...], body: bytes, deadline: float) -> str:
    try:
        proc = subprocess.Popen(  # an argv list, never a shell string
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: a timeout kills all of it
        )
    except OSError as exc:
        return f"cannot run {argv[0]}: {exc.strerror or exc}"
    try:
        _, err = proc.communicate(body, timeout=max(0.01, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
        return "timed out (killed)"
    if proc.returncode != 0:
        tail = journal.redact(err.decode("utf-8", "replace").strip())[-200:]
        return f"exit {proc.returncode}" + (f": {tail}" if tail else "")
    return "ok"


def _ping(url: str, body: bytes, deadline: float) -> str:
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    try:
        # an http(s) URL: the config accepts no other scheme
        with urllib.request.urlopen(req, timeout=max(0.01, deadline - time.monotonic())) as resp:
            resp.read(4096)
            return "ok" if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"failed: {reason}"
