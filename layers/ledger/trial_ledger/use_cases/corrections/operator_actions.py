"""Operator actions (R18): a grant extended or voided, once per ``action_id``; the support view.

Each action is the grant ledger's next entry, with who acted and why."""

from __future__ import annotations

from datetime import datetime

from ...clock import format_timestamp
from ...console_results import UsagePage
from ...correction_results import ActionAsk, ActionResult, EntryKind, SupportView
from ...domain.planning.actions import ActionRecord, CheckedAction, plan_action
from ...domain.refusals import ActionTaken, Contended, GrantMoved
from ...domain.rules import action_fingerprint, effective_grant, require_id, require_text
from ...errors import GrantNotFound, RequestIdConflict, TemporarilyUnavailable, UnknownModel
from ...limits import MAX_ACTOR_LENGTH, MAX_REASON_LENGTH
from ..context import LedgerContext

SUPPORT_VIEW_USAGE = 20
"""The newest usage records the support view shows (the usage history pages on)."""


class OperatorActions:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def extend(self, ask: ActionAsk, expires_at: datetime) -> ActionResult:
        """Move a grant that has not expired to a later ``expires_at`` (at most 366 days after
        its claim); live holds keep their own."""
        return self._act(self._checked(EntryKind.EXTENSION, ask, format_timestamp(expires_at)))

    def void(self, ask: ActionAsk) -> ActionResult:
        """End a grant now: its remainder recorded as expired, its live holds ended, admission
        afterwards as for an expired grant (``free_quota_voided``)."""
        return self._act(self._checked(EntryKind.VOID, ask, None))

    def support_view(self, account_id: str) -> SupportView:
        """The profile, every grant (effective state) and the newest usage: one Query of the
        account's partition and one of its usage index, never a scan."""
        require_id(account_id, "account_id")
        context = self._context
        profile, grants = context.store.read_whole_account(account_id)
        now = context.now_text()
        records, _ = context.store.queries.usage_page(account_id, None, SUPPORT_VIEW_USAGE, None)
        return SupportView(
            profile.account(context.alert_thresholds),
            [effective_grant(grant, now) for grant in sorted(grants, key=lambda grant: grant.model_id)],
            UsagePage([record.result(replayed=False) for record in records], None),
        )

    def _checked(self, kind: EntryKind, ask: ActionAsk, expires_at: str | None) -> CheckedAction:
        require_id(ask.action_id, "action_id")
        require_id(ask.account_id, "account_id")
        require_id(ask.model_id, "model_id")
        require_text(ask.actor, "actor", MAX_ACTOR_LENGTH)
        require_text(ask.reason, "reason", MAX_REASON_LENGTH)
        if self._context.catalog.get(ask.model_id) is None:
            raise UnknownModel(ask.model_id)
        fingerprint = action_fingerprint(kind.value, ask, expires_at)
        return CheckedAction(ask.action_id, kind, ask.account_id, ask.model_id, ask.actor, ask.reason, fingerprint,
                             expires_at)  # fmt: skip

    def _act(self, request: CheckedAction) -> ActionResult:
        context = self._context
        writer = context.store.actions
        if (existing := writer.get(request.action_id)) is not None:
            return _recorded_before(existing, request)
        _, grant = context.read_grant(request.account_id, request.model_id)
        for _ in context.backoff.tries(entry_race=True):
            if grant is None:
                raise GrantNotFound(request.account_id, request.model_id)
            commit = plan_action(request, grant, context.now_text())
            try:
                writer.commit(commit)
            except ActionTaken as taken:
                return _recorded_before(taken.action, request)
            except GrantMoved as moved:
                grant = moved.grant
            except Contended:
                pass
            else:
                context.snapshots.forget(request.account_id, request.model_id)
                return _result(commit.action, replayed=False)
        raise TemporarilyUnavailable("this action kept conflicting; retry it with the same action_id")


def _recorded_before(action: ActionRecord, request: CheckedAction) -> ActionResult:
    if action.fingerprint != request.fingerprint:
        raise RequestIdConflict(request.action_id)
    return _result(action, replayed=True)


def _result(action: ActionRecord, replayed: bool) -> ActionResult:
    assert action.entry is not None
    return ActionResult(action.action_id, action.kind, action.account_id, action.model_id, action.actor,
                        action.reason, action.acted_at, action.entry.sequence, action.previous_expires_at,
                        action.expires_at, action.expired_quantity, replayed)  # fmt: skip
