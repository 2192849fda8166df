"""No function imports a tracing SDK: the X-Ray SDK is not in the layer (Tracing: Active gives
Lambda's own segments; docs/operations.md says how to add OpenTelemetry), so a function that
imported Powertools' Tracer would fail its cold start in AWS."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = sorted([*ROOT.glob("functions/*/*.py"), *ROOT.glob("layers/*/*/*.py")])


@pytest.mark.parametrize("path", CODE, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_function_imports_a_tracing_sdk(path: Path) -> None:
    code = path.read_text(encoding="utf-8")
    assert "Tracer" not in code
    assert "aws_xray_sdk" not in code
