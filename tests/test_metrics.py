"""`rota metrics`: the Prometheus text format, read back with the reference parser
(prometheus_client.parser), agrees with `rota status --json` and `rota sessions --json`, and is
replaced atomically."""

from __future__ import annotations

import json
import math
import os
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from report_support import SimMonth, build_sim_month
from rota.report.metrics import Family, exposition


@pytest.fixture(scope="module")
def sim_month(tmp_path_factory) -> SimMonth:
    return build_sim_month(tmp_path_factory.mktemp("sim-metrics"), slots=400)


def samples(text: str) -> dict[str, list[tuple[dict, float]]]:
    out: dict[str, list[tuple[dict, float]]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def one(found: dict, name: str, **labels: str) -> float:
    hits = [v for lab, v in found.get(name, []) if all(lab.get(k) == x for k, x in labels.items())]
    assert len(hits) == 1, (name, labels, hits)
    return hits[0]


def test_metrics_match_status_and_sessions(rota_env, sim_month):
    quota = rota_env.root / "quota.json"
    resets = time.time() + 7200
    quota.write_text(
        json.dumps(
            [
                {"scope": "pool:claude-5h", "window": "5h", "available": True,
                 "utilization": 0.42, "resets_at": resets, "source": "file"},
            ]
        )
    )  # fmt: skip
    prom = rota_env.root / "textfile" / "rota.prom"
    sim_month.install(rota_env, f'\n[quota]\nfile = "{quota}"\n\n[metrics]\ntextfile = "{prom}"\n')
    rota_env.run("block", "gptme", "--for", "3h", check=True)
    rota_env.run("metrics", check=True)
    text = prom.read_text()
    status = json.loads(rota_env.run("status", "--json", "--all", check=True).stdout)
    sessions = json.loads(rota_env.run("sessions", "--json", "-n", "100000", check=True).stdout)[
        "sessions"
    ]
    found = samples(text)

    for p in status["posteriors"]:
        labels = {"category": p["category"], "arm": p["arm"]}
        assert one(found, "rota_posterior_mean", **labels) == pytest.approx(p["mean"], abs=1e-4)
        low, high = p["interval90"]
        assert one(found, "rota_posterior_interval90_low", **labels) == pytest.approx(low, abs=1e-4)
        assert one(found, "rota_posterior_interval90_high", **labels) == pytest.approx(
            high, abs=1e-4
        )
        assert one(found, "rota_posterior_observations", **labels) == p["n"]

    counts: dict[tuple[str, str, str], int] = {}
    for s in sessions:
        key = (s["category"], s["arm_ran"] or s["arm"], s["status"])
        counts[key] = counts.get(key, 0) + 1
    got = {
        (lab["category"], lab["arm"], lab["outcome"]): v for lab, v in found["rota_sessions_total"]
    }
    assert got == counts and sum(got.values()) == 400
    graded = [s for s in sessions if s["reward"] is not None]
    assert sum(v for _, v in found["rota_grade_count"]) == len(graded)
    assert sum(v for _, v in found["rota_grade_sum"]) == pytest.approx(
        sum(s["reward"] for s in graded)
    )
    last_ok = max(s["ended_at"] for s in sessions if s["status"] == "completed")
    assert one(found, "rota_last_success_timestamp_seconds") == pytest.approx(last_ok)

    for b in status["blocks"]:
        kind, _, scope = b["scope"].partition(":")
        assert one(
            found,
            "rota_block_until_timestamp_seconds",
            scope_kind=kind,
            scope=scope,
            source=b["source"],
        ) == pytest.approx(b["until_ts"])
    assert one(found, "rota_blocks_active", scope_kind="harness") == sum(
        1 for b in status["blocks"] if b["scope"].startswith("harness:")
    )
    for q in status["quota"]:
        labels = {
            "scope_kind": q["scope_kind"],
            "scope": q["scope"],
            "window": q["window"],
            "source": q["source"],
        }
        if q["utilization"] is not None:
            assert one(found, "rota_quota_used_ratio", **labels) == pytest.approx(q["utilization"])
        if q["available"] is not None:
            assert one(found, "rota_quota_available", **labels) == (1 if q["available"] else 0)
    assert one(found, "rota_quota_used_ratio", scope="claude-5h", source="file") == 0.42
    assert one(found, "rota_quota_resets_timestamp_seconds", scope="claude-5h") == pytest.approx(
        resets
    )
    assert one(found, "rota_sessions_running") == len(status["running"])
    age = one(found, "rota_seconds_since_last_decision")
    assert 0 <= age and one(found, "rota_last_decision_timestamp_seconds") <= time.time()


def test_textfile_is_replaced_atomically_and_readable(rota_env, sim_month):
    prom = rota_env.root / "collector" / "rota.prom"
    sim_month.install(rota_env)
    prom.parent.mkdir()
    prom.write_text("stale\n")
    proc = rota_env.run("metrics", "--textfile", str(prom), check=True)
    assert str(prom) in proc.stdout
    assert oct(prom.stat().st_mode & 0o777) == "0o644"  # node_exporter reads it as its own user
    assert os.listdir(prom.parent) == ["rota.prom"]  # no temporary file left behind
    assert list(text_string_to_metric_families(prom.read_text()))
    # stdout when asked, whatever the config says
    out = rota_env.run("metrics", "--stdout", check=True).stdout
    assert "# TYPE rota_sessions_total counter" in out


def test_unwritable_textfile_is_a_clear_error(rota_env, sim_month):
    sim_month.install(rota_env)
    blocker = rota_env.root / "not-a-dir"
    blocker.write_text("")
    proc = rota_env.run("metrics", "--textfile", str(blocker / "rota.prom"))
    assert proc.returncode == 1
    assert "cannot write the metrics file" in proc.stderr and "[metrics] textfile" in proc.stderr


def test_empty_store_metrics_parse(rota_env):
    from conftest import BASIC_CONFIG

    rota_env.write_config(BASIC_CONFIG)
    text = rota_env.run("metrics", check=True).stdout
    found = samples(text)
    assert "rota_sessions_total" not in found  # no sample yet: the family alone
    assert "# TYPE rota_sessions_total counter" in text
    assert one(found, "rota_posterior_observations", category="code", arm="codex:gpt-5.4") == 0


def test_exposition_escapes_labels_and_values():
    fam = Family("rota_test", "gauge", "help with \\ and\nnewline")
    fam.add(1.5, arm='a"b\\c\nd')
    fam.add(float("nan"), arm="nan")
    fam.add(float("inf"), arm="inf")
    fam.add(7, arm="int")
    text = exposition([fam])
    parsed = list(text_string_to_metric_families(text))
    assert parsed[0].documentation == "help with \\ and\nnewline"
    values = {s.labels["arm"]: s.value for s in parsed[0].samples}
    assert values['a"b\\c\nd'] == 1.5 and math.isnan(values["nan"])
    assert values["inf"] == math.inf and values["int"] == 7
    assert text.endswith("\n")
