"""Our code as a deploy runs it, for the bench's init and RSS probes: a temporary copy of the layers
and the functions whose every module is compiled as infra/build/Makefile compiles the SAM build
(unchecked-hash `__pycache__/*.cpython-313.pyc`). In Lambda the build's bytecode is what imports;
from the source tree, where `PYTHONDONTWRITEBYTECODE` leaves no `__pycache__`, a probe would compile
our modules at every start, which no deployed function does. The third-party packages come from the
virtual environment, compiled by pip, as the build compiles the layers' own."""

from __future__ import annotations

import compileall
import contextlib
import os
import py_compile
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from infra.local.lambda_container import LAYER_DIRS, ROOT

COPIED = ("layers", "functions")
"""The trees a deploy compiles, relative to ROOT; a probe's other code (the bench's floor handlers)
is imported from the source tree as it stands."""


class DeployedCode:
    """Paths into the compiled copy, and into a copy of the same sources without bytecode."""

    def __init__(self, root: Path, source_root: Path) -> None:
        self.root = root
        self.source_root = source_root

    def pythonpath(self, code_dir: str) -> str:
        """PYTHONPATH of a probe whose handler lives in ``code_dir`` (relative to ROOT), with the layers
        after it as Lambda orders /var/task and /opt/python."""
        return _pythonpath(self.root, code_dir)

    def source_pythonpath(self, code_dir: str) -> str:
        """The same from a copy without `__pycache__`, where a probe run with PYTHONDONTWRITEBYTECODE
        compiles our modules as it imports them, every time (the source tree may hold bytecode that
        a developer's run wrote)."""
        return _pythonpath(self.source_root, code_dir)


def _pythonpath(root: Path, code_dir: str) -> str:
    def under(relative: Path) -> Path:
        return root / relative if relative.parts[0] in COPIED else ROOT / relative

    dirs = [under(Path(code_dir)), *(under(layer.relative_to(ROOT)) for layer in LAYER_DIRS)]
    return os.pathsep.join(str(directory) for directory in dirs)


@contextlib.contextmanager
def deployed_code() -> Iterator[DeployedCode]:
    with tempfile.TemporaryDirectory(prefix="bench-deployed-") as folder:
        root, source_root = Path(folder) / "deployed", Path(folder) / "source"
        for tree in COPIED:
            for copy in (root, source_root):
                shutil.copytree(ROOT / tree, copy / tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        compiled = compileall.compile_dir(root, quiet=1, force=True,
                                          invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)  # fmt: skip
        if not compiled:
            raise RuntimeError(f"compileall failed in {root}")
        yield DeployedCode(root, source_root)
