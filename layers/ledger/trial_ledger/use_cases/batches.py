"""Batched usage (docs/contract.md, section 7).

Records apply in order as if sent one by one, each is recorded exactly once, and the records of
one grant are written together, one grant write a transaction. The batch as a whole is not
atomic: what was written stays written, and a retry of the batch gets it back as replays."""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ..domain.planning.batch import Pending, plan_batch
from ..domain.planning.draws import Attempt
from ..domain.planning.usage import CheckedUsage
from ..domain.refusals import BatchRefused, Contended
from ..domain.state import GrantKey, GrantState, HoldRecord, ProfileState, UsageRecord
from ..errors import InvalidRequest, LedgerError, RequestIdConflict, TemporarilyUnavailable, UnknownModel
from ..gateway_results import RecordOutcome, RecordRefusal, UsageAsk, UsageResult
from ..limits import MAX_RECORDS_PER_BATCH
from .contention import EXACT_TRIES_UNDER_CONTENTION
from .context import LedgerContext
from .metering import Metering


@dataclass(slots=True)
class _Answers:
    """The batch's answers so far, by position, and what stands recorded for each request_id."""

    outcomes: list[RecordOutcome | None]
    standing: dict[str, tuple[str, UsageResult]] = field(default_factory=dict)
    """request_id -> (the fingerprint of its record, that record's answer)."""

    def recorded(self, index: int, request: CheckedUsage, result: UsageResult) -> None:
        self.outcomes[index] = result
        self.standing[request.request_id] = (request.fingerprint, result)

    def refused(self, index: int, request_id: str | None, refusal: LedgerError) -> None:
        self.outcomes[index] = RecordRefusal(request_id, refusal.code, refusal.detail)


@dataclass(slots=True)
class _Known:
    """What the batch knows of its grants and profiles, corrected by each refused transaction."""

    grants: dict[GrantKey, GrantState | None] = field(default_factory=dict)
    profiles: dict[str, ProfileState] = field(default_factory=dict)


@dataclass(slots=True)
class _Lead:
    """The first valid record of its request_id: it is the one written."""

    index: int
    pending: Pending


