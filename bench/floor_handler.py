"""The least an API function built as this one is must import: Powertools' Logger and Metrics, its
HTTP resolver with Pydantic validation and one body model, and boto3 (its client is created by the
bench's probe). `make bench` measures its init beside the real handlers: the floor of the stack."""

from typing import Annotated

import boto3  # noqa: F401 (the probe creates the client through it)
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel


class Usage(BaseModel):
    account_id: str
    quantity: int


logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)


@app.post("/v1/usage")
def record(usage: Annotated[Usage, Body()]) -> dict[str, int]:
    return {"quantity": usage.quantity}
