"""skiff_messaging."""
