"""Shared fixtures: an isolated rota environment (config + state dir) and a CLI runner."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"  # real-shaped CLI data; see tests/fixtures/README.md

# -- No test sees the user's PATH, HOME or installed agent CLIs --------------------------------
# The whole session runs with HOME an empty directory, no XDG_*/ROTA_* variables from the caller,
# and PATH one directory of links to the system's programs less every agent CLI rota knows (an
# installed `gptme` or `claude` must not change what a test sees). The caller's values stay in
# USER_PATH / USER_HOME for the tests that need a real CLI (they say so in their skip reason).
USER_PATH = os.environ.get("PATH", "")
USER_HOME = os.environ.get("HOME", "")
SYSTEM_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
# Kept from the caller: what .ci/run and its install helpers hand the suite (the PostgreSQL
# server, ccusage, the real agent CLIs, where screenshots go) and the ROTA_REQUIRE_* switches that
# turn skips into failures. Everything else under ROTA_ is the caller's own rota setup and is dropped.
KEEP_VARS = (
    "ROTA_TEST_PG_URL",
    "ROTA_TEST_PG_DIR",
    "ROTA_TEST_ARTIFACTS",
    "ROTA_CCUSAGE",
    "ROTA_REALCLI_DIR",
    "ROTA_REQUIRE_PG",
    "ROTA_REQUIRE_CCUSAGE",
    "ROTA_REQUIRE_BROWSER",
    "ROTA_REQUIRE_REALCLI",
)
# Where .ci/install-clis.sh put the real agent CLIs (default: the caller's ~/.cache/rota-realcli).
os.environ.setdefault(
    "ROTA_REALCLI_DIR",
    os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(USER_HOME, ".cache"), "rota-realcli"
    ),
)


def _agent_executables() -> set[str]:
    from rota.harnesses import KNOWN_HARNESSES, get_profile

    return {get_profile(name).executable for name in KNOWN_HARNESSES}


def _system_tools(dest: Path, hidden: set[str]) -> None:
    dest.mkdir()
    (dest / "python3").symlink_to(sys.executable)  # the fakes' `#!/usr/bin/env python3`
    (dest / "python").symlink_to(sys.executable)
    rota = Path(sys.executable).parent / "rota"  # the rota under test (pip install -e .)
    if rota.is_file():
        (dest / "rota").symlink_to(rota)
    for d in SYSTEM_DIRS:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for name in names:
            link = dest / name
            target = os.path.join(d, name)
            if name in hidden or os.path.lexists(link):
                continue
            if os.path.isfile(target) and os.access(target, os.X_OK):
                link.symlink_to(target)


def _isolate_environment() -> None:
    root = Path(tempfile.mkdtemp(prefix="rota-tests-"))
    atexit.register(shutil.rmtree, root, True)
    _system_tools(root / "bin", _agent_executables())
    (root / "home").mkdir()
    for k in list(os.environ):
        if (k.startswith(("ROTA_", "XDG_")) and k not in KEEP_VARS) or k in (
            "CODEX_HOME",
            "CLAUDE_CONFIG_DIR",
            "JOURNAL_STREAM",
            "NO_COLOR",
        ):
            del os.environ[k]
    os.environ["PATH"] = str(root / "bin")
    os.environ["HOME"] = str(root / "home")


_isolate_environment()

BASIC_CONFIG = """
categories = ["code", "strategic", "triage"]
default_category = "code"
tiers = ["low", "medium", "high"]

[workspace]
path = "{workspace}"

[harnesses.claude-code]
command = ["claude", "-p", "{{prompt}}", "--model", "{{model}}"]
[harnesses.claude-code.models]
opus = {{ tier = "high", cost = 5.0 }}
sonnet = {{ tier = "medium", cost = 1.5 }}

[harnesses.codex]
command = ["codex", "exec", "-m", "{{model}}", "{{prompt}}"]
[harnesses.codex.models]
"gpt-5.4" = {{ tier = "medium", cost = 1.0 }}

[harnesses.gptme]
command = ["gptme", "-n", "-m", "{{model}}", "{{prompt}}"]
[harnesses.gptme.models]
glm-5 = {{ tier = "low", cost = 0.3 }}

[rules.strategic]
min_tier = "high"

[rules.triage]
max_tier = "medium"
prefer_cheapest = true
"""


class RotaEnv:
    """An isolated rota: its own config file, state dir and workspace, run as a real subprocess."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "rota.toml"
        self.state = root / "state"
        self.workspace = root / "ws"
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("ROTA_") and k not in ("XDG_CONFIG_HOME", "XDG_STATE_HOME")
        }
        self.env.update(
            {
                "ROTA_CONFIG": str(self.config),
                "ROTA_STATE_DIR": str(self.state),
                "HOME": str(root / "home"),
                "NO_COLOR": "1",
            }
        )
        (root / "home").mkdir(exist_ok=True)

    def git_init(self) -> Path:
        """Make the workspace a git repository (what `rota init` and `rota doctor` expect)."""
        subprocess.run(["git", "init", "-q", str(self.workspace)], check=True)
        return self.workspace

    def write_config(self, text: str = BASIC_CONFIG, **fmt: str) -> Path:
        self.config.write_text(
            textwrap.dedent(text).format(workspace=self.workspace, **fmt), encoding="utf-8"
        )
        return self.config

    def run(
        self, *args: str, check: bool = False, timeout: float = 60, **kw: object
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "rota.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            **{"cwd": self.root, **kw},  # type: ignore[arg-type]
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"rota {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def store(self):
        from rota.store.sqlite import SQLiteStore

        return SQLiteStore(self.state / "rota.db")


@pytest.fixture
def rota_env(tmp_path: Path) -> Iterator[RotaEnv]:
    yield RotaEnv(tmp_path)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


# PostgreSQL fixtures for the fleet tests (tests/pg_support.py): pg_server, pg_url.
from pg_support import pg_server, pg_url  # noqa: E402, F401


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """The fault suite's measured figures (tests/faultkit.py figure()), one line each."""
    import sys

    kit = sys.modules.get("faultkit")
    figures = getattr(kit, "FIGURES", None)
    if figures:
        terminalreporter.section("fault suite figures")
        for line in figures:
            terminalreporter.write_line(line)
