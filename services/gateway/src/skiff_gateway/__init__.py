"""skiff_gateway."""
