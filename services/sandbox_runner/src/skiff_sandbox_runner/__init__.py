"""skiff_sandbox_runner."""
