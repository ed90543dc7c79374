"""`rota report`: a self-contained file from the store, what it shows and says, and the store
reads it rests on (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from report_support import SimMonth, build_sim_month, config_toml, fill
from rota.learning import step
from rota.quota.state import Block
from rota.report import posteriors
from rota.session.decide import decide
from rota.simulate.rota_policy import build_config
from rota.store.base import SessionOutcome
from rota.store.sqlite import SQLiteStore

DAY = 86400.0


@pytest.fixture(scope="module")
def sim_month(tmp_path_factory) -> SimMonth:
    return build_sim_month(tmp_path_factory.mktemp("sim-report"))


def report(env, *args: str) -> tuple[dict, str]:
    out = env.root / "out" / "report.html"
    proc = env.run("report", "--out", str(out), "--json", *args, check=True)
    return json.loads(proc.stdout), out.read_text(encoding="utf-8")


def test_report_is_self_contained_and_complete(rota_env, sim_month):
    sim_month.install(rota_env)
    data, page = report(rota_env)
    # Nothing to fetch: no script, no external reference, and a policy that forbids any.
    assert "<script" not in page.lower()
    refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', page)
    assert refs == []
    assert [
        u for u in re.findall(r"https?://[^\s\"'<)]+", page) if "w3.org/2000/svg" not in u
    ] == []
    assert "default-src 'none'" in page
    assert data["sessions"] > 1000 and data["sessions_total"] == 1600
    for cat in ("code", "infrastructure", "strategic", "triage"):
        assert f"posterior-{cat}" in data["charts"] and f"grades-{cat}" in data["charts"]
        assert f'data-chart="posterior-{cat}"' in page
    assert "shares" in data["charts"] and "blocks" in data["charts"]
    assert "quota-pool-codex-week-10080m" in data["charts"]  # the probed pool, from detail.levels
    kinds = {(e["kind"], e["subject"]) for e in data["events"]}
    assert ("new_arm", "gptme:kimi-k3") in kinds  # appears at slot 900
    assert ("change", "codex:gpt-5.4") in kinds  # regresses at slot 500
    assert any(k == "long_block" for k, _ in kinds)  # the three-day outage of claude-code
    # The sessions table: newest first, with grades, their signals and the decision behind each.
    assert page.count("<tr><td class='num'>") == 200
    assert "highest Thompson draw" in page and "grader 0." in page
    assert Path(data["out"]).stat().st_mode & 0o777 == 0o644


def test_what_changed_since_the_last_report(rota_env, sim_month):
    sim_month.install(rota_env)
    state = rota_env.state / "report-state.json"
    state.write_text(json.dumps({"generated_at": time.time() - 14 * DAY}))
    data, page = report(rota_env)
    texts = [c["text"] for c in data["changes"]]
    codex = [t for t in texts if t.startswith("codex:gpt-5.4 lost")]
    assert codex and "after its grades dropped on" in codex[0], texts
    kimi = [t for t in texts if t.startswith("gptme:kimi-k3 gained")]
    assert kimi and "as a new arm" in kimi[0], texts
    assert any("blocked" in t for t in texts)
    assert "since the last report" in data["changes_since"]
    # The report notes its own time: the next one starts from here.
    assert json.loads(state.read_text())["generated_at"] == pytest.approx(data["generated_at"])
    data2, _ = report(rota_env)
    assert data2["changes_since"].startswith("since the last report")


def test_harness_text_is_escaped(rota_env):
    rota_env.config.write_text(config_toml(build_config_for_drift(), rota_env.workspace))
    now = time.time()
    with SQLiteStore(rota_env.state / "rota.db") as store:
        sid = store.start_session(
            category="code", arm="codex:gpt-5.4", started_at=now - 600, decision_id=None,
            pid=None, machine="m", workspace="w",
        )  # fmt: skip
        evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
        store.finish_session(
            sid,
            SessionOutcome(
                status="rate_limited",
                ended_at=now - 500,
                detail={"limit": {"message": evil, "scopes": ["harness:codex"]}},
                blocks=[Block("harness", "codex", now + 3600, evil, "rate_limit", now - 500)],
            ),
            half_life_s=14 * DAY,
        )
    data, page = report(rota_env)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def build_config_for_drift():
    from report_support import DRIFT
    from rota.simulate.scenario import load_scenario

    return load_scenario(DRIFT)


def test_since_and_out_errors(rota_env):
    from conftest import BASIC_CONFIG

    rota_env.write_config(BASIC_CONFIG)
    bad = rota_env.run("report", "--since", "last tuesday", "--out", str(rota_env.root / "r.html"))
    assert bad.returncode == 2 and "--since" in bad.stderr
    future = rota_env.run("report", "--since", "2099-01-01", "--out", str(rota_env.root / "r.html"))
    assert future.returncode == 2 and "not in the past" in future.stderr
    ok = rota_env.run(
        "report", "--since", "2026-01-01T00:00Z", "--out", str(rota_env.root / "r.html")
    )
    assert ok.returncode == 0, ok.stderr
    blocker = rota_env.root / "file"
    blocker.write_text("")
    proc = rota_env.run("report", "--out", str(blocker / "r.html"))
    assert (
        proc.returncode == 1 and "cannot write the report" in proc.stderr and "--out" in proc.stderr
    )


def test_timeline_is_what_selection_saw(tmp_path):
    """The rebuilt posterior at the end equals the mean select() gives each candidate then: the
    same evidence, learnt by the same step (with its change tests) in the same order."""
    now = time.time()
    with SQLiteStore(tmp_path / "rota.db") as store:
        scenario = fill(store, end=now, slots=700)  # past the regression at slot 500
        config = build_config(scenario)
        t = now - 60
        tl = posteriors.timeline(
            config,
            store.graded_observations(),
            store.sessions_since(t - 40 * DAY, 100_000),
            t - 2 * DAY,
            t,
            list(config.categories),
        )
        for cat in config.categories:
            d = decide(config, store, category=cat, now=t, seed=1, states=[])
            for c in d.candidates:
                assert tl.series[cat][c.arm][-1].mean == pytest.approx(c.mean, abs=1e-9), (
                    cat,
                    c.arm,
                )
        # and the evidence itself is the store's, rebuilt
        rebuilt, _ = step.rebuild(store.graded_observations(), config.bandit.half_life_s)
        assert rebuilt == store.evidence()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path):
    if request.param == "sqlite":
        store = SQLiteStore(tmp_path / "rota.db")
    else:
        from rota.store.postgres import PostgresStore

        store = PostgresStore(request.getfixturevalue("pg_url"))
    try:
        yield store
    finally:
        store.close()


def test_history_reads(any_store):
    store = any_store
    assert store.sessions_since(0, 10) == [] and store.session_totals() == []
    assert store.last_decision_at() is None and store.decisions_by_id([1, 2]) == {}
    base = 1_800_000_000.0
    ids = []
    for i in range(5):
        did = store.record_decision(
            {"decided_at": base + i, "category": "code", "arm": "a:x", "why": f"d{i}"},
            workspace="w",
            machine="m",
        )
        sid = store.start_session(
            category="code", arm="a:x", started_at=base + 100 * i, decision_id=did, pid=None,
            machine="m", workspace="w",
        )  # fmt: skip
        status = "completed" if i % 2 == 0 else "crashed"
        store.finish_session(
            sid,
            SessionOutcome(status=status, ended_at=base + 100 * i + 50, reward=0.2 * i,
                           arm_ran="a:y" if i == 4 else None),
            half_life_s=14 * DAY,
        )  # fmt: skip
        ids.append((sid, did))
    got = store.sessions_since(base + 100, 3)
    assert [s.id for s in got] == [ids[2][0], ids[3][0], ids[4][0]]  # the newest 3, oldest first
    assert [s.id for s in store.sessions_since(base + 150, 10)] == [ids[2][0], ids[3][0], ids[4][0]]
    decisions = store.decisions_by_id([ids[1][1], ids[3][1], 99999])
    assert {d["why"] for d in decisions.values()} == {"d1", "d3"}
    assert store.last_decision_at() == pytest.approx(base + 4)
    totals = {(t.category, t.arm, t.status): t for t in store.session_totals()}
    assert totals[("code", "a:x", "completed")].sessions == 2
    assert totals[("code", "a:x", "completed")].grade_sum == pytest.approx(0.0 + 0.4)
    assert totals[("code", "a:x", "crashed")].graded == 2
    assert totals[("code", "a:y", "completed")].last_ended_at == pytest.approx(base + 450)
    old = Block("harness", "a", base - 10, "old", "manual", base - 100)
    live = Block("harness", "a", base + 10_000, "live", "rate_limit", base)
    store.add_block(old)
    store.add_block(live)
    assert [b.reason for b in store.blocks_since(base)] == ["live"]
    assert [b.reason for b in store.blocks_since(base - 50)] == ["old", "live"]
    # many ids at once (chunked IN lists)
    many = store.decisions_by_id(list(range(1, 2000)))
    assert len(many) == 5


def test_arm_styles_are_stable_and_colour_blind_safe():
    from rota.report import charts, svg

    cfg = build_config(build_config_for_drift())
    styles = charts.arm_styles(cfg, ["zzz:unknown"])
    assert list(styles)[:5] == list(cfg.arms)
    assert all(colour in svg.PALETTE for colour, _ in styles.values())
    many = [svg.style_for(i) for i in range(12)]
    assert len(set(many)) == 12  # past eight arms, dashes tell them apart


def test_select_keeps_the_report_off_its_path(rota_env):
    """Select reads the [metrics] and [notify] settings with the config, and nothing of rota.report."""
    from conftest import BASIC_CONFIG

    rota_env.write_config(BASIC_CONFIG)
    code = (
        "import sys; from rota.cli import main; rc = main(['select', '--json']); "
        "print(sorted(m for m in sys.modules if m.startswith('rota.report')), file=sys.stderr); "
        "print(sorted(m for m in ('prometheus_client', 'selenium', 'urllib.request', "
        "'http.client', 'threading', 'subprocess') if m in sys.modules), file=sys.stderr)"
    )
    import subprocess
    import sys

    p = subprocess.run(
        [sys.executable, "-c", code], env=rota_env.env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    report_mods, heavy = p.stderr.strip().splitlines()[-2:]
    assert report_mods == "[]"  # not one module of rota.report
    assert "prometheus_client" not in heavy and "selenium" not in heavy
    assert "urllib.request" not in heavy and "http.client" not in heavy


def test_malformed_rows_do_not_stop_the_report(rota_env, sim_month):
    """Rows written by another version, or damaged: shown as far as they can be, never fatal."""
    import sqlite3

    sim_month.install(rota_env)
    db = sqlite3.connect(rota_env.state / "rota.db")
    with db:
        ids = [r[0] for r in db.execute("SELECT id FROM sessions ORDER BY id DESC LIMIT 4")]
        garbage = [
            "not json",
            "[1, 2]",
            '{"limit": {"scopes": 7, "message": null}}',
            '{"levels": "x"}',
        ]
        for sid, text in zip(ids, garbage, strict=True):
            db.execute(
                "UPDATE sessions SET detail = ?, signals = ? WHERE id = ?", (text, text, sid)
            )
        db.execute(
            "UPDATE decisions SET explanation = ? WHERE id IN (SELECT decision_id FROM sessions "
            "WHERE id = ?)",
            (
                '{"why": 3, "candidates": [{"mean": "high", "interval": 5, "notes": "x"}, 7]}',
                ids[0],
            ),
        )
    db.close()
    data, page = report(rota_env)
    assert data["sessions"] > 1000 and f"<td class='num'>{ids[0]}</td>" in page
    # the same rows on the decision path (the store's recent uses): read, not fatal
    assert rota_env.run("select", "--json").returncode == 0
