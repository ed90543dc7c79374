"""Local mocks of the model providers' APIs, for driving the real agent CLIs on 127.0.0.1.

    from mockapi import serve, SCENARIOS
    with serve(SCENARIOS["commit-one"]) as api:
        ...  # point a CLI at api.url; api.requests holds what it sent

One server answers every provider's paths (see `handler`); the scenario decides what it says.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mockapi import anthropic, chat, gemini, responses
from mockapi.plan import ERROR_KINDS, OTHER_MODEL, SCENARIOS, Scenario, Step, scenarios_for
from mockapi.server import MockAPI, Reply, Request

__all__ = [
    "ERROR_KINDS",
    "OTHER_MODEL",
    "SCENARIOS",
    "MockAPI",
    "Reply",
    "Request",
    "Scenario",
    "Step",
    "handler",
    "scenarios_for",
    "serve",
]

PROVIDERS = (anthropic, responses, chat, gemini)


def handler(scenario: Scenario, clock: Callable[[], float] = time.time):
    """The request handler for a scenario: the first provider that knows the path answers."""

    def handle(req: Request) -> Reply:
        now = clock()
        for provider in PROVIDERS:
            reply = provider.handle(req, scenario, now)
            if reply is not None:
                return reply
        return Reply.json({"error": {"message": f"mockapi: no route for {req.method} {req.path}",
                                     "type": "invalid_request_error"}}, 404)

    return handle


def serve(scenario: Scenario, clock: Callable[[], float] = time.time) -> MockAPI:
    """A started-on-enter server for one scenario (use it as a context manager)."""
    return MockAPI(handler(scenario, clock))
