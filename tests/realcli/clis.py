"""The seven real CLIs: where they are installed, and how each is run headless against the mock.

Each `CLI` knows the provider wire it speaks, its default model, its argv, and the config files and
environment that point it at the mock, keep it quiet (no update checks, telemetry, onboarding) and
make it run unattended. Everything lives in the test's own HOME; nothing is read from the user's.
The CLIs come from `.ci/install-clis.sh` (cache folder: $ROTA_REALCLI_DIR, else
~/.cache/rota-realcli), never from PATH.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from mockapi.plan import Scenario

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = ".ci/install-clis.sh"
INSTALL_COMMAND = f"bash {INSTALL_SCRIPT}"

# Fake credentials: the mock accepts anything, and these never leave the namespace.
API_KEY = "sk-mock-0000000000000000000000000000000000000000"
ANTHROPIC_KEY = "sk-ant-api03-mock000000000000000000000000000000000000000000000000-AAAAAA"
ANTHROPIC_OAUTH = "sk-ant-oat01-mock000000000000000000000000000000000000000000000000-AAAAAA"


def install_dir() -> Path:
    env = os.environ.get("ROTA_REALCLI_DIR")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "rota-realcli"


def base_path() -> str:
    """PATH for a CLI: the system's program folders (sh, git, node), nothing of the user's."""
    dirs = ["/usr/local/bin", "/usr/bin", "/bin"]
    node = shutil.which("node")
    if node and str(Path(node).parent) not in dirs:
        dirs.insert(0, str(Path(node).parent))
    return ":".join(dirs)


@dataclass(frozen=True)
class CLI:
    name: str  # rota's harness name
    binary: str  # name under <install dir>/bin
    provider: str  # mockapi module: anthropic, responses, chat, gemini
    model: str  # the model asked for
    accepts_double_dash: bool = True  # `--` before the prompt works

    # -- installation ---------------------------------------------------------------------------

    def executable(self) -> Path:
        return install_dir() / "bin" / self.binary

    def version(self) -> str | None:
        f = install_dir() / "bin" / f"{self.binary}.version"
        try:
            return f.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def installed(self) -> bool:
        return os.access(self.executable(), os.X_OK) and self.version() is not None

    # -- a run ----------------------------------------------------------------------------------

    def argv(self, prompt: str, workspace: Path, model: str) -> list[str]:
        raise NotImplementedError

    def prepare(self, home: Path, workspace: Path, url: str, scenario: Scenario) -> dict[str, str]:
        """Write config files into `home`; return the CLI's own environment variables."""
        raise NotImplementedError

    def prompt_args(self, prompt: str) -> list[str]:
        return ["--", prompt] if self.accepts_double_dash else [prompt]

    def artifacts(self, home: Path) -> list[str]:
        """Glob patterns (relative to HOME) of the logs and session files this CLI writes."""
        return []


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


