"""What a decision says: its candidates, why each could or could not be chosen, why the winner won;
as text for people, as JSON for scripts, and as a compact record for the store. Pure.

select() (rota.learning.policy) fills in the numbers and a short code for each reason; the text is
made from them here, so the live explanation (`rota select --explain`) and one read back from the
store say the same. The stored record keeps the numbers and codes, not the text (about a quarter
of the size): free text that only a live decision has (a block's own message, a quota source's
reason, pacing's account of a window) is left out of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rota.timefmt import iso

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any

    from rota.config import Config

RECORD_VERSION = 2  # the stored form; 1 was Decision.to_dict() itself


class Candidate:
    """One arm in a decision: whether it could be chosen, and if not why; its posterior and draw.

    why_not: None when eligible, else a reason code and its values (reason_text() says it).
    cost/pacing: what they added to the score; explore: tried first (too few observations);
    changed_at: when a change in its grades was last found and its older evidence set aside.
    """

    __slots__ = (
        "arm", "harness", "model", "tier", "cost", "eligible", "reason", "until",
        "mean", "low", "high", "n", "sample", "score", "notes",
        "why_not", "cost_penalty", "pacing", "explore", "changed_at",
    )  # fmt: skip

    def __init__(self, arm: str, harness: str, model: str, tier: str, cost: float) -> None:
        self.arm, self.harness, self.model, self.tier, self.cost = arm, harness, model, tier, cost
        self.eligible = True
        self.reason = ""
        self.until: float | None = None  # when an ineligible arm becomes usable again, if known
        self.mean: float | None = None
        self.low: float | None = None
        self.high: float | None = None
        self.n = 0
        self.sample: float | None = None
        self.score: float | None = None
        self.notes: list[str] = []
        self.why_not: tuple[Any, ...] | None = None
        self.cost_penalty = 0.0
        self.pacing = 0.0
        self.explore = 0  # explore_min_trials when it was tried first, else 0
        self.changed_at = 0.0

    def rule_out(
        self, why_not: tuple[Any, ...], until: float | None = None, tail: str = ""
    ) -> None:
        """Not eligible: the reason as a code (and its text, with a live decision's free text)."""
        self.eligible, self.why_not, self.until = False, why_not, until
        self.reason = reason_text(why_not) + (f": {tail}" if tail else "")

    def to_dict(self) -> dict[str, object]:
        return {
            "arm": self.arm,
            "harness": self.harness,
            "model": self.model,
            "tier": self.tier,
            "cost": self.cost,
            "eligible": self.eligible,
            "reason": self.reason,
            "until": self.until,
            "mean": _r(self.mean),
            "interval": [_r(self.low), _r(self.high)] if self.low is not None else None,
            "n": self.n,
            "sample": _r(self.sample),
            "score": _r(self.score),
            "notes": list(self.notes),
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


class Decision:
    """The outcome of select(): the chosen arm (or None), why, and every candidate's story.

    why_code: why the winner won (or nothing could), as a code and its values; why: as text."""

    __slots__ = (
        "category", "arm", "candidates", "earliest_reset", "why", "weight", "seed", "decided_at",
        "why_code",
    )  # fmt: skip

    def __init__(
        self,
        category: str,
        arm: str | None,
        candidates: list[Candidate],
        earliest_reset: float | None,
        why: str,
        weight: float,
        seed: int | None = None,
        decided_at: float = 0.0,
        why_code: tuple[Any, ...] = (),
    ) -> None:
        self.category, self.arm, self.candidates = category, arm, candidates
        self.earliest_reset, self.why, self.weight = earliest_reset, why, weight
        self.seed, self.decided_at, self.why_code = seed, decided_at, why_code

    @property
    def harness(self) -> str | None:
        return self.arm.partition(":")[0] if self.arm else None

    @property
    def model(self) -> str | None:
        # partition: a stored arm without a colon (a damaged row) reads as no model, not an error
        return self.arm.partition(":")[2] if self.arm else None

    def to_dict(self) -> dict[str, object]:
        return {
            "arm": self.arm,
            "harness": self.harness,
            "model": self.model,
            "category": self.category,
            "why": self.why,
            "observation_weight": round(self.weight, 3),
            "earliest_reset": self.earliest_reset,
            "decided_at": self.decided_at,
            "seed": self.seed,
            "candidates": [c.to_dict() for c in self.candidates],
        }

    def to_record(self) -> dict[str, object]:
        """The compact form the store keeps (decision_from_record() reads it back): numbers to
        3 decimals, no score (its parts are there), nothing that is empty."""
        out: dict[str, object] = {
            "v": RECORD_VERSION,
            "arm": self.arm,
            "category": self.category,
            "decided_at": self.decided_at,
            "w": round(self.weight, 3),
            "why": list(self.why_code),
            "c": [_candidate_record(c) for c in self.candidates],
        }
        if self.seed is not None:
            out["seed"] = self.seed
        if self.earliest_reset is not None:
            out["reset"] = self.earliest_reset
        return out


def _candidate_record(c: Candidate) -> list[object]:
    nums: dict[str, float] = {}
    if c.cost_penalty:
        nums["c"] = round(c.cost_penalty, 4)
    if c.pacing:
        nums["p"] = round(c.pacing, 4)
    if c.explore:
        nums["e"] = c.explore
    if c.changed_at:
        nums["x"] = int(c.changed_at)
    return [
        c.arm, _r3(c.mean), _r3(c.low), _r3(c.high), c.n, _r3(c.sample),
        list(c.why_not) if c.why_not else 0, nums,
    ]  # fmt: skip


def _r3(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


# -- text ------------------------------------------------------------------------------------------
def _when(ts: float | None) -> str:
    """To the second: reasons read the same whatever the clock's fractions."""
    if ts is None or ts != ts:
        return "unknown"
    if not abs(ts) < 1e15:
        return str(iso(ts))  # iso says what is out of range
    second = int(ts)
    text = _WHEN.get(second)
    if text is None:
        if len(_WHEN) >= 256:  # a simulation sees many reset times; a decision, a few
            _WHEN.clear()
        text = _WHEN[second] = str(iso(second))
    return text


_WHEN: dict[int, str] = {}  # the same reset times come back decision after decision


def reason_text(why_not: Sequence[Any]) -> str:
    """Why an arm could not be chosen, from its reason code."""
    code, *v = why_not
    if code == "disabled":
        return "disabled in config"
    if code == "blocked":
        return f"blocked ({v[0]} {v[1]}) until {_when(v[2])}"
    if code == "exhausted":
        label = f"{v[0]} {v[1]}" + (f" {v[2]}" if v[2] else "")
        return f"exhausted ({label}, {v[3]})" + (f" until {_when(v[4])}" if v[4] else "")
    if code == "pool":
        return f"pool {v[0]} is at its concurrency limit ({v[1]})"
    if code == "excluded":
        return f"excluded by rule rules.{v[0]}.exclude"
    if code == "not_pinned":
        return f"not pinned by rule rules.{v[0]}.pin"
    if code == "below_min":
        return f"tier {v[0]} is below min_tier {v[1]} (rules.{v[2]})"
    if code == "above_max":
        return f"tier {v[0]} is above max_tier {v[1]} (rules.{v[2]})"
    return str(code)


def why_text(why_code: Sequence[Any], best: Candidate | None, earliest_reset: float | None) -> str:
    """Why the winner won (or nothing could), from the decision's code."""
    code, *v = why_code or ("",)
    if code == "draw" and best is not None:
        return f"highest Thompson draw {best.sample:.3f} (score {best.score:.3f})"
    if code == "pin":
        return f"pinned by rules.{v[0]}.pin"
    if code == "cheapest":
        return f"cheapest of {v[0]} near-equal arms (within {v[1]}), rules.{v[2]}.prefer_cheapest"
    if code == "none":
        return "no eligible arm: " + (
            f"earliest reset {_when(earliest_reset)}" if earliest_reset else "no reset time known"
        )
    if code == "no_arms":
        return "no arms configured: add models under [harnesses.NAME.models]"
    return str(code)


def cost_note(penalty: float) -> str:
    return f"cost -{penalty:.3f}"


def explore_note(min_trials: int) -> str:
    return f"explore: fewer than {min_trials} observations"


def change_note(at: float) -> str:
    return f"its grades shifted (found {_when(at)}): evidence from before set aside"


# -- read back -------------------------------------------------------------------------------------
def decision_from_record(rec: Mapping[str, Any], config: Config | None = None) -> Decision:
    """A stored decision as a Decision, for the same rendering as a live one. Tier and cost come
    from the config when it still has the arm. Reads both stored forms (1: to_dict()); what a
    damaged record does not say is left out, never fatal."""
    if not isinstance(rec, Mapping):
        rec = {}
    try:
        if rec.get("v") == RECORD_VERSION:
            return _from_record(rec, config)
        return _from_dict(rec)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        arm = rec.get("arm")
        return Decision(
            str(rec.get("category") or ""), arm if isinstance(arm, str) else None, [], None,
            "(a stored decision that cannot be read)", 0.0,
        )  # fmt: skip


def _from_record(rec: Mapping[str, Any], config: Config | None) -> Decision:
    arms = config.arms if config is not None else {}
    candidates = []
    for item in rec.get("c") or ():
        try:
            arm, mean, low, high, n, sample, why_not, nums = item
            c = _candidate(arms, str(arm), mean, low, high, n, sample, why_not, nums)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            continue  # a damaged candidate: the others still read
        candidates.append(c)
    arm = rec.get("arm")
    arm = arm if isinstance(arm, str) else None  # a damaged column: no arm to name
    best = next((c for c in candidates if c.arm == arm), None)
    why_code = tuple(rec.get("why") or ())
    reset = rec.get("reset")
    return Decision(
        str(rec.get("category") or ""), arm, candidates, reset, why_text(why_code, best, reset),
        float(rec.get("w") or 0.0), rec.get("seed"), float(rec.get("decided_at") or 0.0),
        why_code,
    )  # fmt: skip


def _candidate(
    arms: Mapping[str, Any], arm: str, mean: Any, low: Any, high: Any, n: Any, sample: Any,
    why_not: Any, nums: Mapping[str, Any],
) -> Candidate:  # fmt: skip
    harness, _, model = arm.partition(":")
    known = arms.get(arm)
    c = Candidate(arm, harness, model, known.tier if known else "", known.cost if known else 0)
    c.mean, c.low, c.high, c.n, c.sample = mean, low, high, n, sample
    c.cost_penalty, c.pacing = float(nums.get("c", 0.0)), float(nums.get("p", 0.0))
    c.explore, c.changed_at = int(nums.get("e", 0)), float(nums.get("x", 0.0))
    if why_not:
        c.rule_out(tuple(why_not), _until(why_not))
    elif sample is not None:  # the score select() gave it, from its parts
        c.score = float(sample) - c.cost_penalty + c.pacing + (1.0 if c.explore else 0.0)
    if c.changed_at:
        c.notes.append(change_note(c.changed_at))
    if c.cost_penalty:
        c.notes.append(cost_note(c.cost_penalty))
    if c.pacing:
        c.notes.append(f"pacing {c.pacing:+.3f}")
    if c.explore:
        c.notes.append(explore_note(c.explore))
    return c


def _until(why_not: Sequence[Any]) -> float | None:
    if why_not[0] == "blocked":
        return why_not[3]  # type: ignore[no-any-return]
    if why_not[0] == "exhausted":
        return why_not[5]  # type: ignore[no-any-return]
    return None


def _from_dict(d: Mapping[str, Any]) -> Decision:
    """A decision stored as Decision.to_dict() (before the compact record)."""
    candidates = []
    for x in d.get("candidates") or ():
        c = Candidate(x["arm"], x["harness"], x["model"], x["tier"], x["cost"])
        c.eligible, c.reason, c.until = x["eligible"], x["reason"], x["until"]
        c.mean, c.n, c.sample, c.score = x["mean"], x["n"], x["sample"], x["score"]
        c.low, c.high = x["interval"] or (None, None)
        c.notes = list(x["notes"])
        candidates.append(c)
    return Decision(
        d.get("category") or "", d.get("arm"), candidates, d.get("earliest_reset"),
        d.get("why") or "", float(d.get("observation_weight") or 0.0), d.get("seed"),
        float(d.get("decided_at") or 0.0),
    )  # fmt: skip
