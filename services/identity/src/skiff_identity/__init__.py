"""skiff_identity."""
