"""The pure rules of the ledger: state, rules, the writes they plan and the refusals they name (no I/O)."""
