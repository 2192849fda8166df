"""The deploy's configuration: settings from the environment and the model catalog."""
