"""ccusage, the log reader people already trust, as a test oracle for rota's Claude log reader.

$ROTA_CCUSAGE names its executable (`eval "$(bash .ci/ccusage.sh)"` installs the pinned version
and prints that line; .ci/run does it). Without it the comparison tests skip, saying so, except
where $ROTA_REQUIRE_CCUSAGE or $CI is set: there a missing ccusage fails them.

ccusage runs with --offline (no pricing fetch) and, as root where `unshare` exists, inside a
network namespace with no interface up, so it reaches nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

VERSION = "20.0.24"
ENABLE = 'eval "$(bash .ci/ccusage.sh)"'
BLOCK = timedelta(hours=5)


def ccusage() -> str:
    """The ccusage executable, or skip (fail where it is required)."""
    exe = os.environ.get("ROTA_CCUSAGE", "")
    if exe and os.access(exe, os.X_OK):
        return exe
    why = f"needs ccusage {VERSION} ($ROTA_CCUSAGE unset or not executable): run {ENABLE}"
    if os.environ.get("ROTA_REQUIRE_CCUSAGE") or os.environ.get("CI"):
        pytest.fail(why + " ($ROTA_REQUIRE_CCUSAGE/$CI set: a skip would hide it)", pytrace=False)
    pytest.skip(why)


def blocks(
    config_dir: Path, exe: str | None = None, timeout: float = 120.0
) -> list[dict[str, Any]]:
    """`ccusage blocks --json` over config_dir/projects, gaps left out."""
    exe = exe or ccusage()
    argv = [exe, "blocks", "--json", "--offline", "--timezone", "UTC"]
    if os.geteuid() == 0 and shutil.which("unshare"):
        argv = ["unshare", "-n", *argv]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(config_dir),
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "TZ": "UTC",
        "NO_COLOR": "1",
    }
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"ccusage exited {proc.returncode}: {proc.stderr[-800:]}"
    return [b for b in json.loads(proc.stdout)["blocks"] if not b.get("isGap")]


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def reference_blocks(stamps: list[tuple[datetime, int]]) -> list[tuple[datetime, int, int]]:
    """ccusage's block rule, for (timestamp, tokens) pairs: (start, tokens, entries) per block.

    A block starts at the UTC hour of its first entry and lasts 5 h; an entry more than 5 h after
    the block's start, or more than 5 h after the previous entry, starts the next block. An entry
    at exactly start + 5 h stays in the block.
    """
    out: list[tuple[datetime, int, int]] = []
    start = last = None
    for at, tokens in sorted(stamps):
        if start is None or last is None or at - start > BLOCK or at - last > BLOCK:
            start = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            out.append((start, 0, 0))
        s, t, n = out[-1]
        out[-1] = (s, t + tokens, n + 1)
        last = at
    return out
