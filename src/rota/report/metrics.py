"""Prometheus metrics in the text exposition format (version 0.0.4), for node_exporter's textfile
collector: written exactly, with the standard library, and replaced atomically.

What is exported (every value is what `rota status --json` shows, from the same code):
  rota_sessions_total{category,arm,outcome}       counter  sessions recorded (arm: the one that ran)
  rota_grade{category,arm} (_sum, _count)         summary  grades of graded sessions
  rota_last_success_timestamp_seconds             gauge    when the newest completed session ended
  rota_last_decision_timestamp_seconds            gauge    when the newest decision was made
  rota_seconds_since_last_decision                gauge    the same, as an age when the file was written
  rota_blocks_active{scope_kind}                  gauge    blocks in force, per kind of scope
  rota_block_until_timestamp_seconds{scope_kind,scope,source}  gauge  when each block ends
  rota_quota_used_ratio{scope_kind,scope,window,source}        gauge  used share of each quota window
  rota_quota_available{…}                         gauge    1 usable, 0 exhausted (unknown: absent)
  rota_quota_resets_timestamp_seconds{…}          gauge    when each window resets
  rota_posterior_mean{category,arm}               gauge    posterior mean grade (what select samples)
  rota_posterior_interval90_low / _high{category,arm}  gauge  its 90% interval
  rota_posterior_observations{category,arm}       gauge    graded observations behind it
  rota_sessions_running                           gauge    sessions running now (fleet-wide)
  rota_metrics_generated_timestamp_seconds        gauge    when this file was written
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rota.config import Config
from rota.store.base import Store

Labels = Mapping[str, str]


@dataclass(slots=True)
class Family:
    name: str
    kind: str  # counter, gauge, summary
    help: str
    samples: list[tuple[str, Labels, float]] = field(default_factory=list)  # (suffix, labels, v)

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.samples.append((suffix, labels, value))


def _escape_label(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n")


def _value(v: float) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def exposition(families: Iterable[Family]) -> str:
    """The text format: HELP and TYPE once per family, then its samples; a final newline."""
    lines = []
    for fam in families:
        lines.append(f"# HELP {fam.name} {_escape_help(fam.help)}")
        lines.append(f"# TYPE {fam.name} {fam.kind}")
        for suffix, labels, value in fam.samples:
            name = fam.name + suffix
            if labels:
                inner = ",".join(
                    f'{k}="{_escape_label(str(v))}"' for k, v in sorted(labels.items())
                )
                name += "{" + inner + "}"
            lines.append(f"{name} {_value(value)}")
    return "\n".join(lines) + "\n"


def gather(config: Config, store: Store, now: float, *, probe: bool = True) -> list[Family]:
    """probe=False: quota from the probe answers already cached and the quota file only (after
    a session: no new network call at its end)."""
    from rota.learning.policy import arm_posterior, observation_weight

    sessions = Family(
        "rota_sessions_total",
        "counter",
        "Sessions recorded, by category, the arm that ran (else the one selected) and outcome.",
    )
    grades = Family(
        "rota_grade", "summary", "Grades (0-1) of graded sessions, by category and arm."
    )
    graded: dict[tuple[str, str], list[float]] = {}
    last_success: float | None = None
    for row in store.session_totals():
        sessions.add(row.sessions, category=row.category, arm=row.arm, outcome=row.status)
        if row.graded:
            acc = graded.setdefault((row.category, row.arm), [0.0, 0])
            acc[0] += row.grade_sum
            acc[1] += row.graded
        if row.status == "completed" and row.last_ended_at is not None:
            last_success = max(last_success or 0.0, row.last_ended_at)
    for (cat, arm), (total, count) in sorted(graded.items()):
        grades.add(total, "_sum", category=cat, arm=arm)
        grades.add(count, "_count", category=cat, arm=arm)
    sessions.samples.sort(key=lambda s: sorted(s[1].items()))

    fams = [sessions, grades]
    if last_success is not None:
        f = Family(
            "rota_last_success_timestamp_seconds",
            "gauge",
            "When the newest completed session ended (Unix time).",
        )
        f.add(last_success)
        fams.append(f)
    last_decision = store.last_decision_at()
    if last_decision is not None:
        f = Family(
            "rota_last_decision_timestamp_seconds", "gauge", "When the newest decision was made."
        )
        f.add(last_decision)
        age = Family(
            "rota_seconds_since_last_decision",
            "gauge",
            "Seconds from the newest decision to when this file was written.",
        )
        age.add(max(0.0, now - last_decision))
        fams += [f, age]

    blocks = store.active_blocks(now)
    per_kind = Family("rota_blocks_active", "gauge", "Blocks in force, per kind of scope.")
    counts = {k: 0 for k in ("arm", "harness", "pool")}
    for b in blocks:
        counts[b.scope_kind] = counts.get(b.scope_kind, 0) + 1
    for kind, n in sorted(counts.items()):
        per_kind.add(n, scope_kind=kind)
    until = Family(
        "rota_block_until_timestamp_seconds", "gauge", "When each block in force ends (Unix time)."
    )
    ends: dict[tuple[str, str, str], float] = {}
    for b in blocks:
        key = (b.scope_kind, b.scope, b.source)
        ends[key] = max(ends.get(key, 0.0), b.until)  # one series per scope and source
    for (kind, scope, source), t in sorted(ends.items()):
        until.add(t, scope_kind=kind, scope=scope, source=source)
    fams += [per_kind, until]

    used = Family("rota_quota_used_ratio", "gauge", "Used share (0-1) of each quota window.")
    avail = Family(
        "rota_quota_available", "gauge", "1 if the quota window is usable, 0 if exhausted."
    )
    resets = Family(
        "rota_quota_resets_timestamp_seconds", "gauge", "When each quota window resets."
    )
    for q in _unique_states(_quota(config, store, now, probe)):
        labels = {
            "scope_kind": q.scope_kind,
            "scope": q.scope,
            "window": q.window,
            "source": q.source,
        }
        if q.utilization is not None:
            used.add(float(q.utilization), **labels)
        if q.available is not None:
            avail.add(1 if q.available else 0, **labels)
        if q.resets_at is not None:
            resets.add(float(q.resets_at), **labels)
    fams += [used, avail, resets]

    evidence = store.evidence()
    weight = observation_weight(config, evidence)
    mean = Family("rota_posterior_mean", "gauge", "Posterior mean grade per category and arm.")
    low = Family("rota_posterior_interval90_low", "gauge", "Lower end of its 90% interval.")
    high = Family("rota_posterior_interval90_high", "gauge", "Upper end of its 90% interval.")
    n = Family("rota_posterior_observations", "gauge", "Graded observations per category and arm.")
    for cat in config.categories:
        for arm in config.arms.values():
            post = arm_posterior(config, evidence, cat, arm, now, weight)
            lo, hi = post.interval(0.90)
            mean.add(post.mean, category=cat, arm=arm.arm)
            low.add(lo, category=cat, arm=arm.arm)
            high.add(hi, category=cat, arm=arm.arm)
            n.add(post.n, category=cat, arm=arm.arm)
    running = Family("rota_sessions_running", "gauge", "Sessions running now (fleet-wide).")
    running.add(len(store.running_sessions()))
    generated = Family(
        "rota_metrics_generated_timestamp_seconds", "gauge", "When this file was written."
    )
    generated.add(now)
    return [*fams, mean, low, high, n, running, generated]


def _quota(config: Config, store: Store, now: float, probe: bool) -> list:
    if probe:
        from rota.session.decide import quota_states

        return quota_states(config, store, now, warn=False)
    from rota.probes import MAX_CACHE_AGE_S

    states = list(store.cached_quota_states(MAX_CACHE_AGE_S, now))
    if config.quota.file:
        from pathlib import Path

        from rota.quota_file import QuotaFileError, read_quota_file

        try:
            states += read_quota_file(Path(config.quota.file).expanduser(), now)
        except QuotaFileError:
            pass  # `rota status` and `rota run` report it
    return states


def _unique_states(states: Sequence) -> list:
    """One state per (scope_kind, scope, window, source): a duplicate series is invalid."""
    seen: dict[tuple[str, str, str, str], object] = {}
    for q in states:
        seen.setdefault((q.scope_kind, q.scope, q.window, q.source), q)
    return list(seen.values())


def render(config: Config, store: Store, now: float, *, probe: bool = True) -> str:
    return exposition(gather(config, store, now, probe=probe))


def textfile_path(config: Config, override: str | None = None) -> str:
    """--textfile, else [metrics] textfile ("" when neither is set)."""
    path = override if override is not None else config.metrics.textfile
    return os.path.expanduser(path) if path else ""


def write(config: Config, store: Store, now: float, path: str, *, probe: bool = True) -> str:
    """Write the metrics to `path` atomically (mode 0644: node_exporter reads it as its own user).
    Returns the text. Raises OSError when the file cannot be written."""
    from rota.report.files import atomic_write

    text = render(config, store, now, probe=probe)
    atomic_write(path, text, mode=0o644)
    return text
