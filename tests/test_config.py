"""Config validation: each bad input names file, key and expectation, and exits 78."""

from __future__ import annotations

import pytest

from conftest import BASIC_CONFIG, RotaEnv
from rota.config import parse_config
from rota.errors import ConfigError

GOOD = {
    "harnesses": {
        "codex": {"models": {"gpt-5.4": {"tier": "medium", "cost": 1.0}}},
        "gptme": {"models": {"glm-5": "low"}},
    }
}


def test_defaults_and_arms() -> None:
    cfg = parse_config(GOOD, path="x.toml")
    assert set(cfg.arms) == {"codex:gpt-5.4", "gptme:glm-5"}
    assert cfg.arms["gptme:glm-5"].tier == "low"
    assert cfg.bandit.observation_weight is None  # "auto"
    assert cfg.default_category == "code"
    assert cfg.schedule.on_calendar == "*-*-* *:00,30:00"


@pytest.mark.parametrize(
    ("doc", "key", "words"),
    [
        ({"bandit": {"half_lfe_days": 3}}, "bandit.half_lfe_days", "unknown key"),
        ({"bandit": {"half_life_days": "soon"}}, "bandit.half_life_days", "expected a number"),
        ({"bandit": {"cost_weight": True}}, "bandit.cost_weight", "expected a number"),
        ({"bandit": {"observation_weight": "lots"}}, "bandit.observation_weight", '"auto"'),
        (
            {"harnesses": {"x": {"models": {"m": {"tier": "ultra"}}}}},
            "harnesses.x.models.m.tier",
            "unknown tier",
        ),
        ({"pools": {"p": {"harnesses": ["nope"]}}}, "pools.p.harnesses[0]", "unknown harness"),
        ({"pools": {"p": {"arms": ["codex:gpt-9"]}}}, "pools.p.arms[0]", "unknown arm"),
        ({"rules": {"code": {"min_tier": "ultra"}}}, "rules.code.min_tier", "unknown tier"),
        ({"rules": {"code": {"pin": ["a:b"]}}}, "rules.code.pin[0]", "unknown arm"),
        ({"rules": {"cooking": {}}}, "rules.cooking", "unknown category"),
        ({"default_category": "cooking"}, "default_category", "not in categories"),
        ({"store": {"url": "mysql://x"}}, "store.url", "sqlite:///"),
        ({"harnesses": {"x": {"command": []}}}, "harnesses.x.command", "non-empty argv"),
    ],
)
def test_bad_configs_name_the_key(doc: dict, key: str, words: str) -> None:
    merged = {**GOOD, **doc}
    if "harnesses" in doc:
        merged["harnesses"] = {**GOOD["harnesses"], **doc["harnesses"]}
    with pytest.raises(ConfigError) as err:
        parse_config(merged, path="/etc/rota.toml")
    msg = str(err.value)
    assert "/etc/rota.toml" in msg and f"[{key}]" in msg and words in msg
    assert err.value.exit_code == 78


def test_cli_exits_78_and_runs_nothing(rota_env: RotaEnv) -> None:
    rota_env.write_config(BASIC_CONFIG + "\n[bandit]\nhalf_life = 3\n")
    proc = rota_env.run("select")
    assert proc.returncode == 78
    assert "bandit.half_life" in proc.stderr and str(rota_env.config) in proc.stderr
    assert not (rota_env.state / "rota.db").exists()  # nothing else happened


def test_invalid_toml_and_missing_file(rota_env: RotaEnv) -> None:
    proc = rota_env.run("select")
    assert proc.returncode == 78 and "rota init" in proc.stderr
    rota_env.config.write_text("categories = [", encoding="utf-8")
    proc = rota_env.run("status")
    assert proc.returncode == 78 and "invalid TOML" in proc.stderr


def test_config_path_precedence(rota_env: RotaEnv, tmp_path) -> None:
    rota_env.write_config()
    other = tmp_path / "other.toml"
    other.write_text("categories = [\n", encoding="utf-8")
    # --config beats $ROTA_CONFIG
    assert rota_env.run("select", "--config", str(other)).returncode == 78
    assert rota_env.run("select").returncode == 0
    # $XDG_CONFIG_HOME/rota/rota.toml when nothing else is given
    env = dict(rota_env.env)
    del env["ROTA_CONFIG"]
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    (tmp_path / "xdg" / "rota").mkdir(parents=True)
    (tmp_path / "xdg" / "rota" / "rota.toml").write_text(
        rota_env.config.read_text(), encoding="utf-8"
    )
    rota_env.env = env
    assert rota_env.run("select").returncode == 0
