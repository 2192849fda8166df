"""Mutation testing of the ledger's pure domain with mutmut (``make mutation``, ``make mutation-gate``).

mutmut names a mutant after its module as the source path spells it, and checks that the tests
import it under that name. Here the tests import ``trial_ledger`` from ``layers/ledger``, so the
run happens in a staging directory, ``.mutmut/`` (ignored by git, ruff, mypy and pytest), where
the package sits at the top: a copy of ``layers/ledger/trial_ledger``, links to ``tests/`` and
``infra/``, and ``pyproject.toml``, whose ``[tool.mutmut]`` section is the configuration.

mutmut 3 skips decorated functions, so it would leave every ``@property`` unmutated (all of
``writes.py``). The staged copy spells each property of the domain as ``def name`` followed by
``name = property(name)``, the same class, so that mutmut mutates them too.

Every run starts afresh (mutmut's cache keeps a verdict when a test changes). Then every mutant
that was not killed must be on the kept list, ``mutation/equivalent.toml``, with a reason, and
every entry of the list must still be a mutant that survives: otherwise the run fails.

A mutant is named there by ``module:function@hash``: the function it mutates and a hash of the
lines it changes (what the diff removes and adds, without line numbers), so the name holds
while the rest of the module changes, and stops matching when its line does.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

# mutmut reads its configuration from the working directory when first asked: read_mutants asks
# it in the staging directory.
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
from mutmut.utils.format_utils import orig_function_and_class_names_from_key

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / ".mutmut"
PACKAGE = ROOT / "layers" / "ledger" / "trial_ledger"
DOMAIN = "trial_ledger/domain"
KEPT_LIST = ROOT / "mutation" / "equivalent.toml"
MAX_KEPT_SHARE = 0.08
"""The kept list may hold at most this share of all mutants (issue 28)."""
LINKED = ("tests", "infra")
KILLED = ("killed", "timeout")
"""mutmut's statuses of a mutant some test told apart (a timeout is an endless loop it caused)."""
PYTEST_ENV = {
    # The fast tests of the domain need no plugin of a distribution (no Hypothesis, no Schemathesis);
    # loading them again for every mutant is most of a mutant's cost.
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
}


@dataclass(frozen=True, slots=True)
class Mutant:
    name: str
    """mutmut's name of it (``trial_ledger.domain.rules.x_require_id__mutmut_3``): changes when
    a mutant is added before it in its function."""
    module: str
    function: str
    status: str
    diff: str
    """Only for the mutants not killed (reading one costs a parse of its function)."""

    @property
    def changed_lines(self) -> list[str]:
        return [line for line in self.diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]

    @property
    def change(self) -> str:
        """The lines the mutant removes and adds, on one line, for the reader."""
        return " / ".join(" ".join(line.split()) for line in self.changed_lines)


def stage() -> None:
    """A fresh staging directory: the package copied, its properties spelt for mutmut."""
    if STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir()
    shutil.copytree(PACKAGE, STAGE / "trial_ledger", ignore=shutil.ignore_patterns("__pycache__"))
    for name in LINKED:
        (STAGE / name).symlink_to(ROOT / name, target_is_directory=True)
    shutil.copy2(ROOT / "pyproject.toml", STAGE / "pyproject.toml")
    for path in sorted((STAGE / DOMAIN).rglob("*.py")):
        path.write_text(spell_properties(path.read_text()))


def spell_properties(source: str) -> str:
    """``@property def name(...)`` as ``def name(...)`` then ``name = property(name)``: the same
    class, with nothing for mutmut to skip."""
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, str, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if (
                isinstance(item, ast.FunctionDef)
                and len(item.decorator_list) == 1
                and isinstance(item.decorator_list[0], ast.Name)
                and item.decorator_list[0].id == "property"
            ):
                assert item.end_lineno is not None
                indent = " " * item.col_offset
                edits.append((item.decorator_list[0].lineno, item.end_lineno, indent, item.name))
    for decorator_line, end_line, indent, name in sorted(edits, reverse=True):
        lines.insert(end_line, f"{indent}{name} = property({name})\n")
        del lines[decorator_line - 1]
    return "".join(lines)


