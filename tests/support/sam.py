"""template.yaml as CloudFormation receives it: transformed by the SAM translator."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from samtranslator.translator.transform import transform

from infra.local.template import load_template


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


@cache
def _transformed() -> dict[str, Any]:
    template = copy.deepcopy(load_template())
    for resource in template["Resources"].values():  # as `sam package` leaves it
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://artifacts/trial-quota.zip"
    return transform(template, {"AWS::Region": "us-east-1"}, _NoManagedPolicies())  # type: ignore[no-any-return]


def transformed_template() -> dict[str, Any]:
    """A copy for each caller: tests may not change what others read."""
    return copy.deepcopy(_transformed())


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: r["Properties"] for logical_id, r in template["Resources"].items() if r["Type"] == kind}
