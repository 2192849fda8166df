"""Prove the `sam build` artifact works: import every built function in a bare Python 3.13 whose
only packages are the function's own build directory and its built layers (what Lambda puts on
the path), so a file or requirement missing from the artifact fails here, not in production.

First, every module of every built function and layer must carry its bytecode as the runtime
reads it: `__pycache__/<name>.cpython-313.pyc`, hash-based and unchecked, of the source beside it
(infra/build/Makefile compiles them). Lambda's /opt and /var/task are read-only: a module without
it is compiled from source at every cold start. The imports run with PYTHONDONTWRITEBYTECODE, so
the check adds nothing to the artifact that `sam deploy` uploads.

    python -m infra.tools.check_build .aws-sam/build PYTHON313
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.local.template import load_template

IMPORT_CHECK = """
import importlib, sys
module = importlib.import_module(sys.argv[1])
handler = getattr(module, sys.argv[2])
assert callable(handler), sys.argv[2]
print("ok", sys.argv[1], "from", module.__file__)
"""

SHOWN = 10
"""Modules without their bytecode named in the failures; the rest are counted."""
# Run by the runtime itself, whose cache tag, magic number and source hash the .pyc must match.
BYTECODE_CHECK = """
import importlib.util, pathlib, sys
for root in sys.argv[1:]:
    for source in sorted(pathlib.Path(root).rglob("*.py")):
        try:
            pyc = pathlib.Path(importlib.util.cache_from_source(str(source))).read_bytes()
        except FileNotFoundError:
            print(source, "has no", sys.implementation.cache_tag, "bytecode")
            continue
        flags = int.from_bytes(pyc[4:8], "little")
        if pyc[:4] != importlib.util.MAGIC_NUMBER:
            print(source, "bytecode of another Python")
        elif flags != 0b01:  # hash-based (bit 0), unchecked (bit 1 clear)
            print(source, "bytecode is not unchecked-hash: flags", flags)
        elif pyc[8:16] != importlib.util.source_hash(source.read_bytes()):
            print(source, "bytecode of another source")
"""


def check(build_dir: Path, python: str) -> list[str]:
    built = load_template(build_dir / "template.yaml")
    failures = check_bytecode(build_dir, built, python)
    for logical_id, resource in built["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        module, _, function = properties["Handler"].rpartition(".")
        paths = [str(build_dir / properties["CodeUri"])]
        for layer in properties.get("Layers", []):
            layer_id = layer["Ref"] if isinstance(layer, dict) else layer
            paths.append(str(build_dir / layer_id / "python"))
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join(paths),
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TABLE_NAME": "built-artifact-check",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        # -S: no site-packages at all; only the artifact and the standard library are importable.
        done = subprocess.run([python, "-S", "-c", IMPORT_CHECK, module, function], env=env,  # noqa: S603
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        if done.returncode:
            failures.append(f"{logical_id}: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
        else:
            print(f"{logical_id}: {done.stdout.strip()}")
    return failures


def check_bytecode(build_dir: Path, built: dict[str, Any], python: str) -> list[str]:
    """Each module of the built functions and layers without its unchecked-hash bytecode."""
    kinds = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
    roots = [str(build_dir / resource["Properties"][kinds[resource["Type"]]])
             for resource in built["Resources"].values() if resource.get("Type") in kinds]  # fmt: skip
    done = subprocess.run([python, "-S", "-c", BYTECODE_CHECK, *roots], env={"PATH": os.environ.get("PATH", "")},  # noqa: S603
                          capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    missing = done.stdout.splitlines()
    if not missing:
        print(f"bytecode: every module of {len(roots)} functions and layers has its unchecked-hash .pyc")
    shown = [f"bytecode: {line}" for line in missing[:SHOWN]]
    return shown + ([f"bytecode: and {len(missing) - SHOWN} more modules"] if len(missing) > SHOWN else [])


def main() -> int:
    build_dir, python = Path(sys.argv[1]), sys.argv[2]
    failures = check(build_dir, python)
    for failure in failures:
        print("FAILED", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
