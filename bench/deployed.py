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
    """Paths into the compiled copy."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, relative: Path) -> Path:
        return self.root / relative if relative.parts[0] in COPIED else ROOT / relative

    def pythonpath(self, code_dir: str) -> str:
        """PYTHONPATH of a probe whose handler lives in ``code_dir`` (relative to ROOT), with the layers
        after it as Lambda orders /var/task and /opt/python."""
        dirs = [self._dir(Path(code_dir)), *(self._dir(layer.relative_to(ROOT)) for layer in LAYER_DIRS)]
        return os.pathsep.join(str(directory) for directory in dirs)


def source_pythonpath(code_dir: str) -> str:
    """The same from the source tree, where the probe compiles our modules as it imports them."""
    return os.pathsep.join(str(directory) for directory in [ROOT / code_dir, *LAYER_DIRS])


@contextlib.contextmanager
def deployed_code() -> Iterator[DeployedCode]:
    with tempfile.TemporaryDirectory(prefix="bench-deployed-") as folder:
        root = Path(folder)
        for tree in COPIED:
            shutil.copytree(ROOT / tree, root / tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        compiled = compileall.compile_dir(root, quiet=1, force=True,
                                          invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)  # fmt: skip
        if not compiled:
            raise RuntimeError(f"compileall failed in {root}")
        yield DeployedCode(root)
