"""Running [run] test_command, before the session (when [grading] test_before = true) and after
it, and reading the counts of passed and failed tests from its closing lines when the runner
prints them (pytest, unittest, jest/vitest, cargo, go test, mocha, and the plain
"N passed, N failed")."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from rota.session.execute import LogFile, run_process
from rota.session.stop import StopFlag
from rota.trajectory.record import SuiteRun

TAIL_LINES = 40  # closing lines searched for counts
TAIL_LOGGED = 5  # closing lines noted in the session log
_COUNT = re.compile(
    r"(\d+)\s+(passed|passing|failed|failing|failures?|errors?|error)\b", re.I
)
_CARGO = re.compile(r"test result: \w+\. (\d+) passed; (\d+) failed")
_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in", re.M)
_UNITTEST_FAILED = re.compile(r"^FAILED \((?:failures=(\d+))?(?:, )?(?:errors=(\d+))?", re.M)
_GO = re.compile(r"^(ok|FAIL|---\s+FAIL:|---\s+PASS:)", re.M)


def counts(output: str) -> tuple[int | None, int | None]:
    """(tests passed, tests failed) from a test runner's output, or (None, None)."""
    tail = "\n".join(output.splitlines()[-TAIL_LINES:])
    m = _CARGO.findall(tail)
    if m:
        return sum(int(a) for a, _ in m), sum(int(b) for _, b in m)
    ran = _UNITTEST_RAN.search(tail)
    if ran:
        f = _UNITTEST_FAILED.search(tail)
        failed = (int(f.group(1) or 0) + int(f.group(2) or 0)) if f else 0
        return int(ran.group(1)) - failed, failed
    for line in reversed(tail.splitlines()):
        found = _COUNT.findall(line)
        if not found:
            continue
        passed = failed = 0
        for n, word in found:
            if word.lower().startswith("pass"):
                passed += int(n)
            else:
                failed += int(n)
        return passed, failed
    go = _GO.findall(tail)
    if go:
        passed = sum(1 for g in go if g.startswith("--- PASS"))
        failed = sum(1 for g in go if g.startswith("--- FAIL"))
        if passed or failed:
            return passed, failed
    return None, None


def run_suite(
    command: Sequence[str],
    workspace: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 3600.0,
    kill_grace_s: float = 10.0,
    stop: StopFlag | None = None,
    log: LogFile | None = None,
    label: str = "tests",
) -> SuiteRun:
    """Run the test command once; never raises (a failure to start is a SuiteRun with error)."""
    if log is not None:
        log.note(f"{label}: {list(command)}")
    # Not streamed into the session log: there, unprefixed lines are the harness's own output.
    res = run_process(
        list(command),
        cwd=workspace,
        env=env,
        timeout_s=timeout_s,
        kill_grace_s=kill_grace_s,
        stop=stop,
        stdout_head=0,
        stdout_tail=64 * 1024,
        stderr_tail=16 * 1024,
    )
    if log is not None:
        tail = (res.stdout + res.stderr).strip().splitlines()[-TAIL_LOGGED:]
        log.note(f"{label}: {res.describe()}" + "".join(f"\n  {x}" for x in tail))
    if res.interrupted:
        return SuiteRun(passed=False, error="interrupted")
    if res.error:
        return SuiteRun(passed=False, error=f"could not start: {res.error}")
    passed, failed = counts(res.stdout + "\n" + res.stderr)
    return SuiteRun(
        passed=res.exit_code == 0 and not res.timed_out,
        exit_code=res.exit_code,
        tests_passed=passed,
        tests_failed=failed,
        timed_out=res.timed_out,
    )


__all__ = ["counts", "run_suite"]
