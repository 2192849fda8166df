"""The resolver reads the event it is resolving, whatever another resolver of the process does."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from infra.events import LocalLambdaContext, http_event
from trial_edge.resolver import PerThreadEventResolver

CONTEXT: Any = LocalLambdaContext("resolver")


def path_read_by_a_route(app: APIGatewayHttpResolver) -> Any:
    """The path a route of ``app`` reads when another container's resolver resolved an event while
    the route ran (on the same thread here, deterministically, as a thread switch would have it)."""
    other = PerThreadEventResolver()

    @other.get("/other")
    def theirs() -> dict[str, str]:
        return {}

    @app.get("/mine")
    def mine() -> dict[str, str]:
        other.resolve(http_event("GET", "/other"), CONTEXT)
        return {"path": app.current_event.path}

    return app.resolve(http_event("GET", "/mine"), CONTEXT)["body"]


def test_a_route_reads_its_own_event() -> None:
    assert path_read_by_a_route(PerThreadEventResolver()) == '{"path":"/mine"}'


def test_powertools_alone_hands_a_route_the_last_event_of_the_process() -> None:
    """Why the subclass exists; when this fails, Powertools keeps the event per resolver itself."""
    assert path_read_by_a_route(APIGatewayHttpResolver()) == '{"path":"/other"}'
