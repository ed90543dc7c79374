"""What Claude Code's limits say: the limit phrases, the window and model family a limit names, and
the mark of a 429 from the usage endpoint. Shared by the profile (rota.harnesses.claude_code) and
the quota probe (rota.harnesses.claude_usage); cheap to import.
"""

from __future__ import annotations

import re

RATE_LIMITED_MARK = "(429)"  # in the reason of an api state when the endpoint said 429
MODEL_FAMILIES = ("opus", "sonnet", "haiku")
WINDOW_MINUTES = {"five_hour": 300.0, "seven_day": 10080.0}

# Anchored at the start of the result text or an error line (after "API Error:", "⎿").
LIMIT_PATTERNS = (
    # "Claude AI usage limit reached|1762952400", "Claude usage limit reached. Your limit will
    # reset at 9am (America/Chicago)."
    r"Claude (?:AI )?usage limit reached",
    # "You've hit your limit · resets 3pm (America/New_York)", "You've hit your session limit ·
    # resets 8:30pm (Asia/Tokyo)", "You've hit your weekly limit", "You've hit your Opus limit"
    r"You(?:'|’)ve (?:hit|reached) your (?:[\w-]+ ){0,3}limit\b",
    # "5-hour limit reached ∙ resets 5am", "Session limit reached ∙ resets 8pm", "Opus weekly
    # limit reached ∙ resets Oct 24" (not "Approaching usage limit")
    r"(?:(?:5-hour|weekly|daily|session|opus|sonnet|haiku|usage)\s+){1,3}limit reached\b",
    # With an API key: "API Error: Request rejected (429) · This request would exceed your
    # account's rate limit. Please try again later." Not the server's own throttling: "Server is
    # temporarily limiting requests (not your usage limit)" is an infrastructure failure.
    r"Request rejected \(429\)(?!.*not your\s+usage limit)",
    # "Error: 429 {"type":"error","error":{"type":"rate_limit_error",...}}"
    r"429\b.*rate_limit_error(?!.*not your\s+usage limit)",
)

# rateLimitType / text -> (window, model family or "")
_WINDOW_WORDS = (
    (re.compile(r"\b(opus)\b", re.I), "seven_day_opus", "opus"),
    (re.compile(r"\b(sonnet)\b", re.I), "seven_day_sonnet", "sonnet"),
    (re.compile(r"\b(haiku)\b", re.I), "seven_day_haiku", "haiku"),
    (re.compile(r"\b(weekly|7-day|seven.day)\b", re.I), "seven_day", ""),
    (re.compile(r"\b(session|5-hour|five.hour)\b", re.I), "five_hour", ""),
)


# Claims that name a harness-wide window under another name: the weekly pool with extra usage
# included (Claude Code 2.1.197 knows the claim seven_day_overage_included).
_CLAIM_WINDOWS = {"seven_day_overage_included": "seven_day"}


def window_scope(rate_limit_type: str) -> tuple[str, str]:
    """("seven_day_opus", "opus") for a per-model pool, ("five_hour", "") for a harness window."""
    t = (rate_limit_type or "").strip().lower()
    t = _CLAIM_WINDOWS.get(t, t)
    for fam in MODEL_FAMILIES:
        if t.endswith("_" + fam) or t == fam:
            return t, fam
    return t, ""


def text_scope(text: str) -> tuple[str, str]:
    """The (window, model family) a limit message names; ("", "") when it names none."""
    # Only the limit phrase itself decides the scope, not the reset clause after it.
    phrase = re.split(r"[·∙•|]|\bresets?\b", text, maxsplit=1)[0]
    for pat, window, fam in _WINDOW_WORDS:
        if pat.search(phrase):
            return window, fam
    return "", ""

def family_arms(harness: str, family: str, models: tuple[str, ...]) -> list[str]:
    """The arms a per-model pool covers: configured models whose name contains the family."""
    arms = [f"{harness}:{m}" for m in models if family in m.lower()]
    return arms or [f"{harness}:{family}"]
