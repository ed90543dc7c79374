"""The recorded sessions in tests/fixtures/realcli/ are complete and match the pinned CLIs.

They are the evidence rota's harness profiles are checked against (and trajectory grading's test
data), so a pin changed in .ci/install-clis.sh without recording again, a scenario added to
tests/mockapi without a recording, or a recording that leaks a machine path fails here. These
tests read files only: no CLI, no network.
"""

from __future__ import annotations

import json
import re

import pytest

from mockapi.plan import scenarios_for
from realcli.clis import CLIS, INSTALL_SCRIPT, REPO

FIXTURES = REPO / "tests" / "fixtures" / "realcli"
# The grading recordings issue 14 relies on, per CLI.
CORE = ("text", "commit-several", "commit-one", "change-only", "failing-tools")
PIN_VARS = {
    "claude-code": "CLAUDE_VERSION",
    "codex": "CODEX_VERSION",
    "gemini": "GEMINI_VERSION",
    "opencode": "OPENCODE_VERSION",
    "copilot": "COPILOT_VERSION",
    "gptme": "GPTME_VERSION",
    "aider": "AIDER_VERSION",
}


def _pins() -> dict[str, str]:
    text = (REPO / INSTALL_SCRIPT).read_text(encoding="utf-8")
    out = {}
    for cli, var in PIN_VARS.items():
        m = re.search(rf"^{var}=(\S+)", text, re.M)
        assert m, f"{INSTALL_SCRIPT} has no {var}"
        out[cli] = m.group(1)
    return out


def _recording(cli: str, scenario: str) -> dict:
    return json.loads((FIXTURES / cli / scenario / "recording.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("cli", sorted(CLIS))
def test_every_scenario_is_recorded_with_the_pinned_version(cli: str) -> None:
    pin = _pins()[cli]
    wanted = [s.name for s in scenarios_for(CLIS[cli].provider)]
    assert set(CORE) <= set(wanted)
    for scenario in wanted:
        folder = FIXTURES / cli / scenario
        assert (folder / "recording.json").is_file(), f"not recorded: {folder}"
        rec = _recording(cli, scenario)
        assert rec["version"] == pin, (
            f"{folder} was recorded with {cli} {rec['version']}, the pin is {pin}: "
            f"record again with python tests/realcli/record.py --cli {cli}"
        )
        assert rec["cli"] == cli and rec["scenario"] == scenario
        assert (folder / "stdout.txt").is_file() and (folder / "stderr.txt").is_file()


@pytest.mark.parametrize("cli", sorted(CLIS))
def test_recordings_name_no_machine_path(cli: str) -> None:
    for path in (FIXTURES / cli).rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "/tmp/rota-realcli-" not in text, f"{path} names a temporary folder"
            assert "/rota-realcli/pkg/" not in text, f"{path} names the install folder"
            assert re.search(r"http://127\.0\.0\.1:\d+", text) is None, f"{path} names a port"


def test_core_recordings_show_what_grading_needs() -> None:
    """Across the CLIs that commit themselves, the core scenarios differ the way their names say."""
    for cli in sorted(CLIS):
        commits = {s: _recording(cli, s)["commits"] for s in CORE}
        status = {s: _recording(cli, s)["status"] for s in CORE}
        assert commits["text"] == [], cli
        if cli == "codex":  # its sandbox keeps .git read-only: the writes stay uncommitted
            assert all(c == [] for c in commits.values())
            assert "?? hello.txt" in status["commit-one"]
            continue
        assert len(commits["commit-one"]) == 1, cli
        if cli != "aider":  # aider commits every edit it applies, in one commit per answer
            assert len(commits["commit-several"]) == 2, cli
            assert commits["change-only"] == [] and "?? TODO.txt" in status["change-only"], cli
            assert commits["failing-tools"] == [], cli
        n_requests = len(_recording(cli, "failing-tools")["requests"])
        assert n_requests >= 4, f"{cli}: failing-tools made {n_requests} requests"


def test_readme_covers_every_cli() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    pins = _pins()
    for cli in CLIS:
        assert f"## {cli}" in readme, f"tests/fixtures/realcli/README.md has no section for {cli}"
        assert pins[cli] in readme, f"the README does not name {cli} {pins[cli]}"
