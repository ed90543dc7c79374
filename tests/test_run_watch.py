"""Watching a session: what the harness is doing in a few words, the live line, --follow."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from conftest import FIXTURES
from rota.session.activity import describe
from rota.session.execute import LogFile
from rota.session.live import Follow, LiveLine, WatchedLog, clock_text, watching_allowed


def test_claude_stream_json_says_what_the_agent_does() -> None:
    lines = (FIXTURES / "claude" / "stream" / "session-ok.jsonl").read_text().splitlines()
    said = [describe(line) for line in lines]
    assert said[0] == "started (claude-sonnet-4-6)"
    assert "Bash: pytest -q" in said
    assert "Bash: git commit -am 'fix: handle empty task list'" in said
    assert said[-1] == "finished: Fixed the empty task list crash and committed."
    # A tool's result or a usage event says nothing new.
    assert describe(lines[1]) is None


@pytest.mark.parametrize(
    ("event", "said"),
    [
        ({"type": "thread.started", "thread_id": "x"}, "started"),
        (
            {
                "type": "item.started",
                "item": {"type": "command_execution", "command": "bash -lc ls"},
            },
            "$ bash -lc ls",
        ),
        (
            {
                "type": "item.completed",
                "item": {"type": "file_change", "changes": [{"path": "a.py"}]},
            },
            "edited a.py",
        ),
        (
            {"type": "item.completed", "item": {"type": "agent_message", "text": "Done.\nMore"}},
            "Done.",
        ),
        ({"type": "item.started", "item": {"type": "reasoning"}}, "thinking"),
        (
            {"type": "turn.failed", "error": {"message": "stream disconnected"}},
            "failed: stream disconnected",
        ),
        ({"type": "turn.completed", "usage": {}}, None),
        (
            {"type": "tool_use", "tool_name": "read_file", "parameters": {"path": "x.md"}},
            "read_file: x.md",
        ),
        ({"type": "message", "role": "assistant", "content": "Looking at it"}, "Looking at it"),
    ],
)
def test_codex_and_gemini_events(event: dict, said: str | None) -> None:
    assert describe(json.dumps(event)) == said


def test_plain_text_harnesses() -> None:
    assert describe("\x1b[1mRunning tests\x1b[0m  ") == "Running tests"
    assert describe("─────────") is None
    assert describe("   ") is None
    assert describe("{not json at all") == "{not json at all"


def test_clock_text() -> None:
    assert [clock_text(s) for s in (5, 65, 3725)] == ["5s", "1m 05s", "1h 02m"]


def test_watching_is_for_a_person_at_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert watching_allowed(Tty(), {"TERM": "xterm"})
    assert not watching_allowed(Tty(), {"JOURNAL_STREAM": "8:1234"})  # under systemd
    assert not watching_allowed(io.StringIO(), {})  # piped, or a timer's output
    assert not watching_allowed(Tty(), {"TERM": "dumb"})


def test_the_log_shows_each_line_to_the_watchers(tmp_path: Path) -> None:
    seen: list[tuple[str, bytes]] = []

    class Recorder:
        def line(self, origin: str, text: bytes) -> None:
            seen.append((origin, text))

    log = WatchedLog(LogFile(tmp_path / "s.log"), [Recorder()])
    log.write(b"hello\n")
    log.write(b"[stderr] oops\n")
    log.note("harness: exit 0")
    log.write(b"part")
    log.write(b"ial\n")
    log.close()
    assert seen == [
        ("stdout", b"hello"),
        ("stderr", b"oops"),
        ("rota", b"harness: exit 0"),
        ("stdout", b"partial"),
    ]
    assert (tmp_path / "s.log").read_bytes() == (
        b"hello\n[stderr] oops\n[rota] harness: exit 0\npartial\n"
    )


def test_live_line_renders_arm_elapsed_and_activity() -> None:
    out = io.StringIO()
    t = [100.0]
    live = LiveLine(
        out, arm="claude-code:opus", log_path="/l/1.log", width=lambda: 60, clock=lambda: t[0]
    )
    live.start()
    t[0] = 347.0
    live.line(
        "stdout",
        json.dumps(
            {
                "type": "assistant",
                "message": {
                    "content": [
                        {
                            "type": "tool_use",
                            "name": "Bash",
                            "input": {"command": "pytest -q tests/test_a_very_long_name.py"},
                        }
                    ]
                },
            }
        ).encode(),
    )
    live.line("rota", b"harness: exit 0")  # rota's notes are not the harness
    text = live.render()
    assert text.startswith("claude-code:opus \u00b7 4m 07s \u00b7 Bash: pytest -q")
    assert len(text) == 59 and text.endswith("\u2026")
    live.stop()
    screen = out.getvalue()
    assert screen.startswith("rota: running claude-code:opus; log /l/1.log\n")
    assert screen.endswith("\r\x1b[K")  # the line is cleared at the end


def test_follow_streams_stdout_and_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    f = Follow(out, err)
    f.line("stdout", b"working")
    f.line("stderr", b"warning: x")
    f.line("rota", b"note")
    assert out.getvalue() == "working\n" and err.getvalue() == "warning: x\n"
