"""Posteriors as selection reads them. Pure, no I/O.

The observation weight for the recorded grades' noise, an arm's posterior in a category under the
config (tier prior, pooled with the arm's overall record), and change detection: evidence from
before a shift in an arm's recent grades, set aside. select() and `rota status` read these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rota.config import ArmConfig, Config
from rota.learning import bandit
from rota.quota.uses import Use


def observation_weight(
    config: Config, evidence: Mapping[tuple[str, str], bandit.Evidence]
) -> float:
    return config.bandit.observation_weight or bandit.noise_weight(bandit.evidence_table(evidence))


def arm_posterior(
    config: Config,
    evidence: Mapping[tuple[str, str], bandit.Evidence],
    category: str,
    arm: ArmConfig,
    now: float,
    weight: float,
) -> bandit.Posterior:
    """The posterior select() samples from for (category, arm); also what `rota status` shows."""
    settings = config.bandit
    return bandit.posterior(
        prior_mean=bandit.tier_prior_mean(config.tier_rank(arm.tier), len(config.tiers)),
        category=evidence.get((category, arm.arm)),
        overall=evidence.get((bandit.OVERALL, arm.arm)),
        now=now,
        half_life_s=settings.half_life_s,
        weight=weight,
        prior_strength=settings.prior_strength,
        pooling_strength=settings.pooling_strength,
    )


def changed_evidence(
    config: Config,
    evidence: Mapping[tuple[str, str], bandit.Evidence],
    history: Sequence[Use],
    now: float,
    weight: float,
) -> dict[tuple[str, str], bandit.Evidence]:
    """Rows of arms whose recent grades shifted (bandit.change_start), rebuilt from after the shift.

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
        if len(raw) < bandit.CHANGE_MIN or name not in config.arms:
            continue
        raw.sort()
        # The most recent ones; older ones count with what came before.
        obs = [(at, c, bandit.clip01(r)) for at, c, r in raw[-bandit.CHANGE_WINDOW :] if c]
        if len(obs) < bandit.CHANGE_MIN:
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
        j = bandit.change_start(points, pre_mass, pre_wr / pre_mass if pre_mass else 0.0, noise_var)
        if j is not None:
            after = obs[j:]
            for key in [*rows, (bandit.OVERALL, name)]:
                if key in evidence:
                    mine = [(r, at) for at, cat, r in after if key[0] in (bandit.OVERALL, cat)]
                    out[key] = bandit.since_change(evidence[key], mine, now, half_life_s)
            continue
        overall_key = (bandit.OVERALL, name)
        for cat, idx in by_cat.items():
            key = (cat, name)
            if len(idx) < bandit.CHANGE_MIN or key not in evidence:
                continue
            mass, res = pre.get(cat, (0.0, 0.0))
            jc = bandit.change_start([points[i] for i in idx], mass, res, noise_var)
            if jc is None:
                continue
            mine = [(obs[i][2], obs[i][0]) for i in idx[jc:]]
            new = bandit.since_change(evidence[key], mine, now, half_life_s)
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
