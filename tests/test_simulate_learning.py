"""What rota learns from its own sessions (product code the simulator drove; pure, hand-checked).

- rota.quota: window length and capacity of pools no probe reports, schedules of limits that never
  say when they reset, arms too big for what a probed pool has left, narrowing a limit's scope.
- rota.learning.bandit: change detection and evidence since a change; tempered Thompson draws.
- rota.learning.policy.select: uses the history for both.
- rota.session.interpret.blocks_after_limit: narrows what a hit blocks with the probe cache of a real
  SQLite store.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rota.config import parse_config
from rota.harnesses.base import LimitHit
from rota.learning import bandit, step
from rota.learning.policy import SelectionInput, select
from rota.quota.history import arm_sizes, infer_resets, learned_states, recoveries, window_length
from rota.quota.limits import narrow_limit_scopes
from rota.quota.state import ArmScopes, QuotaState
from rota.quota.uses import Use, uses_from_rows

H = 3600.0
D = 24 * H
T = 1_800_000_000.0 - (1_800_000_000.0 % D)  # a midnight
OPUS = ArmScopes("claude-code:opus", "claude-code", ("claude-5h",))
SONNET = ArmScopes("claude-code:sonnet", "claude-code", ("claude-5h",))
SCOPES = {OPUS.arm: OPUS, SONNET.arm: SONNET}


def test_window_length_from_reset_times() -> None:
    assert window_length([T + 5 * H, T + 10 * H]) == 5 * H
    assert window_length([T + 5 * H, T + 10 * H, T + 20 * H]) == 5 * H  # a window unhit
    # A stray reset from another window does not spoil it once the schedule has more support.
    week = 168 * H
    assert window_length([T + week, T + week + 17 * H, T + 2 * week, T + 3 * week]) == week
    assert window_length([T + 5 * H]) is None
    assert window_length([T + 5 * H, T + 10 * H, T + 17 * H]) is None  # no schedule


def _window(start: float, arms: list[str], hit: str | None, w: float = 5 * H) -> list[Use]:
    uses = [Use(a, start + i * 600.0) for i, a in enumerate(arms)]
    if hit:
        uses.append(Use(hit, start + len(arms) * 600.0, True, start + w, ("pool:claude-5h",)))
    return uses


def test_unseen_pool_capacity_is_learnt_per_arm_from_its_hits() -> None:
    # Two windows: opus refused after 3 sessions; sonnet refused after 5 in the next one.
    hist = _window(T, [OPUS.arm] * 3, OPUS.arm) + _window(T + 5 * H, [SONNET.arm] * 5, SONNET.arm)
    # Third window, 3 sessions in: opus is out until the window ends, sonnet is not yet.
    hist += _window(T + 10 * H, [SONNET.arm] * 3, None)
    now = T + 10 * H + 3 * 600.0 + 60
    states = learned_states(SCOPES, hist, [], now)
    out = {(s.scope_kind, s.scope): s for s in states}
    opus = out[("arm", OPUS.arm)]
    assert opus.available is False and opus.resets_at == T + 15 * H and opus.source == "learned"
    assert ("arm", SONNET.arm) not in out
    pool = out[("pool", "claude-5h")]
    assert pool.available is True and pool.utilization == pytest.approx(3 / 5)
    # After two more sessions sonnet is out as well.
    hist += [Use(SONNET.arm, now), Use(SONNET.arm, now + 600)]
    later = {(s.scope_kind, s.scope) for s in learned_states(SCOPES, hist, [], now + 700)}
    assert ("arm", SONNET.arm) in later
    # A probe that reports the pool makes all this moot.
    probe = QuotaState("pool", "claude-5h", available=True, utilization=0.2, resets_at=T + 15 * H)
    assert learned_states(SCOPES, hist, [probe], now + 700) == []


def test_one_hit_teaches_no_schedule_and_old_hits_expire() -> None:
    hist = _window(T, [OPUS.arm] * 3, OPUS.arm) + _window(T + 5 * H, [OPUS.arm] * 3, None)
    assert learned_states(SCOPES, hist, [], T + 5 * H + 1900) == []
    hist = _window(T, [OPUS.arm] * 3, OPUS.arm) + _window(T + 5 * H, [OPUS.arm] * 3, OPUS.arm)
    late = T + 40 * D
    hist += _window(late, [OPUS.arm] * 3, None)
    assert learned_states(SCOPES, hist, [], late + 1900) == []


def test_schedule_of_a_limit_that_never_says_when() -> None:
    # Refused in the evening, served again just after midnight, three days running.
    eps = [(T + k * D + 20 * H, T + (k + 1) * D + 0.5 * H) for k in range(3)]
    w, reset = infer_resets(eps)  # type: ignore[misc]
    assert w == D
    assert (reset % D) <= 0.5 * H + 1  # midnight, at the latest where every bracket agrees
    assert infer_resets(eps[:2]) is None  # two recoveries are not enough
    ragged = [(T + 20 * H, T + D + 0.5 * H), (T + D + 2 * H, T + D + 4 * H), eps[2]]
    assert infer_resets(ragged) != (D, reset)
    hist = []
    for lo, hi in eps:
        hist += [Use("gemini:pro", lo - 600), Use("gemini:pro", lo, True), Use("gemini:pro", hi)]
    assert recoveries(hist) == eps


def test_unannounced_daily_limit_is_then_learnt_like_the_others() -> None:
    g = ArmScopes("gemini:pro", "gemini", ())
    hist: list[Use] = []
    for k in range(4):  # four days: 4 sessions, then refused (backoff probes) until midnight
        day = T + k * D
        if k:
            hist.append(Use(g.arm, day + 1 * H))  # served again after midnight
        hist += [Use(g.arm, day + 8 * H + i * H) for i in range(3)]
        for probe in (12, 16, 22):
            hist.append(Use(g.arm, day + probe * H, True, None, ("harness:gemini",)))
    hist.append(Use(g.arm, T + 4 * D + 1 * H))  # served after the last midnight
    states = learned_states({g.arm: g}, hist, [], T + 4 * D + 1.5 * H)
    assert [s.available for s in states if s.scope_kind == "harness"] == [True]
    # Refused today already: out until the next midnight, not for the short backoff.
    hist.append(Use(g.arm, T + 4 * D + 2 * H, True, None, ("harness:gemini",)))
    states = learned_states({g.arm: g}, hist, [], T + 4 * D + 3 * H)
    out = [s for s in states if s.available is False]
    assert out and all(s.resets_at == pytest.approx(T + 5 * D, abs=2 * H) for s in out)


def test_arm_too_big_for_what_a_probed_pool_has_left() -> None:
    hit = Use(OPUS.arm, T, True, T + 5 * H, ("pool:claude-5h",), {"claude-5h": 0.875})
    now = T + 6 * H

    def probe(u: float) -> QuotaState:
        return QuotaState("pool", "claude-5h", available=True, utilization=u, resets_at=T + 10 * H)

    out = learned_states(SCOPES, [hit], [probe(0.9)], now)
    assert [(s.scope, s.available) for s in out] == [(OPUS.arm, False)]
    assert learned_states(SCOPES, [hit], [probe(0.5)], now) == []
    # At a quarter used, a refusal is not about size: nothing learnt from it.
    small = hit._replace(utilization={"claude-5h": 0.25})
    assert learned_states(SCOPES, [small], [probe(0.9)], now) == []


def _lv(
    used: float, resets: float | None = T + 5 * H
) -> tuple[tuple[str, str, str, float, float | None], ...]:
    return (("pool", "claude-5h", "5h", used, resets),)


def test_arm_sizes_from_the_levels_around_its_sessions() -> None:
    hist = [
        Use(SONNET.arm, T, levels=_lv(0.0)),
        Use(OPUS.arm, T + 1800, levels=_lv(0.125)),  # sonnet used 1/8
        Use(SONNET.arm, T + 3600, levels=_lv(0.375)),  # opus used 2/8
        Use(OPUS.arm, T + 5400, levels=_lv(0.5)),
        Use(OPUS.arm, T + 7200, True, T + 5 * H, levels=_lv(0.875)),  # opus used 3/8 this time
        Use(SONNET.arm, T + 9000, levels=_lv(0.875)),  # the refused opus used nothing
        # A new window: a lower level, and a higher one with another reset, say nothing.
        Use(OPUS.arm, T + 5 * H, levels=_lv(0.0, T + 10 * H)),
        Use("gptme:glm-5", T + 5.5 * H, levels=_lv(0.3, T + 10 * H)),  # opus 0.3: not the least
        Use(SONNET.arm, T + 6 * H, levels=_lv(0.9, T + 10 * H)),  # glm is not in the pool
    ]
    key = ("pool", "claude-5h", "5h")
    sizes = arm_sizes(SCOPES, hist)
    assert sizes == {(SONNET.arm, key): 0.125, (OPUS.arm, key): 0.25}  # the least seen


def test_an_arm_that_cannot_fit_is_kept_out_before_it_is_refused() -> None:
    hist = [Use(OPUS.arm, T, levels=_lv(0.0)), Use(SONNET.arm, T + 1800, levels=_lv(0.25))]
    now = T + 2 * H

    def probe(u: float) -> QuotaState:
        return QuotaState("pool", "claude-5h", "5h", True, u, T + 5 * H, source="api")

    out = learned_states(SCOPES, hist, [probe(0.875)], now)  # no limit hit on record
    assert [(s.scope, s.available, s.resets_at) for s in out] == [(OPUS.arm, False, T + 5 * H)]
    assert "needed at least 25%" in out[0].reason
    assert learned_states(SCOPES, hist, [probe(0.75)], now) == []  # exactly fits
    # Another window's level (a weekly one) is not this one.
    week = QuotaState("pool", "claude-5h", "7d", True, 0.95, T + 100 * H, source="api")
    assert learned_states(SCOPES, hist, [week], now) == []
    # select keeps it out, with the reason shown.
    cfg = parse_config(
        {
            "categories": ["code"],
            "harnesses": {"claude-code": {"models": {"opus": {"tier": "high"}, "sonnet": {}}}},
            "pools": {"claude-5h": {"harnesses": ["claude-code"]}},
        }
    )
    d = select(
        SelectionInput(cfg, "code", now, {}, quota_states=[probe(0.875)], history=hist),
        random.Random(1),
    )
    opus = next(c for c in d.candidates if c.arm == OPUS.arm)
    assert not opus.eligible and "has needed at least 25%" in opus.reason
    assert d.arm == SONNET.arm


def test_narrow_limit_scopes() -> None:
    arm = ArmScopes("claude-code:opus", "claude-code", ("claude-5h", "opus-week"))
    guess = [("harness", "claude-code"), ("pool", "claude-5h"), ("pool", "opus-week")]
    roomy = QuotaState("pool", "claude-5h", available=True, utilization=0.1, resets_at=T + 2 * H)
    wide = ["claude-5h"]
    # The error's reset is no probed pool's: the unseen weekly pool refused; Sonnet stays usable.
    assert narrow_limit_scopes(
        guess, arm, [roomy], T, resets_at=T + 90 * H, harness_pools=wide
    ) == [("pool", "opus-week")]
    # It is the five-hour pool's reset: that one refused, with the harness it covers.
    assert narrow_limit_scopes(
        guess, arm, [roomy], T, resets_at=T + 2 * H, harness_pools=wide
    ) == [("harness", "claude-code"), ("pool", "claude-5h")]
    # No reset given: a pool a tenth used did not refuse.
    assert narrow_limit_scopes(guess, arm, [roomy], T, harness_pools=wide) == [
        ("pool", "opus-week")
    ]
    # Nothing probed, or nothing else to blame: the cautious guess stands.
    assert narrow_limit_scopes(guess, arm, [], T, resets_at=T + 2 * H) == guess
    only = ArmScopes("claude-code:opus", "claude-code", ("claude-5h",))
    assert narrow_limit_scopes(guess[:2], only, [roomy], T) == guess[:2]


def uses_from_sessions(records: list) -> list[Use]:
    """What Store.recent_uses makes of session records: the finished ones, as its lean rows."""
    from rota.store.base import dumps

    return uses_from_rows(
        (r.arm_ran or r.arm, r.status == "rate_limited", r.started_at,
         dumps(dict(r.detail)) if r.detail else None)
        for r in records
        if r.status not in ("running", "abandoned", "interrupted")
    )  # fmt: skip


def test_uses_from_session_records() -> None:
    from rota.store.base import SessionRecord

    recs = [
        SessionRecord(1, "code", "codex:gpt", None, "completed", T, T + 60, 0, 0.7, T + 60),
        SessionRecord(
            2, "code", "claude-code:opus", None, "rate_limited", T + H, T + H + 5,
            detail={"limit": {"resets_at": T + 5 * H, "scopes": ["pool:claude-5h"]},
                    "utilization": {"claude-5h": 0.9}},
        ),
        SessionRecord(3, "code", "codex:gpt", "codex:gpt-mini", "completed", T + 2 * H, None, 0),
        SessionRecord(4, "code", "codex:gpt", None, "running", T + 3 * H),
    ]  # fmt: skip
    uses = uses_from_sessions(recs)
    assert [u.arm for u in uses] == ["codex:gpt", "claude-code:opus", "codex:gpt-mini"]
    assert uses[0].at == T and not uses[0].limited
    hit = uses[1]
    assert hit.limited and hit.resets_at == T + 5 * H and hit.blocked == ("pool:claude-5h",)
    assert hit.utilization == {"claude-5h": 0.9}


def test_tempered_draws_keep_their_mean() -> None:
    post = bandit.Posterior(alpha=6.0, beta=4.0, n=10, effective=10.0)
    plain = post.sample(random.Random(3))
    half = post.sample(random.Random(3), 0.5)
    assert half == pytest.approx(post.mean + 0.5 * (plain - post.mean))
    assert post.sample(random.Random(3), 0.0) == pytest.approx(post.mean)


CFG = parse_config(
    {
        "categories": ["code", "triage"],
        "harnesses": {
            "codex": {"models": {"gpt": {"tier": "high", "cost": 1}}},
            "gptme": {"models": {"glm": {"tier": "low", "cost": 0.3}}},
        },
        "pools": {"plan": {"harnesses": ["codex"]}},
    }
)


def _regressed(n_before: int = 80, n_after: int = 14) -> tuple[dict, dict, float]:
    """codex:gpt's code grades at 0.75, then at 0.35, learnt through the learning step."""
    hl = CFG.bandit.half_life_s
    rows: dict = {}
    drifts: dict = {}
    changed: dict = {}
    t = T
    rng = random.Random(9)
    for i in range(n_before + n_after):
        r = min(1.0, max(0.0, rng.gauss(0.75 if i < n_before else 0.35, 0.15)))
        learnt = step.observe(rows, drifts, "code", "codex:gpt", r, t, hl)
        rows.update(learnt.rows)
        drifts.update(learnt.drifts)
        changed.update({k: d.changed_at for k, d in learnt.drifts.items() if d.changed_at})
        t += H
    for k in range(20):
        learnt = step.observe(rows, drifts, "code", "gptme:glm", 0.55, T + k, hl)
        rows.update(learnt.rows)
        drifts.update(learnt.drifts)
    return rows, changed, t


