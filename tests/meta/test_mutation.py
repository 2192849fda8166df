"""The mutation gate's own logic (infra/tools/mutation.py), without running mutmut: the staged
spelling of properties, the stable names of mutants, what fails the gate, and the kept list."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infra.tools.mutation import KEPT_LIST, MAX_KEPT_SHARE, Mutant, load_kept_list, report, spell_properties, stable_ids

MODULE = "trial_ledger.domain.rules"


def mutant(number: int, removed: str, added: str, status: str = "survived", header: str = "@@ -1,2 +1,2 @@") -> Mutant:
    diff = f"--- rules.py\n+++ rules.py\n{header}\n def f(x):\n-    {removed}\n+    {added}"
    return Mutant(f"{MODULE}.x_f__mutmut_{number}", MODULE, "f", status, diff)


def test_properties_are_spelt_as_plain_methods_of_the_same_class() -> None:
    source = textwrap.dedent('''\
        class Draw:
            def __init__(self, free: int) -> None:
                self.free = free

            @property
            def left(self) -> int:
                """What is left."""
                return 10 - self.free

            @staticmethod
            def kept() -> int:
                return 1
        ''')
    spelt = spell_properties(source)
    assert "@property" not in spelt
    assert "    left = property(left)\n" in spelt
    assert "@staticmethod" in spelt  # mutmut mutates those as they are
    original: dict[str, Any] = {}
    staged: dict[str, Any] = {}
    exec(compile(source, "original", "exec"), original)
    exec(compile(spelt, "staged", "exec"), staged)
    assert original["Draw"](3).left == staged["Draw"](3).left == 7
    assert isinstance(staged["Draw"].__dict__["left"], property)


def test_a_mutant_keeps_its_name_when_lines_move_and_changes_it_when_its_line_does() -> None:
    [first] = stable_ids([mutant(1, "return x > 0", "return x >= 0")])
    [moved] = stable_ids([mutant(7, "return x > 0", "return x >= 0", header="@@ -9,2 +9,2 @@")])
    [other] = stable_ids([mutant(1, "return x > 0", "return x > 1")])
    assert first == moved
    assert first.startswith(f"{MODULE}:f@")
    assert other != first
    twins = stable_ids([mutant(2, "return x > 0", "return x >= 0"), mutant(5, "return x > 0", "return x >= 0")])
    assert sorted(twins) == [first, f"{first}#2"]
    assert stable_ids([mutant(1, "return x > 0", "return x >= 0", status="killed")]) == {}


def test_the_gate_fails_on_an_unexplained_survivor_a_stale_entry_and_a_long_list() -> None:
    survivor = mutant(1, "return x > 0", "return x >= 0")
    [key] = stable_ids([survivor])
    killed = [mutant(n, "return x > 0", f"return x > {n}", status="killed") for n in range(2, 40)]
    assert report([survivor, *killed], {key: "a reason"}, 0, verbose=False) == []
    [unexplained] = report([survivor, *killed], {}, 0, verbose=False)
    assert unexplained.startswith(f"{key} survived")
    assert f'id = "{key}"' in unexplained  # the entry to paste, reason to write
    no_tests = mutant(1, "return x > 0", "return x >= 0", status="no tests")
    assert len(report([no_tests, *killed], {}, 0, verbose=False)) == 1
    [stale] = report(killed, {key: "a reason"}, 0, verbose=False)
    assert stale.startswith(f"{key} is on the kept list but is no surviving mutant")
    failures = report([survivor, *killed[:5]], {key: "a reason"}, 0, verbose=False)
    assert failures == [f"the kept list holds {1 / 6:.1%} of the mutants, above {MAX_KEPT_SHARE:.0%}"]


def test_every_kept_mutant_has_an_id_the_change_and_a_reason() -> None:
    entries = tomllib.loads(KEPT_LIST.read_text())["equivalent"]
    assert entries
    for entry in entries:
        assert set(entry) == {"id", "change", "reason"}, entry
        assert entry["id"].startswith("trial_ledger.domain.")
        assert entry["reason"].strip()
        assert entry["change"].strip()
    assert len(load_kept_list()) == len(entries)  # no id twice


@pytest.mark.parametrize("reason", ["", "  ", "TODO: find out"])
def test_an_entry_without_a_reason_is_refused(reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = tmp_path / "equivalent.toml"
    kept.write_text(f'[[equivalent]]\nid = "{MODULE}:f@0"\nchange = "-a / +b"\nreason = "{reason}"\n')
    monkeypatch.setattr("infra.tools.mutation.KEPT_LIST", kept)
    monkeypatch.setattr("infra.tools.mutation.ROOT", tmp_path)
    with pytest.raises(SystemExit, match="has no reason"):
        load_kept_list()
