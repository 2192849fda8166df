"""infra.tools.check_build fails an artifact that lacks what its handler imports."""

import subprocess
import sys
from pathlib import Path

import pytest

from infra.tools.check_build import check

TEMPLATE = """
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: Fn
      Layers: [!Ref Deps]
"""


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "Fn").mkdir()
    (tmp_path / "Deps" / "python" / "helper").mkdir(parents=True)
    (tmp_path / "Deps" / "python" / "helper" / "__init__.py").write_text("VALUE = 1\n")
    return tmp_path


def test_a_complete_artifact_passes(artifact: Path) -> None:
    (artifact / "Fn" / "app.py").write_text("import helper\n\ndef handler(event, context):\n    return helper.VALUE\n")
    assert check(artifact, sys.executable) == []


def test_a_missing_dependency_fails(artifact: Path) -> None:
    (artifact / "Fn" / "app.py").write_text("import pynamodb\n\ndef handler(event, context):\n    return 1\n")
    [failure] = check(artifact, sys.executable)
    assert "No module named 'pynamodb'" in failure  # installed in the venv, yet not in the artifact


def test_the_command_exits_non_zero(artifact: Path) -> None:
    (artifact / "Fn" / "app.py").write_text("def other(event, context):\n    return 1\n")
    done = subprocess.run([sys.executable, "-m", "infra.tools.check_build", str(artifact), sys.executable],
                          capture_output=True, text=True, check=False, cwd=Path(__file__).parents[2])  # fmt: skip
    assert done.returncode == 1
