"""skiff_kit."""
