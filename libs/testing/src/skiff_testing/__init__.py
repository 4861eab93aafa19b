"""skiff_testing."""
