"""Shared fixtures: an isolated rota environment (config + state dir) and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"  # real-shaped CLI data; see tests/fixtures/README.md

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
            cwd=self.root,
            **kw,  # type: ignore[arg-type]
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
