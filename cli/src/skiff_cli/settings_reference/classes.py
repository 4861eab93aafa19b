"""The settings classes, their fields and each field's description (its attribute docstring)."""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import textwrap
from functools import cache
from typing import Any

import msgspec
from skiff_kit.catalog import SERVICES, ServiceSpec
from skiff_kit.settings import ServiceSettings, env_name

from skiff_cli.container_setup import ContainerSettings


class Setting(msgspec.Struct, frozen=True, kw_only=True):
    """One field of a settings class, as an operator sets it."""

    variable: str
    field: str
    type: Any
    default: Any
    description: str


class SettingsClass(msgspec.Struct, frozen=True, kw_only=True):
    """A class whose fields are `SKIFF_*` variables, and who reads them."""

    title: str
    reader: str
    cls: type[ServiceSettings]
    intro: str = ""


def settings_class(spec: ServiceSpec) -> type[ServiceSettings]:
    """The `ServiceSettings` subclass that `<package>.settings` defines."""
    module = importlib.import_module(f"{spec.package}.settings")
    for value in vars(module).values():
        if (
            inspect.isclass(value)
            and issubclass(value, ServiceSettings)
            and value is not ServiceSettings
            and value.__module__ == module.__name__
        ):
            return value
    raise LookupError(f"{module.__name__} defines no ServiceSettings")


def _service(spec: ServiceSpec) -> SettingsClass:
    cls = settings_class(spec)
    return SettingsClass(
        title=spec.name,
        reader=spec.name,
        cls=cls,
        intro=f"`{cls.__module__}.{cls.__name__}`: {spec.name}'s own settings and the shared "
        "ones whose default it changes; it reads every shared one too.",
    )


def settings_classes() -> list[SettingsClass]:
    """Every class that reads `SKIFF_*` variables: the shared one, each service's, the
    container commands'."""
    shared = SettingsClass(title="Every service", reader="every service", cls=ServiceSettings)
    container = SettingsClass(
        title="Container commands (`python -m skiff_cli.container`)",
        reader="the container commands",
        cls=ContainerSettings,
        intro="`skiff_cli.container_setup.ContainerSettings`: what `secrets`, `bootstrap` and "
        "`migrate` read in compose and Kubernetes (docs/deploy.md); of the shared settings "
        "they use `SKIFF_NATS_URL` and `SKIFF_LOG_LEVEL`.",
    )
    return [shared, *(_service(spec) for spec in SERVICES), container]


@cache
def attribute_docstrings(cls: type) -> dict[str, str]:
    """`{field: docstring}` of the string literals right after each field in `cls`'s body."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef)).body
    found: dict[str, str] = {}
    for field, after in itertools.pairwise(body):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            found[field.target.id] = " ".join(inspect.cleandoc(after.value.value).split())
    return found


def description(cls: type[ServiceSettings], field: str) -> str:
    """The docstring of `field` in the nearest class of `cls`'s MRO that declares one."""
    for klass in cls.__mro__:
        if isinstance(klass, type) and issubclass(klass, ServiceSettings):
            text = attribute_docstrings(klass).get(field)
            if text:
                return text
    return ""


def declared(cls: type[ServiceSettings]) -> set[str]:
    """The fields `cls`'s own body declares (new ones and overridden defaults)."""
    return set(inspect.get_annotations(cls))


def default_of(field: msgspec.structs.FieldInfo) -> Any:
    """The field's default value (a factory's product), or NODEFAULT for a required field."""
    if field.default_factory is not msgspec.NODEFAULT:
        return field.default_factory()
    return field.default


def settings_of(cls: type[ServiceSettings], *, own_only: bool) -> list[Setting]:
    """`cls`'s settings in declaration order; with `own_only`, those its own body declares."""
    mine = declared(cls)
    return [
        Setting(
            variable=env_name(field.encode_name),
            field=field.name,
            type=field.type,
            default=default_of(field),
            description=description(cls, field.name),
        )
        for field in msgspec.structs.fields(cls)
        if not own_only or field.name in mine
    ]
