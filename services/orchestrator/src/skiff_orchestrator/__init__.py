"""skiff_orchestrator."""
