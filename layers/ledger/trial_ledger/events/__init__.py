"""Ledger events: their pure derivation from stream images, and the EventBridge client that publishes them."""
