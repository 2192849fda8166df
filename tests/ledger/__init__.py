"""The ledger on moto: each use case, the store's conditional writes, races staged deterministically."""
