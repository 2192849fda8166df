"""The ledger layer stays readable as it grows (issue 11): small modules with a stated purpose,
short functions; the complexity rules themselves are ruff's (pyproject.toml)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEDGER_MODULES = sorted((ROOT / "layers" / "ledger" / "trial_ledger").rglob("*.py"))
HANDLERS = sorted((ROOT / "functions").glob("*/*_handler.py"))
CHECKED_FOR_LENGTH = [*LEDGER_MODULES, *HANDLERS]
assert len(LEDGER_MODULES) > 10
assert len(HANDLERS) == 4
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", LEDGER_MODULES, ids=_name)
def test_a_ledger_module_is_short_and_says_its_purpose(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) < MAX_MODULE_LINES
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring, "a module docstring whose first line says what the module is for"
    purpose = docstring.splitlines()[0]
    assert purpose.endswith((".", ")")), f"the first line is the whole purpose: {purpose!r}"


@pytest.mark.parametrize("path", CHECKED_FOR_LENGTH, ids=_name)
def test_functions_are_short(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    long = {f"{node.name} (line {node.lineno})": node.end_lineno - node.lineno + 1 for node in functions
            if node.end_lineno is not None and node.end_lineno - node.lineno + 1 >= MAX_FUNCTION_LINES}  # fmt: skip
    assert long == {}
