"""Session routes: start, list, show, stop, keep alive, pause and resume."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from skiff_contracts import new_id
from skiff_kit.db import DbSession
from skiff_kit.idempotency import Idempotency, claim
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, page_of

from skiff_orchestrator.access import may_read, may_write
from skiff_orchestrator.params import SessionId
from skiff_orchestrator.runtime import CurrentRuntime
from skiff_orchestrator.sessions import lifecycle, repository, service
from skiff_orchestrator.sessions.presenter import session_out
from skiff_orchestrator.sessions.schemas import CreateSession, SessionOut
from skiff_orchestrator.sessions.validation import sandbox_spec
from skiff_orchestrator.sessions.waiting import settled
from skiff_orchestrator.validation import FieldErrors

SessionStatus = Annotated[
    str | None,
    QueryParameter(
        pattern="^(starting|running|paused|stopping|stopped|failed)$",
        description="Only sessions in this status.",
    ),
]
METADATA_PREFIX = "metadata."
STOP_RESPONSES = {
    202: ResponseSpec(SessionOut, description="The session is stopping", generate_examples=False),
    **errors(409),
}


class SessionsController(Controller):
    path = "/api/v1/sessions"
    tags = ["sessions"]

    @post("/", status_code=201, responses=errors(402, 409, 429))
    async def create(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        runtime: CurrentRuntime,
        idempotency: Idempotency,
        data: JSONBody[CreateSession | None] = None,
        wait: Annotated[
            bool, QueryParameter(description="Answer once the session runs (or failed).")
        ] = False,
    ) -> SessionOut:
        """Start a sandbox session (status `starting`; with `?wait=true`, once it runs).

        With `?wait=true` the answer comes when the session is `running` (or `failed`), or
        after `SKIFF_SESSION_WAIT_MAX_SECONDS` as it stands. A retry with the same
        `Idempotency-Key` answers the session the first request created, as it is now.
        """
        may_write(principal)
        spec = sandbox_spec(data or CreateSession(), runtime.settings)
        org = principal.organization_id
        session_id = new_id("ses")
        remembered = await claim(
            db_session, organization_id=org, request=idempotency, resource_id=session_id
        )
        if remembered is not None:
            session = await service.get(db_session, org, remembered.resource_id)
        else:
            session = await service.create(
                db_session,
                nc=runtime.nats,
                live=runtime.live,
                settings=runtime.settings,
                principal=principal,
                spec=spec,
                metadata=dict((data.metadata if data else None) or {}),
                session_id=session_id,
            )
        await db_session.commit()
        if wait:
            session = await settled(runtime, session)
        return session_out(session)

    @get("/")
    async def list_sessions(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        db_session: DbSession,
        status: SessionStatus = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Page[SessionOut]:
        """The organization's sessions, newest first; `?metadata.<key>=<value>` filters."""
        may_read(principal)
        metadata = _metadata_filter(request)
        rows = await repository.page(
            db_session,
            principal.organization_id,
            status=status,
            metadata=metadata,
            before_id=decode_cursor(cursor),
            limit=limit + 1,
        )
        return page_of(rows, limit=limit, to_item=session_out, id_of=lambda row: row.id)

    @get("/{session_id:str}")
    async def show(
        self, principal: CurrentPrincipal, db_session: DbSession, session_id: SessionId
    ) -> SessionOut:
        """One session: status, timings, resources and credits used."""
        may_read(principal)
        return session_out(await service.get(db_session, principal.organization_id, session_id))

    @delete("/{session_id:str}", status_code=200, responses=STOP_RESPONSES)
    async def stop(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        runtime: CurrentRuntime,
        session_id: SessionId,
    ) -> Response[SessionOut]:
        """Stop the session (202 while it stops; 200 if it was stopping or over already)."""
        may_write(principal)
        session = await service.get(
            db_session, principal.organization_id, session_id, for_update=True
        )
        changed = await lifecycle.request_stop(
            db_session, runtime.live, session, reason="requested"
        )
        await db_session.commit()
        return Response(session_out(session), status_code=202 if changed else 200)

    @post("/{session_id:str}/keepalive", status_code=200, responses=errors(409))
    async def keepalive(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        runtime: CurrentRuntime,
        session_id: SessionId,
    ) -> SessionOut:
        """Reset the session's idle clock."""
        may_write(principal)
        session = await service.get(db_session, principal.organization_id, session_id)
        await service.keepalive(runtime.runners(), session)
        return session_out(session)

    @post("/{session_id:str}/pause", status_code=200, responses=errors(409))
    async def pause(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        runtime: CurrentRuntime,
        session_id: SessionId,
    ) -> SessionOut:
        """Freeze a running session (paused time is not billed)."""
        may_write(principal)
        session = await service.get(
            db_session, principal.organization_id, session_id, for_update=True
        )
        await service.pause(db_session, runtime.runners(), session)
        await db_session.commit()
        return session_out(session)

    @post("/{session_id:str}/resume", status_code=200, responses=errors(409))
    async def resume(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        runtime: CurrentRuntime,
        session_id: SessionId,
    ) -> SessionOut:
        """Thaw a paused session."""
        may_write(principal)
        session = await service.get(
            db_session, principal.organization_id, session_id, for_update=True
        )
        await service.resume(db_session, runtime.runners(), session)
        await db_session.commit()
        return session_out(session)


def _metadata_filter(request: Request[Any, Any, Any]) -> dict[str, str]:
    """`?metadata.team=ml&metadata.run=7` → {"team": "ml", "run": "7"}."""
    wanted: dict[str, str] = {}
    errors = FieldErrors()
    for name, value in request.query_params.items():
        if not name.startswith(METADATA_PREFIX):
            continue
        key = name[len(METADATA_PREFIX) :]
        if not key or len(key) > 200 or len(value) > 1000:
            errors.add(name, "is not a valid metadata filter")
        wanted[key] = value
    errors.raise_if_any()
    return wanted
