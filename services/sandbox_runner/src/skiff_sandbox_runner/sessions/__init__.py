"""Sessions: starting, metering, pausing and stopping the sandboxes this runner holds."""
