"""rota.harnesses.environment: a harness gets its own credentials, not every other harness's."""

from __future__ import annotations

from pathlib import Path

import pytest

from rota.harnesses.environment import declared_credentials, harness_environment, looks_secret

ROTA_ENV = {
    "PATH": "/usr/bin",
    "HOME": "/home/u",
    "LANG": "C.UTF-8",
    "SSH_AUTH_SOCK": "/run/ssh.sock",
    "HTTPS_PROXY": "http://proxy:3128",
    "CLAUDE_CONFIG_DIR": "/home/u/.claude-work",
    "ANTHROPIC_API_KEY": "sk-ant-own",
    "CLAUDE_CODE_OAUTH_TOKEN": "oat-own",
    "OPENAI_API_KEY": "sk-other",
    "GEMINI_API_KEY": "g-other",
    "GH_TOKEN": "ghp_other",
    "AWS_SECRET_ACCESS_KEY": "aws",
    "DATABASE_URL": "postgresql://rota:hunter2@db/rota",
    "ROTA_STORE_URL": "postgresql://rota:hunter2@db/rota",
    "MY_PASSWORD": "x",
    "KEYBOARD": "us",
}


def _claude(**kw):  # type: ignore[no-untyped-def]
    creds = declared_credentials()
    own = creds["claude-code"]
    others = [v for k, vs in creds.items() if k != "claude-code" for v in vs]
    return harness_environment(ROTA_ENV, own=own, others=others, **kw)


def test_a_harness_gets_its_own_keys_and_the_ordinary_environment() -> None:
    env, withheld = _claude()
    for name in (
        "PATH",
        "HOME",
        "LANG",
        "SSH_AUTH_SOCK",
        "HTTPS_PROXY",
        "CLAUDE_CONFIG_DIR",
        "ANTHROPIC_API_KEY",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "KEYBOARD",
    ):
        assert env[name] == ROTA_ENV[name]
    for name in (
        "OPENAI_API_KEY",
        "GEMINI_API_KEY",
        "GH_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "DATABASE_URL",
        "ROTA_STORE_URL",
        "MY_PASSWORD",
    ):
        assert name not in env and name in withheld


def test_config_env_and_pass_env_add_what_the_user_names() -> None:
    env, withheld = _claude(
        config_env={"FROM_CONFIG": "1", "OPENAI_API_KEY": "set-in-config"},
        pass_env=["GH_TOKEN"],
        extra={"ROTA_SESSION_ID": "7"},
    )
    assert env["FROM_CONFIG"] == "1" and env["OPENAI_API_KEY"] == "set-in-config"
    assert env["GH_TOKEN"] == "ghp_other" and "GH_TOKEN" not in withheld
    assert env["ROTA_SESSION_ID"] == "7"


def test_pass_env_star_passes_everything() -> None:
    env, withheld = _claude(pass_env=["*"])
    assert env == ROTA_ENV and withheld == []


def test_a_key_two_harnesses_declare_goes_to_each_of_them() -> None:
    creds = declared_credentials()
    assert "OPENAI_API_KEY" in creds["codex"] and "OPENAI_API_KEY" in creds["gptme"]
    others = [v for k, vs in creds.items() if k != "gptme" for v in vs]
    env, _ = harness_environment(ROTA_ENV, own=creds["gptme"], others=others)
    assert env["OPENAI_API_KEY"] == "sk-other" and env["ANTHROPIC_API_KEY"] == "sk-ant-own"
    assert "GH_TOKEN" not in env


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("OPENROUTER_API_KEY", "", True),
        ("GITHUB_TOKEN", "", True),
        ("GIT_AUTHOR_NAME", "", False),
        ("NPM_TOKEN", "", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/k.json", True),
        ("MONKEY", "", False),
        ("PASSWORD_STORE_DIR", "", True),
        ("GIT_ASKPASS", "", False),
        ("SSH_AUTH_SOCK", "", False),
        ("HTTP_PROXY", "http://u:pw@proxy:1", True),
        ("HTTP_PROXY", "http://proxy:1", False),
    ],
)
def test_what_looks_secret(name: str, value: str, secret: bool) -> None:
    assert looks_secret(name, value) is secret


def test_a_secret_named_for_the_harness_vendor_is_its_own() -> None:
    from rota.harnesses.environment import for_harness

    base = {
        **ROTA_ENV,
        "ANTHROPIC_AUTH_TOKEN": "proxy-token",
        "COPILOT_PROVIDER_API_KEY": "byok",
        "OPENAI_ORG_KEY": "org",
    }
    claude, withheld = for_harness(
        base, profile="claude-code", name="claude-code", auth_env=("ANTHROPIC_API_KEY",)
    )
    assert claude["ANTHROPIC_AUTH_TOKEN"] == "proxy-token"
    assert {"COPILOT_PROVIDER_API_KEY", "OPENAI_ORG_KEY", "OPENAI_API_KEY"} <= set(withheld)
    copilot, _ = for_harness(base, profile="copilot", name="work-copilot", auth_env=())
    assert copilot["COPILOT_PROVIDER_API_KEY"] == "byok" and "ANTHROPIC_AUTH_TOKEN" not in copilot
    codex, _ = for_harness(base, profile="codex", name="codex", auth_env=("OPENAI_API_KEY",))
    assert codex["OPENAI_ORG_KEY"] == "org" and codex["OPENAI_API_KEY"] == "sk-other"
    # Another harness's declared credential stays withheld, whatever its name says.
    gemini, withheld = for_harness(base, profile="gemini", name="gemini", auth_env=())
    assert "ANTHROPIC_API_KEY" not in gemini and "ANTHROPIC_API_KEY" in withheld


def test_the_judge_gets_its_own_credentials_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rota.config import parse_config
    from rota.session.grading import judge_setup

    for name, value in ROTA_ENV.items():
        monkeypatch.setenv(name, value)
    cfg = parse_config(
        {
            "categories": ["code"],
            "workspace": {"path": str(tmp_path)},
            "harnesses": {
                "claude-code": {"models": {"haiku": {"tier": "low"}}},
                "codex": {"models": {"gpt-5.4": {"tier": "medium"}}},
            },
            "grading": {"judge": "claude-code:haiku"},
        },
        path="judge.toml",
    )
    judge = judge_setup(cfg)
    assert judge is not None
    assert judge.env["ANTHROPIC_API_KEY"] == "sk-ant-own"
    assert "OPENAI_API_KEY" not in judge.env and "GH_TOKEN" not in judge.env
