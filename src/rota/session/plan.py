"""The one value `rota run` carries from step to step: where it runs (Site), what was chosen with
which quota states (Choice), and the session about to start (Plan: arm, harness profile, prompt,
files, argv, timeout). Each step reads what it needs from these; nothing is fetched twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rota.config import Config, HarnessConfig
from rota.errors import ConfigError
from rota.harnesses.base import HarnessProfile
from rota.learning.policy import Decision
from rota.quota.state import QuotaState
from rota.session.argv import ArgvTooLong, build_argv
from rota.session.decide import decide, machine_name, quota_states, workspace_id
from rota.session.fleet import FleetSession
from rota.session.paths import SessionPaths, session_paths, state_dir
from rota.session.prompting import Prompt
from rota.store.base import Store


@dataclass(frozen=True, slots=True)
class Site:
    """Where the run happens: the workspace (its directory and id), this machine, the state dir."""

    workspace: Path
    workspace_id: str
    machine: str
    state_dir: Path

    @classmethod
    def of(cls, config: Config) -> Site:
        """The configured workspace, which must exist (else a config error, exit 78)."""
        ws = Path(config.workspace.path)
        if not ws.is_dir():
            raise ConfigError(
                f"workspace directory {ws} does not exist; create it or pass --workspace DIR",
                path=str(config.path) if config.path else None,
                key="workspace.path",
            )
        return cls(ws, workspace_id(config), machine_name(), state_dir())


@dataclass(frozen=True, slots=True)
class Choice:
    """A decision and the quota states it was made with (recorded with the session as its
    probed levels)."""

    decision: Decision
    states: tuple[QuotaState, ...]
    now: float
    forced: str = ""  # "--arm ARM" / "--harness H": a person chose; else rota did


@dataclass(frozen=True, slots=True)
class Forced:
    """`rota run --arm ARM` or `--harness H`: the candidates a person allows for this session.
    The category's rules do not apply (the person's choice is the rule); quota, blocks and a
    disabled config still do."""

    arm: str | None = None
    harness: str | None = None

    @property
    def flag(self) -> str:
        return f"--arm {self.arm}" if self.arm else f"--harness {self.harness}"

    def arms(self, config: Config) -> list[str]:
        if self.arm:
            return [self.arm]
        return [a.arm for a in config.arms.values() if a.harness == self.harness]


def choose(
    config: Config,
    store: Store,
    fleet: FleetSession | None,
    *,
    category: str,
    now: float,
    seed: int | None,
    forced: Forced | None = None,
) -> Choice:
    """Read the quota states once and decide with them; in fleet mode, also hold the chosen arm's
    pool slots (re-selecting if a pool is full). A forced choice is marked as such."""
    states = tuple(quota_states(config, store, now))
    arms = forced.arms(config) if forced is not None else None
    if forced is not None:
        config = config._replace(
            rules={k: r for k, r in config.rules.items() if k not in (category, "default")}
        )
    if fleet is not None:
        decision = fleet.choose(
            config, category=category, now=now, seed=seed, states=states, arms=arms
        )
    else:
        decision = decide(
            config, store, category=category, now=now, seed=seed, states=states, arms=arms
        )
    if forced is None:
        return Choice(decision, states, now)
    if decision.arm is None:
        decision.why = f"forced by {forced.flag}: {decision.why}"
    elif forced.harness:
        decision.why = f"forced by {forced.flag}; {decision.why}"
    else:
        decision.why = f"forced by {forced.flag}"
    return Choice(decision, states, now, forced=forced.flag)


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything about a session decided before its harness starts."""

    config: Config
    site: Site
    category: str
    choice: Choice
    arm: str
    hc: HarnessConfig
    profile: HarnessProfile
    prompt: Prompt
    paths: SessionPaths
    argv: Sequence[str]
    timeout_s: float
    stdin: bytes | None = None  # the prompt, when it is too long for an argument

    @property
    def decision(self) -> Decision:
        return self.choice.decision

    @property
    def harness(self) -> str:
        return self.config.arms[self.arm].harness

    @property
    def model(self) -> str:
        return self.config.arms[self.arm].model

    @property
    def env_keys(self) -> list[str]:
        """The names (never the values) of the environment the config gives the harness."""
        return sorted(self.hc.env)


def make_plan(
    config: Config,
    site: Site,
    category: str,
    choice: Choice,
    prompt: Prompt,
    profile: HarnessProfile,
) -> Plan:
    """The session for a decision that chose an arm: its files and its argv (an argument too long
    for exec is a config error naming the harness's command)."""
    arm = choice.decision.arm
    assert arm is not None
    arm_cfg = config.arms[arm]
    hc = config.harnesses[arm_cfg.harness]
    paths = session_paths(site.state_dir, arm, choice.now)
    values = {
        "model": arm_cfg.model,
        "prompt": prompt.text,
        "prompt_file": str(paths.prompt),
        "workspace": str(site.workspace),
        "category": category,
    }
    if any("{git_" in a for a in (*profile.argv, *(profile.stdin_argv or ()))):
        values.update(git_dirs(site.workspace))
    stdin: bytes | None = None
    try:
        argv = build_argv(profile.argv, values)
    except ArgvTooLong as exc:
        if profile.stdin_argv is None or hc.command:
            from rota.harnesses.registry import builtin_profile

            message = str(exc)
            own = builtin_profile(arm_cfg.harness) if hc.command else None
            if own is not None and own.stdin_argv is not None:
                # advice that works for this CLI: its built-in template reads a long prompt
                message += (
                    f", or remove `command` (rota's own template for {arm_cfg.harness} sends "
                    "a prompt this long on standard input)"
                )
            raise ConfigError(
                message,
                path=str(config.path) if config.path else None,
                key=f"harnesses.{arm_cfg.harness}.command",
            ) from None
        # The CLI reads a prompt from standard input: too long for an argument, it goes there.
        argv = build_argv(profile.stdin_argv, {**values, "prompt": ""})
        stdin = prompt.text.encode("utf-8", "surrogateescape")
    timeout_s = float(hc.timeout_minutes) * 60.0
    return Plan(
        config, site, category, choice, arm, hc, profile, prompt, paths, argv, timeout_s, stdin
    )


def git_dirs(workspace: Path) -> dict[str, str]:
    """{git_dir} and {git_common_dir}: where the workspace's commits go, so that a sandboxed CLI
    can be let write there. For a linked worktree (whose `.git` is a file) its own git dir and the
    main repository's .git; for a repository its .git, twice; outside git the workspace itself (a
    directory the CLI may write anyway)."""
    from rota.trajectory.git import git_dirs as find

    found = find(workspace)
    if found is None or not all(d.is_dir() for d in found):
        return {"git_dir": str(workspace), "git_common_dir": str(workspace)}
    return {"git_dir": str(found[0]), "git_common_dir": str(found[1])}


__all__ = ["Choice", "Forced", "Plan", "Site", "choose", "git_dirs", "make_plan"]
