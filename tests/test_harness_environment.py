"""rota.harnesses.environment: a harness gets its own credentials, not every other harness's."""

from __future__ import annotations

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
