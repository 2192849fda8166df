"""trial_edge: what the two HTTP functions share at the edge: identity from the authorizer
context, Pydantic request and response models, and problem+json errors. The ledger knows
nothing of HTTP; this package knows nothing of DynamoDB."""
