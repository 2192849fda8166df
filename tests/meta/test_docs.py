"""The documents say what the code does: links, file names, error codes, limits, names, defaults.

Each test reads a statement the docs make and compares it with the constant the code uses, so a
change on either side fails here until the other follows."""

from __future__ import annotations

import json
import os
import re
import string
from collections import Counter
from pathlib import Path

import pytest

from infra.local.routes import routes
from infra.local.template import load_template
from tests.api.test_bad_input import CORPUS
from trial_edge.json_bounds import MAX_DEPTH
from trial_edge.problem_catalogue import CATALOGUE, status_of
from trial_ledger import LedgerError, StopReason
from trial_ledger.config.settings import DEFAULT_CAMPAIGN_CLOSES_AT
from trial_ledger.limits import ID_PATTERN, MAX_MODELS_PER_CLAIM, MAX_QUANTITY

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FILE_EXTENSIONS = (".py", ".md", ".json", ".yaml", ".txt", ".svg", ".sh")
DASH = "\N{EN DASH}"
"""Ranges in the docs are written with an en dash."""


def repository_files() -> list[str]:
    relative = [path.relative_to(ROOT) for path in ROOT.rglob("*") if path.is_file()]
    return [path.as_posix() for path in relative
            if not any(part.startswith(".") or part == "__pycache__" for part in path.parts[:-1])]  # fmt: skip


REPO_FILES = repository_files()


def text_of(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def section(document: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = document.index(f"\n{heading}\n")
    following = re.search(rf"\n#{{1,{len(level)}}} ", document[start + len(heading) + 2 :])
    return document[start : start + len(heading) + 2 + following.start()] if following else document[start:]


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row in ``text``, header and separator rows left out."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|")]  # fmt: skip
    return [row for row in rows[2:] if not set("".join(row)) <= set("-: ")] if rows else []


