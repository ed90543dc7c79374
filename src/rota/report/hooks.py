"""What `rota run`, `rota loop` and `rota health` tell the world outside: notifications (through
rota.report.events) and the metrics file. The runner calls these at fixed points; nothing here
may fail or hold up a session beyond the notifier's own timeout."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from rota import journal
from rota.config import Config
from rota.report import events
from rota.report.notify import Delivery, Notifier


class RunHooks:
    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.notifier: Notifier | None = None
        self._start: Delivery | None = None  # the session_started delivery under way
        if config.notify.enabled:
            self.notifier = Notifier(config.notify, clock=clock)

    # -- during a session ---------------------------------------------------------------------
    def session_started(self, *, session_id: int, category: str, arm: str) -> None:
        """Announced while the session runs: the harness does not wait for the notifiers."""
        if self.notifier is not None:
            self._start = events.session_started(
                self.notifier, session_id=session_id, category=category, arm=arm, background=True
            )

    def session_ended(
        self, rec: Any, *, blocks: Sequence[Any] = (), profile: Any = None, result: Any = None
    ) -> None:
        """rec: the finished SessionRecord; profile and result (the harness profile and its
        ProcessResult) tell an authentication failure apart."""
        if self.notifier is None:
            return
        # Everything said at the end (the start's delivery if still under way, the end, a limit,
        # a streak, a lost login) shares one timeout: a dead notifier costs the session that much.
        self.notifier.budget()
        if self._start is not None:
            self.notifier.finish(self._start)
            self._start = None
        auth = None
        if profile is not None and result is not None and rec.status in (
            "crashed",
            "completed",
            "unavailable",
        ):
            auth = _auth_problem(profile, result)
        events.session_ended(self.notifier, rec, blocks=blocks, auth_problem=auth)

    # -- after a run --------------------------------------------------------------------------
    def exhausted(self, *, category: str, earliest_reset: float | None, why: str) -> None:
        if self.notifier is not None:
            self.notifier.budget()
            events.all_exhausted(
                self.notifier, category=category, earliest_reset=earliest_reset, why=why
            )

    def write_metrics(self, store: Any | None = None) -> None:
        """Rewrite [metrics] textfile, if set, from the cached probe answers (no new probing at
        a session's end). Logged, never raised."""
        path = self.config.metrics.textfile
        if not path:
            return
        from rota.report import metrics

        try:
            if store is None:
                from rota.store import open_store

                with open_store(self.config) as own:
                    metrics.write(self.config, own, self.clock(), path, probe=False)
            else:
                metrics.write(self.config, store, self.clock(), path, probe=False)
        except Exception as exc:  # the session is recorded: metrics must not change its exit
            journal.log_event("metrics", level="warning", path=path, error=str(exc))


def _auth_problem(profile: Any, result: Any) -> str | None:
    try:
        from rota.harnesses.auth import auth_problem
        from rota.harnesses.base import SessionOutput

        out = SessionOutput(
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            ended_at=result.ended_at,
        )
        return auth_problem(profile, out)
    except Exception as exc:  # reading the output must not cost the session anything
        journal.log_event("notify", level="warning", error=f"auth check: {exc!r}")
        return None


def health_changed(config: Config, *, healthy: bool, problems: Sequence[str]) -> None:
    """`rota health`: announce turning unhealthy, and healthy again, once each."""
    if config.notify.enabled:
        events.health(Notifier(config.notify), healthy=healthy, problems=problems)
