"""A stand-in Lambda handler for the local container pool's tests: it keeps module state, can
fail, die, stall and invoke itself asynchronously, and reports which process served it."""

import os
import time
from pathlib import Path
from typing import Any

invocations = 0
current_event: dict[str, Any] = {}
"""Module state shared by whatever runs in this interpreter, like Powertools' current event."""


class _Ledger:
    clock: Any = None


ledger = _Ledger()


def continue_later(payload: dict[str, Any], context: Any) -> None:
    raise RuntimeError("the emulator replaces this with its asynchronous invocation")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global invocations, current_event  # noqa: PLW0603 (module state is what is under test)
    invocations += 1
    current_event = event
    action = event.get("action")
    if action == "fail":
        raise ValueError("asked to fail")
    if action == "exit":
        os._exit(3)
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "continue":
        continue_later({"action": "record", "path": event["path"]}, context)
    if action == "record":
        Path(event["path"]).write_text(str(os.getpid()), encoding="utf-8")
    return {
        "pid": os.getpid(),
        "invocations": invocations,
        "echo": current_event.get("echo"),
        "now": ledger.clock.now().isoformat(),
        "function_name": context.function_name,
    }
