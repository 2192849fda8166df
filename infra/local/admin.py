"""The local-only routes under ``/_local/`` (never in template.yaml): the test clock, the nightly
expiry run and the hold sweep as their schedules would start them, what the containers are doing,
and the events that reached the local event bus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from urllib.parse import parse_qs

from infra.local.bus import LocalBus
from infra.local.gateway import LocalGateway, LocalRequest, Reply, json_reply, problem_reply
from infra.local.lambda_pool import FunctionError
from infra.local.shared_clock import ClockOutOfRange
from trial_edge.strict_json import loads
from trial_ledger import format_timestamp, parse_timestamp


class LocalAdmin:
    def __init__(self, gateway: LocalGateway, bus: LocalBus) -> None:
        self.gateway, self.clock, self.bus = gateway, gateway.clock, bus
        self._routes: dict[tuple[str, str], Callable[[LocalRequest], Reply]] = {
            ("GET", "/_local/clock"): self.read_clock,
            ("PUT", "/_local/clock"): self.freeze_clock,
            ("DELETE", "/_local/clock"): self.unfreeze_clock,
            ("POST", "/_local/expiry-runs"): self.run_expiry,
            ("POST", "/_local/hold-sweeps"): self.run_hold_sweep,
            ("GET", "/_local/containers"): self.containers,
            ("GET", "/_local/events"): self.events,
        }

    def handle(self, request: LocalRequest) -> Reply:
        route = self._routes.get((request.method, request.path))
        if route is None:
            return problem_reply("not_found", f"no local route {request.method} {request.path}")
        return route(request)

    def read_clock(self, request: LocalRequest) -> Reply:
        return json_reply({"now": format_timestamp(self.clock.now()), "frozen": self.clock.frozen})

    def freeze_clock(self, request: LocalRequest) -> Reply:
        try:  # JSON as the functions read it: UTF-8, RFC 8259, no repeated key
            document = loads(request.body or b"{}")
        except (ValueError, RecursionError):
            return problem_reply("malformed_json", 'the body is not valid JSON: send {"now": "<ISO-8601 instant>"}')
        try:
            now = document.get("now")
            self.clock.freeze(parse_timestamp(now))
        except ClockOutOfRange as out_of_range:
            return problem_reply("validation_error", str(out_of_range))
        except (ValueError, TypeError, AttributeError, OverflowError):
            return problem_reply("validation_error",
                                 'send {"now": "<ISO-8601 instant with offset>"}')  # fmt: skip
        return self.read_clock(request)

    def unfreeze_clock(self, request: LocalRequest) -> Reply:
        self.clock.unfreeze()
        return self.read_clock(request)

    def run_expiry(self, request: LocalRequest) -> Reply:
        # As the schedule would: its scheduled time (here: the clock) is the as-of instant.
        try:
            return json_reply(self.gateway.run_schedule("Nightly", format_timestamp(self.clock.now())))
        except FunctionError:
            return problem_reply("internal_error", "the expiry run failed: see the log")

    def run_hold_sweep(self, request: LocalRequest) -> Reply:
        # As the HoldSweep schedule would, at the clock's now.
        try:
            return json_reply(self.gateway.run_schedule("HoldSweep", format_timestamp(self.clock.now())))
        except FunctionError:
            return problem_reply("internal_error", "the hold sweep failed: see the log")

    def containers(self, request: LocalRequest) -> Reply:
        return json_reply(
            {name: [asdict(stats) for stats in pool.stats()] for name, pool in self.gateway.pools.items()}
        )

    def events(self, request: LocalRequest) -> Reply:
        """What reached the local bus, oldest first; ``?detail_type=`` keeps one kind."""
        detail_type = parse_qs(request.query_string).get("detail_type", [None])[0]
        return json_reply({"events": self.bus.events(detail_type)})
