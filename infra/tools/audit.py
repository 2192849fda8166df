"""Ledger audit: read the whole table and check, for every grant, R11 against its usage records
(reversal-aware), its reversals and its expiry entry, R19 (its ledger: entries numbered without
gaps, chained, the last one the grant's balances; audit_ledger.py), R17 (every reversal mark
has its reversal item and the other way round) and R16 for its holds (the totals, and the open
holds behind every period). ``make audit`` runs it against the local stack or a deployed table;
the tests run it after every reliability scenario.

    python -m infra.tools.audit [--endpoint-url URL] [--table NAME]
"""

from __future__ import annotations

import functools
import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from infra.tools.audit_ledger import GrantItems, check_ledger, check_reversals
from infra.tools.table_target import parse_target


@dataclass
class AuditReport:
    grants: int = 0
    usage_records: int = 0
    expiry_entries: int = 0
    reversals: int = 0
    ledger_entries: int = 0
    """Entries of the grants' ledgers after their claims (usages with free units, reversals that
    moved units, expiries)."""
    holds: int = 0
    held_units: int = 0
    """Units the grants' periods reserve (timed-out periods no write has removed yet included)."""
    free_units: int = 0
    billable_units: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def audit() -> AuditReport:
    """Audit the table the ledger package is configured for (``TABLE_NAME``, endpoint)."""
    from trial_ledger.config.settings import load_settings
    from trial_ledger.dynamo.keys import is_shard_key_of, ledger_grant_key

    report = AuditReport()
    claims, found, open_holds = _read_table(report)
    report.grants = len(claims.grants)
    check_reversals((u for items in found.values() for u in items.usages),
                    (r for items in found.values() for r in items.reversals), report.violations)  # fmt: skip
    for key, grant in claims.grants.items():
        items = found.pop(key, GrantItems())
        _check_grant(key, grant, items, report)
        where, shards = "{}/{}".format(*key), load_settings().grant_ledger_shards.read
        in_ledger = functools.partial(is_shard_key_of, base=ledger_grant_key(*key), shards=shards)
        report.ledger_entries += check_ledger(where, grant, items, in_ledger, report.violations)
        _check_holds(key, grant, open_holds.get(key, {}), report)
    _check_orphans(found, report)
    claims.check(report.violations)
    return report


def _read_table(
    report: AuditReport,
) -> tuple[Claims, dict[tuple[str, str], GrantItems], dict[tuple[str, str], dict[str, int]]]:
    """Every item of the table, by grant: its claim, its items, its open holds' units by period."""
    from trial_ledger.dynamo.items import (
        ActionItem,
        CallItem,
        ClaimMarkItem,
        ExpiryItem,
        GrantItem,
        ReversalItem,
        UsageItem,
    )
    from trial_ledger.dynamo.store import LedgerStore

    claims = Claims()
    found: dict[tuple[str, str], GrantItems] = defaultdict(GrantItems)
    open_holds: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in LedgerStore().queries.all_items():
        if isinstance(item, CallItem):
            _take_call(item, report, found, open_holds, isinstance(item, UsageItem))
        elif isinstance(item, ExpiryItem):
            report.expiry_entries += 1
            found[(item.account_id, item.model_id)].expiry = item
        elif isinstance(item, ReversalItem):
            report.reversals += 1
            found[(item.account_id, item.model_id)].reversals.append(item)
        elif isinstance(item, ActionItem):
            found[(item.account_id, item.model_id)].actions.append(item)
        elif isinstance(item, GrantItem | ClaimMarkItem):
            claims.take(item, report.violations)
    return claims, found, open_holds


@dataclass
class Claims:
    """The grants, and R1's keys: every grant with a key of its own has its claim's mark at its
    claim key, and every mark its grant (a grant still at its claim key is its own proof)."""

    grants: dict[tuple[str, str], Any] = field(default_factory=dict)
    own_keys: set[tuple[str, str]] = field(default_factory=set)
    marks: set[tuple[str, str]] = field(default_factory=set)

    def take(self, item: Any, violations: list[str]) -> None:
        """A grant or a claim's mark."""
        from trial_ledger.dynamo.items import GrantItem
        from trial_ledger.dynamo.keys import grant_key

        key = (item.account_id, item.model_id)
        if not isinstance(item, GrantItem):
            self.marks.add(key)
            return
        if key in self.grants:
            violations.append("{}/{}: two grants (R1)".format(*key))
        self.grants[key] = item
        if item.pk == grant_key(*key)[0]:
            self.own_keys.add(key)

    def check(self, violations: list[str]) -> None:
        violations += ["{}/{}: a grant without its claim's mark (R1)".format(*k) for k in self.own_keys - self.marks]
        violations += ["{}/{}: a claim's mark without its grant".format(*k) for k in self.marks - self.own_keys]


