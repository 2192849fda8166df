"""The ledger's use cases, one module each, with the context and contention helpers they share."""
