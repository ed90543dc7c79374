"""Shared behaviour of the fake harness executables in this directory.

A fake picks its behaviour ("mode") for each call, in order:
  1. $FAKE_DIR/schedule.json: {"<global call number>": "mode"} over all fakes' calls (1-based);
  2. the next line of $FAKE_DIR/<name>.queue (the line is consumed);
  3. $FAKE_MODE;
  4. "ok".
Every call is appended to $FAKE_DIR/calls.jsonl: argv, cwd, mode, pid, pgid, the ROTA_* variables
it got and a hash of $FAKE_SECRET (never the value). Output shapes come from the fixtures in the
repository ($FAKE_FIXTURES, by default tests/fixtures).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

FAKE_DIR = Path(os.environ.get("FAKE_DIR", "."))
FIXTURES = Path(
    os.environ.get("FAKE_FIXTURES") or Path(__file__).resolve().parent.parent / "fixtures"
)


def _locked(path: Path):
    fh = open(path, "a+")
    fcntl.flock(fh, fcntl.LOCK_EX)
    fh.seek(0)
    return fh


def next_mode(name: str) -> str:
    FAKE_DIR.mkdir(parents=True, exist_ok=True)
    with _locked(FAKE_DIR / "counter") as fh:
        text = fh.read().strip()
        n = int(text or 0) + 1
        fh.seek(0)
        fh.truncate()
        fh.write(str(n))
    sched = FAKE_DIR / "schedule.json"
    if sched.exists():
        mode = json.loads(sched.read_text()).get(str(n))
        if mode:
            return str(mode)
    queue = FAKE_DIR / f"{name}.queue"
    if queue.exists():
        with _locked(queue) as fh:
            lines = fh.read().splitlines()
            if lines:
                fh.seek(0)
                fh.truncate()
                fh.write("".join(line + "\n" for line in lines[1:]))
                return lines[0].strip()
    return os.environ.get("FAKE_MODE", "ok")


def record(name: str, mode: str, **extra: object) -> None:
    secret = os.environ.get("FAKE_SECRET")
    entry = {
        "name": name,
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "mode": mode,
        "pid": os.getpid(),
        "pgid": os.getpgid(0),
        "sid": os.getsid(0),
        "env": {k: v for k, v in os.environ.items() if k.startswith("ROTA_") or k == "PWD"},
        "secret_sha": hashlib.sha256(secret.encode()).hexdigest() if secret else None,
        **extra,
    }
    with _locked(FAKE_DIR / "calls.jsonl") as fh:
        fh.write(json.dumps(entry) + "\n")


def commit(message: str) -> None:
    """A real commit in the workspace (the current directory)."""
    n = len(list(Path(".").glob("work-*.txt"))) + 1
    p = Path(f"work-{n}-{os.getpid()}.txt")
    p.write_text(f"{message}\n")
    subprocess.run(["git", "add", str(p)], check=True, capture_output=True)
    subprocess.run(["git", "commit", "-q", "-m", message], check=True, capture_output=True)


def fixture_text(*parts: str) -> str:
    return FIXTURES.joinpath(*parts).read_text(encoding="utf-8")


def hang(name: str, *, ignore_term: bool = False) -> None:
    """Start a grandchild in our process group, say so in $FAKE_DIR/<name>.pids, never finish."""
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen(["sleep", "600"])
    (FAKE_DIR / f"{name}.pids.tmp").write_text(
        json.dumps({"pid": os.getpid(), "pgid": os.getpgid(0), "child": child.pid})
    )
    os.replace(FAKE_DIR / f"{name}.pids.tmp", FAKE_DIR / f"{name}.pids")
    while True:
        time.sleep(0.2)


def wait_release(name: str) -> None:
    """Say we started ($FAKE_DIR/<name>.started), then wait for $FAKE_DIR/release (<= 60 s)."""
    (FAKE_DIR / f"{name}.started").write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not (FAKE_DIR / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
