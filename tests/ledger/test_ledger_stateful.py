"""Stateful property test: random sequences of the ledger's operations against the real Ledger on
a moto DynamoDB table, compared step by step with a plain in-memory model of the contract's
rules (R1-R17, R19, R20), with the R11 ledger invariant (reversal-aware: ``used`` is the free
units of the usage records not reversed) and the hold bounds of R16 (``0 <= held <=
remaining``) checked on the real table after every step. Holds are taken, settled by usage,
released, left to time out (clock jumps) and swept. Usages are reversed (R17: free units back,
or expired past the grant's validity; billed-only usages; replays, conflicts, unknown ids, a
closed window), and after every step each grant's whole ledger (R19) is paged through with a
small page size and compared entry by entry with the model's.

Two Ledger instances share the table, as two Lambda containers would: each keeps its own
snapshot cache, so switching between them exercises the stale-snapshot retry paths, which must
not change any answer."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from moto import mock_aws

from infra.local.template import create_ledger_table
from infra.tools.audit import audit
from tests.ledger.test_grant_ledger import assert_chained
from tests.support import AWS, CAMPAIGN_CLOSE, IMAGE, LANG_30, LANG_90, NO_TRIAL, START
from trial_ledger import (
    Account,
    AccountNotActivated,
    ActionAsk,
    ActionResult,
    AdmissionRefused,
    Alerts,
    AlertsSource,
    Authorization,
    Balances,
    ClaimMethod,
    ClaimOutcome,
    ClaimOutcomeKind,
    EntryKind,
    ExpiryReport,
    FundingSource,
    Grant,
    GrantNotExtendable,
    GrantNotFound,
    GrantNotVoidable,
    GrantStatus,
    HoldAsk,
    HoldNotFound,
    HoldResult,
    HoldStatus,
    InvalidRequest,
    Ledger,
    LedgerEntry,
    ModelSpec,
    RecordRefusal,
    RequestIdConflict,
    ReversalResult,
    ReversalWindowClosed,
    StopReason,
    SwitchableClock,
    Trial,
    UnknownModel,
    UsageAsk,
    UsageNotFound,
    UsageResult,
)
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.dynamo.store import LedgerStore
from trial_ledger.retry import Backoff

DEFAULT_THRESHOLDS = (80, 95)

CATALOG = parse_catalog(default_catalog_document())
ACCOUNTS = ("acct-a", "acct-b")
UNKNOWN = "no-such-model"
USAGE_MODELS = (LANG_90, LANG_30, IMAGE, NO_TRIAL)
"""The models the machine meters: 90 days, 30 days, an image model of 50, one with no trial."""
CLAIM_MODELS = (*USAGE_MODELS, UNKNOWN)
SUB_ACCOUNTS = (None, "sub-1", "sub-2")
MAX_QUANTITY = 1_000_000_000

QUANTITIES = st.one_of(
    st.integers(1, 30),  # small: the image model's 50 runs out after a few
    st.integers(300_000, 1_200_000),  # large: near and above the 1,000,000 language quota
    st.sampled_from([999_999, 1_000_000, 1_000_001, MAX_QUANTITY]),
)

# The catalog numbers the brief relies on; if the default catalog moves, this test must too.
assert CATALOG[IMAGE].trial == Trial(quota=50, validity_days=90)
assert CATALOG[LANG_30].trial == Trial(quota=1_000_000, validity_days=30)
assert CATALOG[LANG_90].trial == Trial(quota=1_000_000, validity_days=90)
assert CATALOG[NO_TRIAL].trial is None
assert UNKNOWN not in CATALOG


def iso_z(moment: datetime) -> str:
    """R12: UTC ISO-8601 with ``Z``, to the millisecond (written independently of the ledger)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def spec_of(model_id: str) -> ModelSpec:
    return CATALOG[model_id]


# -- the model --------------------------------------------------------------------------------

AUDIT_EVERY = 4
"""The invariant runs the audit (a scan of the whole table) after every 4th step: after each it
doubled the test's time."""
REVERSAL_WINDOW = timedelta(days=7)
"""R17: the reversal window's default (the tests' settings leave it)."""
REASONS = ("the call failed after metering", "metered twice")
HOLD_PERIOD_MS = 60_000
"""The project's hold period (docs/ledger.md): a hold's end is rounded up to a multiple of it."""


