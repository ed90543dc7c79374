"""Posteriors as selection reads them. Pure, no I/O.

The observation weight for the recorded grades' noise, and an arm's posterior in a category under
the config (tier prior, pooled with the arm's overall record). select() and `rota status` read
these. Shifts in an arm's grades are set aside when they are learnt (rota.learning.step).
"""

from __future__ import annotations

from collections.abc import Mapping

from rota.config import ArmConfig, Config
from rota.learning import bandit


def observation_weight(
    config: Config, evidence: Mapping[tuple[str, str], bandit.Evidence]
) -> float:
    return config.bandit.observation_weight or bandit.noise_weight(bandit.evidence_table(evidence))


# A config is immutable: each tier's prior mean is worked out once per config (select asks for every
# arm of every decision).
_PRIORS: dict[int, tuple[Config, dict[str, float]]] = {}


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
    priors = _PRIORS.get(id(config))
    if priors is None or priors[0] is not config:
        if len(_PRIORS) >= 8:  # a simulation builds a config per replicate
            _PRIORS.clear()
        priors = _PRIORS[id(config)] = (config, {})
    prior = priors[1].get(arm.tier)
    if prior is None:
        prior = priors[1][arm.tier] = bandit.tier_prior_mean(
            config.tier_rank(arm.tier), len(config.tiers)
        )
    return bandit.posterior(
        prior_mean=prior,
        category=evidence.get((category, arm.arm)),
        overall=evidence.get((bandit.OVERALL, arm.arm)),
        now=now,
        half_life_s=settings.half_life_s,
        weight=weight,
        prior_strength=settings.prior_strength,
        pooling_strength=settings.pooling_strength,
    )
