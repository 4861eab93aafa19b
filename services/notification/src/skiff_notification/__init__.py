"""skiff_notification."""
