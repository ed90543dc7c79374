"""Scenario files (TOML) -> validated Scenario. The format is docs/scenarios.md.

Every error names the file, the key and what was expected (ConfigError, exit 78). Unknown keys are
errors: a typo such as `form = 900` must not silently become a different experiment.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rota.errors import ConfigError
from rota.simulate.outcomes import OutcomeSpec, mean_reward
from rota.simulate.outcomes import parse as parse_outcomes

DEFAULT_KEY = "default"
# What one category of an arm's sessions earns: a mean reward (drawn from a Beta around it), or
# what its sessions do (graded by the product's grading code: rota.simulate.outcomes).
Work = float | OutcomeSpec


@dataclass(frozen=True, slots=True)
class ArmSpec:
    arm: str
    harness: str
    model: str
    tier: str = "medium"
    cost: float = 1.0
    units: float = 1.0
    spread: float = 6.0
    start: int = 0  # `from`: the slot at which the arm first exists
    reward: Mapping[str, float] = field(default_factory=dict)  # category or "default" -> mean
    outcomes: Mapping[str, OutcomeSpec] = field(default_factory=dict)  # category -> sessions

    def mean(self, category: str) -> float:
        return mean_of(self.work, category)

    @property
    def work(self) -> dict[str, Work]:
        """category or "default" -> what its sessions earn. A named category beats "default";
        where both a mean and outcomes name the same key, the outcomes win."""
        return {**self.reward, **self.outcomes}


@dataclass(frozen=True, slots=True)
class QuotaSpec:
    pool: str
    harnesses: tuple[str, ...] = ()
    arms: tuple[str, ...] = ()
    window_minutes: float = 300.0
    capacity: float = 1.0
    visible: bool = True
    reset_known: bool = True

    def covers(self, arm: ArmSpec) -> bool:
        return arm.harness in self.harnesses or arm.arm in self.arms


@dataclass(frozen=True, slots=True)
class EventSpec:
    at: int
    arm: str = ""  # exactly one of arm / harness
    harness: str = ""
    reward: Mapping[str, float] = field(default_factory=dict)
    unavailable_for_minutes: float = 0.0
    outcomes: Mapping[str, OutcomeSpec] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.arm or self.harness

    def label(self) -> str:
        what = []
        if self.reward:
            what.append("reward " + ", ".join(f"{k}={v:g}" for k, v in self.reward.items()))
        if self.outcomes:
            what.append("outcomes " + ", ".join(self.outcomes))
        if self.unavailable_for_minutes:
            what.append(f"unavailable {self.unavailable_for_minutes:g} min")
        return f"@{self.at} {self.target}: {'; '.join(what)}"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    path: str
    sessions: int
    interval_minutes: float
    replicates: int
    seed: int
    categories: Mapping[str, float]  # normalised shares, in file order
    arms: tuple[ArmSpec, ...]
    quotas: tuple[QuotaSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()
    static: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def arm(self, name: str) -> ArmSpec:
        for a in self.arms:
            if a.arm == name:
                return a
        raise KeyError(name)

    @property
    def harnesses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.harness for a in self.arms))

    def static_order(self, category: str) -> tuple[str, ...]:
        """The static baseline's preference list for a category (declared order when none)."""
        if category in self.static:
            return self.static[category]
        if DEFAULT_KEY in self.static:
            return self.static[DEFAULT_KEY]
        return tuple(a.arm for a in self.arms)

    def milestones(self) -> list[tuple[int, str]]:
        """Slots where the world changes: events and new arms (for the after-event figures)."""
        out = [(e.at, e.label()) for e in self.events]
        out += [(a.start, f"@{a.start} new arm {a.arm}") for a in self.arms if a.start > 0]
        return sorted((at, label) for at, label in out if at < self.sessions)


def mean_of(table: Mapping[str, Work], category: str) -> float:
    """The true mean reward of a category (of "default" when it is not named)."""
    v = table.get(category)
    return mean_value(table[DEFAULT_KEY] if v is None else v)


_MEANS: dict[OutcomeSpec, float] = {}


def mean_value(work: Work) -> float:
    """A mean as given, or the mean grade of described sessions (by Monte Carlo, cached)."""
    if isinstance(work, OutcomeSpec):
        if work not in _MEANS:
            _MEANS[work] = mean_reward(work)
        return _MEANS[work]
    return float(work)


# ---------------------------------------------------------------------------------------------


