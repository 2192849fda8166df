"""A local Lambda function: a pool of container processes that scales out under concurrent load.

An event goes to an idle container (the most recently used first, so a warm one keeps serving);
with none idle a new container starts, up to ``max_containers``, and past that the event waits for
one, as an invocation would wait on reserved concurrency. A container whose process died is
dropped and replaced on demand. ``close`` stops every process the pool started."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from dataclasses import dataclass
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any

from infra.local.lambda_container import ERROR, INVOKE, INVOKE_ASYNC, FunctionCode, serve

log = logging.getLogger("local_api")


class FunctionError(Exception):
    """The invocation failed: the handler raised, or its container died."""


@dataclass(frozen=True)
class ContainerStats:
    pid: int
    invocations: int


class Container:
    """The emulator's end of one container process."""

    def __init__(self, pool: FunctionPool, name: str) -> None:
        self._pool = pool
        self._connection, child_end = pool.context.Pipe()
        self.process: SpawnProcess = pool.context.Process(
            target=serve, args=(child_end, pool.code, pool.clock), name=name, daemon=True
        )
        self.process.start()
        child_end.close()
        self.invocations = 0
        self.broken = False
        """Its pipe failed: it is gone, even if the OS has not reaped the process yet."""
        self._await_answer()  # the init phase: the handler's module is imported

    def invoke(self, event: dict[str, Any]) -> Any:
        self.invocations += 1
        try:
            self._connection.send((INVOKE, event, self._pool.name, self._pool.timeout_seconds))
        except OSError as gone:
            self.broken = True
            raise FunctionError(f"container {self.process.name} exited ({self.process.exitcode})") from gone
        return self._await_answer()

    def _await_answer(self) -> Any:
        while True:
            try:
                kind, payload = self._connection.recv()
            except (EOFError, OSError) as gone:
                self.broken = True
                raise FunctionError(f"container {self.process.name} exited ({self.process.exitcode})") from gone
            if kind == INVOKE_ASYNC:
                self._pool.invoke_later(payload)
            elif kind == ERROR:
                raise FunctionError(payload)
            else:
                return payload

    @property
    def alive(self) -> bool:
        return not self.broken and self.process.is_alive()

    def stop(self) -> None:
        self.begin_stop()
        self.finish_stop()

    def begin_stop(self) -> None:
        """Ask the container to end: an idle container ends on its own when its pipe closes."""
        self._connection.close()

    def finish_stop(self) -> None:
        """Wait for the end asked by begin_stop; terminate, then kill, a container that lingers."""
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def stats(self) -> ContainerStats:
        return ContainerStats(self.process.pid or 0, self.invocations)


@dataclass(frozen=True)
class ContainerHost:
    """What every container of the emulator shares: how processes start, and the test clock."""

    context: SpawnContext
    clock: Any


class FunctionPool:
    def __init__(
        self, name: str, code: FunctionCode, host: ContainerHost, timeout_seconds: float = 30.0, max_containers: int = 8
    ) -> None:
        self.name, self.code, self.context, self.clock = name, code, host.context, host.clock
        self.timeout_seconds = timeout_seconds
        self._max = max_containers
        self._idle: queue.LifoQueue[Container] = queue.LifoQueue()
        self._all: list[Container] = []
        self._lock = threading.Lock()
        self._started = 0
        self._names = itertools.count(1)
        self._closed = False

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run one event in a container; raises FunctionError when the invocation fails."""
        container = self._acquire()
        try:
            return container.invoke(event)
        finally:
            self._release(container)

    def invoke_later(self, payload: dict[str, Any]) -> None:
        """Lambda's asynchronous invocation (InvocationType=Event): queued, answered to nobody."""

        def run() -> None:
            try:
                self.invoke(payload)
            except FunctionError as failed:
                log.error("asynchronous invocation of %s failed: %s", self.name, failed)

        threading.Thread(target=run, name=f"{self.name}-async", daemon=True).start()

    def warm(self) -> None:
        """Start one container ahead of the first event (as provisioned concurrency would)."""
        self._release(self._acquire())

    def _acquire(self) -> Container:
        while True:
            if idle := self._take_idle(wait=0):
                return idle
            with self._lock:
                if self._closed:
                    raise FunctionError(f"{self.name} is shutting down")
                grow = self._started < self._max
                self._started += grow
            if grow:
                return self._start_container()
            # At the limit: wait for one to come back, waking now and then, since a container
            # that dies frees a place to start another.
            if idle := self._take_idle(wait=0.1):
                return idle

    def _take_idle(self, wait: float) -> Container | None:
        try:
            idle = self._idle.get(timeout=wait) if wait else self._idle.get_nowait()
        except queue.Empty:
            return None
        if idle.alive:
            return idle
        self._release(idle)  # died while idle: dropped, and its place is free again
        return None

    def _start_container(self) -> Container:
        try:
            container = Container(self, f"{self.name}-{next(self._names)}")
        except BaseException:
            with self._lock:
                self._started -= 1
            raise
        with self._lock:
            self._all.append(container)
        return container

    def _release(self, container: Container) -> None:
        if container.alive and not self._closed:
            self._idle.put(container)
            return
        with self._lock:
            if container in self._all:
                self._all.remove(container)
                self._started -= 1
        container.stop()

    def stats(self) -> list[ContainerStats]:
        with self._lock:
            return [container.stats() for container in self._all]

    def close(self) -> list[Container]:
        """Stop taking invocations and ask every container to end; the containers, to wait for
        (Container.finish_stop): all of them end side by side, not one after another."""
        with self._lock:
            self._closed = True
            containers, self._all = list(self._all), []
        for container in containers:
            container.begin_stop()
        return containers