def _check_orphans(found: dict[tuple[str, str], GrantItems], report: AuditReport) -> None:
    """What moved free units of a grant that does not exist."""
    for (account, model), items in found.items():
        if free := items.unreversed_free():
            report.violations.append(f"{account}/{model}: {free} free units used without a grant")
        if items.expiry is not None:
            report.violations.append(f"{account}/{model}: expiry entry without a grant")
        if moved := sum(int(r.free_returned) + int(r.free_expired) for r in items.reversals):
            report.violations.append(f"{account}/{model}: reversals of {moved} free units without a grant")


def _take_call(
    item: Any,
    report: AuditReport,
    found: dict[tuple[str, str], GrantItems],
    open_holds: dict[tuple[str, str], dict[str, int]],
    has_usage: bool,
) -> None:
    """A call item: its usage record (R11), and its hold while open (what its period must hold)."""
    from trial_ledger.domain.hold_periods import period_of
    from trial_ledger.dynamo.mapping import period_key

    key = (item.account_id, item.model_id)
    if has_usage:
        report.usage_records += 1
        _check_usage(item, report)
        found[key].usages.append(item)
    if item.status is not None:
        report.holds += 1
        if item.status == "open" and int(item.held) > 0:
            open_holds[key][period_key(period_of(item.expires_at))] += int(item.held)


def _check_usage(item: Any, report: AuditReport) -> None:
    where = f"usage {item.request_id}"
    quantity, free, billable, overage = (int(item.quantity), int(item.free), int(item.billable),
                                         int(item.unbilled_overage))  # fmt: skip
    report.free_units += free
    report.billable_units += billable
    if min(free, billable, overage) < 0 or free + billable + overage != quantity:
        report.violations.append(f"{where}: free {free} + billable {billable} + overage {overage} != {quantity}")
    if billable and overage:
        report.violations.append(f"{where}: both billable and unbilled overage")
    if Decimal(item.charge) != billable * Decimal(item.unit_price):
        report.violations.append(f"{where}: charge {item.charge} != {billable} x {item.unit_price}")
    _check_listed(where, item, report)


def _check_listed(where: str, item: Any, report: AuditReport) -> None:
    """The record lists: its usage-index key is a shard of its account's that listings read."""
    from trial_ledger.config.settings import load_settings
    from trial_ledger.dynamo.keys import is_shard_key_of

    if not is_shard_key_of(item.usage_account or "", item.account_id, load_settings().usage_index_shards.read):
        report.violations.append(f"{where}: usage index key {item.usage_account!r} is not one of {item.account_id}'s")


def _check_grant(key: tuple[str, str], grant: Any, items: GrantItems, report: AuditReport) -> None:
    """R11: the balances keep the quota, ``used`` is the free units of its usage records not
    reversed, ``expired`` what its expiry entry and its reversals past its validity recorded."""
    where = "{}/{}".format(*key)
    free, expired_entries = items.unreversed_free(), items.expired_by_entries()
    quota, used, remaining, expired = (int(grant.quota), int(grant.used), int(grant.remaining),
                                       int(grant.expired))  # fmt: skip
    if min(used, remaining, expired) < 0:
        report.violations.append(f"{where}: negative balance used={used} remaining={remaining} expired={expired}")
    if quota != used + remaining + expired:
        report.violations.append(f"{where}: quota {quota} != used {used} + remaining {remaining} + expired {expired}")
    if used != free:
        report.violations.append(f"{where}: used {used} != {free}, the free units of its usage records not reversed")
    if expired != expired_entries:
        report.violations.append(f"{where}: expired {expired} != {expired_entries}, its expiry entry and reversals")
    if (remaining > 0) != (grant.expiry_shard is not None):
        report.violations.append(
            f"{where}: in the expiry index = {grant.expiry_shard is not None}, remaining {remaining}"
        )


def _check_holds(key: tuple[str, str], grant: Any, open_held: dict[str, int], report: AuditReport) -> None:
    """R16 on the stored grant: held_total == sum(held_units), unreserved == remaining - held_total,
    0 <= held_total <= remaining, and each period holds exactly the units of its open holds. A
    period a write removed once it timed out has open holds the sweep has not closed yet: the
    audit cannot tell that from a lost period without the instant, and lets it be."""
    where = "{}/{}".format(*key)
    units = {period: int(value) for period, value in _as_dict(grant.held_units).items()}
    total, unreserved, remaining = int(grant.held_total or 0), int(grant.unreserved or 0), int(grant.remaining)
    report.held_units += total
    if total != sum(units.values()):
        report.violations.append(f"{where}: held_total {total} != {sum(units.values())}, its periods")
    if unreserved != remaining - total:
        report.violations.append(f"{where}: unreserved {unreserved} != remaining {remaining} - held {total}")
    if not 0 <= total <= remaining:
        report.violations.append(f"{where}: held_total {total} outside 0..remaining {remaining}")
    for period, held in units.items():
        if held != open_held.get(period, 0):
            behind = open_held.get(period, 0)
            report.violations.append(f"{where}: period {period} holds {held}, its open holds {behind}")


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return dict(value.as_dict()) if hasattr(value, "as_dict") else dict(value)


def main() -> int:
    parse_target(__doc__ or "")
    report = audit()
    print(json.dumps(asdict(report) | {"ok": report.ok}, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
