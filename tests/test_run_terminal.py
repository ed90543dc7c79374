"""`rota run` as a person sees it: the live line at a terminal, --follow, nothing of that under
systemd; rate limits told as "blocked until …"; --arm and --harness, forced and learnt."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import sqlite3
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

from run_support import AGENT_CONFIG, RUN_CONFIG, RunEnv, new_run_env

# A harness that says what it does (one Claude-style event), then waits for the test to release
# it, then prints a last line: a session that can be watched while it runs.
SLOW = """\
import json, os, pathlib, sys, time
print("a warning on stderr", file=sys.stderr, flush=True)
time.sleep(0.2)
print(json.dumps({"type": "assistant", "message": {"content": [
    {"type": "tool_use", "name": "Bash", "input": {"command": "pytest -q"}}]}}), flush=True)
release = pathlib.Path(os.environ["SLOW_RELEASE"])
for _ in range(1200):
    if release.exists():
        break
    time.sleep(0.05)
print("all done", flush=True)
"""

SLOW_CONFIG = """
[workspace]
path = "{workspace}"

[harnesses.slow]
command = ["python3", "{script}", "{{model}}", "{{prompt}}"]
[harnesses.slow.models]
m = {{ tier = "medium" }}
"""

TWO_ARMS = AGENT_CONFIG.replace(
    'm1 = {{ tier = "medium" }}',
    'm1 = {{ tier = "medium" }}\nm2 = {{ tier = "low" }}\nm3 = {{ tier = "high", enabled = false }}',
)


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


@pytest.fixture
def slow(run_env: RunEnv) -> Path:
    script = run_env.root / "slow.py"
    script.write_text(SLOW)
    run_env.write_config(SLOW_CONFIG, script=str(script))
    run_env.env["SLOW_RELEASE"] = str(run_env.root / "release")
    return run_env.root / "release"


def _at_terminal(env: dict[str, str], cwd: Path, args: list[str], until: bytes, then: Path) -> str:
    """rota run at a real terminal (a pty): once `until` is on the screen, create `then`."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # 100 columns
        os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-m", "rota", *args], env)
    screen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
        if until in screen and not then.exists():
            then.write_text("go")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, screen.decode(errors="replace")
    return screen.decode(errors="replace")


# -- watching ---------------------------------------------------------------------------------


def test_a_live_line_at_a_terminal(run_env: RunEnv, slow: Path) -> None:
    screen = _at_terminal(run_env.env, run_env.root, ["run"], b"Bash: pytest -q", slow)
    log = run_env.sessions()[0]["log_path"]
    # The log's path first, then one line redrawn in place: arm, elapsed time, what it does.
    assert f"rota: running slow:m; log {log}" in screen
    assert "\r\x1b[Kslow:m \u00b7 " in screen and " \u00b7 Bash: pytest -q" in screen
    before = screen.index("rota: running")
    assert before < screen.index("Bash: pytest -q") < screen.index("session 1: slow:m")
    # The line is cleared before the outcome is told.
    cleared = screen.rindex("\r\x1b[K")
    assert screen[cleared:].startswith("\r\x1b[Krota: outcome session=1 status=completed")
    assert cleared < screen.index("session 1: slow:m (code) completed")
    assert "all done" not in screen  # the harness's output itself stays in the log
    assert "all done" in Path(log).read_text()


def test_follow_streams_the_harness_output(run_env: RunEnv, slow: Path) -> None:
    slow.write_text("go")  # no need to wait: nobody watches a pipe
    proc = run_env.run("run", "--follow")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith('{"type": "assistant"') and lines[1] == "all done"
    assert lines[-1].startswith("session 1: slow:m (code) completed")
    assert "; log " in lines[-1] and " ; " not in lines[-1]
    assert "a warning on stderr" in proc.stderr
    assert f"rota: running slow:m; log {run_env.sessions()[0]['log_path']}" in proc.stderr
    assert "\x1b[K" not in proc.stderr  # no live line on a pipe
    assert run_env.run("run", "--follow", "--json").returncode == 2


def test_under_systemd_nothing_but_the_journal_lines(run_env: RunEnv, slow: Path) -> None:
    run_env.env["JOURNAL_STREAM"] = "8:12345"
    screen = _at_terminal(run_env.env, run_env.root, ["run"], b"rota: start", slow)
    assert "\x1b[K" not in screen and "\u00b7" not in screen
    assert "rota: start session=1" in screen  # the journal's own line, as it was
    slow.unlink()
    slow.write_text("go")
    proc = run_env.run("run", "--follow")
    assert proc.returncode == 0
    assert "--follow ignored under systemd" in proc.stderr and "all done" not in proc.stdout


# -- rate limits -------------------------------------------------------------------------------


def test_a_rate_limit_says_until_when_in_the_one_format(run_env: RunEnv) -> None:
    run_env.config_with(RUN_CONFIG)
    run_env.env["TZ"] = "UTC"
    run_env.queue("claude", "limit-five-hour")
    proc = run_env.run("run", "--arm", "claude-code:sonnet")
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    assert "rate_limited" in line and "rate limited: " in line and "blocked until " in line
    assert " UTC (in 3h)" in line or " UTC (in 2h 59m)" in line
    session = run_env.sessions()[0]
    assert session["detail"]["limit"]["message"] not in line  # the vendor's words stay in the log


# -- forced arms -------------------------------------------------------------------------------