def rounded_up(moment: datetime) -> datetime:
    """The first hold period boundary at or after ``moment`` (a ceiling: a boundary stays)."""
    epoch_ms = int(moment.timestamp() * 1000)
    return datetime.fromtimestamp(-(-epoch_ms // HOLD_PERIOD_MS) * HOLD_PERIOD_MS / 1000, UTC)


@dataclass(frozen=True)
class ModelEntry:
    """An entry of a grant's ledger after the claim (R19): what it is and the balances after it."""

    kind: EntryKind
    at: datetime
    balances: Balances
    request_id: str | None = None
    reason: str | None = None
    action_id: str | None = None
    actor: str | None = None


@dataclass
class ModelGrant:
    account_id: str
    model_id: str
    quota: int
    used: int
    remaining: int
    expired: int
    claim_method: ClaimMethod
    claimed_at: datetime
    expires_at: datetime
    entries: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    """request_id -> (units, until) of holds with units that were neither settled nor released."""
    journal: list[ModelEntry] = field(default_factory=list)
    """Its ledger's entries after the claim (entry 1), oldest first."""
    voided_at: datetime | None = None

    def balances(self) -> Balances:
        """The raw balances (before the nightly run, past expires_at the remainder is still here)."""
        return Balances(self.used, self.remaining, self.expired)

    def enter(self, kind: EntryKind, at: datetime, request_id: str | None = None, reason: str | None = None,
              action: tuple[str, str] | None = None) -> None:  # fmt: skip
        action_id, actor = action if action else (None, None)
        self.journal.append(ModelEntry(kind, at, self.balances(), request_id, reason, action_id, actor))

    def ledger(self) -> list[LedgerEntry]:
        """R19: the claim, then every entry, each with the balances after it and its delta."""
        before = Balances(0, 0, 0)
        claim = ModelEntry(EntryKind.CLAIM, self.claimed_at, Balances(0, self.quota, 0))
        entries = []
        for sequence, entry in enumerate([claim, *self.journal], start=1):
            after = entry.balances
            delta = Balances(
                after.used - before.used, after.remaining - before.remaining, after.expired - before.expired
            )
            entries.append(LedgerEntry(sequence, entry.kind, iso_z(entry.at), entry.request_id, entry.action_id,
                                       entry.actor, entry.reason, delta, after))  # fmt: skip
            before = after
        return entries

    def past_expiry(self, now: datetime) -> bool:
        return now >= self.expires_at

    def unusable(self, now: datetime) -> bool:
        """Past its validity (R5) or voided (R18)."""
        return self.past_expiry(now) or self.voided_at is not None

    def usable(self, now: datetime) -> int:
        return 0 if self.unusable(now) else self.remaining

    def voided_hold(self, hold: ModelHold) -> bool:
        """The hold held units and was live when the grant was voided: it ended voided (R18)."""
        return self.voided_at is not None and hold.result.held > 0 and self.voided_at < hold.expires_at

    def held(self, now: datetime, except_request: str | None = None) -> int:
        """What live holds reserve (a hold reserves until its ``until``, exclusive)."""
        if self.unusable(now):
            return 0
        return sum(units for rid, (units, until) in self.entries.items() if now < until and rid != except_request)

    def available(self, now: datetime, except_request: str | None = None) -> int:
        return self.usable(now) - self.held(now, except_request)

    def view(self, now: datetime) -> Grant:
        """The effective grant at ``now`` (R5: past expiry it reads expired with nothing left)."""
        remaining, expired = self.remaining, self.expired
        if self.voided_at is not None:
            status = GrantStatus.VOIDED
        elif self.past_expiry(now):
            status = GrantStatus.EXPIRED
            remaining, expired = 0, expired + remaining
        elif remaining == 0:
            status = GrantStatus.EXHAUSTED
        else:
            status = GrantStatus.ACTIVE
        return Grant(
            account_id=self.account_id,
            model_id=self.model_id,
            unit=spec_of(self.model_id).unit,
            quota=self.quota,
            used=self.used,
            remaining=remaining,
            expired=expired,
            status=status,
            claim_method=self.claim_method,
            claimed_at=iso_z(self.claimed_at),
            expires_at=iso_z(self.expires_at),
            held=self.held(now),
        )


@dataclass
class ModelHold:
    result: HoldResult
    ask: HoldAsk
    expires_at: datetime
    status: HoldStatus = HoldStatus.OPEN


@dataclass
class ModelAccount:
    activated_at: datetime | None = None
    postpaid: bool = False
    thresholds: tuple[int, ...] | None = None


@dataclass(frozen=True)
class UsageBody:
    account_id: str
    model_id: str
    quantity: int
    sub_account_id: str | None


@dataclass(frozen=True)
class ModelReversal:
    reason: str
    at: datetime
    free_returned: int
    free_expired: int


@dataclass(frozen=True)
class ModelUsage:
    request_id: str
    body: UsageBody
    free: int
    billable: int
    unbilled_overage: int
    charge: Decimal
    free_remaining: int
    auto_claimed: bool
    recorded_at: datetime
    reversal: ModelReversal | None = None

    def result(self, replayed: bool) -> UsageResult:
        return UsageResult(
            request_id=self.request_id,
            account_id=self.body.account_id,
            model_id=self.body.model_id,
            sub_account_id=self.body.sub_account_id,
            quantity=self.body.quantity,
            free=self.free,
            billable=self.billable,
            unbilled_overage=self.unbilled_overage,
            currency=spec_of(self.body.model_id).price.currency,
            charge=self.charge,
            free_remaining=self.free_remaining,
            auto_claimed=self.auto_claimed,
            recorded_at=iso_z(self.recorded_at),
            replayed=replayed,
            reversed_at=None if self.reversal is None else iso_z(self.reversal.at),
        )

    def reversal_result(self, replayed: bool) -> ReversalResult:
        reversal = self.reversal
        assert reversal is not None
        return ReversalResult(self.request_id, iso_z(reversal.at), reversal.free_returned, reversal.free_expired,
                              spec_of(self.body.model_id).price.currency, self.charge, replayed)  # fmt: skip


class QuotaModel:
    """The contract's rules over plain dictionaries; every method mutates only on success."""

    def __init__(self) -> None:
        self.accounts: dict[str, ModelAccount] = {account: ModelAccount() for account in ACCOUNTS}
        self.grants: dict[tuple[str, str], ModelGrant] = {}
        self.usages: dict[str, ModelUsage] = {}
        self.holds: dict[str, ModelHold] = {}
        self.actions: dict[str, tuple[tuple[EntryKind, ActionAsk, datetime | None], ActionResult]] = {}

    @staticmethod
    def campaign_open(now: datetime) -> bool:
        return now < CAMPAIGN_CLOSE

    def account_view(self, account_id: str) -> Account:
        account = self.accounts[account_id]
        activated = iso_z(account.activated_at) if account.activated_at else None
        own = account.thresholds
        alerts = Alerts(own, AlertsSource.ACCOUNT) if own else Alerts(DEFAULT_THRESHOLDS, AlertsSource.DEFAULT)
        return Account(account_id, activated, account.postpaid, alerts)

    def grant_views(self, account_id: str, now: datetime) -> list[Grant]:
        grants = [grant for (account, _), grant in self.grants.items() if account == account_id]
        return [grant.view(now) for grant in sorted(grants, key=lambda grant: grant.model_id)]

    def new_grant(self, account_id: str, model_id: str, method: ClaimMethod, now: datetime) -> ModelGrant:
        trial = spec_of(model_id).trial
        assert trial is not None
        grant = ModelGrant(
            account_id=account_id,
            model_id=model_id,
            quota=trial.quota,
            used=0,
            remaining=trial.quota,
            expired=0,
            claim_method=method,
            claimed_at=now,
            expires_at=now + timedelta(days=trial.validity_days),
        )
        self.grants[account_id, model_id] = grant
        return grant

    def activate(self, account_id: str, now: datetime) -> Account:
        account = self.accounts[account_id]
        if account.activated_at is None:
            account.activated_at = now
        return self.account_view(account_id)

    def set_postpaid(self, account_id: str, enabled: bool) -> Account | None:
        account = self.accounts[account_id]
        if account.activated_at is None:
            return None
        account.postpaid = enabled
        return self.account_view(account_id)

    def set_alerts(self, account_id: str, thresholds: list[int]) -> Account | None:
        """R20: the account's thresholds from now on; None when the account is not activated."""
        account = self.accounts[account_id]
        if account.activated_at is None:
            return None
        account.thresholds = tuple(sorted(thresholds))
        return self.account_view(account_id)

    def claim(self, account_id: str, model_ids: list[str], now: datetime) -> list[ClaimOutcome] | None:
        """R2: one outcome per model in request order; None when the account is not activated."""
        if self.accounts[account_id].activated_at is None:
            return None
        outcomes = []
        for model_id in model_ids:
            spec = CATALOG.get(model_id)
            existing = self.grants.get((account_id, model_id))
            if spec is None:
                outcomes.append(ClaimOutcome(model_id, ClaimOutcomeKind.UNKNOWN_MODEL, None))
            elif spec.trial is None:
                outcomes.append(ClaimOutcome(model_id, ClaimOutcomeKind.NOT_ELIGIBLE, None))
            elif existing is not None:
                outcomes.append(ClaimOutcome(model_id, ClaimOutcomeKind.ALREADY_CLAIMED, existing.view(now)))
            elif self.campaign_open(now):
                grant = self.new_grant(account_id, model_id, ClaimMethod.MANUAL, now)
                outcomes.append(ClaimOutcome(model_id, ClaimOutcomeKind.CLAIMED, grant.view(now)))
            else:
                outcomes.append(ClaimOutcome(model_id, ClaimOutcomeKind.CAMPAIGN_ENDED, None))
        return outcomes

    def authorize(self, account_id: str, model_id: str, now: datetime) -> Authorization | StopReason:
        spec = spec_of(model_id)
        grant = self.grants.get((account_id, model_id))
        auto_claimed = False
        if grant is None and spec.trial is not None and self.campaign_open(now):
            grant, auto_claimed = self.new_grant(account_id, model_id, ClaimMethod.AUTO, now), True
        reason: StopReason | None = None
        if grant is None:
            reason = StopReason.NO_FREE_QUOTA
        elif grant.voided_at is not None:
            reason = StopReason.VOIDED
        elif grant.past_expiry(now):
            reason = StopReason.EXPIRED
        elif grant.remaining == 0:
            reason = StopReason.EXHAUSTED
        elif grant.available(now) == 0:
            reason = StopReason.HELD
        free_remaining = grant.available(now) if grant else 0
        if reason is None:
            return Authorization(True, FundingSource.FREE, free_remaining, auto_claimed)
        if self.accounts[account_id].postpaid:
            return Authorization(True, FundingSource.POSTPAID, free_remaining, auto_claimed)
        return reason

    def names_another_call(self, request_id: str, body: UsageBody) -> bool:
        """v3.2: a hold's request_id used by another account or model is a conflict."""
        hold = self.holds.get(request_id)
        return hold is not None and (hold.ask.account_id, hold.ask.model_id) != (body.account_id, body.model_id)

    def record_usage(self, request_id: str, body: UsageBody, now: datetime) -> ModelUsage:
        assert request_id not in self.usages
        assert not self.names_another_call(request_id, body)
        spec = spec_of(body.model_id)
        key = (body.account_id, body.model_id)
        grant = self.grants.get(key)
        auto_claimed = False
        if grant is None and spec.trial is not None and self.campaign_open(now):
            grant, auto_claimed = self.new_grant(body.account_id, body.model_id, ClaimMethod.AUTO, now), True
        free = min(body.quantity, grant.available(now, except_request=request_id)) if grant else 0
        if grant is not None:
            grant.used += free
            grant.remaining -= free
            grant.entries.pop(request_id, None)
            if free:  # R19: a usage that drew nothing free is no entry
                grant.enter(EntryKind.USAGE, now, request_id)
        hold = self.holds.get(request_id)
        if hold is not None and hold.status is HoldStatus.OPEN and now < hold.expires_at:
            # R14: settled in the same write (a hold of 0 units too), unless its grant's void ended it
            voided = grant is not None and grant.voided_hold(hold)
            hold.status = HoldStatus.VOIDED if voided else HoldStatus.SETTLED
        rest = body.quantity - free
        postpaid = self.accounts[body.account_id].postpaid
        billable = rest if postpaid else 0
        usage = ModelUsage(
            request_id=request_id,
            body=body,
            free=free,
            billable=billable,
            unbilled_overage=0 if postpaid else rest,
            charge=billable * spec.price.unit_price,
            free_remaining=grant.available(now) if grant else 0,
            auto_claimed=auto_claimed,
            recorded_at=now,
        )
        self.usages[request_id] = usage
        return usage

    def expire(self, as_of: datetime, now: datetime) -> tuple[int, int]:
        """The nightly job: every grant due at ``as_of`` with a remainder loses it, once (an
        entry of its ledger, at the run's ``now``)."""
        grants = quantity = 0
        for grant in self.grants.values():
            if grant.expires_at <= as_of and grant.remaining > 0:
                grants += 1
                quantity += grant.remaining
                grant.expired += grant.remaining
                grant.remaining = 0
                grant.entries.clear()  # every hold ends by its grant's expires_at
                grant.enter(EntryKind.EXPIRY, now)
        return grants, quantity

    def reverse(self, request_id: str, reason: str, now: datetime) -> ReversalResult | type[Exception]:
        """R17: the usage's free units back to its grant while usable at ``now``, else expired at
        once; once per usage (the same reason answers the first, another one is a conflict),
        within the window from its ``recorded_at``; or the error the ledger must raise."""
        usage = self.usages.get(request_id)
        if usage is None:
            return UsageNotFound
        if usage.reversal is not None:
            return usage.reversal_result(replayed=True) if usage.reversal.reason == reason else RequestIdConflict
        if now >= usage.recorded_at + REVERSAL_WINDOW:
            return ReversalWindowClosed
        returned = expired = 0
        if usage.free:
            grant = self.grants[usage.body.account_id, usage.body.model_id]
            returned, expired = (0, usage.free) if grant.unusable(now) else (usage.free, 0)
            grant.used -= usage.free
            grant.remaining += returned
            grant.expired += expired
            grant.enter(EntryKind.REVERSAL, now, request_id, reason)
        usage = replace(usage, reversal=ModelReversal(reason, now, returned, expired))
        self.usages[request_id] = usage
        return usage.reversal_result(replayed=False)

    def hold(self, ask: HoldAsk, ttl: int, now: datetime) -> HoldResult | StopReason:
        """R13: reserve min(estimate, available), or a postpaid hold of 0, or the stop reason."""
        grant = self.grants.get((ask.account_id, ask.model_id))
        auto_claimed = False
        if grant is None and spec_of(ask.model_id).trial is not None and self.campaign_open(now):
            grant, auto_claimed = self.new_grant(ask.account_id, ask.model_id, ClaimMethod.AUTO, now), True
        available = grant.available(now) if grant else 0
        until = rounded_up(now + timedelta(seconds=ttl))  # R13a: to the next hold period boundary
        if available == 0:
            if not self.accounts[ask.account_id].postpaid:
                authorized = self.authorize(ask.account_id, ask.model_id, now)
                assert isinstance(authorized, StopReason)
                return authorized
            result = HoldResult(ask.request_id, ask.account_id, ask.model_id, ask.estimate, 0,
                                FundingSource.POSTPAID, 0, iso_z(until), auto_claimed, False)  # fmt: skip
        else:
            assert grant is not None
            held, until = min(ask.estimate, available), min(until, grant.expires_at)
            grant.entries[ask.request_id] = (held, until)
            result = HoldResult(ask.request_id, ask.account_id, ask.model_id, ask.estimate, held,
                                FundingSource.FREE, available - held, iso_z(until), auto_claimed, False)  # fmt: skip
        self.holds[ask.request_id] = ModelHold(result, ask, until)
        return result

    def release(self, request_id: str, now: datetime) -> HoldStatus:
        """R15: how the hold ended, ending it (``released``) if it was live."""
        hold = self.holds[request_id]
        if hold.status is not HoldStatus.OPEN:
            return hold.status
        grant = self.grants.get((hold.ask.account_id, hold.ask.model_id))
        if grant is not None and grant.voided_hold(hold):  # it ended with its grant's void (R18)
            if now < hold.expires_at:
                hold.status = HoldStatus.VOIDED  # the release closes its item so
            return HoldStatus.VOIDED
        if now >= hold.expires_at:  # a usage after it timed out was plain usage: it ended expired
            return HoldStatus.EXPIRED
        hold.status = HoldStatus.RELEASED
        if (grant := self.grants.get((hold.ask.account_id, hold.ask.model_id))) is not None:
            grant.entries.pop(request_id, None)
        return HoldStatus.RELEASED

    def sweep(self, as_of: datetime) -> tuple[int, int]:
        """Close the open holds with units timed out by ``as_of``."""
        closed = [hold for hold in self.holds.values()
                  if hold.status is HoldStatus.OPEN and hold.result.held and hold.expires_at <= as_of]  # fmt: skip
        for hold in closed:
            grant = self.grants[hold.ask.account_id, hold.ask.model_id]
            hold.status = HoldStatus.VOIDED if grant.voided_hold(hold) else HoldStatus.EXPIRED
            grant.entries.pop(hold.ask.request_id, None)
        return len(closed), sum(hold.result.held for hold in closed)

    def act(
        self, kind: EntryKind, ask: ActionAsk, expires_at: datetime | None, now: datetime
    ) -> ActionResult | type[Exception]:
        """R18: an extension (a later expires_at, at most 366 days after the claim) or a void (the
        remainder expired now, live holds ended) of a grant neither expired nor voided, once per
        action_id (the same body answers the first, another one is a conflict)."""
        body = (kind, ask, expires_at)
        if (recorded := self.actions.get(ask.action_id)) is not None:
            return replace(recorded[1], replayed=True) if recorded[0] == body else RequestIdConflict
        grant = self.grants.get((ask.account_id, ask.model_id))
        if grant is None:
            return GrantNotFound
        if grant.unusable(now):
            return GrantNotExtendable if kind is EntryKind.EXTENSION else GrantNotVoidable
        previous, expired = grant.expires_at, 0
        if kind is EntryKind.EXTENSION:
            assert expires_at is not None
            if expires_at <= grant.expires_at or expires_at > grant.claimed_at + timedelta(days=366):
                return InvalidRequest
            grant.expires_at = expires_at
        else:
            expired = grant.remaining
            grant.expired, grant.remaining, grant.voided_at = grant.expired + expired, 0, now
            grant.entries.clear()
        grant.enter(kind, now, reason=ask.reason, action=(ask.action_id, ask.actor))
        result = ActionResult(ask.action_id, kind, ask.account_id, ask.model_id, ask.actor, ask.reason,
                              iso_z(now), len(grant.journal) + 1, iso_z(previous), iso_z(grant.expires_at),
                              expired, False)  # fmt: skip
        self.actions[ask.action_id] = (body, result)
        return result

    def usage_of(self, account_id: str, model_id: str | None) -> list[ModelUsage]:
        return [
            usage
            for usage in self.usages.values()
            if usage.body.account_id == account_id and model_id in (None, usage.body.model_id)
        ]


# -- the machine ------------------------------------------------------------------------------


class LedgerMachine(RuleBasedStateMachine):
    recorded: Bundle[str] = Bundle("recorded")
    held: Bundle[str] = Bundle("held")

    def __init__(self) -> None:
        super().__init__()
        self.resources = ExitStack()
        self.resources.enter_context(mock_aws())
        create_ledger_table(AWS.client("dynamodb", region_name="us-east-1"), os.environ["TABLE_NAME"])
        self.clock = SwitchableClock(frozen_at=START)
        self.store = LedgerStore()
        self.containers = [
            Ledger(
                store=self.store,
                catalog=CATALOG,
                clock=self.clock,
                campaign_close=CAMPAIGN_CLOSE,
                backoff=Backoff(sleep=lambda seconds: None),
            )
            for _ in range(2)
        ]
        self.ledger = self.containers[0]
        self.model = QuotaModel()
        self.next_request = 0
        self.page_limit = 2
        self.checks = 0
        """The page size the invariant reads each grant's ledger with (R19)."""

    def _new_request_id(self) -> str:
        self.next_request += 1
        return f"req-{self.next_request:04d}"

    def teardown(self) -> None:
        self.resources.close()

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @rule()
    def switch_container(self) -> None:
        """Serve the next steps from the other Ledger instance (the other warm container)."""
        self.ledger = self.containers[1] if self.ledger is self.containers[0] else self.containers[0]

    # -- accounts -----------------------------------------------------------------------------

    @initialize(activated=st.lists(st.sampled_from(ACCOUNTS), unique=True), postpaid=st.booleans(),
                page_limit=st.integers(1, 4))  # fmt: skip
    def start_accounts(self, activated: list[str], postpaid: bool, page_limit: int) -> None:
        """Some examples start with activated (and postpaid) accounts, so that the short runs
        reach billing and manual claims as often as the not-yet-activated paths."""
        self.page_limit = page_limit
        for account in activated:
            self.activate(account)
            if postpaid:
                self.set_postpaid(account, True)

    @rule(account=st.sampled_from(ACCOUNTS))
    def activate(self, account: str) -> None:
        assert self.ledger.activate(account) == self.model.activate(account, self.now)

    @rule(account=st.sampled_from(ACCOUNTS), enabled=st.booleans())
    def set_postpaid(self, account: str, enabled: bool) -> None:
        expected = self.model.set_postpaid(account, enabled)
        if expected is None:
            event("set_postpaid: account_not_activated")
            with pytest.raises(AccountNotActivated):
                self.ledger.set_postpaid(account, enabled)
        else:
            assert self.ledger.set_postpaid(account, enabled) == expected

    @rule(account=st.sampled_from(ACCOUNTS), thresholds=st.lists(st.integers(1, 99), min_size=1, max_size=5,
                                                                   unique=True))  # fmt: skip
    def set_alerts(self, account: str, thresholds: list[int]) -> None:
        expected = self.model.set_alerts(account, thresholds)
        if expected is None:
            event("set_alerts: account_not_activated")
            with pytest.raises(AccountNotActivated):
                self.ledger.set_alerts(account, thresholds)
        else:
            assert self.ledger.set_alerts(account, thresholds) == expected

    # -- claims -------------------------------------------------------------------------------

    @rule(
        account=st.sampled_from(ACCOUNTS),
        model_ids=st.lists(st.sampled_from(CLAIM_MODELS), min_size=1, max_size=3, unique=True),
        claimed_by=st.sampled_from(SUB_ACCOUNTS),
    )
    def claim(self, account: str, model_ids: list[str], claimed_by: str | None) -> None:
        expected = self.model.claim(account, model_ids, self.now)
        if expected is None:
            event("claim: account_not_activated")
            with pytest.raises(AccountNotActivated):
                self.ledger.claim(account, model_ids, claimed_by)
        else:
            for outcome in expected:
                event(f"claim: {outcome.outcome}")
            assert self.ledger.claim(account, model_ids, claimed_by) == expected

    # -- admission and metering ---------------------------------------------------------------

    @rule(
        account=st.sampled_from(ACCOUNTS),
        model_id=st.sampled_from((*USAGE_MODELS, UNKNOWN)),
        sub_account=st.sampled_from(SUB_ACCOUNTS),
    )
    def authorize(self, account: str, model_id: str, sub_account: str | None) -> None:
        self._authorize(account, model_id, sub_account)

    def _authorize(self, account: str, model_id: str, sub_account: str | None) -> bool:
        """Admission (R3, R7), checked against the model; whether the invocation was admitted."""
        if model_id not in CATALOG:
            with pytest.raises(UnknownModel):
                self.ledger.authorize(account, model_id, sub_account)
            return False
        expected = self.model.authorize(account, model_id, self.now)
        event(f"authorize: {expected if isinstance(expected, StopReason) else expected.source}")
        if isinstance(expected, StopReason):
            with pytest.raises(AdmissionRefused) as refused:
                self.ledger.authorize(account, model_id, sub_account)
            assert refused.value.code == expected.value
            return False
        assert self.ledger.authorize(account, model_id, sub_account) == expected
        return True

    @rule(
        target=recorded,
        account=st.sampled_from(ACCOUNTS),
        model_id=st.sampled_from(USAGE_MODELS),
        quantity=QUANTITIES,
        sub_account=st.sampled_from(SUB_ACCOUNTS),
    )
    def invoke(self, account: str, model_id: str, quantity: int, sub_account: str | None) -> MultipleResults[str]:
        """The gateway's flow: admission, then metering of the invocation when admitted."""
        if not self._authorize(account, model_id, sub_account):
            return multiple()
        return multiple(self._record_usage(account, model_id, quantity, sub_account))

    @rule(
        target=recorded,
        account=st.sampled_from(ACCOUNTS),
        model_id=st.sampled_from(USAGE_MODELS),
        quantity=QUANTITIES,
        sub_account=st.sampled_from(SUB_ACCOUNTS),
        resend_at_once=st.booleans(),
    )
    def record_usage(
        self, account: str, model_id: str, quantity: int, sub_account: str | None, resend_at_once: bool
    ) -> str:
        """Meter one invocation; with ``resend_at_once`` the gateway sends it again at the same
        instant (a retry after a lost response), which must be answered as a replay."""
        request_id = self._record_usage(account, model_id, quantity, sub_account)
        if resend_at_once:
            self.replay_same_body(request_id)
        return request_id

    def _record_usage(self, account: str, model_id: str, quantity: int, sub_account: str | None) -> str:
        """Meter one invocation under a fresh request_id, checked against the model."""
        request_id = self._new_request_id()
        actual = self.ledger.record_usage(account, model_id, quantity, request_id, sub_account)
        body = UsageBody(account, model_id, quantity, sub_account)
        expected = self.model.record_usage(request_id, body, self.now)
        parts = {"free": expected.free, "billable": expected.billable, "overage": expected.unbilled_overage}
        event("usage: " + "+".join(name for name, amount in parts.items() if amount))
        assert isinstance(actual.charge, Decimal)  # R10: exact money, never a float
        assert actual == expected.result(replayed=False)
        return request_id

    @rule(
        target=recorded,
        fresh=st.lists(
            st.tuples(
                st.sampled_from(ACCOUNTS),
                st.sampled_from((*USAGE_MODELS, USAGE_MODELS[0], UNKNOWN)),
                st.one_of(QUANTITIES, st.just(0)),
                st.sampled_from(SUB_ACCOUNTS),
            ),
            min_size=1,
            max_size=6,
        ),
        repeat_inside=st.sampled_from(["none", "same", "different"]),
        data=st.data(),
    )
    def record_usage_batch(
        self, fresh: list[tuple[str, str, int, str | None]], repeat_inside: str, data: st.DataObject
    ) -> MultipleResults[str]:
        """A batch of new records, earlier request_ids (same body or not), live or ended holds'
        request_ids and repeats inside the batch, shuffled: each answer must be the one the same
        record would get sent alone, in order (contract section 7)."""
        asks = [self._fresh_ask(*record) for record in fresh]
        if repeat_inside != "none":
            asks.append(asks[0] if repeat_inside == "same" else replace(asks[0], quantity=asks[0].quantity % 7 + 1))
        if self.model.usages:
            earlier = data.draw(st.lists(st.sampled_from(sorted(self.model.usages)), max_size=2, unique=True))
            asks += [self._earlier_ask(rid, changed=data.draw(st.booleans())) for rid in earlier]
        if self.model.holds:
            for rid in data.draw(st.lists(st.sampled_from(sorted(self.model.holds)), max_size=2, unique=True)):
                ask = self.model.holds[rid].ask
                account, model_id = ask.account_id, ask.model_id
                if data.draw(st.booleans()):  # v3.2: the hold's request_id used by another call
                    account, model_id = data.draw(st.sampled_from([
                        (account, next(m for m in USAGE_MODELS if m != model_id)),
                        (next(a for a in ACCOUNTS if a != account), model_id)]))  # fmt: skip
                asks.append(UsageAsk(account, model_id, max(ask.estimate // 2, 1), rid, ask.sub_account_id))
        asks = data.draw(st.permutations(asks))
        actual = self.ledger.record_usage_batch(asks)
        expected = [self._one_alone(ask) for ask in asks]
        event(f"batch: {len(asks)} records, {sum(isinstance(e, RecordRefusal) for e in expected)} refused")
        assert [_comparable(outcome) for outcome in actual] == [_comparable(outcome) for outcome in expected]
        new = {ask.request_id for ask, outcome in zip(asks, expected, strict=True)
               if isinstance(outcome, UsageResult) and not outcome.replayed}  # fmt: skip
        return multiple(*sorted(new))

    def _fresh_ask(self, account: str, model_id: str, quantity: int, sub_account: str | None) -> UsageAsk:
        return UsageAsk(account, model_id, quantity, self._new_request_id(), sub_account)

    def _earlier_ask(self, request_id: str, changed: bool) -> UsageAsk:
        body = self.model.usages[request_id].body
        quantity = body.quantity + (1 if body.quantity < MAX_QUANTITY else -1) if changed else body.quantity
        return UsageAsk(body.account_id, body.model_id, quantity, request_id, body.sub_account_id)

    def _one_alone(self, ask: UsageAsk) -> UsageResult | RecordRefusal:
        """What the model answers to this record sent alone, now."""
        if ask.model_id not in CATALOG:
            return RecordRefusal(ask.request_id, "unknown_model", "")
        if ask.quantity < 1:
            return RecordRefusal(ask.request_id, "validation_error", "")
        body = UsageBody(ask.account_id, ask.model_id, ask.quantity, ask.sub_account_id)
        if (first := self.model.usages.get(ask.request_id)) is not None:
            same = first.body == body
            return first.result(replayed=True) if same else RecordRefusal(ask.request_id, "request_id_conflict", "")
        if self.model.names_another_call(ask.request_id, body):
            return RecordRefusal(ask.request_id, "request_id_conflict", "")
        return self.model.record_usage(ask.request_id, body, self.now).result(replayed=False)

    @rule(account=st.sampled_from(ACCOUNTS), quantity=QUANTITIES)
    def record_usage_of_unknown_model(self, account: str, quantity: int) -> None:
        with pytest.raises(UnknownModel):
            self.ledger.record_usage(account, UNKNOWN, quantity, "req-unknown-model")

    @rule(request_id=recorded)
    def replay_same_body(self, request_id: str) -> None:
        """The same request_id and body again: the first result, ``replayed``, nothing changes."""
        first = self.model.usages[request_id]
        body = first.body
        actual = self.ledger.record_usage(
            body.account_id, body.model_id, body.quantity, request_id, body.sub_account_id
        )
        assert actual == first.result(replayed=True)

    @rule(request_id=recorded, change=st.sampled_from(["quantity", "model", "account", "sub_account"]))
    def replay_different_body(self, request_id: str, change: str) -> None:
        """The same request_id with another body: RequestIdConflict, and nothing is written."""
        body = self.model.usages[request_id].body
        if change == "quantity":
            quantity = body.quantity + 1 if body.quantity < MAX_QUANTITY else body.quantity - 1
            body = replace(body, quantity=quantity)
        elif change == "model":
            body = replace(body, model_id=next(m for m in USAGE_MODELS if m != body.model_id))
        elif change == "account":
            body = replace(body, account_id=next(a for a in ACCOUNTS if a != body.account_id))
        else:
            body = replace(body, sub_account_id=next(s for s in SUB_ACCOUNTS if s != body.sub_account_id))
        with pytest.raises(RequestIdConflict):
            self.ledger.record_usage(body.account_id, body.model_id, body.quantity, request_id, body.sub_account_id)

    # -- holds --------------------------------------------------------------------------------

    @rule(request_id=held, change=st.sampled_from(["model", "account"]))
    def usage_of_a_holds_request_id_by_another_call(self, request_id: str, change: str) -> None:
        """v3.2: a request_id names one call. Usage of a hold's request_id with another account or
        model is a conflict, writes nothing, and leaves the hold as it was."""
        ask = self.model.holds[request_id].ask
        account, model_id = ask.account_id, ask.model_id
        if change == "model":
            model_id = next(m for m in USAGE_MODELS if m != model_id)
        else:
            account = next(a for a in ACCOUNTS if a != account)
        with pytest.raises(RequestIdConflict):
            self.ledger.record_usage(account, model_id, 1, request_id, ask.sub_account_id)

    @rule(request_id=recorded, estimate=QUANTITIES, replay=st.booleans())
    def hold_for_a_metered_request(self, request_id: str, estimate: int, replay: bool) -> None:
        """v3.2: a hold whose request_id already names a recorded usage is a conflict and reserves
        nothing (that call is metered; its hold could never settle). A replay of the very hold that
        the usage settled is answered as the first hold."""
        body = self.model.usages[request_id].body
        hold = self.model.holds.get(request_id)
        if replay and hold is not None:
            assert self.ledger.hold(hold.ask) == replace(hold.result, replayed=True)
            return
        if hold is not None and estimate == hold.ask.estimate:
            estimate = estimate + 1 if estimate < MAX_QUANTITY else estimate - 1
        with pytest.raises(RequestIdConflict):
            self.ledger.hold(HoldAsk(body.account_id, body.model_id, request_id, estimate, body.sub_account_id))

    @rule(
        target=held,
        account=st.sampled_from(ACCOUNTS),
        model_id=st.sampled_from(USAGE_MODELS),
        estimate=QUANTITIES,
        sub_account=st.sampled_from(SUB_ACCOUNTS),
        ttl=st.sampled_from([None, 30, 60, 3600]),
    )
    def take_hold(
        self, account: str, model_id: str, estimate: int, sub_account: str | None, ttl: int | None
    ) -> MultipleResults[str]:
        ask = HoldAsk(account, model_id, self._new_request_id(), estimate, sub_account, ttl)
        expected = self.model.hold(ask, 900 if ttl is None else ttl, self.now)
        if isinstance(expected, StopReason):
            event(f"hold: {expected.value}")
            with pytest.raises(AdmissionRefused) as refused:
                self.ledger.hold(ask)
            assert refused.value.code == expected.value
            return multiple()
        event(f"hold: {expected.source.value}, {'all' if expected.held == estimate else 'part'}")
        assert self.ledger.hold(ask) == expected
        return multiple(ask.request_id)

    @rule(request_id=held, fraction=st.sampled_from([0.5, 1.0, 1.5]), replay_hold=st.booleans())
    def settle(self, request_id: str, fraction: float, replay_hold: bool) -> None:
        """Usage with the hold's request_id: under, at or over what it holds (a settle while the
        hold is live, plain usage once it ended); or a replay of the hold itself."""
        hold = self.model.holds[request_id]
        if request_id in self.model.usages or replay_hold:
            again = self.ledger.hold(hold.ask)
            assert again == replace(hold.result, replayed=True)
            return
        quantity = max(1, min(MAX_QUANTITY, int(max(hold.result.held, 1) * fraction)))
        ask = hold.ask
        actual = self.ledger.record_usage(ask.account_id, ask.model_id, quantity, request_id, ask.sub_account_id)
        expected = self.model.record_usage(request_id, UsageBody(ask.account_id, ask.model_id, quantity,
                                                                 ask.sub_account_id), self.now)  # fmt: skip
        event(f"settle: {'live' if hold.status is HoldStatus.SETTLED else 'plain'} x{fraction}")
        if hold.status is HoldStatus.SETTLED and quantity <= hold.result.held:
            assert (actual.free, actual.billable, actual.unbilled_overage) == (quantity, 0, 0)  # R16
        assert actual == expected.result(replayed=False)

    @rule(request_id=held)
    def release(self, request_id: str) -> None:
        expected = self.model.release(request_id, self.now)
        event(f"release: {expected.value}")
        assert self.ledger.release_hold(request_id).status is expected

    @rule()
    def release_unknown(self) -> None:
        with pytest.raises(HoldNotFound):
            self.ledger.release_hold("req-never-held")

    @rule(late_seconds=st.sampled_from([0, 0, 45]), stop_after=st.sampled_from([None, 0, 2]))
    def sweep_holds(self, late_seconds: int, stop_after: int | None) -> None:
        as_of = self.now - timedelta(seconds=late_seconds)
        closed = returned = 0
        if stop_after is not None:
            calls = iter(range(stop_after + 1))
            first = self.ledger.sweep_holds(as_of, lambda: next(calls) < stop_after, page_size=1)
            closed, returned = first.closed_holds, first.returned_units
        rest = self.ledger.sweep_holds(as_of)
        assert rest.complete
        expected = self.model.sweep(as_of)
        event(f"sweep: closed {min(expected[0], 2)}+")
        assert (closed + rest.closed_holds, returned + rest.returned_units) == expected

    @rule(seconds=st.sampled_from([1, 29, 30, 31, 59, 60, 899, 900, 3600]))
    def advance_seconds(self, seconds: int) -> None:
        """Around the holds' timeouts (30, 60, 900 and 3600 seconds)."""
        self.clock.advance(timedelta(seconds=seconds))

    # -- reversals (R17) ----------------------------------------------------------------------

    @rule(request_id=recorded, reason=st.sampled_from(REASONS), again=st.sampled_from([None, "same", "other"]))
    def reverse_usage(self, request_id: str, reason: str, again: str | None) -> None:
        """Reverse a recorded usage (free, split or billed only, on a usable, exhausted or expired
        grant, within its window or not); with ``again`` the same request once more, with the
        same reason (a replay) or another one (a conflict)."""
        self._reverse(request_id, reason)
        if again is not None:
            self._reverse(request_id, reason if again == "same" else next(r for r in REASONS if r != reason))

    @rule(request_id=recorded, reason=st.sampled_from(REASONS), offset_ms=st.sampled_from([-1, 0]))
    def reverse_usage_at_its_grants_expiry(self, request_id: str, reason: str, offset_ms: int) -> None:
        """To a millisecond before, or exactly at, its grant's expires_at when that falls inside the
        usage's window, then reverse it: the units go back, or are recorded as expired at once."""
        usage = self.model.usages[request_id]
        grant = self.model.grants.get((usage.body.account_id, usage.body.model_id))
        if grant is not None and self.now < grant.expires_at < usage.recorded_at + REVERSAL_WINDOW:
            target = grant.expires_at + timedelta(milliseconds=offset_ms)
            if target > self.now:
                self.clock.advance(target - self.now)
        self._reverse(request_id, reason)

    @precondition(lambda self: any(grant.expires_at > self.now for grant in self.model.grants.values()))
    @rule(target=recorded, pick=st.integers(0, 7), hours_before=st.integers(1, 160), quantity=QUANTITIES,
          reason=st.sampled_from(REASONS), offset_ms=st.sampled_from([-1, 0, 1]))  # fmt: skip
    def use_before_expiry_and_reverse_after(
        self, pick: int, hours_before: int, quantity: int, reason: str, offset_ms: int
    ) -> str:
        """A usage shortly before a pending grant's expires_at, reversed just before, at or after
        it, within its window: past it the units are recorded as expired at once (R17)."""
        pending = sorted((grant for grant in self.model.grants.values() if grant.expires_at > self.now),
                         key=lambda grant: (grant.expires_at, grant.account_id, grant.model_id))  # fmt: skip
        grant = pending[pick % len(pending)]
        if (start := grant.expires_at - timedelta(hours=hours_before)) > self.now:
            self.clock.advance(start - self.now)
        request_id = self._record_usage(grant.account_id, grant.model_id, quantity, None)
        if (target := grant.expires_at + timedelta(milliseconds=offset_ms)) > self.now:
            self.clock.advance(target - self.now)
        self._reverse(request_id, reason)
        return request_id

    @rule(request_id=held, reason=st.sampled_from(REASONS))
    def reverse_a_holds_request_id(self, request_id: str, reason: str) -> None:
        """A hold alone is not a usage (404); once its usage is recorded, it is reversed as any."""
        self._reverse(request_id, reason)

    @rule(reason=st.sampled_from(REASONS))
    def reverse_an_unknown_request_id(self, reason: str) -> None:
        self._reverse("req-never-recorded", reason)

    def _reverse(self, request_id: str, reason: str) -> None:
        expected = self.model.reverse(request_id, reason, self.now)
        if isinstance(expected, type):
            event(f"reversal: {expected.__name__}")
            with pytest.raises(expected):
                self.ledger.reverse_usage(request_id, reason)
            return
        went = "replayed" if expected.replayed else "returned" if expected.free_returned else "expired" \
            if expected.free_expired else "no free units"  # fmt: skip
        event(f"reversal: {went}")
        assert self.ledger.reverse_usage(request_id, reason) == expected

    @precondition(lambda self: any(usage.recorded_at + REVERSAL_WINDOW > self.now
                                   for usage in self.model.usages.values()))  # fmt: skip
    @rule(pick=st.integers(0, 7), offset_ms=st.sampled_from([-1, 0, 1]))
    def jump_to_a_reversal_window_close(self, pick: int, offset_ms: int) -> None:
        """To one millisecond before, exactly at, or just after a usage's reversal window closes."""
        closing = sorted({usage.recorded_at + REVERSAL_WINDOW for usage in self.model.usages.values()
                          if usage.recorded_at + REVERSAL_WINDOW > self.now})  # fmt: skip
        target = closing[pick % len(closing)] + timedelta(milliseconds=offset_ms)
        if target > self.now:
            self.clock.advance(target - self.now)

    # -- operator actions (R18) ------------------------------------------------------------

    @rule(account=st.sampled_from(ACCOUNTS), model_id=st.sampled_from(USAGE_MODELS),
          days=st.sampled_from([-1, 0, 1, 30, 365, 366, 367]), action=st.sampled_from(["act-1", "act-2", "act-3"]),
          actor=st.sampled_from(["ops:a", "ops:b"]))  # fmt: skip
    def extend(self, account: str, model_id: str, days: int, action: str, actor: str) -> None:
        """An extension to ``days`` after the grant's claim (or, for -1 and 0, to before or at its
        own expires_at): a later expiry up to 366 days, else refused; an action_id used before
        answers its first action, or conflicts."""
        grant = self.model.grants.get((account, model_id))
        base = grant.claimed_at if grant is not None and days > 1 else (grant.expires_at if grant else self.now)
        expires_at = base + timedelta(days=days) if days > 1 else base + timedelta(milliseconds=days)
        self._act(EntryKind.EXTENSION, ActionAsk(action, account, model_id, actor, "ticket"), expires_at)

    @rule(account=st.sampled_from(ACCOUNTS), model_id=st.sampled_from(USAGE_MODELS),
          action=st.sampled_from(["act-1", "act-4", "act-5"]), actor=st.sampled_from(["ops:a", "ops:b"]))  # fmt: skip
    def void(self, account: str, model_id: str, action: str, actor: str) -> None:
        self._act(EntryKind.VOID, ActionAsk(action, account, model_id, actor, "abuse"), None)

    def _act(self, kind: EntryKind, ask: ActionAsk, expires_at: datetime | None) -> None:
        expected = self.model.act(kind, ask, expires_at, self.now)

        def call() -> ActionResult:
            if expires_at is not None:
                return self.ledger.extend_grant(ask, expires_at)
            return self.ledger.void_grant(ask)

        if isinstance(expected, type):
            event(f"{kind.value}: {expected.__name__}")
            with pytest.raises(expected):
                call()
            return
        event(f"{kind.value}: {'replayed' if expected.replayed else 'done'}")
        assert call() == expected

    @rule(limit=st.integers(1, 4))
    def read_ledgers_by(self, limit: int) -> None:
        """The page size the invariant reads the grants' ledgers with from now on."""
        self.page_limit = limit

    # -- time ---------------------------------------------------------------------------------

    @rule(hours=st.integers(1, 72))
    def advance_hours(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    @rule(days=st.integers(1, 45))
    def advance_days(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))

    @precondition(lambda self: any(grant.expires_at > self.now for grant in self.model.grants.values()))
    @rule(pick=st.integers(0, 7), offset_ms=st.sampled_from([-1, 0, 1]))
    def jump_to_an_expiry(self, pick: int, offset_ms: int) -> None:
        """To one millisecond before, exactly at, or just after a pending grant's expires_at."""
        pending = sorted(
            {grant.expires_at for grant in self.model.grants.values() if grant.expires_at > self.now}, reverse=True
        )
        target = pending[pick % len(pending)] + timedelta(milliseconds=offset_ms)
        if target > self.now:
            self.clock.advance(target - self.now)

    @precondition(lambda self: bool(self.model.grants) and self.now < CAMPAIGN_CLOSE + timedelta(milliseconds=1))
    @rule(offset_ms=st.sampled_from([-1, 0, 1]))
    def jump_to_campaign_close(self, offset_ms: int) -> None:
        """To one millisecond before, exactly at, or just after the close (once a grant exists,
        so that closing the campaign does not cut most runs short of their claims)."""
        target = CAMPAIGN_CLOSE + timedelta(milliseconds=offset_ms)
        if target > self.now:
            self.clock.advance(target - self.now)

    # -- nightly expiry -----------------------------------------------------------------------

    @rule(
        page_size=st.sampled_from([1, 2, 100]),
        stop_after=st.sampled_from([None, 0, 1, 3, 17]),
        late_hours=st.sampled_from([0, 0, 0, 2, 30]),
    )
    def expire_due(self, page_size: int, stop_after: int | None, late_hours: int) -> None:
        """An expiry run as of now, or as of an earlier scheduled time when the run is late;
        with ``stop_after`` it is cut short by the time limit and then resumed."""
        as_of = self.now - timedelta(hours=late_hours)
        reports: list[ExpiryReport] = []
        if stop_after is not None:
            calls = iter(range(stop_after + 1))
            reports.append(self.ledger.expire_due(as_of, lambda: next(calls) < stop_after, page_size))
        if not reports or not reports[-1].complete:
            reports.append(self.ledger.expire_due(as_of, page_size=page_size))
        expected_grants, expected_quantity = self.model.expire(as_of, self.now)
        event(f"expiry: expired {min(expected_grants, 2)}+ grants, resumed={len(reports) > 1}")
        assert all(report.as_of == iso_z(as_of) for report in reports)
        assert reports[-1].complete
        assert sum(report.expired_grants for report in reports) == expected_grants
        assert sum(report.expired_quantity for report in reports) == expected_quantity
        # Idempotent: a second run finds nothing more.
        assert self.ledger.expire_due(as_of, page_size=page_size) == ExpiryReport(iso_z(as_of), 0, 0, True)

    # -- reading ------------------------------------------------------------------------------

    @rule(
        account=st.sampled_from(ACCOUNTS),
        model_id=st.sampled_from((None, *USAGE_MODELS)),
        limit=st.integers(1, 4),
    )
    def list_usage(self, account: str, model_id: str | None, limit: int) -> None:
        """Paging through the usage list yields every record once, newest first."""
        items: list[UsageResult] = []
        cursor: str | None = None
        while True:
            page = self.ledger.usage(account, model_id=model_id, limit=limit, cursor=cursor)
            assert len(page.items) <= limit
            items += page.items
            if page.next_cursor is None:
                break
            assert len(page.items) == limit
            cursor = page.next_cursor
        expected = {usage.request_id: usage.result(replayed=False) for usage in self.model.usage_of(account, model_id)}
        assert [item.request_id for item in items] == list(dict.fromkeys(item.request_id for item in items))
        assert {item.request_id: item for item in items} == expected
        recorded_at = [item.recorded_at for item in items]
        assert recorded_at == sorted(recorded_at, reverse=True)

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def ledger_matches_model(self) -> None:
        now = self.now
        for account in ACCOUNTS:
            assert self.ledger.account(account) == self.model.account_view(account)
            views = self.ledger.grants(account)
            assert views == self.model.grant_views(account, now)
            _, stored = self.store.read_whole_account(account)
            assert len(stored) == len(views)
            for grant in stored:
                # R20: every grant carries its account's thresholds now, whenever it was claimed.
                assert grant.alert_thresholds == self.model.accounts[account].thresholds
                # R11 on the table itself, not only on the effective view.
                assert grant.quota == grant.used + grant.remaining + grant.expired
                # R16 on the table: live holds within the remainder, the stored total above them.
                now_text = iso_z(now)
                assert 0 <= grant.held(now_text) <= grant.held_total <= grant.remaining
                assert grant.held(now_text) == self.model.grants[account, grant.model_id].held(now)
                assert min(grant.quota, grant.used, grant.remaining, grant.expired) >= 0
                modelled = self.model.grants[account, grant.model_id]
                assert (grant.used, grant.remaining, grant.expired) == (
                    modelled.used,
                    modelled.remaining,
                    modelled.expired,
                )
                assert grant.used == self._free_recorded(account, grant.model_id)
                self._check_grant_ledger(modelled, Balances(grant.used, grant.remaining, grant.expired),
                                         next(view for view in views if view.model_id == grant.model_id))  # fmt: skip
            for view in views:
                assert view.quota == view.used + view.remaining + view.expired
                assert min(view.quota, view.used, view.remaining, view.expired) >= 0
        self.checks += 1
        if self.checks % AUDIT_EVERY == 0:  # make audit over the whole table: R11, R16, R17, R19 on the items
            report = audit()
            assert report.ok, report.violations

    def _check_grant_ledger(self, modelled: ModelGrant, stored: Balances, view: Grant) -> None:
        """R19: the whole ledger, paged by ``page_limit``: 1..n without gaps, the kinds, times,
        request ids, reasons, deltas and balances the model expects, chained and keeping the
        quota; its last entry's balances are the grant's raw balances as stored (the view's too
        while the grant is not past expires_at: after, it reads expired before the nightly run)."""
        entries: list[LedgerEntry] = []
        cursor: str | None = None
        while True:
            page = self.ledger.grant_ledger(modelled.account_id, modelled.model_id, self.page_limit, cursor)
            assert len(page.entries) <= self.page_limit
            entries += page.entries
            if page.next_cursor is None:
                break
            assert len(page.entries) == self.page_limit  # moto's index is never behind
            cursor = page.next_cursor
        assert entries == modelled.ledger()
        assert_chained(entries, modelled.quota)
        assert entries[-1].balances == stored == modelled.balances()
        if not modelled.past_expiry(self.now):
            assert entries[-1].balances == Balances(view.used, view.remaining, view.expired)

    def _free_recorded(self, account: str, model_id: str) -> int:
        """R11: the free units of the grant's usage records that are not reversed."""
        free = 0
        cursor: str | None = None
        while True:
            page = self.ledger.usage(account, model_id=model_id, limit=100, cursor=cursor)
            free += sum(item.free for item in page.items if not item.reversed)
            if page.next_cursor is None:
                return free
            cursor = page.next_cursor


def _comparable(outcome: UsageResult | RecordRefusal) -> object:
    """A refusal by its request_id and code (the detail's wording is not the model's business)."""
    return (outcome.request_id, outcome.code) if isinstance(outcome, RecordRefusal) else outcome


# Fewer, longer runs than before reversals (25 x 30, now 15 x 40): reversals past expiry, revived
# grants and closed windows need a history, and every step now also pages through every grant's
# ledger (and every 4th audits the table): about 40% more CPU than before, for 20% fewer steps.
LedgerMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerStateful = pytest.mark.slow(LedgerMachine.TestCase)
