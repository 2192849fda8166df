"""Generate docs/openapi.json from the two HTTP resolvers (the code is the source of truth).

Run ``python -m infra.tools.openapi`` (``make openapi``) after changing a route or a model; a test fails
while the committed document differs from what the code generates."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import APIKey, HTTPBearer, Server

import claim_handler
import consume_handler
from infra.local.routes import routes

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
POWERTOOLS_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
"""Powertools' own error shapes, which no operation answers with: a 422 here is problem+json
(``Problem``), and a response that fails its own validation is a 500 ``internal_error``. Leaving
one in dangles: ``ResponseValidationError`` refers to ``ValidationError``, and the document did
not validate (issue 27)."""
NUMERIC_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})


def build_document() -> dict[str, Any]:
    merge = OpenAPIMerge(
        title="trial-quota",
        version="1.0.0",
        description=(
            "TokenHub free-trial quotas. Console routes take the caller's root account from the JWT "
            "(claim `root_account_id` by default); gateway routes are signed with SigV4 by the "
            "inference gateway's IAM role and name the account in the body. Errors are "
            "application/problem+json with a stable `code`."
        ),
        servers=[Server(url="http://127.0.0.1:3000", description="make run")],
        security_schemes={
            "ConsoleJwt": HTTPBearer(
                bearerFormat="JWT",
                description="The console's OIDC token. The root account is its account claim, and `sub` "
                "(optional) the caller; both follow the id rules of the bodies, or the request is 401.",
            ),
            "GatewaySigV4": APIKey.model_validate(
                {"name": "Authorization", "in": "header", "description": "AWS SigV4 (API Gateway AWS_IAM)"}
            ),
        },
        on_conflict="error",
    )
    for app in (claim_handler.app, consume_handler.app):
        merge.add_schema(app.get_openapi_schema(title="trial-quota", version="1.0.0").model_dump(
            mode="json", by_alias=True, exclude_none=True))  # fmt: skip
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    # Gateway routes are the template's AWS_IAM routes.
    gateway_paths = {(route.path, route.method.lower()) for route in routes() if route.iam}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            scheme = "GatewaySigV4" if (path, method) in gateway_paths else "ConsoleJwt"
            operation["security"] = [{scheme: []}]
    schemas = document.get("components", {}).get("schemas", {})
    for name in POWERTOOLS_SCHEMAS:
        schemas.pop(name, None)
    whole: dict[str, Any] = _whole_numbers(document)
    return whole


def _whole_numbers(value: Any) -> Any:
    """The document with a bound such as ``1000000000.0`` written ``1000000000``: Powertools' models
    type ``minimum`` and ``maximum`` as floats, and the bounds of integers are integers."""
    if isinstance(value, dict):
        return {key: int(item) if key in NUMERIC_KEYWORDS and isinstance(item, float) and item.is_integer()
                else _whole_numbers(item) for key, item in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> int:
    OPENAPI_PATH.write_text(render(build_document()), encoding="utf-8")
    print(f"wrote {OPENAPI_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