def quoted(text: str) -> list[str]:
    """The inline code spans of ``text`` (fenced code blocks left out)."""
    return re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_relative_links_resolve_to_files_in_the_repository(document: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        resolved = (document.parent / target.split("#", 1)[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{document.name} links {target}, outside the repository"
        assert resolved.exists(), f"{document.name} links {target}, which does not exist"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_file_names_in_the_docs_exist(document: Path) -> None:
    """A quoted file name (``infra/tools/audit.py``, ``ledger.py``, ``tests/ledger/test_*.py``) names a file of
    the repository, matched by its path or by the end of it."""
    for token in quoted(document.read_text(encoding="utf-8")):
        name = token.split("::", 1)[0]
        if " " in name or not name.endswith(FILE_EXTENSIONS):
            continue
        assert not name.startswith(".."), f"{document.name} names {name}, outside the repository"
        pattern = re.compile(r"(^|/)" + re.escape(name).replace(r"\*", r"[^/]*") + "$")
        assert any(pattern.search(path) for path in REPO_FILES), f"{document.name} names {name}: no such file"


def test_the_error_table_is_the_problem_catalogue() -> None:
    documented = {(code, int(row[0])) for row in table_rows(section(text_of("docs/api.md"), "## Errors"))
                  for code in quoted(row[1]) if re.fullmatch(r"[a-z_]+", code)}  # fmt: skip
    assert documented == {(code, status_of(code)) for code in CATALOGUE}


def test_every_code_the_ledger_raises_is_in_the_catalogue() -> None:
    def subclasses(cls: type[LedgerError]) -> list[type[LedgerError]]:
        return [cls, *(sub for direct in cls.__subclasses__() for sub in subclasses(direct))]

    codes = {getattr(cls, "code", None) for cls in subclasses(LedgerError)} | set(StopReason)
    assert codes - {LedgerError.code, None} <= CATALOGUE.keys()


def test_every_documented_status_is_in_the_openapi_document() -> None:
    document = json.loads(text_of("docs/openapi.json"))
    answered = {int(status) for operations in document["paths"].values() for operation in operations.values()
                for status in operation["responses"]}  # fmt: skip
    assert {
        status_of(code) for code, kind in CATALOGUE.items() if code != "not_found" and not kind.local_only
    } <= answered


@pytest.mark.parametrize("name", ["docs/api.md", "docs/contract.md"])
def test_the_route_tables_are_the_templates_routes(name: str) -> None:
    documented = {tuple(quoted(row[0])[0].split(" ", 1)) for row in table_rows(text_of(name))
                  if quoted(row[0]) and quoted(row[0])[0].startswith(("GET ", "POST ", "PUT ", "DELETE "))}  # fmt: skip
    assert documented == {(route.method, route.path) for route in routes()}


def test_documented_limits_are_the_codes() -> None:
    api, contract, ledger = text_of("docs/api.md"), text_of("docs/contract.md"), text_of("docs/ledger.md")
    assert f"Quantities are integers 1..{MAX_QUANTITY:,}" in api
    assert f"Quantities are integers 1..{MAX_QUANTITY:,}" in ledger
    assert f"Quantities are integers, 1 to {MAX_QUANTITY:,} per usage record" in contract
    assert f"more digits than {MAX_QUANTITY:,}" in api
    assert f"`{{models: [...]}}` (1{DASH}{MAX_MODELS_PER_CLAIM} distinct)" in api
    assert f"1 to {MAX_MODELS_PER_CLAIM} distinct models" in contract
    assert f"Bodies nest at most {MAX_DEPTH} levels" in api


def test_the_usage_page_size_is_the_routes() -> None:
    [limit] = [parameter["schema"] for parameter in json.loads(text_of("docs/openapi.json"))["paths"]["/v1/usage"]
               ["get"]["parameters"] if parameter["name"] == "limit"]  # fmt: skip
    assert f"`limit` (1{DASH}{int(limit['maximum'])}, default {limit['default']})" in text_of("docs/api.md")
    assert limit["minimum"] == 1


@pytest.mark.parametrize("name", ["docs/api.md", "docs/ledger.md"])
def test_the_documented_id_rule_is_the_id_pattern(name: str) -> None:
    [(length, punctuation)] = re.findall(
        rf"1{DASH}(\d+) characters of\s+letters, digits and\s+`([^`]+)`, the first a letter or digit", text_of(name)
    )
    allowed = set(punctuation.replace(" ", ""))
    assert ID_PATTERN.fullmatch("a" * int(length))
    assert not ID_PATTERN.fullmatch("a" * (int(length) + 1))
    for character in string.punctuation:
        assert bool(ID_PATTERN.fullmatch(f"a{character}1")) == (character in allowed), character
        assert not ID_PATTERN.fullmatch(f"{character}a1"), character


def test_the_local_body_limit_is_the_emulators() -> None:
    from infra.local.server import MAX_BODY_BYTES

    [(mebibytes, exact)] = re.findall(r"bodies over (\d+) MiB \(([\d,]+) bytes\)", text_of("docs/api.md"))
    assert int(mebibytes) * 1024 * 1024 == int(exact.replace(",", "")) == MAX_BODY_BYTES


def test_the_corpus_size_is_the_documented_one() -> None:
    statuses = Counter(case.expected[0] for case in CORPUS)
    assert f"`test_bad_input.py` ({len(CORPUS)} hostile inputs)" in text_of("README.md")
    corpus = section(
        text_of("docs/reliability.md"),
        "## Hostile input (`tests/api/test_bad_input.py`, `tests/local/test_schemathesis.py`)",
    )
    assert f"**Corpus: {len(CORPUS)} cases**" in corpus
    documented = {
        int(status): int(count) for count, status in re.findall(r"(\d+)\s+(?:cases\s+)?expect\s+(\d{3})", corpus)
    }
    assert documented == dict(statuses)


def configuration_rows() -> list[list[str]]:
    return table_rows(section(text_of("README.md"), "## Configuration"))


def test_configured_names_exist_in_the_template_and_the_code() -> None:
    template = load_template()
    code = "\n".join(text_of(path) for path in REPO_FILES
                     if path.endswith(".py") and path.startswith(("layers/", "functions/", "infra/")))  # fmt: skip
    for parameter_cell, variable_cell, _ in configuration_rows():
        for name in quoted(parameter_cell):
            assert name in template["Parameters"] or name in template["Resources"], name
        for name in quoted(variable_cell):
            assert f'"{name}"' in code, f"no code reads {name}"


def test_configured_defaults_are_the_templates() -> None:
    parameters = load_template()["Parameters"]
    for parameter_cell, _, default_cell in configuration_rows():
        names, defaults = [name for name in quoted(parameter_cell) if name in parameters], quoted(default_cell)
        if names and len(names) == len(defaults):
            assert [str(parameters[name]["Default"]) for name in names] == defaults


def test_configured_defaults_are_the_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.local import server as local_server
    from trial_edge.identity import account_claim_name

    monkeypatch.delenv("ACCOUNT_CLAIM", raising=False)
    local: dict[str, str] = {}
    monkeypatch.setattr(os, "environ", local)  # what make run sets, on an empty environment
    local_server.local_environment()
    defaults = {"CAMPAIGN_CLOSES_AT": DEFAULT_CAMPAIGN_CLOSES_AT, "ACCOUNT_CLAIM": account_claim_name(),
                "TABLE_NAME": local["TABLE_NAME"]}  # fmt: skip
    for _, variable_cell, default_cell in configuration_rows():
        for name in set(quoted(variable_cell)) & defaults.keys():
            assert f"`{defaults[name]}`" in default_cell, (name, default_cell)
    assert f"`POWERTOOLS_METRICS_DISABLED={local['POWERTOOLS_METRICS_DISABLED']}`" in text_of("docs/api.md")


def test_make_targets_in_the_docs_exist() -> None:
    targets = set(re.findall(r"^([\w-]+):", text_of("Makefile"), re.MULTILINE))
    for document in DOCUMENTS:
        for target in re.findall(r"(?:`|^)make ([a-z][\w-]*)", document.read_text(encoding="utf-8"), re.MULTILINE):
            assert target in targets, f"{document.name}: make {target}"
