"""The SQL logic shared by the SQLite and PostgreSQL stores.

Statements are written once with `?` placeholders; a dialect converts them. Every value goes
through a placeholder: no SQL is ever built from data. Subclasses provide the connection,
`_write()` (a serialised write transaction) and `_read()`. What is read back for the report and
status is in rota.store.sql_history, blocks and clock repair in rota.store.sql_blocks.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from rota.learning import bandit
from rota.learning.bandit import Evidence
from rota.quota.state import QuotaState
from rota.quota.uses import Use, uses_from_rows
from rota.store import rows
from rota.store.base import (
    ABANDONED,
    COMPLETED,
    CRASHED,
    INTERRUPTED,
    RATE_LIMITED,
    RUNNING,
    TIMED_OUT,
    SessionOutcome,
    SessionRecord,
    Store,
    compact_detail,
    dumps,
    loads,
)
from rota.store.rows import SESSION_COLUMNS
from rota.store.sql_blocks import BlockRows, _clock_warning
from rota.store.sql_history import HistoryReads

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    import contextlib
    from typing import Any

    from rota.learning.change import Drift



def _drift_sql() -> tuple[str, str]:
    """(the change test's columns in Drift's field order, the statement that writes a row with
    them). The learning step is imported here, on the write path: a decision only reads."""
    from rota.learning.change import DRIFT_FIELDS

    columns = ", ".join(DRIFT_FIELDS)
    # Column names are Drift's field names (constants); every value goes through a placeholder.
    save = (
        f"INSERT INTO evidence (category, arm, s, f, t, n, sum_r, sum_r2, {columns}) "  # noqa: S608
        f"VALUES ({', '.join(['?'] * (8 + len(DRIFT_FIELDS)))}) ON CONFLICT (category, arm) "
        "DO UPDATE SET s = excluded.s, f = excluded.f, t = excluded.t, n = excluded.n, "
        "sum_r = excluded.sum_r, sum_r2 = excluded.sum_r2, "
        + ", ".join(f"{c} = excluded.{c}" for c in DRIFT_FIELDS)
    )
    return columns, save


_RECENT = (
    "FROM sessions WHERE started_at >= ? AND status NOT IN (?, ?, ?) "
    "ORDER BY started_at DESC, id DESC LIMIT ?"
)
# detail is only needed for a limit hit: the database leaves the rest behind, so a long history
# costs little per decision.
_RECENT_USES = (
    "SELECT COALESCE(arm_ran, arm), status = ?, started_at, CASE WHEN status = ? THEN detail END "
    + _RECENT
)
_RECENT_DETAILS = "SELECT started_at, detail " + _RECENT  # the same rows, in the same order


class SQLStore(HistoryReads, BlockRows, Store):
    for_update = ""  # PostgreSQL: " FOR UPDATE" (SQLite serialises writers with BEGIN IMMEDIATE)
    # The measured cost recorded in a session's detail (rota.trajectory.record.cost_summary),
    # read by the database so that no detail is parsed in Python (PostgreSQL: its own syntax).
    cost_usd_sql = "json_extract(detail, '$.cost.usd')"
    cost_tokens_sql = "json_extract(detail, '$.cost.tokens')"

    # -- provided by the dialect ------------------------------------------------------------------
    def _write(self) -> contextlib.AbstractContextManager[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _read(self) -> contextlib.AbstractContextManager[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sql(self, statement: str) -> str:
        return statement

    def _insert_id(self, cur: Any, statement: str, params: Sequence[Any]) -> int:
        """Run an INSERT and return the new row's id."""
        cur.execute(self._sql(statement + " RETURNING id"), params)
        return int(cur.fetchone()[0])

    # -- helpers ----------------------------------------------------------------------------------
    def _one(self, cur: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        cur.execute(self._sql(statement), params)
        return cur.fetchone()

    def _all(self, cur: Any, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        cur.execute(self._sql(statement), params)
        return list(cur.fetchall())

    def _exec(self, cur: Any, statement: str, params: Sequence[Any] = ()) -> int:
        cur.execute(self._sql(statement), params)
        return int(cur.rowcount or 0)

    # -- evidence ---------------------------------------------------------------------------------
    def evidence(self) -> dict[tuple[str, str], Evidence]:
        with self._read() as cur:
            return self.evidence_in(cur)

    def evidence_in(self, cur: Any) -> dict[tuple[str, str], Evidence]:
        """Every evidence row, read through an open cursor (inside a caller's transaction)."""
        out = {}
        for r in self._all(cur, "SELECT category, arm, s, f, t, n, sum_r, sum_r2 FROM evidence"):
            ev = rows.evidence(r[2:])
            if ev is None:
                rows.damaged("evidence", f"({r[0]}, {r[1]})", "its arm is taken as untried")
                continue
            out[(r[0], r[1])] = ev
        return out

    def evidence_and_changes(
        self,
    ) -> tuple[dict[tuple[str, str], Evidence], dict[tuple[str, str], float]]:
        with self._read() as cur:
            found = self._all(
                cur, "SELECT category, arm, s, f, t, n, sum_r, sum_r2, changed_at FROM evidence"
            )
        evidence, changed = {}, {}
        for r in found:
            ev = rows.evidence(r[2:8])
            if ev is None:
                rows.damaged("evidence", f"({r[0]}, {r[1]})", "its arm is taken as untried")
                continue
            evidence[(r[0], r[1])] = ev
            at = rows.num(r[8])
            if at:
                changed[(r[0], r[1])] = at
        return evidence, changed

    def drifts(self) -> dict[tuple[str, str], Drift]:
        with self._read() as cur:
            return self.drifts_in(cur)

    def drifts_in(self, cur: Any) -> dict[tuple[str, str], Drift]:
        from rota.learning.change import Drift

        columns, _ = _drift_sql()
        found = self._all(cur, f"SELECT category, arm, {columns} FROM evidence")  # noqa: S608
        out = {}
        for r in found:
            d = rows.drift(r[2:], Drift)
            if d is not None:  # a damaged test starts again (learning.change.NO_DRIFT)
                out[(r[0], r[1])] = d
        return out

    def _locked_arm(
        self, cur: Any, category: str, arm: str, now: float
    ) -> tuple[dict[tuple[str, str], Evidence], dict[tuple[str, str], Drift]]:
        """Every evidence row of `arm` with its change test, for a grade in `category`: the rows
        it changes (step.rows_of) are created first if missing (empty, at `now`), and locked in
        that order; the arm's overall row comes first, so every writer of the arm waits there and
        an arm-wide change may then rewrite the arm's other rows.

        A damaged row starts again from nothing, and one stamped by a clock that was ahead is
        taken as of now (rota.clock): either would otherwise stop the arm from learning."""
        from rota.clock import believable_evidence
        from rota.learning import step
        from rota.learning.change import Drift

        columns, _ = _drift_sql()
        wall = max(now, time.time())
        for cat, name in step.rows_of(category, arm):
            self._exec(
                cur,
                "INSERT INTO evidence (category, arm, s, f, t, n, sum_r, sum_r2) "
                "VALUES (?, ?, 0, 0, ?, 0, 0, 0) ON CONFLICT (category, arm) DO NOTHING",
                (cat, name, now),
            )
            self._one(
                cur,
                "SELECT t FROM evidence WHERE category = ? AND arm = ?"  # noqa: S608
                + self.for_update,  # a class constant ("" or " FOR UPDATE"), never data
                (cat, name),
            )
        found = self._all(
            cur,
            f"SELECT category, s, f, t, n, sum_r, sum_r2, {columns} FROM evidence "  # noqa: S608
            "WHERE arm = ?",
            (arm,),
        )
        locked, drifts = {}, {}
        for r in found:
            ev = rows.evidence(r[1:7])
            if ev is None:
                rows.damaged("evidence", f"({r[0]}, {arm})", "it starts again from nothing")
                ev = Evidence(t=now)
            ev, warning = believable_evidence(ev, wall)
            if warning:
                _clock_warning(f"{warning}: ({r[0]}, {arm})")
            locked[(r[0], arm)] = ev
            d = rows.drift(r[7:], Drift)
            if d is not None:
                if d.changed_at > wall:  # a change found by a clock that was ahead: found now
                    d = d._replace(changed_at=wall)
                drifts[(r[0], arm)] = d
        return locked, drifts

    def _save_rows(
        self,
        cur: Any,
        learnt: Mapping[tuple[str, str], Evidence],
        drifts: Mapping[tuple[str, str], Drift] | None = None,
    ) -> None:
        """Write evidence rows, new or replaced, each with its change test (a fresh one when
        `drifts` has none for it): the one statement that writes them."""
        from rota.learning.change import NO_DRIFT

        _, save = _drift_sql()
        drifts = drifts or {}
        for (cat, name), ev in learnt.items():
            d = drifts.get((cat, name)) or NO_DRIFT
            self._exec(cur, save, (cat, name, ev.s, ev.f, ev.t, ev.n, ev.sum_r, ev.sum_r2, *d))

    # -- decisions and sessions -------------------------------------------------------------------
    def record_decision(self, decision: Mapping[str, Any], *, workspace: str, machine: str) -> int:
        # The explanation keeps what the columns do not (Decision.to_record(): numbers and codes).
        body = {k: v for k, v in decision.items() if k not in ("decided_at", "category", "arm")}
        with self._write() as cur:
            return self._insert_id(
                cur,
                "INSERT INTO decisions (at, category, arm, workspace, machine, explanation) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    float(decision.get("decided_at") or 0.0),
                    str(decision.get("category") or ""),
                    decision.get("arm"),
                    workspace,
                    machine,
                    dumps(body),
                ),
            )

    def last_decision(self, workspace: str | None = None) -> dict[str, Any] | None:
        """The newest stored decision (of a workspace), as recorded (the columns merged back into
        its explanation), or None; rota.learning.decision.decision_from_record reads it."""
        where, params = ("WHERE workspace = ? ", (workspace,)) if workspace else ("", ())
        with self._read() as cur:
            r = self._one(
                cur,
                "SELECT id, at, category, arm, explanation FROM decisions "  # noqa: S608
                + where  # one of two constant clauses, never data
                + "ORDER BY id DESC LIMIT 1",
                params,
            )
        if r is None:
            return None
        body = loads(r[4])
        if not isinstance(body, dict):
            body = {}
        return {
            **body,
            "id": int(r[0]),
            "decided_at": rows.num(r[1]) or 0.0,
            "category": rows.text(r[2]),
            "arm": r[3] if isinstance(r[3], str) else None,  # a damaged column names no arm
        }

    def start_session(
        self,
        *,
        category: str,
        arm: str,
        started_at: float,
        decision_id: int | None,
        pid: int | None,
        machine: str,
        workspace: str,
        log_path: str = "",
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        with self._write() as cur:
            return self._insert_id(
                cur,
                "INSERT INTO sessions (category, arm, status, started_at, decision_id, pid, "
                "machine, workspace, log_path, signals, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    category,
                    arm,
                    RUNNING,
                    started_at,
                    decision_id,
                    pid,
                    machine,
                    workspace,
                    log_path,
                    "{}",
                    dumps(compact_detail(detail or {}, arm, workspace, log_path)),
                ),
            )

    def finish_session(
        self,
        session_id: int,
        outcome: SessionOutcome,
        *,
        half_life_s: float,
        reopen: bool = False,
    ) -> SessionRecord:
        with self._write() as cur:
            return self._finish(cur, session_id, outcome, half_life_s, reopen=reopen)

    def import_session(
        self,
        *,
        category: str,
        arm: str,
        started_at: float,
        pid: int | None,
        machine: str,
        workspace: str,
        log_path: str,
        detail: Mapping[str, Any],
        outcome: SessionOutcome,
        half_life_s: float,
    ) -> int:
        with self._write() as cur:
            sid = self._insert_id(
                cur,
                "INSERT INTO sessions (category, arm, status, started_at, decision_id, pid, "
                "machine, workspace, log_path, signals, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    category,
                    arm,
                    RUNNING,
                    started_at,
                    None,
                    pid,
                    machine,
                    workspace,
                    log_path,
                    "{}",
                    dumps(compact_detail(detail, arm, workspace, log_path)),
                ),
            )
            self._finish(cur, sid, outcome, half_life_s)
            return sid

    def _finish(
        self,
        cur: Any,
        session_id: int,
        outcome: SessionOutcome,
        half_life_s: float,
        *,
        reopen: bool = False,
    ) -> SessionRecord:
        rec = self._session(cur, session_id, lock=True)
        if rec is None:
            raise KeyError(f"no session {session_id}")
        if rec.status != RUNNING and not (reopen and rec.status == ABANDONED):
            raise ValueError(f"session {session_id} is already {rec.status}")
        credited = outcome.arm_ran or rec.arm
        arm_ran = credited if credited != rec.arm else None  # NULL: the arm chosen ran
        graded_at = outcome.ended_at if outcome.reward is not None else None
        detail = dict(rec.detail)
        detail.pop("abandoned_reason", None)
        detail.update(outcome.detail)
        detail = compact_detail(detail, rec.arm, rec.workspace, rec.log_path)
        self._exec(
            cur,
            "UPDATE sessions SET status = ?, ended_at = ?, exit_code = ?, arm_ran = ?, "
            "reward = ?, graded_at = ?, signals = ?, detail = ? WHERE id = ?",
            (
                outcome.status,
                outcome.ended_at,
                outcome.exit_code,
                arm_ran,
                outcome.reward,
                graded_at,
                dumps(dict(outcome.signals)),
                dumps(detail),
                session_id,
            ),
        )
        if outcome.reward is not None:
            from rota.learning import step  # the write path: a decision never learns

            at = outcome.ended_at
            locked, drifts = self._locked_arm(cur, rec.category, credited, at)
            learnt = step.observe(
                locked, drifts, rec.category, credited, outcome.reward, at, half_life_s
            )
            self._save_rows(cur, learnt.rows, {**drifts, **learnt.drifts})
        for b in outcome.blocks:
            self._insert_block(cur, b)
        out = self._session(cur, session_id)
        assert out is not None
        return out

    def set_grade(
        self,
        session_id: int,
        reward: float,
        *,
        now: float,
        half_life_s: float,
        source: str = "manual",
        signals: Mapping[str, Any] | None = None,
    ) -> SessionRecord:
        reward = bandit.clip01(reward)
        with self._write() as cur:
            rec = self._session(cur, session_id, lock=True)
            if rec is None:
                raise KeyError(f"no session {session_id}")
            if rec.status == RUNNING:
                raise ValueError(f"session {session_id} is still running")
            arm = rec.credited_arm
            observed_at = rec.graded_at if rec.graded_at is not None else (rec.ended_at or now)
            cat = rec.category
            from rota.learning import step

            locked, drifts = self._locked_arm(cur, cat, arm, observed_at)
            if rec.reward is not None and rec.graded_at is not None:
                back = step.unobserve(
                    locked, drifts, cat, arm, rec.reward, rec.graded_at, half_life_s
                )
                locked.update(back.rows)
                drifts.update(back.drifts)
            # The corrected grade counts as observed when the session was, so it decays the same.
            learnt = step.observe(locked, drifts, cat, arm, reward, observed_at, half_life_s)
            locked.update(learnt.rows)
            drifts.update(learnt.drifts)
            self._save_rows(cur, locked, drifts)
            merged = dict(rec.signals)
            merged.update(signals or {})
            history = list(merged.get("grade_history", []))
            history.append({"reward": reward, "previous": rec.reward, "at": now, "source": source})
            merged["grade_history"] = history
            self._exec(
                cur,
                "UPDATE sessions SET reward = ?, graded_at = ?, signals = ? WHERE id = ?",
                (reward, observed_at, dumps(merged), session_id),
            )
            out = self._session(cur, session_id)
            assert out is not None
            return out

    def update_signals(self, session_id: int, signals: Mapping[str, Any]) -> None:
        with self._write() as cur:
            rec = self._session(cur, session_id, lock=True)
            if rec is None:
                raise KeyError(f"no session {session_id}")
            merged = dict(rec.signals)
            merged.update(signals)
            self._exec(
                cur,
                "UPDATE sessions SET signals = ? WHERE id = ?",
                (dumps(merged), session_id),
            )

    def _session(self, cur: Any, session_id: int, lock: bool = False) -> SessionRecord | None:
        r = self._one(
            cur,
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"  # noqa: S608 - constant columns
            + (self.for_update if lock else ""),
            (session_id,),
        )
        return rows.session(r) if r else None

    def get_session(self, session_id: int) -> SessionRecord | None:
        with self._read() as cur:
            return self._session(cur, session_id)

    def recent_sessions(
        self,
        limit: int = 20,
        *,
        status: str | None = None,
        workspace: str | None = None,
        arm: str | None = None,
        category: str | None = None,
        since: float | None = None,
    ) -> list[SessionRecord]:
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if workspace is not None:
            where.append("workspace = ?")
            params.append(workspace)
        if arm is not None and ":" in arm:
            where.append("(arm = ? OR arm_ran = ?)")
            params += [arm, arm]
        elif arm is not None:  # a harness: every arm of it
            prefix = arm + ":"
            where.append("(substr(arm, 1, ?) = ? OR substr(COALESCE(arm_ran, ''), 1, ?) = ?)")
            params += [len(prefix), prefix, len(prefix), prefix]
        if category is not None:
            where.append("category = ?")
            params.append(category)
        if since is not None:
            where.append("started_at >= ?")
            params.append(float(since))
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        params.append(int(limit))
        with self._read() as cur:
            found = self._all(
                cur,
                f"SELECT {SESSION_COLUMNS} FROM sessions{clause} "  # noqa: S608 - constant parts
                "ORDER BY started_at DESC, id DESC LIMIT ?",
                params,
            )
        return [rows.session(r) for r in found]

    def recent_outcomes(self, limit: int) -> list[tuple[str, str, float | None]]:
        with self._read() as cur:
            found = self._all(
                cur,
                "SELECT COALESCE(arm_ran, arm), status, COALESCE(ended_at, started_at) "
                "FROM sessions ORDER BY started_at DESC, id DESC LIMIT ?",
                (int(limit),),
            )
        return [
            (rows.text(r[0]), rows.text(r[1]), rows.num(r[2])) for r in found if r[1] != RUNNING
        ]

    def recent_uses(self, since: float, limit: int, levels: int = 0) -> list[Use]:
        done = (since, RUNNING, ABANDONED, INTERRUPTED)
        with self._read() as cur:
            found = self._all(cur, _RECENT_USES, (RATE_LIMITED, RATE_LIMITED, *done, int(limit)))
            recent = []
            if levels > 0 and found:
                # The same rows in the same order; a session recorded in between shifts them,
                # so a row takes a detail only from the row with its own start time.
                recent = self._all(cur, _RECENT_DETAILS, (*done, min(int(levels), len(found))))
        if recent:
            found = [
                (*row[:3], extra[1] if row[3] is None and extra[0] == row[2] else row[3])
                for row, extra in zip(found, recent, strict=False)
            ] + found[len(recent) :]
        return uses_from_rows([r for r in found if rows.usable_use(r)])

    def measured_costs(
        self, since: float, limit: int, *, exclude_category: str = "judge"
    ) -> list[tuple[str, float | None, float | None]]:
        with self._read() as cur:
            found = self._all(
                cur,
                f"SELECT COALESCE(arm_ran, arm), {self.cost_usd_sql}, {self.cost_tokens_sql} "  # noqa: S608 - class constants
                "FROM sessions WHERE started_at >= ? AND status IN (?, ?, ?) AND category <> ? "
                "ORDER BY started_at DESC, id DESC LIMIT ?",
                (since, COMPLETED, CRASHED, TIMED_OUT, exclude_category, int(limit)),
            )
        out = []
        for arm, usd, tokens in found:
            u = float(usd) if isinstance(usd, (int, float)) and not isinstance(usd, bool) else None
            t = (
                float(tokens)
                if isinstance(tokens, (int, float)) and not isinstance(tokens, bool)
                else None
            )
            out.append((str(arm), u, t))
        return out

    def running_sessions(self) -> list[SessionRecord]:
        with self._read() as cur:
            found = self._all(
                cur,
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE status = ? ORDER BY id",  # noqa: S608
                (RUNNING,),
            )
        return [rows.session(r) for r in found]

    def mark_abandoned(self, session_id: int, now: float, reason: str) -> bool:
        with self._write() as cur:
            rec = self._session(cur, session_id, lock=True)
            if rec is None or rec.status != RUNNING:
                return False
            detail = compact_detail(rec.detail, rec.arm, rec.workspace, rec.log_path)
            detail["abandoned_reason"] = reason
            self._exec(
                cur,
                "UPDATE sessions SET status = ?, ended_at = ?, detail = ? WHERE id = ? AND status = ?",
                (ABANDONED, now, dumps(detail), session_id, RUNNING),
            )
            return True

    # -- quota cache ------------------------------------------------------------------------------
    def put_quota_states(self, states: Sequence[QuotaState], *, source_key: str = "") -> None:
        with self._write() as cur:
            for s in states:
                self._exec(
                    cur,
                    # "window" is quoted: it is a reserved word in PostgreSQL.
                    'INSERT INTO quota_cache (scope_kind, scope, "window", source_key, observed_at, state) '
                    'VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope_kind, scope, "window", source_key) '
                    "DO UPDATE SET observed_at = excluded.observed_at, state = excluded.state",
                    (
                        s.scope_kind,
                        s.scope,
                        s.window,
                        source_key,
                        s.observed_at,
                        dumps(s.to_dict()),
                    ),
                )

    def cached_quota_states(self, max_age_s: float, now: float) -> list[QuotaState]:
        with self._read() as cur:
            found = self._all(
                cur,
                'SELECT state FROM quota_cache WHERE observed_at >= ? ORDER BY scope_kind, scope, "window"',
                (now - max_age_s,),
            )
        out = []
        for (text,) in found:
            d = loads(text)
            if d:
                try:
                    out.append(QuotaState.from_dict(d))
                except (TypeError, ValueError, OverflowError, AttributeError):
                    rows.damaged("quota_cache", str(d.get("scope", "?")), "it is ignored")
        return out
