"""What can be configured: the settings records with their defaults and units, and Config.

Settings carry their units in their names; where the file says another unit, the record holds
the converted value (`[bandit] half_life_days` is BanditSettings.half_life_s). rota.config.validate
turns a TOML document into these records.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from rota.config.monitoring import MetricsSettings, NotifySettings
from rota.quota.state import ArmScopes
from rota.records import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

DEFAULT_CATEGORIES = ("code", "infrastructure", "strategic", "triage", "content", "research")
DEFAULT_TIERS = ("low", "medium", "high")
_EMPTY: Mapping[str, Any] = MappingProxyType({})

DAY_S = 86400.0

DEFAULT_PROMPT = (
    "Work on the next open task in this repository. Commit your work with a clear message when "
    "a coherent piece is done."
)


@record
class BanditSettings:
    half_life_s: float = 14 * DAY_S  # per-arm decay of evidence by wall time ([bandit] half_life_days)
    pooling_strength: float = 1.0  # pseudo-observations a category borrows from the arm overall
    observation_weight: float | None = None  # None = "auto": calibrated from recorded grade noise
    cost_weight: float = 0.02  # score penalty per unit of cost relative to the dearest arm
    prior_strength: float = 1.0  # pseudo-observations behind the tier prior
    explore_min_trials: int = 3  # arms with fewer (decayed) observations are tried first
    near_tie: float = 0.02  # "prefer cheapest" window on the score
    exploration: float = 0.5  # spread of Thompson draws (1 = plain TS; lower = greedier)


@record
class PacingSettings:
    enabled: bool = True
    use_it_horizon_hours: float = (
        6.0  # a window resetting sooner than this may be use-it-or-lose-it
    )
    use_it_min_headroom: float = 0.4  # ...when at least this fraction is unused
    bonus: float = 0.02  # added to the score of such an arm
    ahead_penalty: float = 0.15  # subtracted when use runs ahead of an even pace to the reset


@record
class RunSettings:
    prompt: str = DEFAULT_PROMPT
    prompt_file: str = ""
    prompt_command: tuple[str, ...] = ()
    category_command: tuple[str, ...] = ()
    test_command: tuple[str, ...] = ()
    grader_command: tuple[str, ...] = ()
    loop_gap_seconds: float = 60.0
    kill_grace_seconds: float = 10.0
    retry_interval_minutes: float = 10.0


# [grading]: the gains of the graded reward with their weights, and its penalties (the grade is
# their weighted mean less the penalties; rota.reward.score says what each one measures).
GAINS: Mapping[str, float] = MappingProxyType(
    {
        "finished": 0.10,
        "commits": 0.25,
        "size": 0.20,
        "tests": 0.30,
        "pr": 0.15,
        "judge": 0.30,
        "grader": 0.30,
    }
)
PENALTIES: Mapping[str, float] = MappingProxyType(
    {
        "broke_tests": 0.25,
        "error_storm": 0.20,
        "turn_limit": 0.15,
        "reverted": 0.10,
        "unmerged": 0.10,
    }
)


@record
class GradingSettings:
    weights: Mapping[str, float] = GAINS
    penalties: Mapping[str, float] = PENALTIES
    size_half: float = 100.0  # work units (lines + file_lines x files) that earn half the size gain
    file_lines: float = 10.0  # a touched file counts as this many lines
    uncommitted_share: float = 0.4  # work left uncommitted counts at this share of committed work
    storm_free: int = 5  # failing tool calls that cost nothing
    storm_full: int = 20  # failing tool calls that cost the whole error_storm penalty
    test_before: bool = False  # run [run] test_command before the session too
    judge: str = ""  # "harness:model": the arm that judges sessions ("" = no judge)
    judge_exclude_same_family: bool = True  # do not judge arms of the judge's own model family
    judge_timeout_seconds: float = 120.0
    followup_command: tuple[str, ...] = ()  # argv reporting merged PRs etc. (rota.reward.followup)
    followup_days: float = 7.0  # commits not on the default branch after this lower the grade

    def with_(self, **changes: Any) -> GradingSettings:
        return self._replace(**changes)  # type: ignore[attr-defined,no-any-return]


@record
class ScheduleSettings:
    on_calendar: str | tuple[str, ...] = "*-*-* *:00,30:00"  # one expression, or several
    randomized_delay_sec: int = 120
    persistent: bool = True
    retry_interval_minutes: float = 10.0


@record
class HealthSettings:
    max_hours_without_success: float = 24.0
    blocked_all_hours: float = 6.0
    crash_streak: int = 3


@record
class QuotaSettings:
    file: str = ""  # a JSON file of quota states (the simple source; see rota.quota_file)
    cache_minutes: float = 5.0  # how long probe answers are reused


@record
class RetentionSettings:
    """What every run and `rota store prune` let go (rota.store.retention)."""

    sessions_days: float = 180.0  # sessions and their decisions (the evidence rows stay)
    logs_days: float = 30.0
    logs_max_mib: float = 512.0  # all session logs together
    log_max_kib: float = 8192.0  # one session's log: its head and tail are kept

    @property
    def log_max_bytes(self) -> int:
        return int(self.log_max_kib * 1024)


MIN_SESSIONS_DAYS = 30.0  # selection reads the last 28 days of sessions (rota.quota.history)


@record
class WorkspaceConfig:
    location: str  # expanded path of the workspace (a string: pathlib stays off the select path)
    id: str = ""

    @property
    def path(self) -> Path:

        import pathlib  # lazily: pathlib is kept off the `rota select` path

        return pathlib.Path(self.location)


@record
class ArmConfig:
    arm: str
    harness: str
    model: str
    tier: str
    cost: float = 1.0  # relative cost of a session (ignored when measured)
    enabled: bool = True
    measured_cost: bool = False  # cost = "measured": the cost term uses what sessions reported


@record
class HarnessConfig:
    name: str
    enabled: bool = True
    command: tuple[str, ...] | None = None
    executable: str | None = None
    timeout_minutes: float = 60.0
    env: Mapping[str, str] = _EMPTY
    pass_env: tuple[str, ...] = ()  # credentials passed from rota's environment ("*": all)
    quota: Mapping[str, Any] = _EMPTY
    models: Mapping[str, ArmConfig] = _EMPTY


@record
class PoolConfig:
    name: str
    harnesses: tuple[str, ...] = ()
    arms: tuple[str, ...] = ()
    concurrency: int = 0  # 0 = unlimited; fleets cap sessions at once on one subscription


@record
class Rule:
    category: str
    min_tier: str = ""
    max_tier: str = ""
    pin: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    prefer_cheapest: bool = False


_SCOPES: dict[int, tuple[Config, Mapping[str, ArmScopes]]] = {}  # by id(config); see all_scopes


@record
class Config:
    source: str | None  # the config file, None for a config built in memory
    categories: tuple[str, ...]
    default_category: str
    tiers: tuple[str, ...]
    workspace: WorkspaceConfig
    store_url: str
    harnesses: Mapping[str, HarnessConfig]
    arms: Mapping[str, ArmConfig]
    pools: Mapping[str, PoolConfig]
    rules: Mapping[str, Rule]
    bandit: BanditSettings = BanditSettings()
    pacing: PacingSettings = PacingSettings()
    run: RunSettings = RunSettings()
    grading: GradingSettings = GradingSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    health: HealthSettings = HealthSettings()
    quota: QuotaSettings = QuotaSettings()
    metrics: MetricsSettings = MetricsSettings()
    notify: NotifySettings = NotifySettings()
    retention: RetentionSettings = RetentionSettings()

    @property
    def path(self) -> Path | None:

        import pathlib  # lazily: pathlib is kept off the `rota select` path

        return pathlib.Path(self.source) if self.source else None

    def tier_rank(self, tier: str) -> int:
        return self.tiers.index(tier)

    def arm_scopes(self, arm: str) -> ArmScopes:
        return self.all_scopes()[arm]

    def all_scopes(self) -> Mapping[str, ArmScopes]:
        """Every arm -> its ArmScopes (harness, pools), worked out once per config: a config is
        immutable, and selection asks for them for every arm of every decision."""
        got = _SCOPES.get(id(self))
        if got is not None and got[0] is self:
            return got[1]
        scopes = {}
        for arm, a in self.arms.items():
            pools = tuple(
                p.name for p in self.pools.values() if a.harness in p.harnesses or arm in p.arms
            )
            scopes[arm] = ArmScopes(arm=arm, harness=a.harness, pools=pools)
        if len(_SCOPES) >= 8:  # a simulation builds a config per replicate
            _SCOPES.clear()
        _SCOPES[id(self)] = (self, MappingProxyType(scopes))
        return _SCOPES[id(self)][1]

    def enabled_arms(self) -> list[ArmConfig]:
        return [a for a in self.arms.values() if a.enabled and self.harnesses[a.harness].enabled]