class _Table:
    """Typed access to one TOML table; leftover keys are reported as unknown."""

    def __init__(self, table: Mapping[str, Any], key: str, path: str) -> None:
        self.table, self.key, self.path = table, key, path
        self.used: set[str] = set()

    def err(self, sub: str | None, msg: str) -> ConfigError:
        key = self.key if not sub else (f"{self.key}.{sub}" if self.key else sub)
        return ConfigError(msg, path=self.path, key=key or None)

    def number(
        self,
        name: str,
        default: float | None,
        *,
        minimum: float | None = None,
        above: float | None = None,
    ) -> float:
        self.used.add(name)
        if name not in self.table:
            if default is None:
                raise self.err(name, "missing: expected a number")
            return default
        v = self.table[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.err(name, f"expected a number, got {_tname(v)} {v!r}")
        if minimum is not None and v < minimum:
            raise self.err(name, f"expected a number >= {minimum:g}, got {v!r}")
        if above is not None and v <= above:
            raise self.err(name, f"expected a number > {above:g}, got {v!r}")
        return float(v)

    def integer(self, name: str, default: int | None, *, minimum: int | None = None) -> int:
        self.used.add(name)
        if name not in self.table:
            if default is None:
                raise self.err(name, "missing: expected an integer")
            return default
        v = self.table[name]
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.err(name, f"expected an integer, got {_tname(v)} {v!r}")
        if minimum is not None and v < minimum:
            raise self.err(name, f"expected an integer >= {minimum}, got {v!r}")
        return v

    def string(self, name: str, default: str | None) -> str:
        self.used.add(name)
        if name not in self.table:
            if default is None:
                raise self.err(name, "missing: expected a string")
            return default
        v = self.table[name]
        if not isinstance(v, str):
            raise self.err(name, f"expected a string, got {_tname(v)} {v!r}")
        return v

    def boolean(self, name: str, default: bool) -> bool:
        self.used.add(name)
        v = self.table.get(name, default)
        if not isinstance(v, bool):
            raise self.err(name, f"expected true or false, got {_tname(v)} {v!r}")
        return v

    def strings(self, name: str) -> tuple[str, ...]:
        self.used.add(name)
        v = self.table.get(name, [])
        if not isinstance(v, list):
            raise self.err(name, f"expected a list of strings, got {_tname(v)} {v!r}")
        for i, item in enumerate(v):
            if not isinstance(item, str) or not item:
                raise self.err(f"{name}[{i}]", f"expected a non-empty string, got {item!r}")
        return tuple(v)

    def subtable(self, name: str) -> dict[str, Any]:
        self.used.add(name)
        v = self.table.get(name, {})
        if not isinstance(v, dict):
            raise self.err(name, f"expected a table, got {_tname(v)}")
        return v

    def tables(self, name: str) -> list[dict[str, Any]]:
        self.used.add(name)
        v = self.table.get(name, [])
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.err(name, f"expected an array of tables ([[{name}]]), got {_tname(v)}")
        return v

    def finish(self) -> None:
        extra = sorted(set(self.table) - self.used)
        if extra:
            raise self.err(
                extra[0],
                f"unknown key {extra[0]!r}; expected one of: {', '.join(sorted(self.used))}",
            )


def _tname(v: object) -> str:
    return {dict: "table", list: "array", str: "string", int: "integer", float: "float"}.get(
        type(v), "boolean" if isinstance(v, bool) else type(v).__name__
    )


def _means(t: _Table, name: str, *, need_default: bool) -> dict[str, float]:
    raw = t.subtable(name)
    out: dict[str, float] = {}
    for cat, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise t.err(f"{name}.{cat}", f"expected a mean reward between 0 and 1, got {v!r}")
        out[cat] = float(v)
    if need_default and DEFAULT_KEY not in out:
        raise t.err(name, "missing `default`: the mean reward for categories not named")
    return out


def _outcomes(t: _Table, name: str) -> dict[str, OutcomeSpec]:
    raw = t.subtable(name)
    out: dict[str, OutcomeSpec] = {}
    for cat, body in raw.items():
        key = f"{t.key}.{name}.{cat}" if t.key else f"{name}.{cat}"
        if not isinstance(body, dict):
            raise t.err(f"{name}.{cat}", f"expected a table of session outcomes, got {_tname(body)}")
        out[cat] = parse_outcomes(body, key, t.path)
    return out


def load_scenario(path: str | Path) -> Scenario:
    p = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError("scenario file not found", path=p) from None
    except OSError as exc:
        raise ConfigError(f"cannot read scenario: {exc.strerror}", path=p) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("scenario is not UTF-8 text", path=p) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=p) from None
    return parse_scenario(data, path=p)


