"""`rota store`: state store maintenance: `info`, `prune` (bounded growth) and `migrate` (one
machine's history into the fleet store)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rota.commands.common import Formatter, add_json_arg, now
from rota.errors import EXIT_OK, ConfigError, UsageError
from rota.render import print_document, table

HELP = """\
State store maintenance.

  rota store info                         where the store is, its schema version, row counts and
                                          the fleet locks held right now
  rota store prune [--dry-run]            drop what [retention] lets go: sessions and decisions
                                          older than sessions_days, old and oversized logs
  rota store migrate --to postgresql://…  copy this machine's history (by default its SQLite
                                          file) into another store, typically the fleet's

migrate writes everything in one transaction on the target and checks it before committing: row
counts per table, and every evidence row (hence every posterior) equal to the source's, or to the
exact merge with what the target already had. A failed check writes nothing. Stop rota on this
machine first (its timer and any running session).

prune leaves every posterior and every learnt quota fact as it was: posteriors live in the
evidence rows, which are never pruned, and selection reads only the last 28 days of sessions
(sessions_days is at least 30) and each harness's last outcome (always kept). Every `rota run`
prunes the same way after its session; `prune` also compacts a SQLite file (VACUUM). A running
session and its log are never touched.

Store URLs: sqlite:///ABSOLUTE/PATH, postgresql://USER:PASSWORD@HOST:PORT/DB (passwords are never
printed). Without --from, the source is the configured store if it is SQLite, else the default
SQLite file ($ROTA_STATE_DIR/rota.db); without --to, the target is the configured store
([store] url or $ROTA_STORE_URL).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "store",
        help="state store maintenance (migrate between stores)",
        description=HELP,
        formatter_class=Formatter,
    )
    p.add_argument(
        "--config", metavar="PATH", help="config file (default: $ROTA_CONFIG, else the XDG path)"
    )
    actions = p.add_subparsers(dest="store_action", metavar="ACTION")
    info = actions.add_parser("info", help="the store's location, schema and counts")
    info.add_argument("--url", help="a store URL (default: the configured store)")
    add_json_arg(info)
    info.set_defaults(func=run_info)
    prune = actions.add_parser(
        "prune",
        help="drop old sessions, decisions and logs ([retention]); posteriors are kept",
        description=HELP,
        formatter_class=Formatter,
    )
    prune.add_argument("--dry-run", action="store_true", help="say what would go, change nothing")
    add_json_arg(prune)
    prune.set_defaults(func=run_prune)
    mig = actions.add_parser(
        "migrate",
        help="copy one store's history into another",
        description=HELP,
        formatter_class=Formatter,
    )
    mig.add_argument("--from", dest="source", metavar="URL", help="source store URL")
    mig.add_argument("--to", dest="target", metavar="URL", help="target store URL")
    mig.add_argument(
        "--force", action="store_true", help="copy again a history already copied to the target"
    )
    mig.add_argument(
        "--allow-running",
        action="store_true",
        help="copy even though the source has sessions still running",
    )
    add_json_arg(mig)
    mig.set_defaults(func=run_migrate)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(p: argparse.ArgumentParser) -> int:
    raise UsageError("rota store: say `info`, `prune` or `migrate` (see rota store --help)")


def _config(args: argparse.Namespace):
    """The config when there is one: it gives the store URL and the bandit's half-life."""
    from rota.config import config_path, load_config

    path = config_path(getattr(args, "config", None))
    if not path.exists():
        if getattr(args, "config", None):
            raise ConfigError("config file not found", path=str(path))
        return None
    return load_config(path)


def _sqlite_url(path: Path) -> str:
    # open_url takes sqlite://PATH with PATH absolute: sqlite:///home/…/rota.db
    return f"sqlite://{path.resolve()}"


def _open_existing(url: str, role: str):
    """Open a store, refusing a SQLite path that does not exist (opening would create it)."""
    from rota.store import open_url

    if url.startswith("sqlite://"):
        path = url[len("sqlite://") :]
        if path and path != "/:memory:" and not os.path.exists(path):
            raise UsageError(f"{role} store {url}: no such file")
    return open_url(url)


