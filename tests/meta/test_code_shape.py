"""The code stays readable as it grows (issues 11 and 22): small modules with a stated purpose,
short functions, and the ledger's layers as folders whose imports point down only; the complexity
rules themselves are ruff's (pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "layers" / "ledger" / "trial_ledger"
LEDGER_MODULES = sorted(LEDGER.rglob("*.py"))
EDGE_MODULES = sorted((ROOT / "layers" / "edge" / "trial_edge").rglob("*.py"))
INFRA_MODULES = sorted((ROOT / "infra").rglob("*.py"))
HANDLERS = sorted((ROOT / "functions").glob("*/*_handler.py"))
CHECKED_FOR_LENGTH = [*LEDGER_MODULES, *EDGE_MODULES, *INFRA_MODULES, *HANDLERS]
assert len(LEDGER_MODULES) > 10
assert len(EDGE_MODULES) > 5
assert len(INFRA_MODULES) > 10
assert len(HANDLERS) == 4
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40
MAX_MODULES_PER_FOLDER = 15

DYNAMO_LIBRARIES = ("pynamodb", "botocore", "boto3")
PUBLIC_SURFACE = {"trial_ledger", "trial_ledger.limits", "trial_ledger.events"}
"""What the edge layer and the handlers may import of the ledger."""
STORE = "trial_ledger.dynamo.store"
STORE_USERS = {"trial_ledger.ledger", "trial_ledger.use_cases.context"}
"""Only the facade and the use cases' context reach the store; the use cases go through the context."""


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _module_of(path: Path) -> str:
    parts = path.relative_to(LEDGER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str | None = None) -> set[str]:
    """Every module ``path`` imports (relative imports resolved against ``module``), including
    ``from package import name`` as ``package.name`` where that names a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = (module or "").split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([node.module] if node.module else [])])
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def ledger_imports() -> dict[str, set[str]]:
    return {_module_of(path): imports_of(path, _module_of(path)) for path in LEDGER_MODULES}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("path", LEDGER_MODULES, ids=_name)
def test_a_ledger_module_is_short_and_says_its_purpose(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) < MAX_MODULE_LINES
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring, "a module docstring whose first line says what the module is for"
    purpose = docstring.splitlines()[0]
    assert purpose.endswith((".", ")")), f"the first line is the whole purpose: {purpose!r}"


@pytest.mark.parametrize("path", [*EDGE_MODULES, *INFRA_MODULES], ids=_name)
def test_an_edge_or_infra_module_is_short(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) < MAX_MODULE_LINES


@pytest.mark.parametrize("path", CHECKED_FOR_LENGTH, ids=_name)
def test_functions_are_short(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    long = {f"{node.name} (line {node.lineno})": node.end_lineno - node.lineno + 1 for node in functions
            if node.end_lineno is not None and node.end_lineno - node.lineno + 1 >= MAX_FUNCTION_LINES}  # fmt: skip
    assert long == {}


def test_no_folder_of_the_layers_holds_more_than_15_modules() -> None:
    folders = {path.parent for path in (ROOT / "layers").rglob("*.py")}
    crowded = {_name(folder): n for folder in folders if (n := len(list(folder.glob("*.py")))) > MAX_MODULES_PER_FOLDER}
    assert crowded == {}


def test_the_domain_imports_no_store_no_use_case_and_no_dynamodb_library() -> None:
    arrows = {module: sorted(name for name in names if _within(name, "trial_ledger.dynamo")
                             or _within(name, "trial_ledger.use_cases") or name.split(".")[0] in DYNAMO_LIBRARIES)
              for module, names in ledger_imports().items() if _within(module, "trial_ledger.domain")}  # fmt: skip
    assert {module: names for module, names in arrows.items() if names} == {}


def test_the_dynamo_layer_imports_no_use_case() -> None:
    arrows = {module: sorted(name for name in names if _within(name, "trial_ledger.use_cases"))
              for module, names in ledger_imports().items() if _within(module, "trial_ledger.dynamo")}  # fmt: skip
    assert {module: names for module, names in arrows.items() if names} == {}


def test_only_the_dynamo_layer_imports_pynamodb_or_botocore() -> None:
    importers = {module for module, names in ledger_imports().items()
                 if any(name.split(".")[0] in DYNAMO_LIBRARIES for name in names)}  # fmt: skip
    assert importers
    assert {module for module in importers if not _within(module, "trial_ledger.dynamo")} == set()


def test_only_the_facade_and_the_use_case_context_reach_the_store() -> None:
    users = {module for module, names in ledger_imports().items() if STORE in names}
    assert users == STORE_USERS


def test_the_edge_and_the_handlers_import_only_the_ledgers_public_surface() -> None:
    def beyond_the_surface(name: str) -> bool:
        return (
            _within(name, "trial_ledger")
            and name not in PUBLIC_SURFACE
            and name.rsplit(".", 1)[0] not in PUBLIC_SURFACE
        )

    reaching_in = {
        _name(path): sorted(filter(beyond_the_surface, imports_of(path))) for path in [*EDGE_MODULES, *HANDLERS]
    }
    assert {path: names for path, names in reaching_in.items() if names} == {}


def test_the_layer_test_sees_a_domain_module_that_imports_the_store(tmp_path: Path) -> None:
    """The layer test itself can fail: a domain module importing the store is an arrow back up."""
    module = tmp_path / "rogue.py"
    module.write_text("from ..dynamo.store import LedgerStore\nfrom ..use_cases import claims\n", encoding="utf-8")
    names = imports_of(module, "trial_ledger.domain.rogue")
    assert {"trial_ledger.dynamo.store", "trial_ledger.use_cases.claims"} <= names
