"""The sandbox runner's web app: the sandboxes of its machine, their commands and their files.

One process holds sandboxes (docker containers, or local scratch directories) and:
- takes `orchestrator.session.requested` from a consumer shared by all runners, and the stop
  and failure of its own sessions from a consumer of its own (`sandbox-runner-<id>--...`);
- answers `rpc.sandbox.<runner_id>.{exec,cancel,stdin,pause,resume,touch}`;
- publishes `sandbox.*` through its outbox and task output to the LIVE stream;
- announces itself in KV `sandbox-runners` and its sessions in `sandbox-placement`;
- serves the file routes of the sessions it holds (the gateway forwards them here).
See docs/sandboxes.md.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from skiff_contracts.events.orchestrator import (
    SessionFailed,
    SessionRequested,
    SessionStopRequested,
)
from skiff_kit.app import create_app
from skiff_messaging.service_bus import ServiceBus, Subscription

from skiff_sandbox_runner import handlers, rpc
from skiff_sandbox_runner.backends.base import SandboxBackend
from skiff_sandbox_runner.files.routes import FilesController
from skiff_sandbox_runner.runtime import Runtime
from skiff_sandbox_runner.service import SandboxRunner
from skiff_sandbox_runner.settings import SandboxRunnerSettings

SHARED_CONSUMER = "sandbox-runner--orchestrator-session-requested"


def own_consumer(runner_id: str) -> str:
    """The durable consumer of one runner's stops (it finds the ones it missed while down)."""
    return f"sandbox-runner-{runner_id}--orchestrator"


def _runtime(state: State) -> Runtime:
    runtime: Runtime = state.sandbox_runtime
    return runtime


def create(settings: SandboxRunnerSettings, *, backend: SandboxBackend | None = None) -> Litestar:
    """The sandbox runner as one process (`backend` overrides `SKIFF_BACKEND`, for tests)."""
    runner = SandboxRunner(settings, backend=backend)
    session_ended = handlers.session_ended(runner)
    bus = ServiceBus(
        name="sandbox_runner",
        nats_url=settings.nats_url,
        stream="SANDBOX",
        database_url=settings.database_url,
        schema=settings.database_schema,
        subscriptions=[
            Subscription(
                stream="ORCHESTRATOR",
                durable=SHARED_CONSUMER,
                handlers={
                    SessionRequested.event_type: (
                        SessionRequested,
                        handlers.session_requested(runner),
                    )
                },
            ),
            Subscription(
                stream="ORCHESTRATOR",
                durable=own_consumer(runner.runner_id),
                handlers={
                    SessionStopRequested.event_type: (SessionStopRequested, session_ended),
                    SessionFailed.event_type: (SessionFailed, session_ended),
                },
            ),
        ],
        responders=rpc.responders(runner),
    )
    return create_app(
        settings,
        route_handlers=[FilesController],
        lifespan=[runner.lifespan, bus.lifespan],
        readiness_checks={"nats": bus.check_ready},
        dependencies={"runtime": Provide(_runtime, sync_to_thread=False)},
    )
