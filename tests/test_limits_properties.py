"""Property tests: the reset parser and every harness's limit detector give an answer or None, in
bounded time, never an exception, on any text (any size, invalid UTF-8, ANSI escapes, absurd
numbers, fragments of real limit messages shuffled), and never a reset that cannot be stored and
formatted (past the harness's horizon, before the session, not finite). What they cost on
pathological inputs is bench/limit_worst_case.py's."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limits_corpus import load
from rota.harnesses.base import SessionOutput
from rota.harnesses.registry import BUILTIN, builtin_profile
from rota.resettime import HARD_CAP_S, MAX_TEXT, parse_reset
from rota.timefmt import zone_named

REF = datetime(2026, 11, 27, 18, 31, tzinfo=UTC).timestamp()

# Pieces of real messages and of what surrounds them, to be recombined.
FRAGMENTS = sorted({w for e in load() for w in e.text.replace("\n", " \n ").split(" ")} - {""})
NASTY = [
    "\x1b[31m",
    "\x1b[0m",
    "\x1b]8;;http://x\x07",
    "\r",
    "\n",
    "\t",
    "\x00",
    "\ufffd",
    "\udcff",  # a byte of invalid UTF-8, as surrogateescape decodes it
    "99999999999999999999",
    "1e308",
    "-1",
    "0",
    "9" * 400,
    "1795824000",
    "1795824000000",
    "Feb 30",
    "year 10000",
    "resets",
    "try again in",
    "try again at",
    "in",
    "at",
    "days",
    "hours",
    "7h12m3.5s",
    "PM",
    "(America/New_York)",
    "(Etc/GMT+14)",
    '"resets_at":',
    '"resets_in_seconds":',
    "usage_limit_reached",
    "429",
    "|",
    "{",
    "}",
]
WORDS = st.sampled_from(FRAGMENTS + NASTY)
MESSAGES = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.lists(WORDS, max_size=60).map(" ".join),
    st.lists(WORDS, max_size=60).map("".join),
)
# The calendar's edges: December 9999 (whose next month does not exist), its last second, beyond.
EXTREME_REFS = [
    0.0,
    -1.0,
    1e-9,
    253_399_622_400.0,
    253_402_300_799.0,
    253_402_300_800.0,
    1e300,
    math.inf,
    -math.inf,
    math.nan,
]
REFS = st.one_of(
    st.floats(min_value=REF - 5 * 365 * 86400, max_value=REF + 5 * 365 * 86400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(EXTREME_REFS),
)
ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Pacific/Kiritimati"]).map(
    zone_named
)


def formattable(t: float) -> bool:
    datetime.fromtimestamp(t, UTC).isoformat()
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES, REFS, ZONES, st.one_of(st.none(), st.floats(min_value=-1e9, max_value=1e12)))
def test_parse_reset_is_total_and_bounded(text, ref, zone, horizon) -> None:
    got = parse_reset(text, ref, zone, horizon)
    if got is None:
        return
    assert isinstance(got, float) and math.isfinite(got) and formattable(got)
    assert ref - 60 < got <= ref + HARD_CAP_S
    if horizon is not None:
        assert got <= ref + max(horizon, 0.0)


# Real limit messages, their wording intact, with ANSI escapes and junk around and inside them.
REAL = [e.text for e in load() if e.is_limit]


@st.composite
def garbled(draw) -> str:
    text = draw(st.sampled_from(REAL))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(WORDS) + text[at:]
    return text


@settings(max_examples=300, deadline=None)
@given(garbled(), st.floats(min_value=REF - 86400 * 365, max_value=REF + 86400 * 365), ZONES)
def test_parse_reset_on_garbled_real_messages(text, ref, zone) -> None:
    got = parse_reset(text, ref, zone, 32 * 86400.0)
    assert got is None or (ref - 60 < got <= ref + 32 * 86400.0 and formattable(got))


EXIT_CODES = st.one_of(st.none(), st.sampled_from([0, 1, 2, 75, 124, 173, 255, -9]), st.integers())


@pytest.mark.parametrize("harness", sorted(BUILTIN))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stdout=st.one_of(MESSAGES, garbled()),
    stderr=st.one_of(MESSAGES, garbled()),
    code=EXIT_CODES,
    ref=REFS,
)
def test_detect_limit_is_total_and_bounded(harness, stdout, stderr, code, ref) -> None:
    profile = builtin_profile(harness)
    hit = profile.detect_limit(
        SessionOutput(exit_code=code, stdout=stdout, stderr=stderr, ended_at=ref)
    )
    if hit is None or hit.resets_at is None:
        return
    assert math.isfinite(hit.resets_at) and formattable(hit.resets_at)
    horizon = getattr(profile, "reset_horizon_days", HARD_CAP_S / 86400) * 86400
    assert ref - 60 < hit.resets_at <= ref + horizon


# Pathological sizes: every regex must stay linear. Each case is a worst case for some pattern
# (long runs of digits, of near-durations, of words that start a reset phrase, of wrapped lines).
HUGE = [
    "9" * 2_000_000,
    "try again in " * 200_000,
    "1d" * 1_000_000,
    "1 day " * 400_000,
    "resets " * 300_000,
    "at 1" * 500_000,
    "\n" * 2_000_000,
    " " * 2_000_000,
    " \t" * 1_000_000 + "\n",
    ("x" + " " * 5000 + "\n") * 400,
    "Error: " * 300_000,
    "[ERROR] " * 250_000,
    "429 " * 500_000,
    "\x1b[" * 1_000_000,
    '{"resets_at": ' * 150_000,
    "Jan 1, " * 300_000,
    "usage limit " * 200_000 + "try again in 1 " * 100_000,
]


@pytest.mark.parametrize("i", range(len(HUGE)))
def test_huge_inputs_get_an_answer(i: int) -> None:
    # Their cost is printed by bench/limit_worst_case.py (a quadratic regex would show there, and
    # make this test take minutes).
    text = HUGE[i]
    got = parse_reset(text, REF)
    assert got is None or REF - 60 < got <= REF + HARD_CAP_S
    for name in sorted(BUILTIN):
        out = SessionOutput(exit_code=1, stdout=text, stderr=text, ended_at=REF)
        hit = builtin_profile(name).detect_limit(out)
        assert hit is None or hit.resets_at is None or math.isfinite(hit.resets_at)


def test_only_the_first_characters_are_read() -> None:
    # A reset far past MAX_TEXT is not looked for: the time stays bounded whatever the size.
    assert parse_reset(" " * (MAX_TEXT * 3) + "try again in 5 minutes", REF) is None


@pytest.mark.parametrize("ref", EXTREME_REFS, ids=repr)
def test_every_corpus_entry_at_the_calendars_edges(ref: float) -> None:
    """Each real message through its profile, its session ending at an absurd time: an answer,
    never an exception, never a reset that cannot be formatted."""
    from limits_corpus import outputs

    for e in load():
        stdout, stderr, code = outputs(e)
        hit = builtin_profile(e.harness).detect_limit(
            SessionOutput(exit_code=code, stdout=stdout, stderr=stderr, ended_at=ref)
        )
        if hit is not None and hit.resets_at is not None:
            assert math.isfinite(hit.resets_at) and formattable(hit.resets_at), e.id
