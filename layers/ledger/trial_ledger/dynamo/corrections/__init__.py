"""The writes and mappings of the ledger's corrections (R17, R18) and of its entries (R19)."""
