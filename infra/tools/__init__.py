"""Tools run against a stack: the ledger audit, the SAM build check and the OpenAPI generator."""
