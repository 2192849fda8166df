"""The HTTP routes, read from template.yaml's HttpApi events (the one route table)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.template import TEMPLATE_PATH, load_template


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    function: str
    """The logical id of the function resource in the template."""
    handler: str
    """``module.function`` as Lambda calls it."""
    code_dir: str
    iam: bool
    """True for gateway routes (AWS_IAM); False for console routes (the default JWT authorizer)."""


def routes(path: Path = TEMPLATE_PATH) -> list[Route]:
    found = []
    for logical_id, resource in load_template(path)["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        for event in (properties.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            event_properties = event["Properties"]
            authorizer = (event_properties.get("Auth") or {}).get("Authorizer")
            found.append(
                Route(
                    method=event_properties["Method"].upper(),
                    path=event_properties["Path"],
                    function=logical_id,
                    handler=properties["Handler"],
                    code_dir=properties["CodeUri"].rstrip("/"),
                    iam=authorizer == "AWS_IAM",
                )
            )
    return found
