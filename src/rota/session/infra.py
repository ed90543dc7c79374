"""Infrastructure failures: a session that failed for a reason outside the arm's skill. What each
kind blocks and for how long (pure), and lifting the holds on a harness whose config changed.

| kind      | blocks      | for                                                             |
| --------- | ----------- | --------------------------------------------------------------- |
| auth      | the harness | until `rota unblock` or its [harnesses.X] config changes         |
| cli       | the harness | the same (the CLI is missing, or refuses to start here)          |
| model     | the arm     | a backoff: 1 h, doubling to a day (the provider does not know it) |
| provider  | the harness | a backoff: 15 min, doubling to 6 h (5xx after the CLI's retries) |
| throttled | the harness | a backoff: 5 min, doubling to 1 h ("not your usage limit")       |

Such a session is recorded with the state `unavailable`: never graded, never moves a posterior,
never counts toward a crash streak.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rota.harnesses.base import (
    INFRA_AUTH,
    INFRA_CLI,
    INFRA_MODEL,
    INFRA_PROVIDER,
    INFRA_THROTTLED,
    InfraFailure,
)
from rota.quota.limits import backoff_seconds
from rota.quota.state import Block

if TYPE_CHECKING:
    from rota.config import Config, HarnessConfig

SOURCE = "infra"  # Block.source of the blocks made here
HOLD_S = 365 * 86400.0  # "until unblocked or the config changes"
# kind -> (scope kind, first backoff, cap); None: hold until the config changes.
BACKOFF: dict[str, tuple[str, float, float] | None] = {
    INFRA_AUTH: None,
    INFRA_CLI: None,
    INFRA_MODEL: ("arm", 3600.0, 24 * 3600.0),
    INFRA_PROVIDER: ("harness", 900.0, 6 * 3600.0),
    INFRA_THROTTLED: ("harness", 300.0, 3600.0),
}
# Kinds a person must fix (rota run exits 70 for them; the others pass by themselves).
NEEDS_A_PERSON = (INFRA_AUTH, INFRA_CLI, INFRA_MODEL)
_CONFIG_MARK = re.compile(r"\[config ([0-9a-f]{12})\]$")


def config_fingerprint(hc: HarnessConfig) -> str:
    """A short digest of a harness's config (command, executable, env, models): a hold made under
    one fingerprint is lifted when the config no longer has it. The digest reveals no value."""
    doc = {
        "command": list(hc.command or ()),
        "executable": hc.executable or "",
        "env": {str(k): str(v) for k, v in sorted(hc.env.items())},
        "models": sorted(hc.models),
        "enabled": hc.enabled,
    }
    raw = json.dumps(doc, sort_keys=True).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:12]


def infra_block(
    failure: InfraFailure,
    harness: str,
    arm: str,
    now: float,
    previous: Block | None,
    fingerprint: str = "",
) -> Block:
    """The block an infrastructure failure on `arm` puts on its harness or on the arm.

    A backoff grows while the same scope keeps failing (its previous infra block ended less than
    the cap ago); a hold carries the harness config's fingerprint in its reason."""
    rule = BACKOFF.get(failure.kind, BACKOFF[INFRA_PROVIDER])
    reason = f"{failure.kind}: {failure.message}".strip()[:280]
    if rule is None:
        mark = f" [config {fingerprint}]" if fingerprint else ""
        return Block("harness", harness, now + HOLD_S, reason + mark, SOURCE, now, 1)
    scope_kind, base, cap = rule
    scope = arm if scope_kind == "arm" else harness
    hits = 1
    if previous is not None and previous.source == SOURCE and previous.until >= now - cap:
        hits = previous.hits + 1
    until = now + backoff_seconds(hits, base, cap)
    return Block(scope_kind, scope, until, reason, SOURCE, now, hits)


def block_scope(failure: InfraFailure, harness: str, arm: str) -> tuple[str, str]:
    rule = BACKOFF.get(failure.kind, BACKOFF[INFRA_PROVIDER])
    return ("arm", arm) if rule is not None and rule[0] == "arm" else ("harness", harness)


def stale_holds(config: Config, blocks: Iterable[Block]) -> list[Block]:
    """The holds (auth, cli) on harnesses whose config changed since the failure: the person
    fixed the key, the executable or the environment, so the harness gets another chance."""
    out = []
    for b in blocks:
        if b.source != SOURCE or b.scope_kind != "harness":
            continue
        m = _CONFIG_MARK.search(b.reason)
        hc = config.harnesses.get(b.scope)
        if m and (hc is None or config_fingerprint(hc) != m.group(1)):
            out.append(b)
    return out


__all__ = [
    "BACKOFF",
    "NEEDS_A_PERSON",
    "SOURCE",
    "block_scope",
    "config_fingerprint",
    "infra_block",
    "stale_holds",
]