def run_mutmut(max_children: int, log: Path) -> float:
    """mutmut run in the staging directory, its progress output in ``log``; the seconds it took."""
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    with log.open("w") as out:
        completed = subprocess.run(  # noqa: S603 (mutmut of this venv, fixed arguments)
            [str(mutmut), "run", "--max-children", str(max_children)],
            cwd=STAGE,
            env={**os.environ, **PYTEST_ENV},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if completed.returncode != 0:
        print(log.read_text()[-4000:])
        raise SystemExit(f"mutmut run failed ({completed.returncode}); its output is in {log}")
    return time.monotonic() - started


def read_mutants() -> list[Mutant]:
    """Every mutant of the run, with its status, and its diff unless killed (read in the staging directory)."""
    os.chdir(STAGE)
    mutants = []
    for path in sorted(walk_mutatable_files()):
        data = SourceFileMutationData(path=path)
        data.load()
        module = str(path.with_suffix("")).replace(os.sep, ".")
        for name, exit_code in data.exit_code_by_key.items():
            function, class_name = orig_function_and_class_names_from_key(name)
            status = status_by_exit_code[exit_code]
            mutants.append(
                Mutant(
                    name=name,
                    module=module,
                    function=f"{class_name}.{function}" if class_name else function,
                    status=status,
                    diff="" if status in KILLED else get_diff_for_mutant(name, path=path),
                )
            )
    os.chdir(ROOT)
    return mutants


def stable_ids(mutants: list[Mutant]) -> dict[str, Mutant]:
    """``module:function@hash`` of each mutant not killed; a second mutant of a function changing
    the same lines the same way (rare) is told apart by ``#2`` in mutmut's order."""
    ids: dict[str, Mutant] = {}
    seen: Counter[str] = Counter()
    alive = [mutant for mutant in mutants if mutant.status not in KILLED]
    for mutant in sorted(alive, key=lambda m: (m.module, m.function, _ordinal(m.name))):
        digest = hashlib.sha256("\n".join(mutant.changed_lines).encode()).hexdigest()[:10]
        base = f"{mutant.module}:{mutant.function}@{digest}"
        seen[base] += 1
        ids[base if seen[base] == 1 else f"{base}#{seen[base]}"] = mutant
    return ids


def _ordinal(name: str) -> int:
    return int(name.rpartition("__mutmut_")[2])


def load_kept_list() -> dict[str, str]:
    """The kept list: stable id -> reason. An entry without a reason is an error."""
    entries = tomllib.loads(KEPT_LIST.read_text()).get("equivalent", []) if KEPT_LIST.exists() else []
    kept: dict[str, str] = {}
    for entry in entries:
        reason = str(entry.get("reason", "")).strip()
        if not reason or reason.upper().startswith("TODO"):
            raise SystemExit(f"{KEPT_LIST.relative_to(ROOT)}: {entry.get('id')} has no reason")
        if entry["id"] in kept:
            raise SystemExit(f"{KEPT_LIST.relative_to(ROOT)}: {entry['id']} is listed twice")
        kept[entry["id"]] = reason
    return kept


def report(mutants: list[Mutant], kept: dict[str, str], seconds: float, verbose: bool) -> list[str]:
    """Print the score per module; return what fails the gate."""
    alive = stable_ids(mutants)
    kept_here = {mutant.name for key, mutant in alive.items() if key in kept}
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    for mutant in mutants:
        row = rows[mutant.module]
        row["mutants"] += 1
        row["killed" if mutant.status in KILLED else "kept" if mutant.name in kept_here else "survived"] += 1
    total: Counter[str] = sum(rows.values(), Counter())
    print(f"\nmutmut over {DOMAIN} ({seconds:.0f} s):\n")
    print(f"| {'module':<32} | mutants | killed | kept as equivalent | survived |")
    print(f"|{'-' * 34}|---------|--------|--------------------|----------|")
    for module, row in [*sorted(rows.items()), ("total", total)]:
        name = module.removeprefix("trial_ledger.domain.")
        print(f"| {name:<32} | {row['mutants']:>7} | {row['killed']:>6} | {row['kept']:>18} | {row['survived']:>8} |")
    share = len(kept) / max(total["mutants"], 1)
    print(f"\nscore: {total['killed']} / {total['mutants']} killed; kept list: {len(kept)} ({share:.1%} of all)")

    failures = []
    for key, mutant in sorted(alive.items()):
        if key in kept:
            if verbose:
                print(f"  kept {key}: {kept[key]}")
            continue
        failures.append(
            f"{key} {mutant.status} ({mutant.name}): kill it with a test that states a rule or, only if "
            f"no input can tell it from the original, add it to {KEPT_LIST.relative_to(ROOT)}:\n"
            f'[[equivalent]]\nid = "{key}"\nchange = {_toml_string(mutant.change)}\nreason = ""\n\n'
            f"{mutant.diff}\n"
        )
    for key in sorted(kept.keys() - alive.keys()):
        failures.append(f"{key} is on the kept list but is no surviving mutant (killed now, or gone): remove it")
    if share > MAX_KEPT_SHARE:
        failures.append(f"the kept list holds {share:.1%} of the mutants, above {MAX_KEPT_SHARE:.0%}")
    return failures


def _toml_string(text: str) -> str:
    return "'" + text + "'" if "'" not in text else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--verbose", action="store_true", help="also list the kept mutants and their reasons")
    args = parser.parse_args()
    stage()
    seconds = run_mutmut(args.max_children, STAGE / "mutmut.log")
    failures = report(read_mutants(), load_kept_list(), seconds, args.verbose)
    for failure in failures:
        print(f"\nFAIL {failure}")
    if failures:
        raise SystemExit(f"\nmutation gate: {len(failures)} problem(s)")
    print("mutation gate: every mutant is killed or kept as equivalent")


if __name__ == "__main__":
    main()