def run_info(args: argparse.Namespace) -> int:
    from rota.store import open_url, store_url

    config = _config(args)
    url = args.url if args.url is not None else store_url(config)
    with _open_existing(url, "the") if url else open_url(url) as store:
        t = now()
        data = {
            "url": store.url,
            "kind": "postgresql" if store.url.startswith("postgres") else "sqlite",
            "store_schema": _schema_version(store),
            "counts": store.counts(),
            "locks": [lease.to_dict() for lease in store.leases(t)],
            "machines": [m.to_dict() for m in store.machine_summary(0.0)],
        }
    if args.json:
        print_document(data)
        return EXIT_OK
    print(f"store    {data['url']}")
    print(f"kind     {data['kind']}, schema version {data['store_schema']}")
    print("rows     " + ", ".join(f"{k} {v}" for k, v in data["counts"].items()))
    if data["machines"]:
        print(
            "machines "
            + ", ".join(f"{m['machine'] or '-'} ({m['sessions']})" for m in data["machines"])
        )
    print(f"locks    {len(data['locks'])} held")
    return EXIT_OK


def _schema_version(store) -> int:
    fn = getattr(store, "schema_version", None)
    if callable(fn):
        return int(fn())
    conn = getattr(store, "conn", None)
    if conn is not None:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    return 0


def run_prune(args: argparse.Namespace) -> int:
    from rota.config import RetentionSettings
    from rota.session.paths import state_dir
    from rota.store import open_store
    from rota.store.retention import prune

    config = _config(args)
    retention = config.retention if config else RetentionSettings()
    t = now()
    with open_store(config) as store:
        before = _file_size(store)
        report = prune(store, state_dir() / "logs", retention, t, dry_run=args.dry_run)
        if not args.dry_run and report.sessions:
            _vacuum(store)
        after = _file_size(store)
    data = report.to_dict()
    data["store_bytes_before"], data["store_bytes_after"] = before, after
    if args.json:
        print_document(data)
        return EXIT_OK
    verb = "would drop" if args.dry_run else "dropped"
    rows = ", ".join(f"{n} {table_name}" for table_name, n in report.rows.items())
    print(f"{verb} {rows} (sessions started before {_day(report.cutoff)})")
    print(
        f"{verb} {report.log_files} log files, capped {report.logs_capped} "
        f"({report.log_bytes / 1e6:.1f} MB)"
    )
    if before is not None and after is not None and not args.dry_run:
        print(f"store file {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    print("posteriors and learnt quota facts are unchanged (they are not in what was dropped)")
    return EXIT_OK


def _day(ts: float) -> str:
    from rota.timefmt import utc

    return utc(ts, "%Y-%m-%d")


def _file_size(store) -> int | None:
    path = getattr(store, "file", None)
    try:
        return os.path.getsize(path) if path and path != ":memory:" else None
    except OSError:
        return None


def _vacuum(store) -> None:
    """Give the freed pages back to the disk (SQLite only; PostgreSQL autovacuums)."""
    conn = getattr(store, "conn", None)
    if conn is not None and getattr(store, "file", None):
        import contextlib
        import sqlite3

        with contextlib.suppress(sqlite3.Error):
            conn.execute("VACUUM")


def run_migrate(args: argparse.Namespace) -> int:
    from rota.config import BanditSettings
    from rota.store import store_url
    from rota.store.migrate import migrate
    from rota.store.sqlite import default_db_path

    config = _config(args)
    configured = store_url(config)
    source = args.source
    if not source:
        source = configured if configured.startswith("sqlite:") else _sqlite_url(default_db_path())
    target = args.target or configured
    if not target:
        raise UsageError("give the target store: rota store migrate --to postgresql://…")
    if source == target:
        raise UsageError(f"source and target are the same store ({source})")
    half_life_s = (config.bandit if config else BanditSettings()).half_life_s
    from rota.store import open_url

    with _open_existing(source, "source") as src, open_url(target) as dst:
        report = migrate(
            src,  # type: ignore[arg-type]
            dst,  # type: ignore[arg-type]
            half_life_s=half_life_s,
            force=args.force,
            allow_running=args.allow_running,
        )
    if args.json:
        print_document(report.to_dict())
        return EXIT_OK
    print(f"copied {report.source} -> {report.target}")
    rows = [
        [t, report.source_counts[t], report.before[t], report.after[t]]
        for t in report.source_counts
    ]
    print(table(["table", "source", "target before", "target after"], rows, indent="  "))
    print(
        f"checked: row counts, and {report.evidence_rows_checked} evidence rows (posteriors) equal"
        + ("; session and decision ids kept" if report.preserved_ids else "; new ids assigned")
    )
    for note in report.notes:
        print(f"note: {note}")
    return EXIT_OK