def test_select_reads_evidence_from_after_a_regression() -> None:
    rows, changed, now = _regressed()
    assert ("code", "codex:gpt") in changed or (bandit.OVERALL, "codex:gpt") in changed
    assert rows[("code", "codex:gpt")].s + rows[("code", "codex:gpt")].f < 20  # since + 5 before
    d = select(SelectionInput(CFG, "code", now, rows, changed=changed), random.Random(1))
    gpt = next(c for c in d.candidates if c.arm == "codex:gpt")
    assert gpt.mean < 0.45  # the old level no longer speaks for it
    assert any("shifted" in n for n in gpt.notes)
    assert d.arm == "gptme:glm"
    # A steady record is left alone.
    rows2, changed2, _ = _regressed(n_before=94, n_after=0)
    assert changed2 == {}
    kept = rows2[("code", "codex:gpt")]
    assert kept.n == 94 and kept.s + kept.f > 60  # decayed over four days, nothing set aside


def test_select_keeps_out_an_unseen_pool_it_has_learnt() -> None:
    hist = []
    for k in range(2):  # two windows, each refused after 3 sessions
        start = T + k * 5 * H
        hist += [Use("codex:gpt", start + i * H, category="code", reward=0.7) for i in range(3)]
        hist.append(Use("codex:gpt", start + 3 * H, True, start + 5 * H, ("pool:plan",)))
    start = T + 10 * H
    hist += [Use("codex:gpt", start + i * H, category="code", reward=0.7) for i in range(3)]
    rows, _ = step.rebuild([("code", "codex:gpt", 0.7, T + i) for i in range(9)], 14 * D)
    rows.update(step.rebuild([("code", "gptme:glm", 0.4, T + i) for i in range(9)], 14 * D)[0])
    now = start + 3 * H + 60
    d = select(SelectionInput(CFG, "code", now, rows, history=hist), random.Random(2))
    gpt = next(c for c in d.candidates if c.arm == "codex:gpt")
    assert not gpt.eligible and "learned" in gpt.reason and gpt.until == start + 5 * H
    assert d.arm == "gptme:glm"