def test_run_on_a_chosen_arm_is_recorded_learnt_and_marked_forced(run_env: RunEnv) -> None:
    run_env.config_with(TWO_ARMS, extra='[rules.code]\npin = ["agent:m1"]\n')
    before = run_env.n("agent:m2")
    code, out, err = run_env.run_json("run", "--arm", "agent:m2")
    assert code == 0, err
    s = out["session"]
    assert s["arm"] == "agent:m2" and s["status"] == "completed" and s["reward"] is not None
    assert s["detail"]["forced"] == "--arm agent:m2"  # the pin of [rules.code] does not apply
    assert out["decision"]["why"] == "forced by --arm agent:m2"
    assert run_env.n("agent:m2") > before  # learnt like any other session
    with sqlite3.connect(run_env.state / "rota.db") as db:
        (explanation,) = db.execute(
            "SELECT explanation FROM decisions WHERE id = ?", (s["decision_id"],)
        ).fetchone()
    assert json.loads(explanation)["forced"] == "--arm agent:m2"  # the decision, marked
    text = run_env.run("sessions", str(s["id"]), check=True).stdout
    assert "(forced: --arm agent:m2)" in text
    # Without --arm the pin decides again.
    code, out, _ = run_env.run_json("run")
    assert out["session"]["arm"] == "agent:m1" and "forced" not in out["session"]["detail"]


def test_run_on_a_chosen_harness_picks_among_its_arms(run_env: RunEnv) -> None:
    run_env.config_with(RUN_CONFIG)
    code, out, err = run_env.run_json("run", "--harness", "codex")
    assert code == 0, err
    assert out["session"]["arm"] == "codex:gpt-5.4"
    assert out["session"]["detail"]["forced"] == "--harness codex"
    assert out["decision"]["why"].startswith("forced by --harness codex; ")


def test_a_forced_arm_still_respects_quota_blocks_and_the_config(run_env: RunEnv) -> None:
    run_env.config_with(TWO_ARMS)
    run_env.run("block", "agent:m2", "--for", "1h", "--reason", "testing", check=True)
    proc = run_env.run("run", "--arm", "agent:m2")
    assert proc.returncode == 76
    assert "--arm agent:m2 cannot run now: agent:m2: blocked" in proc.stderr
    assert "testing" in proc.stderr
    proc = run_env.run("run", "--arm", "agent:m3")
    assert proc.returncode == 76 and "disabled in config" in proc.stderr
    assert run_env.sessions() == []


def test_forced_names_are_checked(run_env: RunEnv) -> None:
    run_env.config_with(TWO_ARMS)
    proc = run_env.run("run", "--arm", "agent:m9")
    assert proc.returncode == 2 and "unknown arm 'agent:m9'; did you mean agent:m" in proc.stderr
    proc = run_env.run("run", "--harness", "agnet")
    assert proc.returncode == 2 and "did you mean agent?" in proc.stderr
    proc = run_env.run("run", "--arm", "agent:m1", "--harness", "agent")
    assert proc.returncode == 2 and "not allowed with" in proc.stderr
    proc = run_env.run("run", "--arm", "agent:m2", "--dry-run")
    assert proc.returncode == 0 and "forced by --arm agent:m2" in proc.stdout
    assert json.loads(run_env.run("run", "--harness", "agent", "--dry-run", "--json").stdout)[
        "decision"
    ]["arm"] in ("agent:m1", "agent:m2")


# -- the README's transcript --------------------------------------------------------------------

TRANSCRIPT_SHAPES = [
    r"^wrote \S+rota\.toml$",
    r"^workspace: \S+$",
    r"^harnesses enabled: ",
    r"^rota: start session=1 category=code workspace=\S+ arm=\S+$",
    r"^rota: running (\S+); log \S+\.log$",
    r"^\S+ \u00b7 \d+(m \d\d)?s \u00b7 Bash: ",
    r"^rota: outcome session=1 status=completed arm_ran=\S+ duration_s=[\d.]+ harness_exit=0$",
    r"^session 1: \S+ \(code\) completed in [\dms ]+, grade \d\.\d\d \(.*\); log \S+\.log$",
    r"^rota: exit code=0 reason=completed$",
    r"^session 1  completed  grade \d\.\d\d$",
]


def test_the_readme_transcript_is_what_a_terminal_shows(run_env: RunEnv) -> None:
    """Each kind of line the README's first-session transcript shows is what rota prints."""
    import re

    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    section = readme.split("### A first session at a terminal")[1].split("\n## ")[0]
    shown = [
        ln for block in section.split("```text")[1:] for ln in block.split("```")[0].splitlines()
    ]
    release = run_env.root / "release"
    script = run_env.root / "slow.py"
    script.write_text(
        SLOW.replace(
            'print("all done", flush=True)',
            "import subprocess\n"
            "open('done.txt', 'w').write('x')\n"
            "subprocess.run(['git', 'add', 'done.txt'], check=True)\n"
            "subprocess.run(['git', 'commit', '-qm', 'done'], check=True)\n",
        )
    )
    run_env.env["SLOW_RELEASE"] = str(release)
    out = run_env.run("init", "--workspace", str(run_env.workspace), check=True).stdout
    run_env.write_config(SLOW_CONFIG, script=str(script))
    out += _at_terminal(run_env.env, run_env.root, ["run"], b"Bash: pytest -q", release)
    out += run_env.run("sessions", "1", check=True).stdout
    actual = [part for ln in out.replace("\r\n", "\n").split("\n") for part in ln.split("\r\x1b[K")]
    for shape in TRANSCRIPT_SHAPES:
        assert any(re.search(shape, ln) for ln in shown), f"README lacks {shape}"
        assert any(re.search(shape, ln) for ln in actual), f"rota did not print {shape}\n{out}"
