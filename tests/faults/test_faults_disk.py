"""A full disk and a read-only state folder.

As root the state folder sits on a real small filesystem (a tmpfs mounted for the test) that the
stand-in harness fills, or on a read-only bind mount; otherwise file sizes are limited with
RLIMIT_FSIZE and the folder's write bits are taken away. Either way: no traceback, exit 69 with
a message naming the folder, and no session lost.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faultkit import (  # noqa: F401 - bounded: the time bound of every test here
    FaultEnv,
    bounded,
    figure,
    half_written,
    integrity,
    no_traceback,
)

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("bounded")]

ROOT = os.geteuid() == 0


@contextlib.contextmanager
def mounted(*args: str, target: Path) -> Iterator[Path]:
    subprocess.run(["mount", *args, str(target)], check=True, capture_output=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


@contextlib.contextmanager
def small_fs(path: Path, size: str = "4m") -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    with mounted("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", target=path):
        yield path


def _env_on(tmp_path: Path, state: Path) -> FaultEnv:
    fenv = FaultEnv(tmp_path / "env")
    fenv.state = state
    fenv.env["ROTA_STATE_DIR"] = str(state)
    fenv.configure()
    return fenv


def _fill(path: Path) -> None:
    with contextlib.suppress(OSError), open(path, "ab", buffering=0) as fh:
        while True:
            fh.write(b"\0" * 65536)


@pytest.mark.skipif(not ROOT, reason="needs root to mount a small tmpfs (CI runs as root)")
def test_a_disk_full_before_the_run_exits_69_and_changes_nothing(tmp_path: Path) -> None:
    with small_fs(tmp_path / "disk") as disk:
        fenv = _env_on(tmp_path, disk / "state")
        fenv.run("run", check=True)
        before = fenv.sessions()
        _fill(disk / "filler")
        results = [fenv.run("run") for _ in range(3)]
        (disk / "filler").unlink()
        after = fenv.sessions()
        again = fenv.run("run")
    codes = [r.returncode for r in results]
    figure(f"disk full before the run: exits {codes}, sessions {len(before)} -> {len(after)}")
    assert all(no_traceback(r.stderr) for r in results), results[0].stderr
    assert codes == [69, 69, 69], [r.stderr for r in results]
    assert str(fenv.state) in results[0].stderr
    assert after == before
    assert again.returncode == 0, again.stderr


@pytest.mark.skipif(not ROOT, reason="needs root to mount a small tmpfs (CI runs as root)")
@pytest.mark.parametrize("role", ["harness", "grader"])
def test_a_disk_filling_up_mid_session_exits_69_and_the_session_survives(
    tmp_path: Path, role: str
) -> None:
    with small_fs(tmp_path / "disk") as disk:
        fenv = _env_on(tmp_path, disk / "state")
        fenv.configure(run='grader_command = ["scripted", "grader"]')
        fenv.run("run", check=True)
        fenv.plan(role, fill=str(disk / "filler"), commit=role == "harness", stdout="0.7\n")
        full = fenv.run("run")
        (disk / "filler").unlink()
        (fenv.fault_dir / f"{role}.json").unlink()
        again = fenv.run("run")
        sessions = fenv.sessions()
        ok = integrity(fenv.db)
    figure(
        f"disk full mid-session ({role}): exit {full.returncode}, then "
        f"{[s['status'] for s in sessions]}, integrity {ok}"
    )
    assert no_traceback(full.stderr), full.stderr
    assert full.returncode == 69, full.stderr
    assert again.returncode == 0, again.stderr
    assert [s["status"] for s in sessions] == ["completed"] * 3  # the full one was replayed
    assert all(s["reward"] is not None for s in sessions)
    assert ok == "ok"


def _limit_file_size(limit: int):  # type: ignore[no-untyped-def]
    def hook() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return hook


def test_file_size_limit_before_the_run_exits_69_and_changes_nothing(tmp_path: Path) -> None:
    """The variant without root: every write that grows a file fails (EFBIG)."""
    fenv = FaultEnv(tmp_path)
    fenv.configure()
    fenv.run("run", check=True)
    before = fenv.sessions()
    lock_dir = fenv.state / "locks"
    for f in lock_dir.iterdir():
        f.write_text("")  # an empty lock file must grow to take the lock
    p = fenv.run("run", preexec_fn=_limit_file_size(0))
    assert no_traceback(p.stderr), p.stderr
    assert p.returncode == 69, (p.returncode, p.stderr)
    assert fenv.sessions() == before
    assert fenv.run("run").returncode == 0


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` read-only: a read-only bind mount as root (root ignores permission bits)."""
    if ROOT:
        with mounted("--bind", str(path), target=path):
            subprocess.run(
                ["mount", "-o", "remount,bind,ro", str(path)], check=True, capture_output=True
            )
            yield
        return
    mode = path.stat().st_mode
    for p in [path, *path.rglob("*")]:
        if p.is_dir():
            p.chmod(0o500)
    try:
        yield
    finally:
        for p in [path, *path.rglob("*")]:
            if p.is_dir():
                p.chmod(0o700)
        path.chmod(mode)


def test_a_read_only_state_folder_is_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    fenv = FaultEnv(tmp_path)
    fenv.configure()
    fenv.run("run", check=True)
    before = fenv.sessions()
    t0 = time.monotonic()
    with read_only(fenv.state):
        results = {args: fenv.run(*args) for args in (("run",), ("select",), ("status",))}
    after = fenv.sessions()
    figure(
        "read-only state folder: "
        + ", ".join(f"{' '.join(a)} exit {r.returncode}" for a, r in results.items())
        + f", sessions {len(before)} -> {len(after)} ({time.monotonic() - t0:.1f} s)"
    )
    for args, r in results.items():
        assert no_traceback(r.stderr), (args, r.stderr)
    run = results[("run",)]
    assert run.returncode == 69, run.stderr
    assert str(fenv.state) in run.stderr and "writable" in run.stderr
    for args in (("select",), ("status",)):
        r = results[args]
        assert r.returncode in (0, 69), (args, r.returncode, r.stderr)
        if r.returncode == 69:
            assert str(fenv.state) in r.stderr
    assert after == before
    assert integrity(fenv.db) == "ok" and half_written(fenv.db) == []
    assert fenv.run("run").returncode == 0
