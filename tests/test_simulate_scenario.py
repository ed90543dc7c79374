"""Scenario files: the README format, defaults, normalisation and located errors (exit 78)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from rota.errors import ConfigError
from rota.simulate.scenario import load_scenario, parse_scenario

SCENARIOS = REPO / "examples" / "scenarios"

SMALL = """
name = "small"
sessions = 50
[categories]
code = 3
triage = 1
[[arms]]
arm = "claude-code:opus"
[arms.reward]
default = 0.6
"""


def test_public_scenarios_parse() -> None:
    for name in ("steady", "drift"):
        path = SCENARIOS / f"{name}.toml"
        sc = load_scenario(path)
        assert sc.name == name
        assert abs(sum(sc.categories.values()) - 1.0) < 1e-9
    drift = load_scenario(SCENARIOS / "drift.toml")
    assert drift.arm("gptme:kimi-k3").start == 900
    assert drift.arm("claude-code:opus").units == 2
    assert drift.arm("claude-code:opus").mean("code") == 0.66
    assert drift.arm("claude-code:opus").mean("infrastructure") == 0.62  # default
    claude = next(q for q in drift.quotas if q.pool == "claude-5h")
    assert not claude.visible and claude.reset_known
    assert [e.at for e in drift.events] == [500, 1200]
    assert drift.static_order("infrastructure")[0] == "claude-code:sonnet"  # the default list


def test_defaults_and_normalised_shares() -> None:
    import tomllib

    sc = parse_scenario(tomllib.loads(SMALL))
    assert sc.categories == {"code": 0.75, "triage": 0.25}
    a = sc.arms[0]
    assert (a.harness, a.model, a.units, a.spread, a.start, a.cost) == (
        "claude-code",
        "opus",
        1,
        6,
        0,
        1,
    )
    assert sc.replicates == 30 and sc.interval_minutes == 30
    assert sc.static_order("code") == ("claude-code:opus",)


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ("form = 3\n", "arms[0].form", "unknown key"),
        ('[[quotas]]\npool = "p"\nwindow_minutes = 60\ncapacity = 2\n', "quotas[0]", "harnesses"),
        (
            '[[quotas]]\npool = "p"\nharnesses = ["nope"]\nwindow_minutes = 60\ncapacity = 2\n',
            "quotas[0].harnesses[0]",
            "nope",
        ),
        (
            '[[events]]\nat = 5\narm = "x:y"\nunavailable_for_minutes = 5\n',
            "events[0].arm",
            "unknown arm",
        ),
        ('[[events]]\nat = 5\narm = "claude-code:opus"\n', "events[0]", "unavailable_for_minutes"),
        ('[static]\ncode = ["claude-code:sonet"]\n', "static.code[0]", "unknown arm"),
        ('[static]\ncod = ["claude-code:opus"]\n', "static.cod", "unknown category"),
    ],
)
def test_errors_name_the_key(extra: str, key: str, words: str) -> None:
    import tomllib

    text = (
        SMALL + extra
        if not extra.startswith("form")
        else SMALL.replace("[arms.reward]", "form = 3\n[arms.reward]")
    )
    with pytest.raises(ConfigError) as err:
        parse_scenario(tomllib.loads(text), path="x.toml")
    assert f"[{key}]" in str(err.value)
    assert words in str(err.value)
    assert "x.toml" in str(err.value)


def test_bad_values() -> None:
    import tomllib

    with pytest.raises(ConfigError, match=r"arms\[0\]\.reward\.default.*between 0 and 1"):
        parse_scenario(tomllib.loads(SMALL.replace("0.6", "1.6")))
    with pytest.raises(ConfigError, match=r"\[sessions\].*integer"):
        parse_scenario(tomllib.loads(SMALL.replace("50", '"50"')))
    with pytest.raises(ConfigError, match="missing `default`"):
        parse_scenario(tomllib.loads(SMALL.replace("default = 0.6", "code = 0.6")))


def test_cli_exits_78_naming_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("bogus = 1\n" + SMALL, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "rota.cli", "simulate", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 78, proc.stderr
    assert str(bad) in proc.stderr and "bogus" in proc.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "rota.cli", "simulate", str(tmp_path / "nope.toml")],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 78 and "not found" in missing.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "rota.cli", "simulate", str(broken)], capture_output=True, text=True
    )
    assert proc.returncode == 78 and "invalid TOML" in proc.stderr