class UsageBatches:
    def __init__(self, context: LedgerContext, metering: Metering) -> None:
        self._context = context
        self._metering = metering

    def record(self, asks: Sequence[UsageAsk]) -> list[RecordOutcome]:
        """Record each ask, in order, exactly once; a refused record is answered, not raised."""
        if not 1 <= len(asks) <= MAX_RECORDS_PER_BATCH:
            raise InvalidRequest(f"a batch has 1 to {MAX_RECORDS_PER_BATCH} records", field="records")
        answers = _Answers([None] * len(asks))
        groups, followers = self._sort(asks, answers)
        self._write(groups, answers)
        for index, request in followers:
            self._follow(index, request, answers)
        outcomes = [outcome for outcome in answers.outcomes if outcome is not None]
        if len(outcomes) != len(asks):
            raise AssertionError("a record of the batch was left unanswered")
        return outcomes

    def _sort(
        self, asks: Sequence[UsageAsk], answers: _Answers
    ) -> tuple[dict[GrantKey, deque[_Lead]], list[tuple[int, CheckedUsage]]]:
        """Validate each record; group the leads by grant (in order); later records of a
        request_id follow its lead (a replay or a conflict once the lead is recorded)."""
        groups: dict[GrantKey, deque[_Lead]] = {}
        followers: list[tuple[int, CheckedUsage]] = []
        led: set[str] = set()
        for index, ask in enumerate(asks):
            try:
                request = self._metering.request_of(
                    ask.account_id, ask.model_id, ask.quantity, ask.request_id, ask.sub_account_id
                )
            except (InvalidRequest, UnknownModel) as refusal:
                answers.refused(index, ask.request_id, refusal)
                continue
            if request.request_id in led:
                followers.append((index, request))
                continue
            led.add(request.request_id)
            key = (request.account_id, request.model.model_id)
            hold = self._context.snapshots.hold(request.request_id)
            if hold is not None and hold.names_another_call(request.account_id, request.model.model_id):
                hold = None  # v3.2: its put is refused with that hold, and the record answered as a conflict
            pending = Pending(request, uuid.uuid4().hex, hold)
            groups.setdefault(key, deque()).append(_Lead(index, pending))
        return groups, followers

    def _write(self, groups: dict[GrantKey, deque[_Lead]], answers: _Answers) -> None:
        """Transactions until every lead is answered; a grant that keeps losing races goes on one
        record at a time (the single usage's relaxed draws), like a client sending them one by one."""
        known, lost = self._known(groups), Counter[GrantKey]()
        tries = self._context.backoff.tries(entry_race=True)
        next(tries)
        while groups:
            for key in [key for key in groups if lost[key] >= EXACT_TRIES_UNDER_CONTENTION]:
                for lead in groups.pop(key):
                    self._one_by_one(lead.index, lead.pending.request, answers)
            if not groups or self._round(groups, known, lost, answers):
                continue
            if next(tries, None) is None:
                raise TemporarilyUnavailable("usage on these grants kept conflicting; retry with the same request_ids")

    def _round(
        self, groups: dict[GrantKey, deque[_Lead]], known: _Known, lost: Counter[GrantKey], answers: _Answers
    ) -> bool:
        """One transaction; False when it lost a race (a grant or a switch had changed)."""
        self._read_missing(groups, known)
        now = self._context.clock.now()
        attempt = Attempt(now=now, campaign_open=self._context.campaign_open(now), relaxed=False, write_id="")
        pending = {key: [lead.pending for lead in leads] for key, leads in groups.items()}
        plan = plan_batch(pending, known.grants, known.profiles, attempt)
        try:
            self._context.store.batches.commit(plan.commit)
        except BatchRefused as refused:
            return self._learn(refused, groups, known, lost, answers)
        except Contended:
            return False
        for key, planned in plan.runs.items():
            for usage in planned.run.usages:
                lead = groups[key].popleft()
                answers.recorded(lead.index, lead.pending.request, usage.result(replayed=False))
                self._context.snapshots.forget_hold(usage.request_id)
            self._remember(known, key, planned.grant_after)
        _drop_answered(groups)
        return True

    def _learn(
        self,
        refused: BatchRefused,
        groups: dict[GrantKey, deque[_Lead]],
        known: _Known,
        lost: Counter[GrantKey],
        answers: _Answers,
    ) -> bool:
        """Answer the leads whose request_id was recorded before; take in the holds, grants and
        switches as they are. True when nothing but the records' own items stood in the way."""
        for key, leads in groups.items():
            groups[key] = deque(lead for lead in leads if not self._recorded_before(lead, refused.recorded, answers)
                                and not self._hold_found(lead, refused.holds, answers))  # fmt: skip
        _drop_answered(groups)
        for key, grant in refused.grants.items():
            lost[key] += 1
            if grant is None:
                known.grants.pop(key, None)
            else:
                self._remember(known, key, grant)
        for account_id in refused.profiles:
            known.profiles.pop(account_id, None)
        # Progress without a pause only when records were answered or their holds learnt, and
        # nothing else changed.
        return bool(refused.recorded or refused.holds) and not (refused.grants or refused.profiles)

    def _recorded_before(self, lead: _Lead, recorded: dict[str, UsageRecord], answers: _Answers) -> bool:
        request = lead.pending.request
        record = recorded.get(request.request_id)
        if record is None:
            return False
        try:
            result = self._metering.recorded_before(record, request, lead.pending.write_id)
        except RequestIdConflict as conflict:
            answers.refused(lead.index, request.request_id, conflict)
        else:
            answers.recorded(lead.index, request, result)
        return True

    def _hold_found(self, lead: _Lead, holds: dict[str, HoldRecord | None], answers: _Answers) -> bool:
        """Take in the hold a lead's item holds (it settles it, or lands on it once it ended);
        True when that answers the lead: the hold names another call (v3.2)."""
        request = lead.pending.request
        if request.request_id not in holds:
            return False
        hold = holds[request.request_id] or self._context.store.get_hold(request.request_id)
        if hold is not None and hold.names_another_call(request.account_id, request.model.model_id):
            answers.refused(lead.index, request.request_id, RequestIdConflict(request.request_id))
            return True
        lead.pending = replace(lead.pending, hold=hold)
        return False

    def _known(self, groups: dict[GrantKey, deque[_Lead]]) -> _Known:
        """What this container's snapshots know of the batch's grants and profiles."""
        known = _Known()
        for key in groups:
            if (seen := self._context.snapshots.grant(*key)) is not None:
                known.grants[key] = seen if isinstance(seen, GrantState) else None
            if (profile := self._context.snapshots.profile(key[0])) is not None:
                known.profiles[key[0]] = profile
        return known

    def _read_missing(self, groups: dict[GrantKey, deque[_Lead]], known: _Known) -> None:
        """Read what the batch does not know (a cold container, a refusal that did not carry
        it): every account at once, consistently (a BatchGetItem per 100 keys)."""
        missing: dict[str, list[str]] = {}
        for account_id, model_id in groups:
            if (account_id, model_id) not in known.grants:
                missing.setdefault(account_id, []).append(model_id)
            elif account_id not in known.profiles:
                missing.setdefault(account_id, [])
        if not missing:
            return
        for account_id, (profile, grants) in self._context.store.read_accounts(missing).items():
            known.profiles[account_id] = profile
            self._context.snapshots.remember_profile(profile)
            for model_id in missing[account_id]:
                self._remember(known, (account_id, model_id), grants.get(model_id))

    def _remember(self, known: _Known, key: GrantKey, grant: GrantState | None) -> None:
        known.grants[key] = grant
        self._context.snapshots.remember_grant(*key, grant)

    def _one_by_one(self, index: int, request: CheckedUsage, answers: _Answers) -> None:
        try:
            result = self._metering.record_usage(
                request.account_id, request.model.model_id, request.quantity, request.request_id, request.sub_account_id
            )
        except RequestIdConflict as conflict:
            answers.refused(index, request.request_id, conflict)
            return
        answers.recorded(index, request, result)

    def _follow(self, index: int, request: CheckedUsage, answers: _Answers) -> None:
        """A later record of a request_id: a replay of what stands for it, or a conflict."""
        standing = answers.standing.get(request.request_id)
        if standing is None:  # its lead was refused as a conflict: this one goes one by one too
            self._one_by_one(index, request, answers)
        elif standing[0] != request.fingerprint:
            answers.refused(index, request.request_id, RequestIdConflict(request.request_id))
        else:
            answers.outcomes[index] = replace(standing[1], replayed=True)


def _drop_answered(groups: dict[GrantKey, deque[_Lead]]) -> None:
    for key in [key for key, leads in groups.items() if not leads]:
        del groups[key]
