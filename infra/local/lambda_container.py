"""One local Lambda container: its own interpreter, as Lambda (and ``sam local``) runs one.

The process imports the handler once (its init phase), then serves one event at a time over a
pipe and keeps its module state (resolver, ledger, snapshots, clients) between events. Powertools
keeps the current event in class-level state, which is safe only with one event per process at a
time: that is why a container is a process and not a thread.

Messages from the pool: ``(INVOKE, event, function_name, timeout_seconds)``. Answers:
``(RESULT, value)``, ``(ERROR, text)``, and at any time during an invocation
``(INVOKE_ASYNC, payload)`` for the handler's own asynchronous invocations (the expiry function's
continuation). The process ends when its pipe closes, so it cannot outlive the emulator."""

from __future__ import annotations

import importlib.util
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.local.events import LocalLambdaContext

ROOT = Path(__file__).resolve().parents[2]
LAYER_DIRS = [ROOT / "layers" / "ledger", ROOT / "layers" / "edge"]

INVOKE, RESULT, ERROR, INVOKE_ASYNC = "invoke", "result", "error", "invoke_async"


def put_layers_on_path() -> None:
    """What Lambda does with layers: their packages become importable (/opt/python)."""
    for directory in reversed(LAYER_DIRS):
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))


@dataclass(frozen=True)
class ContainerServices:
    """What the emulator lends a container: the shared test clock and asynchronous invocation."""

    clock: Any
    invoke_async: Callable[[dict[str, Any]], None]


ContainerSetup = Callable[[ModuleType, ContainerServices], None]
"""Run once after the handler's import, in the container: a module-level function (picklable)."""


@dataclass(frozen=True)
class FunctionCode:
    code_dir: str
    handler: str
    """``module.function`` as Lambda calls it."""
    setup: ContainerSetup

    @property
    def path(self) -> Path:
        return ROOT / self.code_dir / f"{self.handler.rpartition('.')[0]}.py"

    @property
    def function_name(self) -> str:
        return self.handler.rpartition(".")[2]


def _import_handler(code: FunctionCode) -> ModuleType:
    spec = importlib.util.spec_from_file_location(code.handler.rpartition(".")[0], code.path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def serve(connection: Connection, code: FunctionCode, clock: Any) -> None:
    """The container's main loop (the target of its process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the emulator stops us
    put_layers_on_path()
    module = _import_handler(code)
    code.setup(module, ContainerServices(clock, lambda payload: connection.send((INVOKE_ASYNC, payload))))
    handler = getattr(module, code.function_name)
    connection.send((RESULT, None))  # init done
    while True:
        try:
            _, event, function_name, timeout_seconds = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer = (RESULT, handler(event, LocalLambdaContext(function_name, timeout_seconds=timeout_seconds)))
        except Exception:  # as Lambda: the invocation fails, the container lives on
            text = traceback.format_exc()
            print(text, file=sys.stderr, flush=True)
            answer = (ERROR, text)
        connection.send(answer)
