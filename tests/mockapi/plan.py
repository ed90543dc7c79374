"""Scenarios: what the mock provider does in one test, independent of the wire format.

A scenario is either a plan of agent steps (each step is one tool call the real CLI executes in
its workspace, then a closing text), or a failure the provider answers every model request with
(an error kind, rendered with each provider's real body and headers by its module), or a hang.

The agent's progress is read from the conversation the CLI sends back: the number of assistant
turns that already carry a tool call is the number of steps done. So the same scenario drives any
CLI without per-CLI state in the server.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    """One tool call: write `files` (path -> text), then commit them when `commit` is a message.

    `fail` is a command that fails instead (a failing tool call).
    """

    files: tuple[tuple[str, str], ...] = ()
    commit: str | None = None
    fail: str | None = None

    def shell(self) -> str:
        """The step as one POSIX shell command, run by the CLI's shell tool in the workspace."""
        if self.fail:
            return self.fail
        parts = []
        for path, text in self.files:
            if "/" in path:
                parts.append(f"mkdir -p {shlex.quote(path.rsplit('/', 1)[0])}")
            parts.append(f"printf '%s\\n' {shlex.quote(text)} > {shlex.quote(path)}")
        if self.commit:
            names = " ".join(shlex.quote(p) for p, _ in self.files)
            parts.append(f"git add -- {names}")
            parts.append(f"git commit -q -m {shlex.quote(self.commit)}")
        return " && ".join(parts)

    def describe(self) -> str:
        if self.fail:
            return f"run {self.fail}"
        what = ", ".join(p for p, _ in self.files)
        return f"write {what}" + (f" and commit ({self.commit})" if self.commit else "")


@dataclass(frozen=True)
class Scenario:
    name: str
    prompt: str
    steps: tuple[Step, ...] = ()
    text: str = "Done."
    error: str | None = None  # an error kind (see ERROR_KINDS), answered to every model request
    hang: bool = False
    served_model: str | None = None  # answer as this model instead of the one asked for
    note: str = ""
    providers: tuple[str, ...] = field(default=())  # where the error kind exists; () = all
    # changes to the CLI's own environment for this scenario (None: unset the variable)
    cli_env: tuple[tuple[str, str | None], ...] = ()

    def next_step(self, done: int) -> Step | None:
        return self.steps[done] if done < len(self.steps) else None


# Error kinds and the providers that have them (module names in tests/mockapi/).
ERROR_KINDS: dict[str, tuple[str, ...]] = {
    "rate-limit": ("anthropic", "responses", "chat", "gemini"),
    "limit-session": ("anthropic",),  # subscription (OAuth) five_hour claim rejected
    "limit-weekly-opus": ("anthropic",),  # subscription seven_day_opus claim rejected
    "throttled": ("anthropic",),  # a subscriber's 429 with no window named: "not your usage limit"
    "usage-limit-today": ("responses",),  # codex usage_limit_reached, resets later today
    "usage-limit-days": ("responses",),  # codex usage_limit_reached, resets in 3 days
    "insufficient-quota": ("responses", "chat"),
    "quota-exhausted": ("gemini",),  # API key: RESOURCE_EXHAUSTED, a per-day quota
    "capacity-exhausted": ("gemini",),  # Google login: MODEL_CAPACITY_EXHAUSTED, reset in hours
    "auth": ("anthropic", "responses", "chat", "gemini"),
    "unknown-model": ("anthropic", "responses", "chat", "gemini"),
    "server-500": ("anthropic", "responses", "chat", "gemini"),
    "unavailable-503": ("anthropic", "responses", "chat", "gemini"),
    "overloaded-529": ("anthropic",),
}

OTHER_MODEL = "mock-other-model-2"


def _w(path: str, text: str) -> tuple[str, str]:
    return (path, text)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            "text",
            prompt="What is 2 + 2? Answer in one line. Do not change any file.",
            text="2 + 2 = 4.",
            note="a text answer and nothing else: the session that does nothing",
        ),
        Scenario(
            "commit-several",
            prompt="Add the project notes files and commit them.",
            steps=(
                Step(
                    files=(
                        _w("notes/a.txt", "alpha"),
                        _w("notes/b.txt", "beta"),
                    ),
                    commit="Add notes a and b",
                ),
                Step(files=(_w("notes/c.txt", "gamma"),), commit="Add note c"),
            ),
            text="Added notes/a.txt, notes/b.txt and notes/c.txt in two commits.",
            note="two tool calls, three files, two commits",
        ),
        Scenario(
            "commit-one",
            prompt="Create hello.txt saying hello, and commit it.",
            steps=(Step(files=(_w("hello.txt", "hello"),), commit="Add hello.txt"),),
            text="Created hello.txt and committed it.",
            note="one tool call that writes one file and commits",
        ),
        Scenario(
            "change-only",
            prompt="Write TODO.txt listing what is left. Do not commit.",
            steps=(Step(files=(_w("TODO.txt", "- write the tests"),)),),
            text="Wrote TODO.txt; nothing committed.",
            note="one tool call that writes a file, no commit",
        ),
        Scenario(
            "failing-tools",
            prompt="Show the contents of the config files.",
            steps=tuple(
                Step(fail=f"cat missing-config-{i}.toml") for i in range(1, 5)
            ),
            text="None of the config files exist; I could not show them.",
            note="four tool calls that all fail, then a text answer",
        ),
        Scenario(
            "dash-prompt",
            prompt="- What is 2 + 2?\n- Answer in one line.",
            text="2 + 2 = 4.",
            note="a prompt that starts with '-' (a Markdown list), passed so the CLI takes it as"
            " the prompt, not as options",
        ),
        Scenario(
            "other-model",
            prompt="What is 2 + 2? Answer in one line.",
            text="4.",
            served_model=OTHER_MODEL,
            note=f"the provider answers as {OTHER_MODEL}, not the model asked for",
        ),
        Scenario(
            "root-without-sandbox",
            prompt="What is 2 + 2?",
            text="2 + 2 = 4.",
            cli_env=(("IS_SANDBOX", None),),
            providers=("anthropic",),
            note="claude-code as root without IS_SANDBOX=1: it refuses bypassPermissions",
        ),
        Scenario(
            "hang",
            prompt="What is 2 + 2?",
            hang=True,
            note="the provider accepts the request and never answers",
        ),
    ]
    + [
        Scenario(kind, prompt="What is 2 + 2?", error=kind, providers=provs)
        for kind, provs in ERROR_KINDS.items()
    ]
}


def scenarios_for(provider: str) -> list[Scenario]:
    """The scenarios a CLI speaking `provider` can meet."""
    return [s for s in SCENARIOS.values() if not s.providers or provider in s.providers]
