"""docs/settings.md and skiff_kit's known_settings.json, generated from the settings classes.

`python -m skiff_cli.settings_reference` writes both (`make settings`); `--check` says which
is stale (`make test`). The CLI may import every service; the libraries may not, so the kit
reads the generated list of names instead of the classes.
"""
