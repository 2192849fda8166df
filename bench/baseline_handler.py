"""A Lambda handler for the baseline's usage recording (served only by bench/serve.py)."""

import json
from typing import Any

from bench import baseline


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = baseline.record_usage(json.loads(event["body"]))
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(result)}
