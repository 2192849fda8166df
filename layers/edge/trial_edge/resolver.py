"""The HTTP resolver of the API functions: Powertools' APIGatewayHttpResolver, with the current
event kept per thread.

Powertools keeps the event being resolved on the ``BaseRouter`` class, shared by every resolver
of the process, and its request validation reads the body from there. Lambda resolves one event
per process at a time, so that is safe in AWS; where resolvers of one process run on several
threads at once (the local stack's containers, in-process tests), a route could read another
request's body or identity. Each thread here reads the event it is resolving."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext


class PerThreadEventResolver(APIGatewayHttpResolver):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._resolving = threading.local()

    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEventV2:
        event: APIGatewayProxyEventV2 = self._resolving.event
        return event

    @current_event.setter
    def current_event(self, event: APIGatewayProxyEventV2) -> None:
        self._resolving.event = event

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.current_event = APIGatewayProxyEventV2(dict(event), self._json_body_deserializer)
        return super().resolve(event, context)
