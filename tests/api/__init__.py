"""The Lambda handlers, driven with API Gateway payload-2.0 events."""
