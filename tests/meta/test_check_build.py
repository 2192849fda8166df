"""infra.tools.check_build fails an artifact that lacks what its handler imports, or a module's
unchecked-hash bytecode (infra/build/Makefile compiles it; the check must not add it)."""

import compileall
import py_compile
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
  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: Deps
"""


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "Fn").mkdir()
    (tmp_path / "Deps" / "python" / "helper").mkdir(parents=True)
    (tmp_path / "Deps" / "python" / "helper" / "__init__.py").write_text("VALUE = 1\n")
    return tmp_path


def compiled(
    artifact: Path, mode: py_compile.PycInvalidationMode = py_compile.PycInvalidationMode.UNCHECKED_HASH
) -> Path:
    """As infra/build/Makefile leaves a build."""
    assert compileall.compile_dir(artifact, quiet=1, force=True, invalidation_mode=mode)
    return artifact


def files(artifact: Path) -> set[Path]:
    return {path for path in artifact.rglob("*") if path.is_file()}


def test_a_complete_artifact_passes(artifact: Path) -> None:
    (artifact / "Fn" / "app.py").write_text("import helper\n\ndef handler(event, context):\n    return helper.VALUE\n")
    assert check(compiled(artifact), sys.executable) == []


def test_the_check_adds_no_bytecode(artifact: Path) -> None:
    (artifact / "Fn" / "app.py").write_text("import helper\n\ndef handler(event, context):\n    return helper.VALUE\n")
    before = files(compiled(artifact))
    check(artifact, sys.executable)
    assert files(artifact) == before


def test_a_module_without_its_bytecode_fails(artifact: Path) -> None:
    (artifact / "Fn" / "app.py").write_text("import helper\n\ndef handler(event, context):\n    return helper.VALUE\n")
    compiled(artifact)
    (artifact / "Deps" / "python" / "helper" / "__pycache__" / f"__init__.{sys.implementation.cache_tag}.pyc").unlink()
    [failure] = check(artifact, sys.executable)
    assert f"helper/__init__.py has no {sys.implementation.cache_tag} bytecode" in failure


def test_an_uncompiled_artifact_fails_for_every_module(artifact: Path) -> None:
    (artifact / "Fn" / "app.py").write_text("import helper\n\ndef handler(event, context):\n    return helper.VALUE\n")
    failures = check(artifact, sys.executable)
    assert len(failures) == 2
    assert all("bytecode" in failure for failure in failures)


def test_timestamp_bytecode_fails(artifact: Path) -> None:
    (artifact / "Fn" / "app.py").write_text("import helper\n\ndef handler(event, context):\n    return helper.VALUE\n")
    compiled(artifact, py_compile.PycInvalidationMode.TIMESTAMP)
    failures = check(artifact, sys.executable)
    assert len(failures) == 2
    assert all("not unchecked-hash" in failure for failure in failures)


def test_bytecode_of_an_older_source_fails(artifact: Path) -> None:
    (artifact / "Fn" / "app.py").write_text("import helper\n\ndef handler(event, context):\n    return helper.VALUE\n")
    compiled(artifact)
    (artifact / "Fn" / "app.py").write_text("import helper\n\ndef handler(event, context):\n    return 2\n")
    [failure] = check(artifact, sys.executable)
    assert "app.py bytecode of another source" in failure


def test_a_missing_dependency_fails(artifact: Path) -> None:
    (artifact / "Fn" / "app.py").write_text("import pynamodb\n\ndef handler(event, context):\n    return 1\n")
    [failure] = check(compiled(artifact), sys.executable)
    assert "No module named 'pynamodb'" in failure  # installed in the venv, yet not in the artifact


def test_the_command_exits_non_zero(artifact: Path) -> None:
    (compiled(artifact) / "Fn" / "app.py").write_text("def other(event, context):\n    return 1\n")
    done = subprocess.run([sys.executable, "-m", "infra.tools.check_build", str(artifact), sys.executable],
                          capture_output=True, text=True, check=False, cwd=Path(__file__).parents[2])  # fmt: skip
    assert done.returncode == 1
