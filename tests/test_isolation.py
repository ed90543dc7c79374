"""The suite runs the same on any machine: no test sees the caller's PATH, HOME or agent CLIs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, USER_HOME, USER_PATH, _agent_executables


def test_no_agent_cli_is_on_the_suites_path() -> None:
    for exe in _agent_executables():
        assert shutil.which(exe) is None, exe
    assert os.environ["PATH"] != USER_PATH and os.pathsep not in os.environ["PATH"]
    assert shutil.which("git") and shutil.which("python3")  # the system's tools are there


def test_home_is_an_empty_directory_of_the_suites_own() -> None:
    home = Path(os.environ["HOME"])
    assert str(home) != USER_HOME and home.is_dir()
    assert not any(k.startswith(("ROTA_CONFIG", "XDG_")) for k in os.environ)


def test_an_installed_agent_cli_changes_nothing(tmp_path: Path) -> None:
    """The failure the issue reported: with `gptme` (or any agent CLI) on the caller's PATH, the
    test that checks `rota init` enables only what it finds still passes."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for exe in _agent_executables():
        fake = bindir / exe
        fake.write_text("#!/bin/sh\nexit 0\n")
        fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{USER_PATH}", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_cli_core.py::test_init_enables_harnesses_found_on_path",
            "tests/test_cli_core.py::test_init_writes_a_valid_commented_config_and_never_overwrites",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "2 passed" in proc.stdout
