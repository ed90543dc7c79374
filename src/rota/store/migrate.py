"""Copy one store's history into another (a machine's SQLite file into the fleet's PostgreSQL).

Everything is written in one transaction on the target and checked before it commits: row counts
per table, and every evidence row (so every posterior) equal to what it should be. A failed check
rolls the whole copy back.

- Decisions and sessions keep their ids when the target has none yet (so `rota grade 42` still
  means the same session); otherwise they get new ids, and sessions point at their decisions'.
- Evidence rows the target lacks are copied as they are, with their change tests. A row both
  stores have (another machine learnt about the same arm) is merged exactly: both decayed to the
  later time, then added; its change test starts afresh (two tests of different grades do not
  add up), keeping the later of the two times a change was found.
- Quota cache: the newer observation wins. Leases are not copied: they belong to live processes.
- A copy is remembered in the target's meta table; copying the same history twice is refused.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Any

from rota.errors import RotaError
from rota.learning import bandit
from rota.learning.bandit import Evidence
from rota.learning.change import NO_DRIFT
from rota.store.base import RUNNING, dumps
from rota.store.sql import SQLStore

COPIED_TABLES = ("decisions", "sessions", "blocks", "quota_cache", "evidence")
EVIDENCE_FIELDS = ("s", "f", "t", "n", "sum_r", "sum_r2")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class MigrationError(RotaError):
    """Refused or failed; nothing was written to the target."""

    exit_code = 1


@dataclass
class MigrationReport:
    source: str
    target: str
    preserved_ids: bool
    before: dict[str, int]  # target row counts before
    source_counts: dict[str, int]
    after: dict[str, int]  # target row counts after
    evidence_rows_checked: int
    merged_evidence_rows: int
    fingerprint: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "preserved_ids": self.preserved_ids,
            "target_before": self.before,
            "source_counts": self.source_counts,
            "target_after": self.after,
            "evidence_rows_checked": self.evidence_rows_checked,
            "merged_evidence_rows": self.merged_evidence_rows,
            "fingerprint": self.fingerprint,
            "notes": self.notes,
        }


def _q(name: str) -> str:
    """A column or table name from the schema itself, checked and quoted (never from data)."""
    if not _IDENT.match(name):
        raise MigrationError(f"unexpected column name {name!r} in the schema")
    return f'"{name}"'


def _columns(store: SQLStore, cur: Any, table: str) -> list[str]:
    from rota.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        rows = cur.execute(f"PRAGMA table_info({_q(table)})").fetchall()
        return [r[1] for r in rows]
    rows = store._all(
        cur,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        (table,),
    )
    return [r[0] for r in rows]


def _counts(store: SQLStore, cur: Any) -> dict[str, int]:
    # table names come from the constant tuple, never from data
    return {
        t: int(store._one(cur, f"SELECT COUNT(*) FROM {_q(t)}")[0])  # noqa: S608
        for t in COPIED_TABLES
    }


def _rows(store: SQLStore, cur: Any, table: str, cols: list[str], order: str = "") -> list[dict]:
    names = ", ".join(_q(c) for c in cols)
    rows = store._all(cur, f"SELECT {names} FROM {_q(table)}{order}")  # noqa: S608
    return [dict(zip(cols, r, strict=True)) for r in rows]


def _insert(store: SQLStore, cur: Any, table: str, row: dict, *, returning: bool) -> int | None:
    cols = list(row)
    statement = (
        f"INSERT INTO {_q(table)} ({', '.join(_q(c) for c in cols)}) "  # noqa: S608
        f"VALUES ({', '.join('?' for _ in cols)})"
    )
    params = [row[c] for c in cols]
    if returning:
        return store._insert_id(cur, statement, params)
    store._exec(cur, statement, params)
    return None


def _close(x: float, y: float) -> bool:
    return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))


def _same(a: Evidence, b: Evidence) -> bool:
    return a.n == b.n and all(_close(getattr(a, f), getattr(b, f)) for f in EVIDENCE_FIELDS)


def fingerprint(store: SQLStore, cur: Any) -> str:
    """Identifies a history: the same source copied twice gives the same fingerprint."""
    h = hashlib.sha256()
    for r in store._all(cur, "SELECT id, started_at, arm, machine FROM sessions ORDER BY id"):
        h.update(repr((int(r[0]), float(r[1]), r[2], r[3])).encode())
    for r in store._all(cur, "SELECT id, at, category FROM decisions ORDER BY id"):
        h.update(repr((int(r[0]), float(r[1]), r[2])).encode())
    for key, ev in sorted(store.evidence_in(cur).items()):
        h.update(repr((key, ev.n, ev.t)).encode())
    return h.hexdigest()[:24]


def migrate(
    src: SQLStore,
    dst: SQLStore,
    *,
    half_life_s: float,
    force: bool = False,
    allow_running: bool = False,
) -> MigrationReport:
    with src._read() as scur:
        src_counts = _counts(src, scur)
        fp = fingerprint(src, scur)
        running = int(
            src._one(scur, "SELECT COUNT(*) FROM sessions WHERE status = ?", (RUNNING,))[0]
        )
        if running and not allow_running:
            raise MigrationError(
                f"the source has {running} running session(s); stop rota there first "
                "(the timer and any `rota run`), or pass --allow-running to copy them as they are"
            )
        tables = {}
        for t in ("decisions", "sessions", "blocks", "quota_cache"):
            tables[t] = _columns(src, scur, t)
        src_rows = {
            "decisions": _rows(src, scur, "decisions", tables["decisions"], " ORDER BY id"),
            "sessions": _rows(src, scur, "sessions", tables["sessions"], " ORDER BY id"),
            "blocks": _rows(src, scur, "blocks", tables["blocks"], " ORDER BY id"),
            "quota_cache": _rows(src, scur, "quota_cache", tables["quota_cache"]),
        }
        src_ev = src.evidence_in(scur)
        src_drifts = src.drifts_in(scur)

    notes: list[str] = []
    with dst._write() as cur:
        marker = f"migrated:{fp}"
        seen = dst._one(cur, "SELECT value FROM meta WHERE key = ?", (marker,))
        if seen and not force:
            raise MigrationError(
                f"this history was already copied into {dst.url} ({seen[0]}); "
                "pass --force to copy it again"
            )
        before = _counts(dst, cur)
        dst_cols = {t: set(_columns(dst, cur, t)) for t in tables}
        for t, cols in tables.items():
            missing = [c for c in cols if c not in dst_cols[t]]
            if missing:
                raise MigrationError(
                    f"the target's {t} table lacks column(s) {', '.join(missing)}: "
                    "upgrade rota on the machine that created the target, then retry"
                )
        preserve = before["decisions"] == 0 and before["sessions"] == 0
        dst_ev = dst.evidence_in(cur)
        dst_drifts = dst.drifts_in(cur)

        decision_ids: dict[int, int] = {}
        for row in src_rows["decisions"]:
            old = int(row["id"])
            if preserve:
                _insert(dst, cur, "decisions", row, returning=False)
                decision_ids[old] = old
            else:
                body = {k: v for k, v in row.items() if k != "id"}
                decision_ids[old] = int(_insert(dst, cur, "decisions", body, returning=True) or 0)
        for row in src_rows["sessions"]:
            body = dict(row)
            if body.get("decision_id") is not None:
                body["decision_id"] = decision_ids.get(int(body["decision_id"]))
            if preserve:
                _insert(dst, cur, "sessions", body, returning=False)
            else:
                body.pop("id")
                _insert(dst, cur, "sessions", body, returning=True)
        for row in src_rows["blocks"]:
            _insert(
                dst, cur, "blocks", {k: v for k, v in row.items() if k != "id"}, returning=False
            )
        if preserve and not _is_sqlite(dst):
            # Explicit ids do not advance PostgreSQL's identity sequences: move them past the copy.
            for t in ("decisions", "sessions", "blocks"):
                dst._exec(
                    cur,
                    f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "  # noqa: S608 - constant
                    f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {t}), 1))",
                )
        qkeys = ("scope_kind", "scope", "window", "source_key")
        dst_q = {
            tuple(r[k] for k in qkeys): r
            for r in _rows(dst, cur, "quota_cache", sorted(dst_cols["quota_cache"]))
        }
        for row in src_rows["quota_cache"]:
            key = tuple(row[k] for k in qkeys)
            old = dst_q.get(key)
            if old is None:
                _insert(dst, cur, "quota_cache", row, returning=False)
            elif float(row["observed_at"]) > float(old["observed_at"]):
                dst._exec(
                    cur,
                    "UPDATE quota_cache SET observed_at = ?, state = ? WHERE scope_kind = ? "
                    'AND scope = ? AND "window" = ? AND source_key = ?',
                    (row["observed_at"], row["state"], *key),
                )

        expected = dict(dst_ev)
        merged = 0
        for key, ev in src_ev.items():
            drift = src_drifts.get(key, NO_DRIFT)
            if key in dst_ev:
                expected[key] = bandit.merge(dst_ev[key], ev, half_life_s)
                mine = dst_drifts.get(key, NO_DRIFT)
                drift = NO_DRIFT._replace(changed_at=max(drift.changed_at, mine.changed_at))
                merged += 1
            else:
                expected[key] = ev
            dst._save_rows(cur, {key: expected[key]}, {key: drift})
        if merged:
            notes.append(
                f"{merged} evidence row(s) existed in both stores and were merged "
                f"(half-life {half_life_s / 86400:g} days)"
            )

        # -- the checks: any mismatch raises, and the transaction rolls back ------------------
        after = _counts(dst, cur)
        want = {
            "decisions": before["decisions"] + src_counts["decisions"],
            "sessions": before["sessions"] + src_counts["sessions"],
            "blocks": before["blocks"] + src_counts["blocks"],
            "quota_cache": len(
                set(dst_q) | {tuple(r[k] for k in qkeys) for r in src_rows["quota_cache"]}
            ),
            "evidence": len(expected),
        }
        bad = [f"{t}: {after[t]} rows, expected {n}" for t, n in want.items() if after[t] != n]
        got_ev = dst.evidence_in(cur)
        for key, ev in expected.items():
            if key not in got_ev or not _same(got_ev[key], ev):
                bad.append(f"evidence {key[0]}/{key[1]}: {got_ev.get(key)} != {ev}")
        if preserve:
            for t, rows in (
                ("sessions", src_rows["sessions"]),
                ("decisions", src_rows["decisions"]),
            ):
                cols = tables[t]
                copied = {int(r["id"]): r for r in _rows(dst, cur, t, cols)}
                for r in rows:
                    if copied.get(int(r["id"])) != r:
                        bad.append(f"{t} {r['id']} differs after the copy")
                        break
        if bad:
            raise MigrationError(
                "the copy did not check out, nothing was written: " + "; ".join(bad[:5])
            )
        dst._exec(
            cur,
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (
                marker,
                dumps({"from": src.url, "at": time.time(), "counts": src_counts}),
            ),
        )
    return MigrationReport(
        source=src.url,
        target=dst.url,
        preserved_ids=preserve,
        before=before,
        source_counts=src_counts,
        after=after,
        evidence_rows_checked=len(expected),
        merged_evidence_rows=merged,
        fingerprint=fp,
        notes=notes,
    )


def _is_sqlite(store: SQLStore) -> bool:
    from rota.store.sqlite import SQLiteStore

    return isinstance(store, SQLiteStore)


__all__ = [
    "MigrationError",
    "MigrationReport",
    "migrate",
]
