from tests.support import LANG_90
from trial_ledger import ClaimOutcomeKind, Ledger


def test_claim_then_use(ledger: Ledger, activated: str) -> None:
    [outcome] = ledger.claim(activated, [LANG_90])
    assert outcome.outcome is ClaimOutcomeKind.CLAIMED
    auth = ledger.authorize(activated, LANG_90)
    assert auth.free_remaining == 1_000_000
    result = ledger.record_usage(activated, LANG_90, 10, "r1")
    assert result.free == 10
    assert result.free_remaining == 999_990
