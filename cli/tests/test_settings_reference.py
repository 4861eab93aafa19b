"""docs/settings.md lists every setting, from the classes; nothing in the repository names one
it does not know (issue 10, "Docs that cannot drift")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from repository_names import names_in_repository
from skiff_cli.settings_reference.__main__ import KNOWN, MARKDOWN, REPOSITORY, main, stale
from skiff_cli.settings_reference.classes import description, settings_classes, settings_of
from skiff_cli.settings_reference.others import GROUPS
from skiff_cli.settings_reference.render import known_names
from skiff_kit.settings import ServiceSettings


class SampleSettings(ServiceSettings, kw_only=True):
    """Fields as a service declares them."""

    port: int = 9999
    widgets: int = 3
    """How many widgets, at most."""
    undocumented: int = 0


def test_the_reference_is_current() -> None:
    assert stale(REPOSITORY) == [], "run `make settings` and commit the result"


def test_every_field_of_every_settings_class_has_a_description() -> None:
    missing = [
        f"{klass.cls.__module__}.{klass.cls.__name__}.{setting.field}"
        for klass in settings_classes()
        for setting in settings_of(klass.cls, own_only=False)
        if not setting.description
    ]
    assert missing == [], "write a docstring on the line after each of these fields"


def test_descriptions_are_read_from_the_class_and_inherited() -> None:
    assert description(SampleSettings, "widgets") == "How many widgets, at most."
    # An override without a docstring keeps the shared field's description.
    assert description(SampleSettings, "port") == description(ServiceSettings, "port") != ""
    assert description(SampleSettings, "undocumented") == ""
    mine = [s.variable for s in settings_of(SampleSettings, own_only=True)]
    assert mine == ["SKIFF_PORT", "SKIFF_WIDGETS", "SKIFF_UNDOCUMENTED"]


def test_the_settings_operations_md_missed_are_in_the_reference() -> None:
    reference = (REPOSITORY / MARKDOWN).read_text()
    for variable in (
        "SKIFF_INVITE_TTL_DAYS",
        "SKIFF_IDEMPOTENCY_TTL_SECONDS",
        "SKIFF_DIRECTORY_BUCKET",
        "SKIFF_SESSION_MEMORY_MAX_MB",
        "SKIFF_STREAM_REPLICAS",
        "SKIFF_TEST_INFRA",
    ):
        assert f"| `{variable}` |" in reference


def test_check_names_each_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / Path(KNOWN).parent).mkdir(parents=True)
    shutil.copy(REPOSITORY / "docker-compose.yml", tmp_path)
    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--check", "--root", str(tmp_path)]) == 0
    reference = tmp_path / MARKDOWN
    reference.write_text(reference.read_text().replace("SKIFF_INVITE_TTL_DAYS", "SKIFF_X"))
    (tmp_path / KNOWN).unlink()
    capsys.readouterr()
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"stale: {MARKDOWN} (run `make settings`)",
        f"stale: {KNOWN} (run `make settings`)",
    ]


# Names tests invent for settings classes of their own, or to prove a variable is passed
# through or kept out; outside a `tests/` folder none of them may appear.
INVENTED_BY_TESTS = {
    "SKIFF_A",  # cli/tests/test_container.py: a settings file's values
    "SKIFF_B",
    "SKIFF_GREETING",  # libs/kit/tests/sample_service.py's own field
    "SKIFF_GRETING",  # ... misspelled on purpose
    "SKIFF_STRIPE_SECRET",  # libs/kit/tests/test_settings.py's BillingLikeSettings
    "SKIFF_MINIMUM_CREDITS",
    "SKIFF_DEBUG_FEATURES",
    "SKIFF_ALLOWED_ORIGINS",
    "SKIFF_STRIPE_KEY",  # cli/tests/test_environment.py: passed through untouched
    "SKIFF_SECRET_FOR_TEST",  # sandbox_runner: never leaks into a sandbox
    "SKIFF_ZEBRA",  # the unknown-settings tests: misspelled or unlike anything on purpose
    "SKIFF_SMTP_HOTS",
    "SKIFF_RATELIMIT_KEY_PER_MINUTES",
    "SKIFF_INVITE_TTL_DAY",
    "SKIFF_X",
    "SKIFF_WIDGETS",  # this file's SampleSettings
    "SKIFF_UNDOCUMENTED",
}


def test_every_skiff_variable_the_repository_names_is_in_the_reference() -> None:
    known = set(known_names(settings_classes(), GROUPS))
    unknown = {
        name: files
        for name, files in names_in_repository(REPOSITORY, known).items()
        if not (name in INVENTED_BY_TESTS and all("tests" in Path(f).parts for f in files))
    }
    assert unknown == {}, (
        "these SKIFF_* names are read or documented but are no setting: add the field (with a "
        "docstring) or a row to skiff_cli/settings_reference/others.py, or fix the name"
    )
