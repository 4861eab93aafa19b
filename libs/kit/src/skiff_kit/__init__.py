"""skiff_kit: settings, web app factory, db, errors, logging, telemetry, health, runner.

Import from the modules (`skiff_kit.app`, `skiff_kit.errors`, ...): this package imports
nothing itself, so `skiff_kit.catalog` stays cheap for the CLI.
"""
