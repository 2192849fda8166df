"""The ledger's index reads: queries of the table's indexes, the merge of sharded listings, and their cursors."""
