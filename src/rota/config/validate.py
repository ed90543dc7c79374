"""A decoded TOML document -> a validated Config.

Every error names the file, the key and what was expected, and maps to exit 78 (ConfigError).
Unknown keys are errors: a typo must never silently fall back to a default. Every problem in the
document is collected (rota.config.reader) and all are raised together, so one run shows them all.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from rota.config.monitoring import MetricsSettings, NotifySettings, parse_metrics, parse_notify
from rota.config.reader import Problems, Reader, type_name
from rota.config.schema import (
    DAY_S,
    DEFAULT_CATEGORIES,
    DEFAULT_TIERS,
    MIN_SESSIONS_DAYS,
    ArmConfig,
    BanditSettings,
    Config,
    HarnessConfig,
    HealthSettings,
    PacingSettings,
    PoolConfig,
    QuotaSettings,
    RetentionSettings,
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


def _section(top: Reader, name: str) -> Reader:
    return Reader(top.table_(name), name, top.problems)


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_config(data: Mapping[str, Any], *, path: Path | str | None = None) -> Config:
    """Validate a decoded TOML document (also used by the simulator to build configs)."""
    p = str(path) if path is not None else "<config>"
    problems = Problems(p)  # every problem is collected; all are raised together at the end
    top = Reader(data, "", problems)

    categories = top.strings("categories", DEFAULT_CATEGORIES)
    if not categories:
        problems.add("expected at least one category", "categories")
        categories = DEFAULT_CATEGORIES
    if len(set(categories)) != len(categories):
        problems.add("categories must be unique", "categories")
        categories = tuple(dict.fromkeys(categories))
    default_category = top.string("default_category", categories[0])
    if default_category not in categories:
        problems.add(
            f"default category {default_category!r} is not in categories {list(categories)}",
            "default_category",
        )
        default_category = categories[0]
    tiers = top.strings("tiers", DEFAULT_TIERS)
    if not tiers:
        problems.add("expected at least one tier (weakest first)", "tiers")
        tiers = DEFAULT_TIERS

    ws = _section(top, "workspace")
    ws_path = ws.string("path", "")
    workspace = WorkspaceConfig(
        location=os.path.expanduser(ws_path) if ws_path else os.getcwd(), id=ws.string("id", "")
    )
    ws.finish()

    st = _section(top, "store")
    store_url = st.string("url", "")
    if store_url and not store_url.startswith(("sqlite://", "postgresql://", "postgres://")):
        problems.add("expected a URL starting sqlite:/// or postgresql://", "store.url")
        store_url = ""
    st.finish()

    harnesses, arms = _parse_harnesses(top.table_("harnesses"), problems, tiers)
    pools = _parse_pools(top.table_("pools"), problems, harnesses, arms)
    rules = _parse_rules(top.table_("rules"), problems, categories, tiers, arms)

    b = _section(top, "bandit")
    weight_raw = b.get("observation_weight", (str, int, float), "auto", '"auto" or a number')
    weight: float | None = None
    if weight_raw != "auto" and (
        isinstance(weight_raw, str) or not (math.isfinite(weight_raw) and 0.01 <= weight_raw <= 1000)
    ):
        problems.add(
            f'expected "auto" or a finite number from 0.01 to 1000, got {weight_raw!r}',
            "bandit.observation_weight",
        )
    elif not isinstance(weight_raw, str):
        weight = float(weight_raw)
    d = BanditSettings()
    bandit = BanditSettings(
        half_life_s=b.number("half_life_days", d.half_life_s / DAY_S, minimum=0.01, maximum=3650) * DAY_S,
        pooling_strength=b.number("pooling_strength", d.pooling_strength, minimum=0, maximum=1000),
        observation_weight=weight,
        cost_weight=b.number("cost_weight", d.cost_weight, minimum=0, maximum=100),
        prior_strength=b.number("prior_strength", d.prior_strength, minimum=0.1, maximum=1000),
        explore_min_trials=b.integer("explore_min_trials", d.explore_min_trials, minimum=0, maximum=1000),
        near_tie=b.number("near_tie", d.near_tie, minimum=0, maximum=1),
        exploration=b.number("exploration", d.exploration, minimum=0, maximum=10),
    )
    b.finish()

    pc = _section(top, "pacing")
    dp = PacingSettings()
    pacing = PacingSettings(
        enabled=pc.boolean("enabled", dp.enabled),
        use_it_horizon_hours=pc.number("use_it_horizon_hours", dp.use_it_horizon_hours, minimum=0, maximum=744),
        use_it_min_headroom=pc.number("use_it_min_headroom", dp.use_it_min_headroom, minimum=0, maximum=1),
        bonus=pc.number("bonus", dp.bonus, minimum=0, maximum=1),
        ahead_penalty=pc.number("ahead_penalty", dp.ahead_penalty, minimum=0, maximum=1),
    )
    pc.finish()

    r = _section(top, "run")
    dr = RunSettings()
    run = RunSettings(
        prompt=r.string("prompt", dr.prompt),
        prompt_file=r.string("prompt_file", ""),
        prompt_command=r.strings("prompt_command"),
        category_command=r.strings("category_command"),
        test_command=r.strings("test_command"),
        grader_command=r.strings("grader_command"),
        loop_gap_seconds=r.number("loop_gap_seconds", dr.loop_gap_seconds, minimum=0, maximum=86400),
        kill_grace_seconds=r.number("kill_grace_seconds", dr.kill_grace_seconds, minimum=0, maximum=3600),
        retry_interval_minutes=r.number(
            "retry_interval_minutes", dr.retry_interval_minutes, minimum=0.1, maximum=1440
        ),
    )
    r.finish()

    from rota.reward.settings import from_table

    grading = from_table(top.table_("grading"), p, problems)
    if grading.judge:
        _check_judge(grading.judge, harnesses, arms, problems)

    sc = _section(top, "schedule")
    ds = ScheduleSettings()
    if isinstance(sc.table.get("on_calendar"), list):
        on_calendar: str | tuple[str, ...] = sc.strings("on_calendar")
        if not on_calendar:
            problems.add("expected at least one calendar expression", "schedule.on_calendar")
            on_calendar = ds.on_calendar
    else:
        on_calendar = sc.string("on_calendar", ds.on_calendar)
    schedule = ScheduleSettings(
        on_calendar=on_calendar,
        randomized_delay_sec=sc.integer("randomized_delay_sec", ds.randomized_delay_sec, minimum=0, maximum=86400),
        persistent=sc.boolean("persistent", ds.persistent),
        retry_interval_minutes=sc.number(
            "retry_interval_minutes", run.retry_interval_minutes, minimum=0.1, maximum=1440
        ),
    )
    sc.finish()

    h = _section(top, "health")
    dh = HealthSettings()
    health = HealthSettings(
        max_hours_without_success=h.number(
            "max_hours_without_success", dh.max_hours_without_success, minimum=0, maximum=8760
        ),
        blocked_all_hours=h.number("blocked_all_hours", dh.blocked_all_hours, minimum=0, maximum=8760),
        crash_streak=h.integer("crash_streak", dh.crash_streak, minimum=1, maximum=1000),
    )
    h.finish()

    q = _section(top, "quota")
    quota = QuotaSettings(
        file=q.string("file", ""), cache_minutes=q.number("cache_minutes", 5.0, minimum=0, maximum=1440)
    )
    q.finish()

    rt = _section(top, "retention")
    drt = RetentionSettings()
    retention = RetentionSettings(
        sessions_days=rt.number(
            "sessions_days", drt.sessions_days, minimum=MIN_SESSIONS_DAYS, maximum=36500
        ),
        logs_days=rt.number("logs_days", drt.logs_days, minimum=0, maximum=36500),
        logs_max_mib=rt.number("logs_max_mib", drt.logs_max_mib, minimum=1, maximum=1e7),
        log_max_kib=rt.number("log_max_kib", drt.log_max_kib, minimum=16, maximum=1e7),
    )
    rt.finish()
    try:  # rota.config.monitoring stops at its first problem: one more for the list
        metrics = parse_metrics(_section(top, "metrics"))
    except ConfigError as exc:
        problems.items.append(exc)
        metrics = MetricsSettings()
    try:
        notify = parse_notify(_section(top, "notify"), p)
    except ConfigError as exc:
        problems.items.append(exc)
        notify = NotifySettings()
    top.finish()
    problems.raise_if_any()

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
        retention=retention,
    )


def _check_judge(
    judge: str,
    harnesses: Mapping[str, HarnessConfig],
    arms: Mapping[str, ArmConfig],
    problems: Problems,
) -> None:
    """[grading] judge names one of the configured arms, of a harness that can run without tools."""
    from rota.reward.settings import JUDGE_HARNESSES

    if judge not in arms:
        known = ", ".join(sorted(arms)) or "none configured"
        problems.add(
            f"unknown arm {judge!r}; the judge is one of your arms (known: {known})",
            "grading.judge",
        )
        return
    hc = harnesses[arms[judge].harness]
    kind = hc.quota.get("profile") if isinstance(hc.quota.get("profile"), str) else hc.name
    if kind not in JUDGE_HARNESSES:
        problems.add(
            f"{judge} cannot judge: only {', '.join(JUDGE_HARNESSES)} can run without tools; "
            "choose an arm of one of them, or use [run] grader_command for another judge",
            "grading.judge",
        )


def _parse_harnesses(
    table: Mapping[str, Any], problems: Problems, tiers: tuple[str, ...]
) -> tuple[dict[str, HarnessConfig], dict[str, ArmConfig]]:
    harnesses: dict[str, HarnessConfig] = {}
    arms: dict[str, ArmConfig] = {}
    for name, body in table.items():
        key = f"harnesses.{name}"
        if ":" in name:
            problems.add("a harness name cannot contain ':'", key)
            continue
        if not isinstance(body, dict):
            problems.add(f"expected a table, got {type_name(body)}", key)
            continue
        h = Reader(body, key, problems)
        enabled = h.boolean("enabled", True)
        command = h.strings("command") if "command" in body else None
        if command is not None and not command:
            problems.add(
                'expected a non-empty argv list, e.g. ["mytool", "--model", "{model}", "{prompt}"]',
                f"{key}.command",
            )
            command = None
        executable = h.string("executable", "") or None
        timeout = h.number("timeout_minutes", 60.0, minimum=0.01, maximum=10080)
        env = h.table_("env")
        for k, v in list(env.items()):
            if not isinstance(v, str):
                problems.add(f"expected a string, got {type_name(v)}", f"{key}.env.{k}")
                del env[k]
        pass_env = h.strings("pass_env")
        quota = h.table_("quota")
        models_t = h.table_("models")
        h.finish()
        models: dict[str, ArmConfig] = {}
        for model, mbody in models_t.items():
            mkey = f"{key}.models.{model}"
            if isinstance(mbody, str):  # shorthand: opus = "high"
                mbody = {"tier": mbody}
            if not isinstance(mbody, dict):
                problems.add(
                    f'expected a table such as {{ tier = "{tiers[-1]}", cost = 1.0 }}, '
                    f"got {type_name(mbody)}",
                    mkey,
                )
                continue
            m = Reader(mbody, mkey, problems)
            default_tier = tiers[len(tiers) // 2]
            tier = m.string("tier", default_tier)
            if tier not in tiers:
                problems.add(
                    f"unknown tier {tier!r}; expected one of: {', '.join(tiers)}", f"{mkey}.tier"
                )
                tier = default_tier
            measured = m.table.get("cost") == "measured"
            if measured:
                m.used.add("cost")
                cost = 1.0
            elif isinstance(m.table.get("cost"), str):
                m.used.add("cost")
                problems.add(
                    f'expected a number >= 0 or "measured", got {m.table["cost"]!r}',
                    f"{mkey}.cost",
                )
                cost = 1.0
            else:
                cost = m.number("cost", 1.0, minimum=0, maximum=1e6)
            m_enabled = m.boolean("enabled", True)
            m.finish()
            arm = ArmConfig(
                arm=f"{name}:{model}",
                harness=name,
                model=model,
                tier=tier,
                cost=cost,
                enabled=m_enabled,
                measured_cost=measured,
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
            pass_env=pass_env,
            quota=quota,
            models=models,
        )
    return harnesses, arms


def _known_arms(
    items: tuple[str, ...], arms: Mapping[str, ArmConfig], problems: Problems, key: str
) -> tuple[str, ...]:
    """The arms of `items` that are configured; each unknown one is a problem."""
    known = ", ".join(sorted(arms)) or "none configured"
    for i, arm in enumerate(items):
        if arm not in arms:
            problems.add(
                f"unknown arm {arm!r}; an arm is harness:model as configured under "
                f"[harnesses.NAME.models] (known: {known})",
                f"{key}[{i}]",
            )
    return tuple(a for a in items if a in arms)


def _parse_pools(
    table: Mapping[str, Any],
    problems: Problems,
    harnesses: Mapping[str, HarnessConfig],
    arms: Mapping[str, ArmConfig],
) -> dict[str, PoolConfig]:
    pools: dict[str, PoolConfig] = {}
    for name, body in table.items():
        key = f"pools.{name}"
        if not isinstance(body, dict):
            problems.add(f"expected a table, got {type_name(body)}", key)
            continue
        r = Reader(body, key, problems)
        hs = r.strings("harnesses")
        arm_list = r.strings("arms")
        concurrency = r.integer("concurrency", 0, minimum=0, maximum=100_000)
        r.finish()
        for i, h in enumerate(hs):
            if h not in harnesses:
                problems.add(
                    f"unknown harness {h!r}; define it under [harnesses.{h}]",
                    f"{key}.harnesses[{i}]",
                )
        hs = tuple(h for h in hs if h in harnesses)
        arm_list = _known_arms(arm_list, arms, problems, f"{key}.arms")
        if not hs and not arm_list:
            if "harnesses" not in body and "arms" not in body:
                problems.add(
                    "a pool must cover at least one harness or arm "
                    "(harnesses = [...] or arms = [...])",
                    key,
                )
            continue
        pools[name] = PoolConfig(name=name, harnesses=hs, arms=arm_list, concurrency=concurrency)
    return pools


def _parse_rules(
    table: Mapping[str, Any],
    problems: Problems,
    categories: tuple[str, ...],
    tiers: tuple[str, ...],
    arms: Mapping[str, ArmConfig],
) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for cat, body in table.items():
        key = f"rules.{cat}"
        if cat not in categories and cat != "default":
            problems.add(
                f"unknown category {cat!r}; expected one of: {', '.join(categories)} (or default)",
                key,
            )
            continue
        if not isinstance(body, dict):
            problems.add(f"expected a table, got {type_name(body)}", key)
            continue
        r = Reader(body, key, problems)
        min_tier = r.string("min_tier", "")
        max_tier = r.string("max_tier", "")
        if min_tier and min_tier not in tiers:
            problems.add(
                f"unknown tier {min_tier!r}; expected one of: {', '.join(tiers)}", f"{key}.min_tier"
            )
            min_tier = ""
        if max_tier and max_tier not in tiers:
            problems.add(
                f"unknown tier {max_tier!r}; expected one of: {', '.join(tiers)}", f"{key}.max_tier"
            )
            max_tier = ""
        if min_tier and max_tier and tiers.index(min_tier) > tiers.index(max_tier):
            problems.add(f"min_tier {min_tier!r} is above max_tier {max_tier!r}", key)
        pin = _known_arms(r.strings("pin"), arms, problems, f"{key}.pin")
        exclude = _known_arms(r.strings("exclude"), arms, problems, f"{key}.exclude")
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
