"""The ledger's pure domain: rules, plans and event derivation, without DynamoDB."""
