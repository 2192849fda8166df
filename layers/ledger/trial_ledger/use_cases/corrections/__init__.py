"""Corrections of the ledger by new entries: reversals (R17) and operator actions (R18)."""
