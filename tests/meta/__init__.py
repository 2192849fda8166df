"""The repository itself: code shape, docs, template, build, OpenAPI and operations."""
