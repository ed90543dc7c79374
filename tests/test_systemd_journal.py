"""Journal lines: one event per line, key=value, quoted when needed, secrets never written."""

from __future__ import annotations

import io
import os
import shlex
import socket
import subprocess
import sys

import pytest

from rota import journal


def test_format_is_one_line_of_key_values() -> None:
    line = journal.format_event(
        "decision",
        {
            "session": 42,
            "arm": "claude-code:opus",
            "reason": 'best draw 0.81 (n=12) "tied"',
            "x": None,
        },
    )
    assert line == (
        'rota: decision session=42 arm=claude-code:opus reason="best draw 0.81 (n=12) \\"tied\\""'
    )
    # The quoting is shell-compatible, so the line splits back into its fields.
    assert shlex.split(line)[2:] == [
        "session=42",
        "arm=claude-code:opus",
        'reason=best draw 0.81 (n=12) "tied"',
    ]


def test_values_are_normalised() -> None:
    line = journal.format_event(
        "grade",
        {
            "reward": 0.723456,
            "ok": True,
            "empty": "",
            "tags": ["a", "b"],
            "text": "line1\nline2\ttab",
        },
    )
    assert line == 'rota: grade reward=0.7235 ok=true empty="" tags=a,b text="line1 line2 tab"'
    long = journal.format_event("x", {"v": "y" * 1000})
    assert len(long) < journal.MAX_VALUE_CHARS + 20


def test_secrets_are_redacted_by_key_and_by_shape() -> None:
    line = journal.format_event(
        "outcome",
        {
            "api_key": "abc",
            "ANTHROPIC_AUTH_TOKEN": "whatever",
            "password": "hunter2",
            "stderr": "401 with key sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345 and Bearer eyJhbGciOi.x",
            "note": "ghp_0123456789abcdefghijABCDEFGHIJ012345 leaked",
        },
    )
    for secret in ("abc", "whatever", "hunter2", "sk-ant-api03", "ghp_0123", "eyJhbGciOi"):
        assert secret not in line.split("rota: outcome", 1)[1].replace("api_key", ""), secret
    assert line.count(journal.REDACTED) == 6  # two in stderr


def test_helpers_write_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    journal.session_start(7, category="code", workspace="/home/me/ws")
    journal.decision(7, arm="codex:gpt-5.4", category="code", reason="best draw", score=0.61)
    journal.outcome(7, status="completed", arm_ran="codex:gpt-5.4", duration_s=1520.04, exit_code=0)
    journal.grade(7, reward=0.72, commits=3)
    journal.grade(8, reward=None)
    journal.exit_code(0)
    journal.exit_code(76, reason="every arm exhausted", earliest_reset="2026-11-28T03:00:00Z")
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "rota: start session=7 category=code workspace=/home/me/ws",
        'rota: decision session=7 arm=codex:gpt-5.4 category=code reason="best draw" score=0.61',
        "rota: outcome session=7 status=completed arm_ran=codex:gpt-5.4 duration_s=1520 harness_exit=0",
        "rota: grade session=7 reward=0.72 commits=3",
        "rota: grade session=8 reward=none",
        "rota: exit code=0",
        'rota: exit code=76 reason="every arm exhausted" earliest_reset=2026-11-28T03:00:00Z',
    ]


def test_closed_stream_never_raises() -> None:
    s = io.StringIO()
    s.close()
    assert journal.log_event("start", stream=s, session=1) == "rota: start session=1"


def test_priority_prefix_only_when_stderr_is_the_journal() -> None:
    # systemd hands services a socket and names it in $JOURNAL_STREAM=dev:inode.
    a, b = socket.socketpair()
    try:
        code = (
            "import os, sys; st = os.fstat(2); "
            "os.environ['JOURNAL_STREAM'] = f'{st.st_dev}:{st.st_ino}'; "
            "from rota import journal; journal.exit_code(70, reason='crashed'); "
            "journal.log_event('start', session=1)"
        )
        subprocess.run([sys.executable, "-c", code], stderr=b.fileno(), check=True, timeout=30)
        b.close()
        a.settimeout(10)
        data = b""
        while chunk := a.recv(4096):
            data += chunk
    finally:
        a.close()
    assert data.decode().splitlines() == [
        "<3>rota: exit code=70 reason=crashed",
        "<6>rota: start session=1",
    ]
    # A terminal or a file gets no prefix, even with JOURNAL_STREAM set (a child of a service).
    env = dict(os.environ, JOURNAL_STREAM="1:2")
    proc = subprocess.run(
        [sys.executable, "-c", "from rota import journal; journal.exit_code(0)"],
        env=env, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert proc.stderr == "rota: exit code=0\n"
