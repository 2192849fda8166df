"""Pure plans of the writes that usage, batches and holds make, from a snapshot of the grant."""
