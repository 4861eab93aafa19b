"""The merged OpenAPI document, built in-process at collection time to parametrize the tests.

pytest decides the test ids before any fixture runs, so the routes cannot come from the live
gateway at that point. Each service's app is created in-process (no server, no database: an app
only connects in its lifespan) and its document merged with the gateway's own `merge`; the
matrix then checks that the live gateway's `/api/v1/openapi.json` lists exactly these
operations, so a route added to a service cannot escape the parametrization.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path
from typing import Any

from skiff_cli.config import StackConfig
from skiff_cli.credentials import Secrets
from skiff_cli.environment import service_environment
from skiff_cli.settings_reference.classes import settings_class
from skiff_gateway.openapi_merge import merge
from skiff_kit.catalog import SERVICES, ServiceSpec
from skiff_kit.settings import load_settings

Document = dict[str, Any]


def _service_document(config: StackConfig, spec: ServiceSpec) -> Document:
    """One service's own OpenAPI document, from its app built with a stack's environment."""
    environ = service_environment(config, spec, replica=0, private_port=1, base={})
    settings = load_settings(settings_class(spec), environ=environ)
    app = importlib.import_module(f"{spec.package}.app").create(settings)
    document: Document = app.openapi_schema.to_schema()
    return document


@cache
def collected_document() -> Document:
    """The merged document of every service, as the gateway would serve it."""
    config = StackConfig(
        admin_dsn="postgresql://collect:collect@127.0.0.1:1/skiff",
        nats_url="nats://127.0.0.1:1",
        secrets=Secrets.generate([spec.schema for spec in SERVICES if spec.schema]),
        log_dir=Path("/nonexistent"),
    )
    return merge({spec.name: _service_document(config, spec) for spec in SERVICES}, version="0")
