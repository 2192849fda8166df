"""Every limit of a request the ledger accepts, in one place.

The edge's request models, the handlers and the docs read them from here."""

from __future__ import annotations

import re

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")
"""Account, sub-account, model and request ids: printable, no separators the keys use (``#``)."""
MAX_ID_LENGTH = 128
MAX_QUANTITY = 1_000_000_000
"""A usage's quantity and a hold's estimate: integers 1..this."""
MAX_MODELS_PER_CLAIM = 50
MAX_RECORDS_PER_BATCH = 100
"""Records of one POST /v1/usage/batch (contract section 7)."""
HOLD_TTL_RANGE = range(30, 3601)
"""A hold's ``ttl_seconds``, as a deploy default and per request."""
DEFAULT_USAGE_PAGE = 50
MAX_USAGE_PAGE = 100
"""``limit`` of a usage page."""
DEFAULT_LEDGER_PAGE = 50
MAX_LEDGER_PAGE = 100
"""``limit`` of a page of a grant's ledger (R19)."""
MAX_REASON_LENGTH = 500
"""The ``reason`` of a reversal or an operator action."""
MAX_ACTOR_LENGTH = 200
"""The ``actor`` of an operator action."""
MAX_ALERT_THRESHOLDS = 5
ALERT_PERCENT_RANGE = range(1, 100)
"""An account's TrialBalanceLow thresholds (R20): 1..5 distinct percents from this range."""
MAX_CURSOR_LENGTH = 1024
"""A listing's ``cursor`` query parameter (an issued one is about 100 to 250 characters)."""
