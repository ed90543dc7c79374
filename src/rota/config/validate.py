"""A decoded TOML document -> a validated Config.

Every error names the file, the key and what was expected, and maps to exit 78 (ConfigError).
Unknown keys are errors: a typo must never silently fall back to a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from rota.config.monitoring import parse_metrics, parse_notify
from rota.config.schema import (
    DAY_S,
    DEFAULT_CATEGORIES,
    DEFAULT_TIERS,
    ArmConfig,
    BanditSettings,
    Config,
    GradingSettings,
    HarnessConfig,
    HealthSettings,
    PacingSettings,
    PoolConfig,
    QuotaSettings,
    Rule,
    RunSettings,
    ScheduleSettings,
    WorkspaceConfig,
)
from rota.errors import ConfigError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


class _Reader:
    """Typed access to one table; records which keys were used so leftovers are reported."""

    def __init__(self, table: Mapping[str, Any], key: str, path: str) -> None:
        self.table = table
        self.key = key
        self.path = path
        self.used: set[str] = set()

    def _err(self, sub: str, msg: str) -> ConfigError:
        return ConfigError(msg, path=self.path, key=f"{self.key}.{sub}" if self.key else sub)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any, what: str) -> Any:
        self.used.add(name)
        if name not in self.table:
            return default
        v = self.table[name]
        # bool is an int in Python; a TOML `true` must not pass for a number.
        if isinstance(v, bool) and not (kind is bool or (isinstance(kind, tuple) and bool in kind)):
            raise self._err(name, f"expected {what}, got {type(v).__name__} {v!r}")
        if not isinstance(v, kind):
            raise self._err(name, f"expected {what}, got {_tname(v)} {v!r}")
        return v

    def number(self, name: str, default: float, *, minimum: float | None = None) -> float:
        v = self.get(name, (int, float), default, "a number")
        if minimum is not None and v < minimum:
            raise self._err(name, f"expected a number >= {minimum}, got {v!r}")
        return float(v)

    def integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        v = self.get(name, int, default, "an integer")
        if minimum is not None and v < minimum:
            raise self._err(name, f"expected an integer >= {minimum}, got {v!r}")
        return int(v)

    def boolean(self, name: str, default: bool) -> bool:
        return bool(self.get(name, bool, default, "true or false"))

    def string(self, name: str, default: str) -> str:
        return str(self.get(name, str, default, "a string"))

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        v = self.get(name, list, list(default), "a list of strings")
        for i, item in enumerate(v):
            if not isinstance(item, str):
                raise self._err(f"{name}[{i}]", f"expected a string, got {_tname(item)} {item!r}")
        return tuple(v)

    def table_(self, name: str) -> dict[str, Any]:
        return dict(self.get(name, dict, {}, "a table"))

    def finish(self) -> None:
        extra = sorted(set(self.table) - self.used)
        if extra:
            raise self._err(
                extra[0],
                f"unknown key {extra[0]!r}; expected one of: {', '.join(sorted(self.used))}",
            )


def _tname(v: object) -> str:
    return {
        dict: "table",
        list: "array",
        str: "string",
        int: "integer",
        float: "float",
        bool: "boolean",
    }.get(type(v), type(v).__name__)


def _section(data: Mapping[str, Any], top: _Reader, name: str, path: str) -> _Reader:
    return _Reader(top.table_(name), name, path)


def parse_config(data: Mapping[str, Any], *, path: Path | str | None = None) -> Config:
    """Validate a decoded TOML document (also used by the simulator to build configs)."""
    p = str(path) if path is not None else "<config>"
    top = _Reader(data, "", p)

    categories = top.strings("categories", DEFAULT_CATEGORIES)
    if not categories:
        raise ConfigError("expected at least one category", path=p, key="categories")
    if len(set(categories)) != len(categories):
        raise ConfigError("categories must be unique", path=p, key="categories")
    default_category = top.string("default_category", categories[0])
    if default_category not in categories:
        raise ConfigError(
            f"default category {default_category!r} is not in categories {list(categories)}",
            path=p,
            key="default_category",
        )
    tiers = top.strings("tiers", DEFAULT_TIERS)
    if not tiers:
        raise ConfigError("expected at least one tier (weakest first)", path=p, key="tiers")

    ws = _section(data, top, "workspace", p)
    ws_path = ws.string("path", "")
    workspace = WorkspaceConfig(
        location=os.path.expanduser(ws_path) if ws_path else os.getcwd(), id=ws.string("id", "")
    )
    ws.finish()

    st = _section(data, top, "store", p)
    store_url = st.string("url", "")
    if store_url and not store_url.startswith(("sqlite://", "postgresql://", "postgres://")):
        raise ConfigError(
            "expected a URL starting sqlite:/// or postgresql://", path=p, key="store.url"
        )
    st.finish()

    harnesses, arms = _parse_harnesses(top.table_("harnesses"), p, tiers)
    pools = _parse_pools(top.table_("pools"), p, harnesses, arms)
    rules = _parse_rules(top.table_("rules"), p, categories, tiers, arms)

    b = _section(data, top, "bandit", p)
    weight_raw = b.get("observation_weight", (str, int, float), "auto", '"auto" or a number')
    if isinstance(weight_raw, str):
        if weight_raw != "auto":
            raise ConfigError(
                f'expected "auto" or a number > 0, got {weight_raw!r}',
                path=p,
                key="bandit.observation_weight",
            )
        weight: float | None = None
    else:
        if weight_raw <= 0:
            raise ConfigError(
                f'expected "auto" or a number > 0, got {weight_raw!r}',
                path=p,
                key="bandit.observation_weight",
            )
        weight = float(weight_raw)
    d = BanditSettings()
    bandit = BanditSettings(
        half_life_s=b.number("half_life_days", d.half_life_s / DAY_S, minimum=0.01) * DAY_S,
        pooling_strength=b.number("pooling_strength", d.pooling_strength, minimum=0),
        observation_weight=weight,
        cost_weight=b.number("cost_weight", d.cost_weight, minimum=0),
        prior_strength=b.number("prior_strength", d.prior_strength, minimum=0.1),
        explore_min_trials=b.integer("explore_min_trials", d.explore_min_trials, minimum=0),
        near_tie=b.number("near_tie", d.near_tie, minimum=0),
        exploration=b.number("exploration", d.exploration, minimum=0),
    )
    b.finish()

    pc = _section(data, top, "pacing", p)
    dp = PacingSettings()
    pacing = PacingSettings(
        enabled=pc.boolean("enabled", dp.enabled),
        use_it_horizon_hours=pc.number("use_it_horizon_hours", dp.use_it_horizon_hours, minimum=0),
        use_it_min_headroom=pc.number("use_it_min_headroom", dp.use_it_min_headroom, minimum=0),
        bonus=pc.number("bonus", dp.bonus, minimum=0),
        ahead_penalty=pc.number("ahead_penalty", dp.ahead_penalty, minimum=0),
    )
    pc.finish()

    r = _section(data, top, "run", p)
    dr = RunSettings()
    run = RunSettings(
        prompt=r.string("prompt", dr.prompt),
        prompt_file=r.string("prompt_file", ""),
        prompt_command=r.strings("prompt_command"),
        category_command=r.strings("category_command"),
        test_command=r.strings("test_command"),
        grader_command=r.strings("grader_command"),
        loop_gap_seconds=r.number("loop_gap_seconds", dr.loop_gap_seconds, minimum=0),
        kill_grace_seconds=r.number("kill_grace_seconds", dr.kill_grace_seconds, minimum=0),
        retry_interval_minutes=r.number(
            "retry_interval_minutes", dr.retry_interval_minutes, minimum=0.1
        ),
    )
    r.finish()

    g = _section(data, top, "grading", p)
    weights = dict(GradingSettings().weights)
    for k, v in g.table_("weights").items():
        if k not in weights:
            raise ConfigError(
                f"unknown signal {k!r}; expected one of: {', '.join(sorted(weights))}",
                path=p,
                key=f"grading.weights.{k}",
            )
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ConfigError(
                f"expected a number >= 0, got {v!r}", path=p, key=f"grading.weights.{k}"
            )
        weights[k] = float(v)
    g.finish()
    grading = GradingSettings(weights=weights)

    sc = _section(data, top, "schedule", p)
    ds = ScheduleSettings()
    if isinstance(sc.table.get("on_calendar"), list):
        on_calendar: str | tuple[str, ...] = sc.strings("on_calendar")
        if not on_calendar:
            raise ConfigError(
                "expected at least one calendar expression", path=p, key="schedule.on_calendar"
            )
    else:
        on_calendar = sc.string("on_calendar", ds.on_calendar)
    schedule = ScheduleSettings(
        on_calendar=on_calendar,
        randomized_delay_sec=sc.integer("randomized_delay_sec", ds.randomized_delay_sec, minimum=0),
        persistent=sc.boolean("persistent", ds.persistent),
        retry_interval_minutes=sc.number(
            "retry_interval_minutes", run.retry_interval_minutes, minimum=0.1
        ),
    )
    sc.finish()

    h = _section(data, top, "health", p)
    dh = HealthSettings()
    health = HealthSettings(
        max_hours_without_success=h.number(
            "max_hours_without_success", dh.max_hours_without_success, minimum=0
        ),
        blocked_all_hours=h.number("blocked_all_hours", dh.blocked_all_hours, minimum=0),
        crash_streak=h.integer("crash_streak", dh.crash_streak, minimum=1),
    )
    h.finish()

    q = _section(data, top, "quota", p)
    quota = QuotaSettings(
        file=q.string("file", ""), cache_minutes=q.number("cache_minutes", 5.0, minimum=0)
    )
    q.finish()
    metrics = parse_metrics(_section(data, top, "metrics", p))
    notify = parse_notify(_section(data, top, "notify", p), p)
    top.finish()

    return Config(
        source=str(path) if path is not None and p != "<config>" else None,
        categories=categories,
        default_category=default_category,
        tiers=tiers,
        workspace=workspace,
        store_url=store_url,
        harnesses=harnesses,
        arms=arms,
        pools=pools,
        rules=rules,
        bandit=bandit,
        pacing=pacing,
        run=run,
        grading=grading,
        schedule=schedule,
        health=health,
        quota=quota,
        metrics=metrics,
        notify=notify,
    )


def _parse_harnesses(
    table: Mapping[str, Any], p: str, tiers: tuple[str, ...]
) -> tuple[dict[str, HarnessConfig], dict[str, ArmConfig]]:
    harnesses: dict[str, HarnessConfig] = {}
    arms: dict[str, ArmConfig] = {}
    for name, body in table.items():
        key = f"harnesses.{name}"
        if ":" in name:
            raise ConfigError("a harness name cannot contain ':'", path=p, key=key)
        if not isinstance(body, dict):
            raise ConfigError(f"expected a table, got {_tname(body)}", path=p, key=key)
        h = _Reader(body, key, p)
        enabled = h.boolean("enabled", True)
        command = h.strings("command") if "command" in body else None
        if command is not None and not command:
            raise ConfigError(
                'expected a non-empty argv list, e.g. ["mytool", "--model", "{model}", "{prompt}"]',
                path=p,
                key=f"{key}.command",
            )
        executable = h.string("executable", "") or None
        timeout = h.number("timeout_minutes", 60.0, minimum=0.01)
        env = h.table_("env")
        for k, v in env.items():
            if not isinstance(v, str):
                raise ConfigError(
                    f"expected a string, got {_tname(v)}", path=p, key=f"{key}.env.{k}"
                )
        quota = h.table_("quota")
        models_t = h.table_("models")
        h.finish()
        models: dict[str, ArmConfig] = {}
        for model, mbody in models_t.items():
            mkey = f"{key}.models.{model}"
            if isinstance(mbody, str):  # shorthand: opus = "high"
                mbody = {"tier": mbody}
            if not isinstance(mbody, dict):
                raise ConfigError(
                    f'expected a table such as {{ tier = "{tiers[-1]}", cost = 1.0 }}, got {_tname(mbody)}',
                    path=p,
                    key=mkey,
                )
            m = _Reader(mbody, mkey, p)
            tier = m.string("tier", tiers[len(tiers) // 2])
            if tier not in tiers:
                raise ConfigError(
                    f"unknown tier {tier!r}; expected one of: {', '.join(tiers)}",
                    path=p,
                    key=f"{mkey}.tier",
                )
            cost = m.number("cost", 1.0, minimum=0)
            m_enabled = m.boolean("enabled", True)
            m.finish()
            arm = ArmConfig(
                arm=f"{name}:{model}",
                harness=name,
                model=model,
                tier=tier,
                cost=cost,
                enabled=m_enabled,
            )
            models[model] = arm
            arms[arm.arm] = arm
        harnesses[name] = HarnessConfig(
            name=name,
            enabled=enabled,
            command=command,
            executable=executable,
            timeout_minutes=timeout,
            env=env,
            quota=quota,
            models=models,
        )
    return harnesses, arms


def _check_arm(arm: str, arms: Mapping[str, ArmConfig], p: str, key: str) -> None:
    if arm not in arms:
        known = ", ".join(sorted(arms)) or "none configured"
        raise ConfigError(
            f"unknown arm {arm!r}; an arm is harness:model as configured under "
            f"[harnesses.NAME.models] (known: {known})",
            path=p,
            key=key,
        )


def _parse_pools(
    table: Mapping[str, Any],
    p: str,
    harnesses: Mapping[str, HarnessConfig],
    arms: Mapping[str, ArmConfig],
) -> dict[str, PoolConfig]:
    pools: dict[str, PoolConfig] = {}
    for name, body in table.items():
        key = f"pools.{name}"
        if not isinstance(body, dict):
            raise ConfigError(f"expected a table, got {_tname(body)}", path=p, key=key)
        r = _Reader(body, key, p)
        hs = r.strings("harnesses")
        arm_list = r.strings("arms")
        concurrency = r.integer("concurrency", 0, minimum=0)
        r.finish()
        for i, h in enumerate(hs):
            if h not in harnesses:
                raise ConfigError(
                    f"unknown harness {h!r}; define it under [harnesses.{h}]",
                    path=p,
                    key=f"{key}.harnesses[{i}]",
                )
        for i, a in enumerate(arm_list):
            _check_arm(a, arms, p, f"{key}.arms[{i}]")
        if not hs and not arm_list:
            raise ConfigError(
                "a pool must cover at least one harness or arm (harnesses = [...] or arms = [...])",
                path=p,
                key=key,
            )
        pools[name] = PoolConfig(name=name, harnesses=hs, arms=arm_list, concurrency=concurrency)
    return pools


def _parse_rules(
    table: Mapping[str, Any],
    p: str,
    categories: tuple[str, ...],
    tiers: tuple[str, ...],
    arms: Mapping[str, ArmConfig],
) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for cat, body in table.items():
        key = f"rules.{cat}"
        if cat not in categories and cat != "default":
            raise ConfigError(
                f"unknown category {cat!r}; expected one of: {', '.join(categories)} (or default)",
                path=p,
                key=key,
            )
        if not isinstance(body, dict):
            raise ConfigError(f"expected a table, got {_tname(body)}", path=p, key=key)
        r = _Reader(body, key, p)
        min_tier = r.string("min_tier", "")
        max_tier = r.string("max_tier", "")
        for k, t in (("min_tier", min_tier), ("max_tier", max_tier)):
            if t and t not in tiers:
                raise ConfigError(
                    f"unknown tier {t!r}; expected one of: {', '.join(tiers)}",
                    path=p,
                    key=f"{key}.{k}",
                )
        if min_tier and max_tier and tiers.index(min_tier) > tiers.index(max_tier):
            raise ConfigError(
                f"min_tier {min_tier!r} is above max_tier {max_tier!r}", path=p, key=key
            )
        pin = r.strings("pin")
        exclude = r.strings("exclude")
        for field_name, lst in (("pin", pin), ("exclude", exclude)):
            for i, a in enumerate(lst):
                _check_arm(a, arms, p, f"{key}.{field_name}[{i}]")
        prefer_cheapest = r.boolean("prefer_cheapest", False)
        r.finish()
        rules[cat] = Rule(
            category=cat,
            min_tier=min_tier,
            max_tier=max_tier,
            pin=pin,
            exclude=exclude,
            prefer_cheapest=prefer_cheapest,
        )
    return rules
