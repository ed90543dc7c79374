"""Shared helpers for the systemd/health tests: a fake `systemctl` executable and a config.

The fake is a real executable on PATH (run as a subprocess by rota). It appends each argv to a
JSON-lines log and answers `show` / `is-active` from environment variables.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from rota.systemd import systemctl

# systemd-analyze validates calendar expressions and computes next fires; CI installs it.
needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze missing (apt-get install systemd)",
)

FAKE_SYSTEMCTL = """\
#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_SYSTEMCTL_LOG"], "a") as fh:
    fh.write(json.dumps(args) + "\\n")
words = [a for a in args if not a.startswith("-")]
cmd = words[0] if words else ""
if cmd == "show":
    print(os.environ.get("FAKE_SYSTEMCTL_SHOW", ""))
    sys.exit(0)
if cmd == "is-active":
    state = os.environ.get("FAKE_SYSTEMCTL_ACTIVE", "active")
    print(state)
    sys.exit(0 if state == "active" else 3)
if cmd == "is-system-running":
    print("running")
    sys.exit(0)
fail = os.environ.get("FAKE_SYSTEMCTL_FAIL", "")
if fail and fail == cmd:
    print("Failed to " + cmd + ": simulated", file=sys.stderr)
    sys.exit(1)
sys.exit(0)
"""

CONFIG = """\
[workspace]
path = "{workspace}"

[store]
url = "sqlite:///{db}"

[schedule]
on_calendar = "{on_calendar}"
retry_interval_minutes = 5

[health]
max_hours_without_success = 24
blocked_all_hours = 6
crash_streak = 3

[harnesses.claude-code]
timeout_minutes = 90
[harnesses.claude-code.models]
opus = {{ tier = "high", cost = 5.0 }}
sonnet = {{ tier = "medium", cost = 1.5 }}

[harnesses.codex]
timeout_minutes = 30
[harnesses.codex.models]
"gpt-5.4" = {{ tier = "medium", cost = 1.0 }}
"""


class Env:
    """An isolated HOME/config/state with a fake systemctl first on PATH."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.home = root / "home"
        self.home.mkdir(parents=True)
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "systemctl.log"
        self.db = root / "state" / "rota.db"
        self.config = root / "rota.toml"
        self.workspace = root / "ws"
        self.workspace.mkdir()
        exe = self.bin / "systemctl"
        exe.write_text(FAKE_SYSTEMCTL.format(python=sys.executable))
        exe.chmod(0o755)
        self.mp = monkeypatch
        monkeypatch.setenv("HOME", str(self.home))
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
        monkeypatch.delenv("XDG_STATE_HOME", raising=False)
        monkeypatch.delenv("ROTA_STORE_URL", raising=False)
        monkeypatch.delenv("ROTA_CONFIG", raising=False)
        monkeypatch.setenv("ROTA_STATE_DIR", str(root / "state"))
        monkeypatch.setenv("NO_COLOR", "1")
        monkeypatch.setenv("FAKE_SYSTEMCTL_LOG", str(self.log))
        monkeypatch.setenv("PATH", f"{self.bin}:{__import__('os').environ['PATH']}")
        self.write_config()
        self.systemd(False)

    @property
    def user_units(self) -> Path:
        return self.home / ".config" / "systemd" / "user"

    def write_config(self, on_calendar: str = "*-*-* *:00,30:00", extra: str = "") -> Path:
        self.config.write_text(
            CONFIG.format(workspace=self.workspace, db=self.db, on_calendar=on_calendar)
            + textwrap.dedent(extra)
        )
        return self.config

    def systemd(self, running: bool) -> None:
        """Pretend a systemd manager runs here (the fake systemctl answers) or not."""
        detail = "running" if running else "PID 1 is not systemd: no /run/systemd/system"
        self.mp.setattr(
            systemctl, "systemd_state", lambda *, system: systemctl.SystemdState(running, detail)
        )

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def clear_calls(self) -> None:
        if self.log.exists():
            self.log.unlink()


def run_cli(*args: str) -> int:
    from rota.cli import main

    return main(list(args))


def add_session(
    store: object,
    status: str,
    *,
    started_ago_h: float,
    duration_min: float = 20.0,
    arm: str = "claude-code:opus",
    reward: float | None = None,
    exit_code: int | None = None,
    now: float | None = None,
) -> int:
    """Record a finished session in a real store, `started_ago_h` hours before now."""
    import time

    from rota.store.base import SessionOutcome

    t = time.time() if now is None else now
    started = t - started_ago_h * 3600
    sid = store.start_session(  # type: ignore[attr-defined]
        category="code",
        arm=arm,
        started_at=started,
        decision_id=None,
        pid=None,
        machine="test",
        workspace="test:/ws",
    )
    if status != "running":
        if exit_code is None:
            exit_code = {"completed": 0, "crashed": 70, "timed_out": 70}.get(status)
        store.finish_session(  # type: ignore[attr-defined]
            sid,
            SessionOutcome(
                status=status,
                ended_at=started + duration_min * 60,
                exit_code=exit_code,
                reward=reward if status == "completed" else None,
            ),
            half_life_s=14 * 86400,
        )
    return sid
