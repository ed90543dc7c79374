"""Config errors: every problem in the file at once, in file order, each with its line and key;
`rota config check`."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import BASIC_CONFIG, RotaEnv
from rota.config import load_config, parse_config
from rota.config.reader import key_lines, line_of
from rota.errors import ConfigError

BAD = """\
categories = ["code", "triage"]
tiers = ["low", "high"]

[bandit]
half_life_days = -1
cost_weigth = 0.1

[harnesses.codex.models]
"gpt-5.4" = { tier = "medium", cost = 1.0 }

[pools.chatgpt]
harnesses = ["codexx"]

[rules.triage]
pin = ["codex:gpt-9"]
prefer_cheapest = "yes"

[schedule]
persistent = "no"
"""

EXPECTED = [
    (5, "bandit.half_life_days", "expected a finite number from 0.01 to 3650"),
    (6, "bandit.cost_weigth", "unknown key 'cost_weigth'"),
    (9, "harnesses.codex.models.gpt-5.4.tier", "unknown tier 'medium'"),
    (12, "pools.chatgpt.harnesses[0]", "unknown harness 'codexx'"),
    (15, "rules.triage.pin[0]", "unknown arm 'codex:gpt-9'"),
    (16, "rules.triage.prefer_cheapest", "expected true or false"),
    (19, "schedule.persistent", "expected true or false"),
]


def test_the_loader_reports_every_problem_in_file_order(tmp_path) -> None:
    f = tmp_path / "rota.toml"
    f.write_text(BAD)
    with pytest.raises(ConfigError) as err:
        load_config(f)
    problems = err.value.problems  # type: ignore[attr-defined]
    assert [(p.line, p.key) for p in problems] == [(n, k) for n, k, _ in EXPECTED]
    for p, (_, _, words) in zip(problems, EXPECTED, strict=True):
        assert words in p.message
    text = str(err.value)
    assert text.startswith(f"7 problems in {f}")
    assert f"{f}:5: [bandit.half_life_days]" in text and f"{f}:19: [schedule.persistent]" in text
    assert err.value.exit_code == 78


def test_file_order_beats_the_order_of_checking(tmp_path) -> None:
    # [rules] comes first in the file but is checked after [bandit].
    f = tmp_path / "rota.toml"
    f.write_text('[rules.code]\nmin_tier = "huge"\n\n[bandit]\nexploration = "lots"\n')
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert [p.line for p in err.value.problems] == [2, 5]  # type: ignore[attr-defined]


def test_one_problem_keeps_the_one_line_message(tmp_path) -> None:
    f = tmp_path / "rota.toml"
    f.write_text("[bandit]\nhalf_lfe_days = 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert str(err.value).startswith(f"{f}:2: [bandit.half_lfe_days] unknown key")
    assert err.value.line == 2


def test_parse_config_without_a_file_still_collects_every_problem() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"bandit": {"near_tie": -1, "explore_min_trials": "x"}}, path="mem.toml")
    keys = [p.key for p in err.value.problems]  # type: ignore[attr-defined]
    assert keys == ["bandit.explore_min_trials", "bandit.near_tie"]  # the order they are read


def test_key_lines_finds_tables_keys_and_inline_tables() -> None:
    text = '[harnesses."my.tool"]\nenabled = true\n[harnesses."my.tool".models]\nm = { tier = "low", cost = 2 }\na.b = 1\n'
    lines = key_lines(text)
    assert lines["harnesses.my.tool"] == 1 and lines["harnesses.my.tool.enabled"] == 2
    assert lines["harnesses.my.tool.models.m.cost"] == 4
    assert lines["harnesses.my.tool.models.a.b"] == 5
    assert line_of("harnesses.my.tool.models.m.tier[0]", lines) == 4
    assert line_of("nowhere.at.all", lines) is None


def test_config_check_command(rota_env: RotaEnv) -> None:
    rota_env.config.write_text(BAD)
    proc = rota_env.run("config", "check")
    assert proc.returncode == 78
    errors = [line for line in proc.stdout.splitlines() if line.startswith("error ")]
    assert [int(e.split(":")[1]) for e in errors] == [n for n, _, _ in EXPECTED]
    assert "7 errors; rota refuses this config (exit 78)" in proc.stdout
    d = json.loads(rota_env.run("--json", "config", "check").stdout)
    assert d["schema_version"] == 1 and d["ok"] is False
    assert [(e["line"], e["key"]) for e in d["errors"]] == [(n, k) for n, k, _ in EXPECTED]


def test_config_check_ok_and_warnings(rota_env: RotaEnv) -> None:
    rota_env.write_config()
    proc = rota_env.run("config", "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok (3 harness(es), 4 enabled arm(s), 1 warning(s))" in proc.stdout
    assert "[workspace.path]" in proc.stdout and "is not a git repository" in proc.stdout
    rota_env.git_init()
    d = json.loads(rota_env.run("config", "check", "--json", check=True).stdout)
    assert d["ok"] and d["errors"] == [] and d["warnings"] == []


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze judges calendars: apt-get install systemd (.ci/run installs it)",
)
def test_config_check_asks_systemd_about_the_calendar(rota_env: RotaEnv) -> None:
    rota_env.git_init()
    rota_env.write_config(BASIC_CONFIG + '\n[schedule]\non_calendar = "every tuesday-ish"\n')
    proc = rota_env.run("config", "check")
    assert proc.returncode == 0 and "[schedule.on_calendar]" in proc.stdout, proc.stdout


def test_config_check_locates_invalid_toml(rota_env: RotaEnv) -> None:
    rota_env.config.write_text('categories = ["code"]\n[bandit\n')
    d = json.loads(rota_env.run("config", "check", "--json").stdout)
    assert d["errors"][0]["line"] == 2 and "invalid TOML" in d["errors"][0]["message"]
