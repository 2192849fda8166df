"""What every route's schemas share: the strict request body, the constrained fields of the
contract (docs/contract.md, section 3, with the limits of trial_ledger.limits) and the problem
document every route can answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trial_ledger.limits import ID_PATTERN, MAX_QUANTITY, MAX_REASON_LENGTH

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN.pattern, min_length=1, max_length=128)]


INTEGER_LITERAL = (
    'An integer literal: `10`, never `10.0`, `1e1` or `"10"` (JSON Schema calls 10.0 an integer; this API does not).'
)
"""What the document says of an integer field: no JSON Schema keyword can tell ``10`` from ``10.0``."""


Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY, description=INTEGER_LITERAL)]


Reason = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REASON_LENGTH, pattern=r"\S")]
"""Why a correction was made: 1..500 characters, not only blanks."""


class StrictBody(BaseModel):
    """Request bodies: no coercion (``"10"`` is not 10, ``10.0`` is not a quantity, ``1`` is not
    ``true``) and no unknown fields (a misspelt field is an error, not a silent default)."""

    model_config = ConfigDict(strict=True, extra="forbid")


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None


class ChargeOut(BaseModel):
    currency: str
    amount: str


CURSOR_DESCRIPTION = (
    "opaque: the next_cursor of the page before, of the same listing (account, filter); any other is 400 invalid_cursor"
)
