"""The least an API function built as this one is must import: Powertools' Logger and Metrics, its
HTTP resolver with Pydantic validation and one body model, and PynamoDB with one model (the stack's
data access, required of the ledger), whose client the bench's probe creates as the ledger's is
created. `make bench` measures its init beside the real handlers: the floor of the stack ("Powertools
and PynamoDB and nothing of ours", issue 25)."""

from typing import Annotated

import boto3  # noqa: F401 (the bare probe's import)
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model


class Usage(BaseModel):
    account_id: str
    quantity: int


class Item(Model):
    class Meta:
        table_name = "floor"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")


logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)


@app.post("/v1/usage")
def record(usage: Annotated[Usage, Body()]) -> dict[str, int]:
    return {"quantity": usage.quantity}
