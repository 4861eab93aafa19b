"""skiff_billing."""
