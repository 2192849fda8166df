"""The README's quickstart, word for word, against a fresh `make run` server."""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_stack import ROOT, running_stack

pytestmark = pytest.mark.e2e


def quickstart() -> list[tuple[str, Any]]:
    """(command, expected part of its answer or None) for each command of the README block."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quickstart.*?```sh\n(.*?)```", readme, re.S)
    assert block, "README has no quickstart block"
    steps: list[tuple[str, Any]] = []
    for line in block.group(1).splitlines():
        if line.startswith("# → "):
            command, _ = steps[-1]
            steps[-1] = (command, json.loads(line.removeprefix("# → ")))
        elif line.strip() and not line.startswith("#"):
            steps.append((line, None))
    return steps


def contains(actual: Any, expected: Any) -> bool:
    """``expected`` is a part of ``actual``: dict keys are a subset, lists match item by item."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and contains(actual[k], v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            contains(a, e) for a, e in zip(actual, expected, strict=True))  # fmt: skip
    return bool(actual == expected)


def test_readme_quickstart_word_for_word(tmp_path: Path) -> None:
    steps = quickstart()
    assert steps[0][0] == "API=http://127.0.0.1:3000"
    assert len(steps) >= 15
    with running_stack() as stack:
        for command, expected in steps[1:]:
            script = f"set -euo pipefail\nAPI={stack.url}\n{command}\n"
            done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, (command, done.stderr)
            answer = json.loads(done.stdout)
            if expected is not None:
                assert contains(answer, expected), f"{command}\n  expected part: {expected}\n  got: {answer}"
