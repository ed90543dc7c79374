"""The rescan that rota ran before every decision until change detection became state (main at
b56725d, rota.learning.bandit.change_start/since_change and rota.learning.posteriors.
changed_evidence), kept here unchanged as the baseline bench/change_detection.py compares with.
Not part of rota."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rota.config import ArmConfig, Config
from rota.learning import bandit
from rota.learning.bandit import Evidence, clip01, decay_factor
from rota.learning.posteriors import arm_posterior
from rota.quota.uses import Use

CHANGE_Z = 4.0  # how far (in standard errors) recent grades must sit from the rest to be a change
CHANGE_MIN = 6.0  # effective observations needed on each side of a change
CHANGE_KEEP = 0.0  # share of the evidence from before a detected change that still counts
CHANGE_WINDOW = 60  # an arm's most recent graded observations scanned for a change


def change_start(
    points: list[tuple[float, float]],
    pre_mass: float,
    pre_residual: float,
    noise_var: float,
    *,
    z: float = CHANGE_Z,
    min_side: float = CHANGE_MIN,
) -> int | None:
    """Where an arm's latest shift in grades starts (an index into `points`), or None.

    points: the arm's recent graded observations, oldest first, as (weight, residual): what the
    observation still counts after decay, and its reward minus the arm's posterior mean in that
    observation's category. pre_mass/pre_residual: the evidence from before `points`, as one block.
    The split with the largest difference of weighted mean residuals wins, if that difference is at
    least `z` standard errors. A regression then costs a handful of sessions, not weeks of decay;
    and since the split only grows clearer as the new level goes on, there is no snapping back.
    """
    if noise_var <= 0 or len(points) < min_side:
        return None
    total_w = pre_mass + sum(w for w, _ in points)
    total_wr = pre_mass * pre_residual + sum(w * r for w, r in points)
    cw, cwr = pre_mass, pre_mass * pre_residual
    best: int | None = None
    best_z = z
    for j in range(len(points)):
        if j:
            pw, pr = points[j - 1]
            cw += pw
            cwr += pw * pr
        after_w = total_w - cw
        if after_w < min_side:
            break
        if cw < min_side:
            continue
        diff = (total_wr - cwr) / after_w - cwr / cw
        zz = abs(diff) / math.sqrt(noise_var * (1.0 / after_w + 1.0 / cw))
        if zz > best_z:
            best, best_z = j, zz
    return best


def since_change(
    ev: Evidence,
    after: list[tuple[float, float]],
    now: float,
    half_life_s: float,
    keep: float = CHANGE_KEEP,
) -> Evidence:
    """The row as if only the observations after a change counted (plus `keep` of the rest).

    after: (reward, observed_at) of the row's observations since the change. The rest is the row
    minus those, exactly, as retract() would remove them.
    """
    s, f = ev.decayed(now, half_life_s)
    ps = pf = 0.0
    for r, at in after:
        k = decay_factor(now - at, half_life_s)
        ps += clip01(r) * k
        pf += (1.0 - clip01(r)) * k
    return bandit.Evidence(
        s=ps + keep * max(0.0, s - ps),
        f=pf + keep * max(0.0, f - pf),
        t=now,
        n=ev.n,
        sum_r=ev.sum_r,
        sum_r2=ev.sum_r2,
    )


def changed_evidence(
    config: Config,
    evidence: Mapping[tuple[str, str], bandit.Evidence],
    history: Sequence[Use],
    now: float,
    weight: float,
) -> dict[tuple[str, str], bandit.Evidence]:
    """Rows of arms whose recent grades shifted (change_start), rebuilt from after the shift.

    Evidence decays by time only (exact and order-free in the store); a regression or a silent
    model upgrade shows up here, in the recent sessions, long before decay would forget the past.
    First over all of an arm's categories (residuals against each category's mean), then, for a
    shift that only some categories show, per category.
    """
    half_life_s = config.bandit.half_life_s
    # Runs before every decision: one pass over the history, and plain loops below.
    by_arm: dict[str, list[tuple[float, str, float]]] = {}
    for u in history:
        r = u.reward
        if r is None or u.limited:
            continue
        at = u.graded_at if u.graded_at is not None else u.at
        if at <= now:
            rows_of = by_arm.get(u.arm)
            if rows_of is None:
                rows_of = by_arm[u.arm] = []
            rows_of.append((at, u.category, r))
    out: dict[tuple[str, str], bandit.Evidence] = {}
    for name, raw in by_arm.items():
        if len(raw) < CHANGE_MIN or name not in config.arms:
            continue
        raw.sort()
        # The most recent ones; older ones count with what came before.
        obs = [(at, c, clip01(r)) for at, c, r in raw[-CHANGE_WINDOW:] if c]
        if len(obs) < CHANGE_MIN:
            continue
        arm = config.arms[name]
        means: dict[str, float] = {}

        def mean(cat: str, arm: ArmConfig = arm, means: dict[str, float] = means) -> float:
            if cat not in means:
                means[cat] = arm_posterior(config, evidence, cat, arm, now, weight).mean
            return means[cat]

        points: list[tuple[float, float]] = []
        by_cat: dict[str, list[int]] = {}  # category -> indexes into obs/points
        in_history: dict[str, list[float]] = {}
        decay = bandit.decay_factor
        for i, (at, cat, r) in enumerate(obs):
            k = decay(now - at, half_life_s)
            idx = by_cat.get(cat)
            if idx is None:
                idx = by_cat[cat] = []
                in_history[cat] = [0.0, 0.0]
            points.append((k, r - (means[cat] if cat in means else mean(cat))))
            idx.append(i)
            acc = in_history[cat]
            acc[0] += r * k
            acc[1] += (1.0 - r) * k
        # What the rows hold from before the history, as one block of residuals.
        rows = [key for key in evidence if key[1] == name and key[0] != bandit.OVERALL]
        pre: dict[str, tuple[float, float]] = {}  # category -> (mass, mean residual) before
        for key in rows:
            s, f = evidence[key].decayed(now, half_life_s)
            hs, hf = in_history.get(key[0], (0.0, 0.0))
            ps, pf = max(0.0, s - hs), max(0.0, f - hf)
            if ps + pf > 1e-9:
                pre[key[0]] = (ps + pf, ps / (ps + pf) - mean(key[0]))
        pre_mass = sum(w for w, _ in pre.values())
        pre_wr = sum(w * r for w, r in pre.values())
        m = sum(r for _, _, r in obs) / len(obs)
        noise_var = max(m * (1.0 - m), 0.01) / weight
        j = change_start(points, pre_mass, pre_wr / pre_mass if pre_mass else 0.0, noise_var)
        if j is not None:
            after = obs[j:]
            for key in [*rows, (bandit.OVERALL, name)]:
                if key in evidence:
                    mine = [(r, at) for at, cat, r in after if key[0] in (bandit.OVERALL, cat)]
                    out[key] = since_change(evidence[key], mine, now, half_life_s)
            continue
        overall_key = (bandit.OVERALL, name)
        for cat, idx in by_cat.items():
            key = (cat, name)
            if len(idx) < CHANGE_MIN or key not in evidence:
                continue
            mass, res = pre.get(cat, (0.0, 0.0))
            jc = change_start([points[i] for i in idx], mass, res, noise_var)
            if jc is None:
                continue
            mine = [(obs[i][2], obs[i][0]) for i in idx[jc:]]
            new = since_change(evidence[key], mine, now, half_life_s)
            out[key] = new
            # The arm's overall row loses the same: other categories must not inherit it.
            if overall_key in evidence:
                old_s, old_f = evidence[key].decayed(now, half_life_s)
                base = out.get(overall_key) or evidence[overall_key]
                o_s, o_f = base.decayed(now, half_life_s)
                out[overall_key] = bandit.Evidence(
                    s=max(0.0, o_s - (old_s - new.s)),
                    f=max(0.0, o_f - (old_f - new.f)),
                    t=now,
                    n=base.n,
                    sum_r=base.sum_r,
                    sum_r2=base.sum_r2,
                )
    return out