def parse_scenario(data: Mapping[str, Any], *, path: str = "<scenario>") -> Scenario:
    top = _Table(data, "", path)
    name = top.string("name", Path(path).stem)
    sessions = top.integer("sessions", None, minimum=1)
    interval = top.number("interval_minutes", 30.0, above=0)
    replicates = top.integer("replicates", 30, minimum=1)
    seed = top.integer("seed", 1)

    cats_raw = top.subtable("categories")
    if not cats_raw:
        raise top.err("categories", "expected at least one category share, e.g. code = 0.5")
    shares: dict[str, float] = {}
    for cat, v in cats_raw.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or not math.isfinite(v):
            raise top.err(f"categories.{cat}", f"expected a share >= 0, got {v!r}")
        if cat == DEFAULT_KEY:
            raise top.err(f"categories.{cat}", "`default` is not a category name")
        shares[cat] = float(v)
    total = sum(shares.values())
    if total <= 0:
        raise top.err("categories", "the shares must not all be zero")
    categories = {c: v / total for c, v in shares.items()}

    arms: list[ArmSpec] = []
    for i, body in enumerate(top.tables("arms")):
        t = _Table(body, f"arms[{i}]", path)
        arm = t.string("arm", None)
        harness, sep, model = arm.partition(":")
        if not sep or not harness or not model:
            raise t.err("arm", f"expected harness:model, got {arm!r}")
        if any(a.arm == arm for a in arms):
            raise t.err("arm", f"arm {arm!r} is declared twice")
        spec = ArmSpec(
            arm=arm,
            harness=harness,
            model=model,
            tier=t.string("tier", "medium") or "medium",
            cost=t.number("cost", 1.0, minimum=0),
            units=t.number("units", 1.0, above=0),
            spread=t.number("spread", 6.0, above=0),
            start=t.integer("from", 0, minimum=0),
            reward=_means(t, "reward", need_default=False),
            outcomes=_outcomes(t, "outcomes"),
        )
        missing = [c for c in categories if c not in spec.work]
        if missing and DEFAULT_KEY not in spec.work:
            raise t.err(
                "reward",
                f"missing `default` (no mean or outcomes for {', '.join(missing)})",
            )
        t.finish()
        arms.append(spec)
    if not arms:
        raise top.err("arms", "expected at least one [[arms]] entry")
    arm_names = {a.arm for a in arms}
    harness_names = {a.harness for a in arms}

    quotas: list[QuotaSpec] = []
    for i, body in enumerate(top.tables("quotas")):
        t = _Table(body, f"quotas[{i}]", path)
        q = QuotaSpec(
            pool=t.string("pool", None),
            harnesses=t.strings("harnesses"),
            arms=t.strings("arms"),
            window_minutes=t.number("window_minutes", None, above=0),
            capacity=t.number("capacity", None, minimum=0),
            visible=t.boolean("visible", True),
            reset_known=t.boolean("reset_known", True),
        )
        if not q.pool:
            raise t.err("pool", "expected a non-empty pool name")
        if any(x.pool == q.pool for x in quotas):
            raise t.err("pool", f"pool {q.pool!r} is declared twice")
        if not q.harnesses and not q.arms:
            raise t.err(None, "a pool must cover harnesses = [...] or arms = [...]")
        for j, h in enumerate(q.harnesses):
            if h not in harness_names:
                raise t.err(f"harnesses[{j}]", f"no arm uses harness {h!r}")
        for j, a in enumerate(q.arms):
            if a not in arm_names:
                raise t.err(f"arms[{j}]", f"unknown arm {a!r}; declare it under [[arms]]")
        t.finish()
        quotas.append(q)

    events: list[EventSpec] = []
    for i, body in enumerate(top.tables("events")):
        t = _Table(body, f"events[{i}]", path)
        at = t.integer("at", None, minimum=0)
        arm = t.string("arm", "")
        harness = t.string("harness", "")
        if bool(arm) == bool(harness):
            raise t.err(None, 'expected exactly one of arm = "harness:model" or harness = "name"')
        if arm and arm not in arm_names:
            raise t.err("arm", f"unknown arm {arm!r}; declare it under [[arms]]")
        if harness and harness not in harness_names:
            raise t.err("harness", f"no arm uses harness {harness!r}")
        ev = EventSpec(
            at=at,
            arm=arm,
            harness=harness,
            reward=_means(t, "reward", need_default=False),
            unavailable_for_minutes=t.number("unavailable_for_minutes", 0.0, minimum=0),
            outcomes=_outcomes(t, "outcomes"),
        )
        if not ev.reward and not ev.outcomes and not ev.unavailable_for_minutes:
            raise t.err(
                None, "an event needs [events.reward], [events.outcomes] or unavailable_for_minutes"
            )
        t.finish()
        events.append(ev)
    events.sort(key=lambda e: e.at)  # stable: same-slot events apply in file order

    static: dict[str, tuple[str, ...]] = {}
    st = _Table(top.subtable("static"), "static", path)
    for cat in list(st.table):
        lst = st.strings(cat)
        for j, a in enumerate(lst):
            if a not in arm_names:
                raise st.err(f"{cat}[{j}]", f"unknown arm {a!r}; declare it under [[arms]]")
        if cat != DEFAULT_KEY and cat not in categories:
            raise st.err(cat, f"unknown category {cat!r}; expected one of: {', '.join(categories)}")
        static[cat] = lst
    st.finish()
    top.finish()

    return Scenario(
        name=name,
        path=path,
        sessions=sessions,
        interval_minutes=interval,
        replicates=replicates,
        seed=seed,
        categories=categories,
        arms=tuple(arms),
        quotas=tuple(quotas),
        events=tuple(events),
        static=static,
    )
