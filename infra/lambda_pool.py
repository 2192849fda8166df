"""Load the real handlers in-process the way Lambda runs them: each "container" is its own import
of the handler module (its own resolver, ledger and snapshot memory) and serves one event at a
time; a function scales out to more containers under concurrent load."""

from __future__ import annotations

import importlib.util
import itertools
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
LAYER_DIRS = [ROOT / "layers" / "ledger", ROOT / "layers" / "edge"]

ContainerSetup = Callable[[ModuleType], None]


def put_layers_on_path() -> None:
    """What Lambda does with layers: their packages become importable (/opt/python)."""
    for directory in reversed(LAYER_DIRS):
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))


class FunctionPool:
    def __init__(self, code_dir: str, handler: str, setup: ContainerSetup, max_containers: int = 8) -> None:
        module_name, _, self.function_name = handler.rpartition(".")
        self._path = ROOT / code_dir / f"{module_name}.py"
        if not self._path.is_file():
            raise FileNotFoundError(self._path)
        self._module_name = module_name
        self._setup = setup
        self._max = max_containers
        self._idle: queue.LifoQueue[ModuleType] = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def _new_container(self) -> ModuleType:
        name = f"{self._module_name}__container{next(self._ids)}"
        spec = importlib.util.spec_from_file_location(name, self._path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self._setup(module)
        return module

    @contextmanager
    def container(self) -> Iterator[ModuleType]:
        try:
            module = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                grow = self._created < self._max
                self._created += grow
            module = self._new_container() if grow else self._idle.get()
        try:
            yield module
        finally:
            self._idle.put(module)