class ClaudeCode(CLI):
    def argv(self, prompt: str, workspace: Path, model: str) -> list[str]:
        return [
            str(self.executable()), "-p", "--model", model,
            "--output-format", "stream-json", "--verbose",
            "--permission-mode", "bypassPermissions",
            *self.prompt_args(prompt),
        ]

    def prepare(self, home: Path, workspace: Path, url: str, scenario: Scenario) -> dict[str, str]:
        state = {
            "hasCompletedOnboarding": True,
            "bypassPermissionsModeAccepted": True,
            "customApiKeyResponses": {"approved": [ANTHROPIC_KEY[-20:]], "rejected": []},
            "projects": {str(workspace): {"hasTrustDialogAccepted": True}},
        }
        _write(home / ".claude.json", json.dumps(state))
        env = {
            "ANTHROPIC_BASE_URL": url,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_MAX_RETRIES": "2",  # its default of 10 takes minutes on a 5xx
        }
        if os.geteuid() == 0:
            env["IS_SANDBOX"] = "1"  # as root it refuses bypassPermissions without this
        if subscription(scenario):
            env["CLAUDE_CODE_OAUTH_TOKEN"] = ANTHROPIC_OAUTH
        else:
            env["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY
        return env

    def artifacts(self, home: Path) -> list[str]:
        return [".claude/projects/**/*.jsonl"]


def subscription(scenario: Scenario) -> bool:
    """Scenarios that need a subscription login (an OAuth token) rather than an API key."""
    return scenario.error in ("limit-session", "limit-weekly-opus", "throttled")


class Codex(CLI):
    def argv(self, prompt: str, workspace: Path, model: str) -> list[str]:
        return [
            str(self.executable()), "exec", "-m", model,
            "--sandbox", "workspace-write", "--json", "--skip-git-repo-check",
            "-C", str(workspace),
            *self.prompt_args(prompt),
        ]

    def prepare(self, home: Path, workspace: Path, url: str, scenario: Scenario) -> dict[str, str]:
        codex_home = home / ".codex"
        _write(
            codex_home / "config.toml",
            "\n".join(
                [
                    'model_provider = "mock"',
                    "check_for_update_on_startup = false",
                    "[analytics]",
                    "enabled = false",
                    "[otel]",
                    'exporter = "none"',
                    "[model_providers.mock]",
                    'name = "mock"',
                    f'base_url = "{url}/v1"',
                    'wire_api = "responses"',
                    'env_key = "MOCK_OPENAI_API_KEY"',
                    "request_max_retries = 2",
                    "stream_max_retries = 1",
                    "stream_idle_timeout_ms = 300000",
                    "",
                ]
            ),
        )
        return {"CODEX_HOME": str(codex_home), "MOCK_OPENAI_API_KEY": API_KEY}

    def artifacts(self, home: Path) -> list[str]:
        return [".codex/sessions/**/rollout-*.jsonl", ".codex/log/*.log"]


class Gptme(CLI):
    def argv(self, prompt: str, workspace: Path, model: str) -> list[str]:
        return [
            str(self.executable()), "-n", "-m", f"openai/{model}", "-w", str(workspace),
            *self.prompt_args(prompt),
        ]

    def prepare(self, home: Path, workspace: Path, url: str, scenario: Scenario) -> dict[str, str]:
        return {
            "OPENAI_BASE_URL": f"{url}/v1",
            "OPENAI_API_KEY": API_KEY,
            "GPTME_LLM_MAX_RETRIES": "2",
        }

    def artifacts(self, home: Path) -> list[str]:
        return [".local/share/gptme/logs/*/conversation.jsonl"]


class Gemini(CLI):
    def argv(self, prompt: str, workspace: Path, model: str) -> list[str]:
        return [
            str(self.executable()), "-m", model, "--output-format", "json",
            "--approval-mode=yolo",
            # `-p VALUE` takes a VALUE starting with "-" for options (and prints its help, exit
            # 0); `-- PROMPT` is refused (exit 42); the `--prompt=VALUE` form always works
            f"--prompt={prompt}",
        ]

    def prepare(self, home: Path, workspace: Path, url: str, scenario: Scenario) -> dict[str, str]:
        settings = {
            "security": {"auth": {"selectedType": "gemini-api-key"},
                         "folderTrust": {"enabled": False}},
            "privacy": {"usageStatisticsEnabled": False},
            "telemetry": {"enabled": False},
            # its default of 10 tries (5 s to 30 s apart) takes minutes on a 429 or 5xx
            "general": {"disableAutoUpdate": True, "disableUpdateNag": True, "maxAttempts": 3},
        }
        _write(home / ".gemini" / "settings.json", json.dumps(settings, indent=2))
        return {"GOOGLE_GEMINI_BASE_URL": url, "GEMINI_API_KEY": API_KEY}

    def artifacts(self, home: Path) -> list[str]:
        # its session log, and the error report it writes to $TMPDIR on an API error
        return [".gemini/tmp/**/*.json", ".gemini/tmp/**/*.jsonl", "tmp/gemini-client-error-*.json"]


class Aider(CLI):
    def argv(self, prompt: str, workspace: Path, model: str) -> list[str]:
        return [
            str(self.executable()), "--model", f"openai/{model}", "--yes-always",
            "--message", prompt,
        ]

    def prepare(self, home: Path, workspace: Path, url: str, scenario: Scenario) -> dict[str, str]:
        return {
            "OPENAI_API_BASE": f"{url}/v1",
            "OPENAI_API_KEY": API_KEY,
            "AIDER_CHECK_UPDATE": "false",
            "AIDER_ANALYTICS": "false",
            "AIDER_SHOW_RELEASE_NOTES": "false",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }

    def artifacts(self, home: Path) -> list[str]:
        return []  # aider writes .aider.chat.history.md into the workspace


class OpenCode(CLI):
    def argv(self, prompt: str, workspace: Path, model: str) -> list[str]:
        return [
            str(self.executable()), "run", "--format", "json", "-m", f"mock/{model}",
            *self.prompt_args(prompt),
        ]

    def prepare(self, home: Path, workspace: Path, url: str, scenario: Scenario) -> dict[str, str]:
        config = {
            "$schema": "https://opencode.ai/config.json",
            "autoupdate": False,
            "share": "disabled",
            "permission": {"edit": "allow", "bash": "allow", "webfetch": "deny"},
            "provider": {
                "mock": {
                    "npm": "@ai-sdk/openai-compatible",
                    "name": "Mock",
                    "options": {"baseURL": f"{url}/v1", "apiKey": API_KEY},
                    "models": {self.model: {"name": "Mock model"},
                               "mock-unknown": {"name": "Unknown"}},
                }
            },
        }
        _write(home / ".config" / "opencode" / "opencode.json", json.dumps(config, indent=2))
        return {
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_DISABLE_MODELS_FETCH": "1",
            "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
            "OPENCODE_DISABLE_SHARE": "1",
        }

    def artifacts(self, home: Path) -> list[str]:
        return [".local/share/opencode/log/*.log"]


class Copilot(CLI):
    def argv(self, prompt: str, workspace: Path, model: str) -> list[str]:
        return [
            str(self.executable()), "--model", model, "--allow-all-tools", "--no-ask-user",
            # `-p VALUE` refuses a VALUE starting with "-" ("Invalid command format"), and `--`
            # makes it a subcommand; the `--prompt=VALUE` form always works
            "-s", f"--prompt={prompt}",
        ]

    def prepare(self, home: Path, workspace: Path, url: str, scenario: Scenario) -> dict[str, str]:
        return {
            "COPILOT_OFFLINE": "true",
            "COPILOT_PROVIDER_BASE_URL": f"{url}/v1",
            "COPILOT_PROVIDER_API_KEY": API_KEY,
            "COPILOT_AUTO_UPDATE": "false",
            # the binary unpacks ~235 MB on first start: share one unpacked copy per install
            "COPILOT_PKG_CACHE_HOME": str(install_dir() / "pkg" / "copilot-unpacked"),
        }

    def artifacts(self, home: Path) -> list[str]:
        return [".copilot/logs/*.log", ".copilot/session-state/**/*.jsonl"]


CLIS: dict[str, CLI] = {
    c.name: c
    for c in [
        ClaudeCode("claude-code", "claude", "anthropic", "sonnet"),
        Codex("codex", "codex", "responses", "gpt-5.5"),
        Gptme("gptme", "gptme", "chat", "gpt-4o"),
        Gemini("gemini", "gemini", "gemini", "gemini-2.5-pro"),
        Aider("aider", "aider", "chat", "gpt-4o"),
        OpenCode("opencode", "opencode", "chat", "mock-model"),
        Copilot("copilot", "copilot", "chat", "gpt-4.1"),
    ]
}
