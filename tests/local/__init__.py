"""The local stack (`make run`) over real HTTP, concurrency included."""
