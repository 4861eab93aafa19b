"""The credit packages on sale (from the settings)."""