def test_runner_narrows_a_hit_with_the_probe_cache(tmp_path: Path) -> None:
    from rota.session.interpret import blocks_after_limit
    from rota.store.sqlite import SQLiteStore

    cfg = parse_config(
        {
            "harnesses": {
                "claude-code": {"models": {"opus": {"tier": "high"}, "sonnet": {"tier": "medium"}}}
            },
            "pools": {
                "claude-5h": {"harnesses": ["claude-code"]},
                "opus-week": {"arms": ["claude-code:opus"]},
            },
        }
    )
    store = SQLiteStore(tmp_path / "rota.db")
    try:
        store.put_quota_states(
            [
                QuotaState(
                    "pool", "claude-5h", "five_hour", True, 0.1, T + 2 * H, "api", observed_at=T
                )
            ]
        )
        hit = LimitHit("usage limit reached", T + 90 * H, "harness", "claude-code")
        blocks, scopes = blocks_after_limit(store, cfg, hit, "claude-code:opus", T + 60)
        assert scopes == [("pool", "opus-week")]
        assert [(b.scope_kind, b.scope, b.until) for b in blocks] == [
            ("pool", "opus-week", T + 90 * H)
        ]
        # Sonnet is not blocked by it.
        from rota.quota.state import blocking

        assert blocking(cfg.arm_scopes("claude-code:sonnet"), blocks, T + 120) is None
    finally:
        store.close()
