"""rota.reaper: what a process starts dies with it on `kill -9`, with background threads running.

Each test runs a real parent process (a small Python script) that starts a real command the way
rota does, SIGKILLs that parent, and watches the command's process group with /proc."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from faultkit import FAULT_FAKES, group_members, kill_groups, live, wait_until

PARENT = """
import json, os, subprocess, sys, threading, time
from rota import reaper

mode, out = sys.argv[1], sys.argv[2]
# A background thread, as in `rota run` (the fleet heartbeat): the guards must work with it.
threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
hook = reaper.die_with_parent_hook() if "pdeathsig" in mode else None
child = subprocess.Popen(
    ["scripted", "harness"], start_new_session=True, preexec_fn=hook, close_fds=True,
)
if "watcher" in mode:
    w = reaper.reaper(grace_s=float(os.environ.get("GRACE", "1")))
    w.track(child.pid)
    if "untrack" in mode:
        w.untrack(child.pid)
with open(out + ".tmp", "w") as fh:
    json.dump({"threads": threading.active_count(), "watcher": getattr(reaper._reaper, "pid", None)}, fh)
os.replace(out + ".tmp", out)
if "exit" in mode:
    sys.exit(0)
time.sleep(600)
"""


@pytest.fixture
def parent(tmp_path: Path):  # type: ignore[no-untyped-def]
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(PARENT))
    fault_dir = tmp_path / "fault"
    fault_dir.mkdir()
    env = dict(
        os.environ,
        PATH=f"{FAULT_FAKES}{os.pathsep}{os.environ['PATH']}",
        FAULT_DIR=str(fault_dir),
        GRACE="1",
    )
    started: list[int] = []

    def start(mode: str, **plan: object) -> tuple[subprocess.Popen[bytes], dict, dict]:
        (fault_dir / "harness.json").write_text(json.dumps({"wait": "held", **plan}))
        out = tmp_path / f"{mode}.json"
        proc = subprocess.Popen([sys.executable, str(script), mode, str(out)], env=env)
        assert wait_until(lambda: (fault_dir / "held.started").exists() and out.exists(), 30)
        held = json.loads((fault_dir / "held.started").read_text())
        started.append(held["pgid"])
        (fault_dir / "held.started").unlink()
        return proc, held, json.loads(out.read_text())

    yield start
    kill_groups(started)


def _kill9(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_without_a_guard_the_command_outlives_a_kill_9(parent) -> None:  # type: ignore[no-untyped-def]
    """The control: what the tests below prove is not what happens anyway."""
    proc, held, info = parent("none", children=1)
    assert info["threads"] >= 2
    _kill9(proc)
    assert not wait_until(lambda: not live(held["pid"]), timeout=2)


def test_pdeathsig_reaches_the_command_with_threads_running(parent) -> None:  # type: ignore[no-untyped-def]
    proc, held, info = parent("pdeathsig")
    assert info["threads"] >= 2
    _kill9(proc)
    assert wait_until(lambda: not live(held["pid"]), timeout=5)


def test_pdeathsig_alone_misses_the_commands_own_children(parent) -> None:  # type: ignore[no-untyped-def]
    """Why the watcher exists: the kernel signals the direct child only."""
    proc, held, _ = parent("pdeathsig", children=2)
    _kill9(proc)
    assert wait_until(lambda: not live(held["pid"]), timeout=5)
    assert all(live(c) for c in held["children"])


def test_the_watcher_stops_the_whole_group(parent) -> None:  # type: ignore[no-untyped-def]
    proc, held, info = parent("watcher", children=2)
    assert info["watcher"] and live(info["watcher"])
    _kill9(proc)
    assert wait_until(lambda: not group_members(held["pgid"]), timeout=10)
    assert wait_until(lambda: not live(info["watcher"]), timeout=5)  # and then it goes too


def test_the_watcher_kills_a_group_that_ignores_sigterm_after_the_grace(parent) -> None:  # type: ignore[no-untyped-def]
    proc, held, _ = parent("watcher", children=1, ignore_term=True)
    _kill9(proc)
    assert wait_until(lambda: not group_members(held["pgid"]), timeout=10)


def test_both_guards_together(parent) -> None:  # type: ignore[no-untyped-def]
    proc, held, _ = parent("pdeathsig+watcher", children=2)
    _kill9(proc)
    assert wait_until(lambda: not group_members(held["pgid"]), timeout=10)


def test_a_group_no_longer_tracked_is_left_alone(parent) -> None:  # type: ignore[no-untyped-def]
    proc, held, info = parent("watcher+untrack+exit", children=1)
    proc.wait(timeout=10)
    assert wait_until(lambda: not live(info["watcher"]), timeout=5)
    assert live(held["pid"]) and all(live(c) for c in held["children"])


def test_the_watcher_ignores_signals_to_rotas_process_group(parent) -> None:  # type: ignore[no-untyped-def]
    proc, held, info = parent("watcher", children=1)
    assert os.getsid(info["watcher"]) == info["watcher"]  # its own session and group
    os.kill(info["watcher"], signal.SIGTERM)
    os.kill(info["watcher"], signal.SIGINT)
    _kill9(proc)
    assert wait_until(lambda: not group_members(held["pgid"]), timeout=10)
