"""The monitoring sections, [metrics] and [notify]: their settings and their validation (called by
rota.config.validate with its table reader, so errors name the file and the key like every
other). rota.report writes the metrics and sends the notifications."""

from __future__ import annotations

import os

from rota.errors import ConfigError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any

# What [notify] can be told about (rota.report.notify sends them).
NOTIFY_EVENTS = (
    "session_started",
    "session_ended",
    "limit_blocked",
    "all_exhausted",
    "crash_streak",
    "auth_failed",
    "unhealthy",
    "healthy",
)
MAX_NOTIFY_TIMEOUT_S = 300.0


class MetricsSettings:
    """[metrics]. A plain class, not a @record: config parsing runs before every `rota select`,
    and each namedtuple class costs a quarter of a millisecond to create."""

    __slots__ = ("textfile",)

    def __init__(self, textfile: str = "") -> None:
        self.textfile = (
            textfile  # Prometheus text file written after each run and by `rota metrics`
        )

    def __repr__(self) -> str:
        return f"MetricsSettings(textfile={self.textfile!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MetricsSettings) and other.textfile == self.textfile

    __hash__ = None  # type: ignore[assignment]


class NotifySettings:
    """[notify]: where events go, and how long all notifiers of one event may take together."""

    __slots__ = (
        "command", "events", "ping_url", "ping_start_url", "ping_success_url", "ping_fail_url",
        "timeout_seconds",
    )  # fmt: skip

    def __init__(
        self,
        command: tuple[str, ...] = (),
        events: tuple[str, ...] = NOTIFY_EVENTS,
        ping_url: str = "",
        ping_start_url: str = "",
        ping_success_url: str = "",
        ping_fail_url: str = "",
        timeout_seconds: float = 10.0,
    ) -> None:
        self.command = command  # argv; receives each event as JSON on stdin
        self.events = events  # the events the command receives
        self.ping_url = ping_url  # Healthchecks style: URL/start, URL (success), URL/fail
        self.ping_start_url = ping_start_url  # explicit URLs, for other conventions
        self.ping_success_url = ping_success_url
        self.ping_fail_url = ping_fail_url
        self.timeout_seconds = timeout_seconds

    @property
    def enabled(self) -> bool:
        return bool(
            self.command
            or self.ping_url
            or self.ping_start_url
            or self.ping_success_url
            or self.ping_fail_url
        )

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, k) for k in self.__slots__)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"NotifySettings({inner})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NotifySettings) and other._fields() == self._fields()

    __hash__ = None  # type: ignore[assignment]


def parse_metrics(r: Any) -> MetricsSettings:
    out = MetricsSettings(textfile=os.path.expanduser(r.string("textfile", "")))
    r.finish()
    return out


def parse_notify(r: Any, path: str) -> NotifySettings:
    d = NotifySettings()
    command = r.strings("command")
    if "command" in r.table and not (command and command[0]):
        raise ConfigError(
            'expected an argv list such as ["ntfy", "publish", "mytopic"]',
            path=path,
            key="notify.command",
        )
    events = r.strings("events", d.events)
    for i, e in enumerate(events):
        if e not in NOTIFY_EVENTS:
            raise ConfigError(
                f"unknown event {e!r}; expected some of: {', '.join(NOTIFY_EVENTS)}",
                path=path,
                key=f"notify.events[{i}]",
            )
    urls = {}
    for key in ("ping_url", "ping_start_url", "ping_success_url", "ping_fail_url"):
        url = r.string(key, "")
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"expected an http:// or https:// URL, got {url!r}", path=path, key=f"notify.{key}"
            )
        urls[key] = url.rstrip("/") if key == "ping_url" else url
    # At most MAX_NOTIFY_TIMEOUT_S: a notifier must not hold up sessions.
    timeout = r.number(
        "timeout_seconds", d.timeout_seconds, minimum=0.1, maximum=MAX_NOTIFY_TIMEOUT_S
    )
    r.finish()
    return NotifySettings(command=command, events=events, timeout_seconds=timeout, **urls)
