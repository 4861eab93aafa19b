"""skiff_cli: the `skiff` command that runs a whole Skiff on one machine, and its supervisor."""
