"""Prove the `sam build` artifact works: import every built function in a bare Python 3.13 whose
only packages are the function's own build directory and its built layers (what Lambda puts on
the path), so a file or requirement missing from the artifact fails here, not in production.

    python -m infra.tools.check_build .aws-sam/build PYTHON313
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.local.template import load_template

IMPORT_CHECK = """
import importlib, sys
module = importlib.import_module(sys.argv[1])
handler = getattr(module, sys.argv[2])
assert callable(handler), sys.argv[2]
print("ok", sys.argv[1], "from", module.__file__)
"""


def check(build_dir: Path, python: str) -> list[str]:
    built = load_template(build_dir / "template.yaml")
    failures = []
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
        }
        # -S: no site-packages at all; only the artifact and the standard library are importable.
        done = subprocess.run([python, "-S", "-c", IMPORT_CHECK, module, function], env=env,  # noqa: S603
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        if done.returncode:
            failures.append(f"{logical_id}: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
        else:
            print(f"{logical_id}: {done.stdout.strip()}")
    return failures


def main() -> int:
    build_dir, python = Path(sys.argv[1]), sys.argv[2]
    failures = check(build_dir, python)
    for failure in failures:
        print("FAILED", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
